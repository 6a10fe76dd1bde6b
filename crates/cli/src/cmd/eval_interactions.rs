//! `musicrec eval-recs --interactions FILE|simulated`: content-only, collaborative filtering and
//! the hybrid compared on held-out likes of the listeners of a catalog, from a real interaction
//! log (CSV `user,track,like|plays[,timestamp]`, tracks named by catalog path or id) or from
//! simulated listeners with known tastes. The hold-out, the fit and the metrics (recall@k,
//! NDCG@k, exact random baseline) are `musicrec_recommend::cf`'s; this module loads the catalog,
//! reads or simulates the data, and reports which it was.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_recommend::cf::{
    CfParams, CompareOptions, InteractionData, InteractionSimSpec, read_interactions_csv,
    resolve_in_catalog, simulate_interactions,
};
use musicrec_recommend::compare_on_interactions;

/// What `eval-recs --interactions` needs from the command line.
pub struct Options<'a> {
    /// A CSV path, or `simulated`.
    pub interactions: &'a str,
    pub db: Option<&'a str>,
    pub model: Option<&'a Path>,
    pub k: usize,
    pub out: Option<&'a Path>,
    pub seed: u64,
    pub listeners: usize,
    pub holdout: f64,
    pub hybrid_weight: f32,
}

/// The value of `--interactions` that asks for simulated listeners.
pub const SIMULATED: &str = "simulated";

pub fn run(options: &Options<'_>) -> anyhow::Result<ExitCode> {
    if !(options.holdout > 0.0 && options.holdout < 1.0) {
        bail!("--holdout must be within (0, 1), got {}", options.holdout);
    }
    if !(0.0..=1.0).contains(&options.hybrid_weight) {
        bail!(
            "--hybrid-weight must be within [0, 1], got {}",
            options.hybrid_weight
        );
    }
    let simulated = options.interactions == SIMULATED;
    let log = PathBuf::from(options.interactions);
    if !simulated && !log.is_file() {
        bail!(
            "--interactions {}: no such file (give a CSV log with columns user,track,like and/or \
             plays, or `{SIMULATED}` for simulated listeners)",
            log.display()
        );
    }
    let store = musicrec_app::store::open_existing(options.db)?;
    let model_id = crate::models::choose(store.as_ref(), options.model)?;
    let set = store.load_embeddings(&model_id)?;
    if set.len() < 2 {
        bail!(
            "the catalog has {} track(s) embedded with model {model_id}: scan a music folder first",
            set.len()
        );
    }
    let index = musicrec_recommend::index_from_embedding_set(&set)
        .context("stored embeddings do not form a valid index")?;
    let data: InteractionData = if simulated {
        let spec = InteractionSimSpec {
            users: options.listeners,
            seed: options.seed,
            ..InteractionSimSpec::default()
        };
        simulate_interactions(&index, &spec)?
    } else {
        let mut resolve = |text: &str| resolve_in_catalog(store.as_ref(), text);
        read_interactions_csv(&log, &mut resolve)?
    };
    let compare = CompareOptions {
        k: options.k,
        holdout: options.holdout,
        hybrid_weight: options.hybrid_weight,
        cf: CfParams::default(),
        seed: options.seed,
    };
    let report = compare_on_interactions(&index, &data, &compare)?;
    let markdown = format!(
        "# Recommendation quality on held-out likes{}\n\nCatalog {}, model {model_id}.\n\n{}",
        if report.simulated {
            " (SIMULATED listeners)"
        } else {
            ""
        },
        musicrec_app::store::Db::from_arg(options.db)?.describe(),
        report.to_markdown()
    );
    out!("{markdown}")?;
    if report.simulated {
        outln!(
            "\nSIMULATED: these listeners are virtual; run with --interactions LOG.csv for real ones."
        )?;
    }
    if let Some(out) = options.out {
        let json = serde_json::json!({
            "catalog_model": model_id,
            "comparison": report,
        });
        crate::output::write_atomically(
            &out.join("eval-interactions.json"),
            serde_json::to_string_pretty(&json)?.as_bytes(),
        )?;
        crate::output::write_atomically(&out.join("eval-interactions.md"), markdown.as_bytes())?;
        outln!(
            "wrote {} and {}",
            out.join("eval-interactions.json").display(),
            out.join("eval-interactions.md").display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

//! Content-only, collaborative filtering and the hybrid compared on held-out likes of the
//! listeners of a catalog (`musicrec eval-recs --interactions FILE|simulated`), from a real
//! interaction log (CSV `user,track,like|plays[,timestamp]`, tracks named by catalog path or id)
//! or from simulated listeners with known tastes. The hold-out, the fit and the metrics
//! (recall@k, NDCG@k, exact random baseline) are `musicrec_study::interactions`'; this module loads the
//! catalog, reads or simulates the data, and says which it was.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use musicrec_app::ModelRequest;
use musicrec_recommend::cf::CfParams;
use musicrec_study::interactions::{
    CompareOptions, InteractionData, InteractionSimSpec, compare_on_interactions,
    read_interactions_csv, resolve_in_catalog, simulate_interactions,
};

use crate::files::write_atomically;

/// The value of `--interactions` that asks for simulated listeners.
pub const SIMULATED: &str = "simulated";

/// What one comparison on held-out likes needs.
#[derive(Debug, Clone)]
pub struct InteractionSettings {
    /// A CSV path, or [`SIMULATED`].
    pub interactions: String,
    /// The catalog (`None`: the default one).
    pub db: Option<String>,
    /// Which of the catalog's models' embeddings to use.
    pub model: ModelRequest,
    pub k: usize,
    pub seed: u64,
    /// Virtual listeners when simulated.
    pub listeners: usize,
    /// Share of each listener's likes held out.
    pub holdout: f64,
    /// CF weight of the hybrid (content gets the rest).
    pub hybrid_weight: f32,
}

/// What the comparison found.
#[derive(Debug)]
pub struct InteractionOutcome {
    /// The report as markdown (printed, and written to eval-interactions.md).
    pub markdown: String,
    /// The listeners were simulated, not a real log's.
    pub simulated: bool,
    json: serde_json::Value,
}

impl InteractionOutcome {
    /// Writes `DIR/eval-interactions.json` and `DIR/eval-interactions.md`; returns their paths.
    pub fn write(&self, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
        let json = dir.join("eval-interactions.json");
        let md = dir.join("eval-interactions.md");
        write_atomically(&json, serde_json::to_string_pretty(&self.json)?.as_bytes())?;
        write_atomically(&md, self.markdown.as_bytes())?;
        Ok((json, md))
    }
}

/// Compares content, CF and the hybrid as `settings` asks; a guess among several models is said
/// on stderr.
pub fn compare(settings: &InteractionSettings) -> anyhow::Result<InteractionOutcome> {
    if settings.k == 0 {
        bail!("-k must be at least 1");
    }
    if !(settings.holdout > 0.0 && settings.holdout < 1.0) {
        bail!("--holdout must be within (0, 1), got {}", settings.holdout);
    }
    if !(0.0..=1.0).contains(&settings.hybrid_weight) {
        bail!(
            "--hybrid-weight must be within [0, 1], got {}",
            settings.hybrid_weight
        );
    }
    let simulated = settings.interactions == SIMULATED;
    let log = PathBuf::from(&settings.interactions);
    if !simulated && !log.is_file() {
        bail!(
            "--interactions {}: no such file (give a CSV log with columns user,track,like and/or \
             plays, or `{SIMULATED}` for simulated listeners)",
            log.display()
        );
    }
    let db = settings.db.as_deref();
    let store = musicrec_app::store::open_existing(db)?;
    let chosen = musicrec_app::choose_model(store.as_ref(), &settings.model)?;
    if let Some(note) = &chosen.note {
        eprintln!("note: {note}");
    }
    let model_id = chosen.model_id;
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
            users: settings.listeners,
            seed: settings.seed,
            ..InteractionSimSpec::default()
        };
        simulate_interactions(&index, &spec)?
    } else {
        let mut resolve = |text: &str| resolve_in_catalog(store.as_ref(), text);
        read_interactions_csv(&log, &mut resolve)?
    };
    let compare = CompareOptions {
        k: settings.k,
        holdout: settings.holdout,
        hybrid_weight: settings.hybrid_weight,
        cf: CfParams::default(),
        seed: settings.seed,
    };
    let report = compare_on_interactions(&index, &data, &compare)?;
    let markdown = format!(
        "# Recommendation quality on held-out likes{}\n\nCatalog {}, model {model_id}.\n\n{}",
        if report.simulated {
            " (SIMULATED listeners)"
        } else {
            ""
        },
        musicrec_app::store::Db::from_arg(db)?.describe(),
        report.to_markdown()
    );
    let json = serde_json::json!({
        "catalog_model": model_id,
        "comparison": report,
    });
    Ok(InteractionOutcome {
        markdown,
        simulated: report.simulated,
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> InteractionSettings {
        InteractionSettings {
            interactions: SIMULATED.into(),
            db: Some("/nowhere/catalog.db".into()),
            model: ModelRequest::default(),
            k: 10,
            seed: 0,
            listeners: 10,
            holdout: 0.2,
            hybrid_weight: 0.5,
        }
    }

    #[test]
    fn bad_shares_are_refused_before_the_catalog_is_opened() {
        let err = |s: InteractionSettings| compare(&s).unwrap_err().to_string();
        assert_eq!(
            err(InteractionSettings { k: 0, ..settings() }),
            "-k must be at least 1"
        );
        assert!(
            err(InteractionSettings {
                holdout: 1.0,
                ..settings()
            })
            .contains("--holdout")
        );
        assert!(
            err(InteractionSettings {
                hybrid_weight: 1.5,
                ..settings()
            })
            .contains("--hybrid-weight")
        );
        let missing = InteractionSettings {
            interactions: "/nowhere/log.csv".into(),
            ..settings()
        };
        assert!(err(missing).contains("no such file"));
    }
}

//! `musicrec eval-recs`: offline quality of the recommenders on a labelled split (genre
//! precision@k of both methods, MFCC and random baselines, five-seed queries; see
//! `musicrec_lab::eval_recs`), or with `--interactions` content vs collaborative filtering on
//! held-out likes (`eval_interactions`). This module parses options and prints the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_lab::eval_recs::{RecsSettings, evaluate_recs};
use musicrec_lab::interactions::InteractionSettings;

/// Offline recommendation quality (genre precision@k) on a labelled split.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
The model must not have seen the evaluated tracks: when the manifest is the one the model was \
trained on, only its test split qualifies; otherwise the model's training manifest (recorded in \
its config.json; the built-in model carries its own) is compared with the evaluated tracks, and an \
overlap is refused (--allow-seen measures anyway and marks every learned row SEEN).

With --interactions, the question is another: how well do content similarity, collaborative filtering and the hybrid predict what listeners like? Part of each listener's likes (the latest when timestamped) is held out of the catalog's listening data, and recall@k and NDCG@k of the held-out likes are reported against an exact random baseline, on a real log (CSV with columns user,track and like and/or plays, optional timestamp; track = catalog path or id) or on simulated listeners (`--interactions simulated`); the report says which.

Examples:
  musicrec dataset gtzan ../shared/data/gtzan-mini --out gtzan.csv --split-ratio 5:1:4 --seed 1
  musicrec eval-recs --data gtzan.csv --model models/crnn --k 5 --out eval/
  musicrec eval-recs --data gtzan.csv            # the built-in model
  musicrec eval-recs --interactions listening-log.csv --db library.db -k 10
  musicrec eval-recs --interactions simulated --listeners 60 --db library.db")]
pub struct Args {
    /// Manifest with labels (and splits).
    #[arg(
        long,
        value_name = "MANIFEST.csv",
        required_unless_present = "interactions"
    )]
    data: Option<PathBuf>,
    /// Compare content, CF and hybrid on held-out likes instead: a CSV log of the catalog's
    /// listeners, or `simulated`.
    #[arg(long, value_name = "LOG.csv|simulated", conflicts_with_all = ["data", "split", "allow_seen"])]
    interactions: Option<String>,
    /// With --interactions: the catalog [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL", requires = "interactions")]
    db: Option<String>,
    /// With --interactions simulated: how many virtual listeners.
    #[arg(
        long,
        default_value_t = 60,
        value_name = "N",
        requires = "interactions"
    )]
    listeners: usize,
    /// With --interactions: share of each listener's likes held out.
    #[arg(
        long,
        default_value_t = 0.2,
        value_name = "SHARE",
        requires = "interactions"
    )]
    holdout: f64,
    /// With --interactions: CF weight of the hybrid (content gets the rest).
    #[arg(
        long,
        default_value_t = musicrec_recommend::cf::DEFAULT_HYBRID_WEIGHT,
        value_name = "W",
        requires = "interactions"
    )]
    hybrid_weight: f32,
    /// CNN/CRNN model directory whose embedding and genre probabilities are measured (the
    /// "learned" rows) [default: the built-in CNN].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Pretrained backbone whose embedding is measured beside the model's (method 1 rows named
    /// after it; its features are cached as for `train --backbone`), or `none`.
    #[arg(long, value_name = "NAME", default_value = "musicnn", value_parser = ["musicnn", "none"], conflicts_with = "interactions")]
    backbone: String,
    /// Recommendations per seed.
    #[arg(short, long, default_value_t = 5)]
    k: usize,
    /// Split to evaluate: test, validation, train, or all.
    #[arg(long, default_value = "test", value_parser = ["test", "validation", "train", "all"])]
    split: String,
    /// Write eval-recs.json and eval-recs.md into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Seed of the random baseline's draw and of the five-seed queries.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Measure even when the model trained on some evaluated tracks (rows marked SEEN).
    #[arg(long)]
    allow_seen: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.k == 0 {
        bail!("-k must be at least 1");
    }
    if let Some(interactions) = args.interactions {
        let settings = InteractionSettings {
            interactions,
            model: crate::models::request(args.model.as_deref())?,
            db: args.db,
            k: args.k,
            seed: args.seed,
            listeners: args.listeners,
            holdout: args.holdout,
            hybrid_weight: args.hybrid_weight,
        };
        return compare_interactions(&settings, args.out.as_deref());
    }
    let outcome = evaluate_recs(&RecsSettings {
        data: args
            .data
            .context("--data MANIFEST.csv is required (or --interactions)")?,
        model: args.model,
        backbone: (args.backbone != "none").then_some(args.backbone),
        k: args.k,
        split: args.split,
        seed: args.seed,
        allow_seen: args.allow_seen,
    })?;
    out!("{}", outcome.markdown)?;
    if let Some(out) = &args.out {
        let (json, md) = outcome.write(out)?;
        outln!("wrote {} and {}", json.display(), md.display())?;
    }
    Ok(if outcome.failed().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `--interactions`: content-only, CF and the hybrid compared on held-out likes
/// (`musicrec_lab::interactions`); runs the comparison `settings` describe, prints it, and writes it into `out` when given.
fn compare_interactions(
    settings: &musicrec_lab::interactions::InteractionSettings,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let outcome = musicrec_lab::interactions::compare(settings)?;
    out!("{}", outcome.markdown)?;
    if outcome.simulated {
        outln!(
            "\nSIMULATED: these listeners are virtual; run with --interactions LOG.csv for real ones."
        )?;
    }
    if let Some(out) = out {
        let (json, md) = outcome.write(out)?;
        outln!("wrote {} and {}", json.display(), md.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

//! `musicrec reproduce`: the paper's experiment in one command, resumable stage by stage. The
//! stages, their stamps and the report are `musicrec_lab::reproduce`'s; this module parses options
//! and prints the evaluation's table and the report's path.

use std::path::PathBuf;
use std::process::ExitCode;

use musicrec_datasets::SplitRatio;
use musicrec_features::MelConfig;
use musicrec_lab::reproduce::{ReproduceOptions, reproduce};

/// Run the paper's experiment end to end into one folder and one HTML report.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Killed at any point, rerun the same command: finished stages are reused (OUT/state/<stage>.json), \
training continues from its last checkpoint, the feature cache and the catalog skip what they \
hold. Changing a setting for an existing OUT is refused; use another --out.

Examples (the paper: FMA, 7 genres; GTZAN works the same way):
  musicrec reproduce --data data/fma7.csv --out paper/
  musicrec reproduce --data ../shared/data/gtzan-mini --out mini/ --epochs 10 --width 0.5
  musicrec reproduce --data ../shared/data/gtzan-mini --out mini3/ --seeds 3 --noise 20 --noise 0")]
pub struct Args {
    /// A manifest CSV, or a folder with one sub-folder of audio per genre (GTZAN's layout).
    #[arg(long, value_name = "MANIFEST.csv|DIR")]
    data: PathBuf,
    /// Output folder (created; reused by a rerun).
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// Most training epochs per model.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Layer width scale of both models (1: the paper's sizes; 0.25: a quick CPU run).
    #[arg(
        long,
        visible_alias = "width-scale",
        default_value_t = 1.0,
        value_name = "X"
    )]
    width: f64,
    /// Train each model with this many seeds (seed, seed+1, ...) and test the difference over seeds.
    #[arg(long, default_value_t = 1, value_name = "K")]
    seeds: usize,
    /// Seed of the split, training, bootstrap, noise and the recommendation seed sets.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Log-mel preset.
    #[arg(long, default_value = "choi", value_parser = MelConfig::PRESETS)]
    preset: String,
    /// Model window in frames [default: 6 s].
    #[arg(long, value_name = "N")]
    frames: Option<usize>,
    /// Windows per mini-batch.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Early-stopping patience in epochs.
    #[arg(long, default_value_t = 10)]
    patience: usize,
    /// Keep only these genres (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "G1,G2,...")]
    genres: Option<Vec<String>>,
    /// At most N clips per genre (seeded draw).
    #[arg(long, value_name = "N")]
    per_genre: Option<usize>,
    /// train:validation:test when the split is drawn here.
    #[arg(long, default_value = "8:1:1", value_name = "T:V:T")]
    split_ratio: SplitRatio,
    /// Skip decoding-based screening when building the manifest.
    #[arg(long)]
    no_screen: bool,
    /// Also evaluate with white noise at this SNR in dB (repeat).
    #[arg(long = "noise", value_name = "SNR_DB", allow_hyphen_values = true)]
    noise: Vec<f64>,
    /// Bootstrap resamples for confidence intervals (0: none).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    bootstrap: usize,
    /// How many five-song seed sets to recommend for.
    #[arg(long, default_value_t = 3, value_name = "N")]
    seed_sets: usize,
    /// Worker threads for decoding and scanning [default: all cores].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let outcome = reproduce(&ReproduceOptions {
        data: args.data,
        out: args.out,
        epochs: args.epochs,
        width: args.width,
        seeds: args.seeds,
        seed: args.seed,
        preset: args.preset,
        frames: args.frames,
        batch: args.batch,
        lr: args.lr,
        patience: args.patience,
        genres: args.genres,
        per_genre: args.per_genre,
        split_ratio: args.split_ratio,
        screen: !args.no_screen,
        noise: args.noise,
        bootstrap: args.bootstrap,
        seed_sets: args.seed_sets,
        jobs: args.jobs,
        command_line: musicrec_train::command_line(),
    })?;
    if let Some(table) = &outcome.eval_table {
        outln!("{table}")?;
    }
    for line in &outcome.significance {
        outln!("{line}")?;
    }
    outln!("report: {}", outcome.report.display())?;
    Ok(ExitCode::SUCCESS)
}

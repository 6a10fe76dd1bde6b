//! `musicrec eval`: score one or more trained models on a manifest's test split, clean and under
//! degraded audio (noise, codec), and write the comparison report (see `musicrec_lab::eval` for
//! the files). This module parses options and prints the summary.

use std::path::PathBuf;
use std::process::ExitCode;

use musicrec_eval::robustness::robustness_markdown;
use musicrec_lab::eval::{EvalOptions, degradations, evaluate};

/// Evaluate trained models on a manifest split: metrics, significance, plots, robustness.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Every model must predict the same genres in the same order. Each test track's log-mel is read \
from --cache when it holds an entry for that model's features, else computed from the audio (so \
models trained on different presets can be compared); a genre head on a backbone reads the audio \
(at most 20 patches of a track, as `scan` does). Degraded conditions always decode the audio: \
--noise adds seeded white Gaussian noise at the given SNR to the decoded samples before the log-mel; \
--codec re-encodes the file with ffmpeg first. The report warns when a model's recorded training \
manifest shows (or cannot rule out) that evaluated tracks were in its training data.

Examples:
  musicrec eval --model models/cnn --model models/crnn --data data/gtzan.csv --cache cache/ --out eval/
  musicrec eval --model musicnn --model cnn --data models/default/data.csv --out eval-builtin/
  musicrec eval --model models/crnn --data data/gtzan.csv --out eval-noise/ --noise 20 --noise 10 --noise 0
  musicrec eval --model models/cnn --model models/crnn --data data/fma7.csv --out eval-mp3/ --codec mp3:64k")]
pub struct Args {
    /// Model to evaluate, as `scan --model` takes it: a directory from `musicrec train` (a
    /// CNN/CRNN or a genre head), `musicnn` (MusiCNN with the built-in genre head) or `cnn`
    /// (repeat to compare; the first is the reference).
    #[arg(long = "model", value_name = "NAME|DIR", required = true)]
    models: Vec<PathBuf>,
    /// Manifest CSV with a split column.
    #[arg(long, value_name = "MANIFEST.csv")]
    data: PathBuf,
    /// Feature cache to read clean log-mels from (entries missing there are computed).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Which split to evaluate.
    #[arg(long, default_value = "test", value_parser = ["train", "validation", "test"])]
    split: String,
    /// Output folder.
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// A track is predicted positive for a genre when its probability is >= this.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Bootstrap resamples for the per-genre F1/AUC intervals (0: none).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    bootstrap: usize,
    /// Seed of the bootstrap and of the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also evaluate with white noise at this SNR in dB (repeat for several).
    #[arg(long = "noise", value_name = "SNR_DB", allow_hyphen_values = true)]
    noise: Vec<f64>,
    /// Also evaluate after a lossy round trip through ffmpeg, e.g. mp3:64k (repeat for several).
    #[arg(long = "codec", value_name = "FORMAT:BITRATE")]
    codecs: Vec<String>,
    /// Files decoded in parallel [default: all cores].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// cpu, cuda (builds with the `gpu` feature) or wgpu (the `wgpu` feature).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda", "wgpu"])]
    device: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options = EvalOptions {
        conditions: degradations(&args.noise, &args.codecs)?,
        models: args.models,
        data: args.data,
        cache: args.cache,
        split: args.split.parse().map_err(anyhow::Error::msg)?,
        out: args.out,
        threshold: args.threshold,
        bootstrap: args.bootstrap,
        seed: args.seed,
        jobs: args.jobs,
        device: args.device.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let outcome = evaluate(&options)?;
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
    outln!("{}", robustness_markdown(&outcome.summaries()))?;
    for line in outcome.clean().report.significance_summary() {
        outln!("{line}")?;
    }
    outln!(
        "evaluated {} {} tracks; report: {}",
        outcome.n_tracks,
        outcome.split.as_str(),
        outcome.out.join("report.html").display()
    )?;
    Ok(ExitCode::SUCCESS)
}

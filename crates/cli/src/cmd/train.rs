//! `musicrec train`: train a CRNN or CNN genre classifier on a manifest's cached log-mels into a
//! model directory. All logic lives in `musicrec_train`; this module parses options and reports.

use std::path::PathBuf;
use std::process::ExitCode;

use musicrec_features::MelConfig;
use musicrec_train::{Arch, DeviceKind, TrainConfig, WindowLength};

/// Train a genre classifier (CRNN or CNN) on cached log-mel windows.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
The manifest needs train and validation splits (test is optional and reported on the model card). \
Every clip's log-mel must already be in --cache for --preset: run `musicrec dataset prepare \
MANIFEST --cache DIR --preset P` first (training says so, and which entries are missing, before \
it starts; it never computes them itself).

MODEL_DIR receives weights.safetensors (best epoch by validation loss), config.json, metrics.csv, \
loss.png, accuracy.png, MODEL.md and checkpoint/ (written every epoch, atomically). After a kill, \
rerun the same command with --resume: it continues after the last finished epoch with the \
optimizer state restored.

Examples:
  musicrec dataset gtzan ../shared/data/gtzan-mini --out data/gtzan.csv
  musicrec dataset prepare data/gtzan.csv --cache cache/ --preset choi
  musicrec train --data data/gtzan.csv --cache cache/ --arch crnn --out models/crnn
  musicrec train --data data/gtzan.csv --cache cache/ --arch cnn --out models/cnn-small \\
      --width-scale 0.25 --epochs 20")]
pub struct Args {
    /// Manifest CSV with train and validation splits.
    #[arg(long, value_name = "MANIFEST.csv")]
    data: PathBuf,
    /// Feature cache filled by `musicrec dataset prepare`.
    #[arg(long, value_name = "DIR")]
    cache: PathBuf,
    /// Architecture.
    #[arg(long, default_value = "crnn", value_parser = ["crnn", "cnn"])]
    arch: String,
    /// Model directory to write.
    #[arg(short, long, value_name = "MODEL_DIR")]
    out: PathBuf,
    /// Most epochs.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Windows per mini-batch.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Stop after this many epochs without a lower validation loss.
    #[arg(long, default_value_t = 10)]
    patience: usize,
    /// Seed of weight init, window shuffling and dropout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// cpu, cuda (builds with the `gpu` feature) or wgpu (the `wgpu` feature).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda", "wgpu"])]
    device: String,
    /// Continue the run in MODEL_DIR from its last checkpoint.
    #[arg(long)]
    resume: bool,
    /// Log-mel preset: choi (12000 Hz, n_fft 512, hop 256, 96 mels) or librosa (22050 Hz, n_fft
    /// 2048, hop 512, 128 mels).
    #[arg(long, default_value = "choi", value_parser = MelConfig::PRESETS)]
    preset: String,
    /// Window length in seconds [default: 6].
    #[arg(long, value_name = "SECS", conflicts_with = "frames")]
    window_secs: Option<f64>,
    /// Window length in frames (instead of --window-secs).
    #[arg(long, value_name = "N")]
    frames: Option<usize>,
    /// Frames between the starts of training windows [default: half a window].
    #[arg(long, value_name = "N")]
    train_hop: Option<usize>,
    /// Multiply every layer width (0.25: a quick model for CPU runs and tests).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    width_scale: f64,
    /// Seed the manifest's splits were drawn with, recorded on the model card (provenance only).
    #[arg(long, value_name = "SEED")]
    split_seed: Option<u64>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = TrainConfig::new(args.data, args.cache, args.out);
    config.arch = args.arch.parse::<Arch>().map_err(one_line)?;
    config.device = args.device.parse::<DeviceKind>().map_err(one_line)?;
    config.preset = args.preset;
    config.window = match (args.frames, args.window_secs) {
        (Some(frames), _) => WindowLength::Frames(frames),
        (None, Some(secs)) => WindowLength::Secs(secs),
        (None, None) => WindowLength::default(),
    };
    config.train_hop_frames = args.train_hop;
    config.width_scale = args.width_scale;
    config.epochs = args.epochs;
    config.batch_size = args.batch;
    config.learning_rate = args.lr;
    config.patience = args.patience;
    config.seed = args.seed;
    config.resume = args.resume;
    config.split_seed = args.split_seed;
    config.progress = true;
    config.command_line = Some(command_line());

    let report = musicrec_train::train(&config).map_err(one_line)?;
    let best = report.best().expect("a finished run has a best epoch");
    outln!(
        "{}: {} epochs in {:.1} s{}; best epoch {} (val loss {:.4}, val acc {:.3}){}",
        report.out.display(),
        report.history.len(),
        report.training_secs,
        if report.stopped_early {
            " (stopped early)"
        } else {
            ""
        },
        best.epoch,
        best.val_loss,
        best.val_acc,
        report.test.as_ref().map_or(String::new(), |t| format!(
            ", test acc {:.3} ({} tracks)",
            t.track_acc, t.tracks
        ))
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The train stage's errors are complete one-line reasons; keep their source chains out.
fn one_line(err: musicrec_train::TrainError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

/// The invocation, shell-quoted where needed, for the model card.
fn command_line() -> String {
    std::env::args()
        .map(|arg| {
            if !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                arg
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

//! `musicrec train`: train a CRNN or CNN genre classifier on a manifest's cached log-mels into a
//! model directory, or (`--backbone`) a genre head on a pretrained backbone's cached features into
//! a head directory. The training is `musicrec_train`'s, a head from a catalog's genre tags
//! `musicrec_lab::tags_head`'s; this module parses options and reports.

use std::path::PathBuf;
use std::process::ExitCode;

use musicrec_datasets::Split;
use musicrec_embed::one_line;
use musicrec_features::MelConfig;
use musicrec_lab::tags_head::{self, TagsHeadSettings};
use musicrec_train::head::{FitOptions, describe_accuracy};
use musicrec_train::{
    Analysis, Arch, DeviceKind, HeadTrainConfig, TrainConfig, Variant, WindowLength,
};

/// Train a genre classifier (CRNN or CNN) on cached log-mel windows, or a genre head on a
/// pretrained backbone (--backbone musicnn).
#[derive(clap::Args, Debug)]
#[command(after_help = "\
With --backbone (a network built into musicrec: `musicnn`, the default embedder; `cnn`, the \
built-in CNN's embedding, cheap, for quick checks) it trains a genre head instead: multinomial \
logistic regression on the backbone's track embeddings, in seconds. The embeddings of every clip \
(and of its band-limited copies, --augment) are computed once and cached (--cache, default the \
platform cache folder), so a second run is instant. --cv K first reports K-fold cross-validated \
accuracy over the selected clips, with and without the augmentation, tested on every variant. \
The head directory (config.json, weights.safetensors, MODEL.md) names its backbone; `scan \
--model DIR`, `predict --model DIR` and the others use it with that backbone.

  musicrec train --backbone musicnn --data data/gtzan.csv --out models/my-genres --splits all

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
    /// Manifest CSV with train and validation splits (with --backbone: labelled clips).
    #[arg(long, value_name = "MANIFEST.csv", required_unless_present = "from_db")]
    data: Option<PathBuf>,
    /// Feature cache filled by `musicrec dataset prepare` (with --backbone: the backbone
    /// feature cache [default: the platform cache folder's musicrec/backbone-features]).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Train a genre head on this built-in backbone instead of a network from scratch:
    /// `musicnn` or `cnn`.
    #[arg(long, value_name = "NAME", value_parser = musicrec_embed::built_in::BACKBONE_NAMES)]
    backbone: Option<String>,
    /// With --backbone: band-limited copies of every clip to train on besides the original
    /// (`band:HZ`, comma-separated; `none` for none).
    #[arg(long, value_name = "LIST", default_value = DEFAULT_AUGMENT, requires = "backbone")]
    augment: String,
    /// With --backbone: cross-validation folds to report before the final fit (0: none).
    #[arg(long, value_name = "K", default_value_t = 5, requires = "backbone")]
    cv: usize,
    /// With --backbone: manifest splits to train on (`all`, or a comma-separated list); a test
    /// split left out is reported.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "train,validation",
        requires = "backbone"
    )]
    splits: String,
    /// With --backbone: patches per track (`full` or at most N, evenly spread).
    #[arg(
        long,
        value_name = "N|full",
        default_value = "20",
        requires = "backbone"
    )]
    analysis: String,
    /// With --backbone: where the labels come from: the manifest's (`manifest`, with --data) or
    /// the genre tags of the files in a catalog (`tags`, with --from-db).
    #[arg(long, default_value = "manifest", value_parser = ["manifest", "tags"], requires = "backbone")]
    labels: String,
    /// With --labels tags: the catalog whose tracks (scanned with this backbone) and genre tags
    /// to learn from: an SQLite file or a postgres:// URL.
    #[arg(
        long,
        value_name = "FILE|URL",
        requires = "backbone",
        conflicts_with = "data"
    )]
    from_db: Option<String>,
    /// With --labels tags: a genre needs at least this many tracks to be learnt; rarer ones are
    /// dropped (their tracks left out) and listed.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "backbone")]
    min_tracks: usize,
    /// With --labels tags: share of each genre's tracks held out for the precision/recall report.
    #[arg(
        long,
        value_name = "SHARE",
        default_value_t = 0.2,
        requires = "backbone"
    )]
    held_out: f64,
    /// With --backbone: L2 penalty on the head's weights.
    #[arg(long, value_name = "X", default_value_t = HEAD_L2, requires = "backbone")]
    l2: f64,
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

/// Band-limited copies added to a head's training set by default: in 5-fold cross-validation on
/// GTZAN-mini they cost 0.02 accuracy on full-band clips (0.88 vs 0.90) and gain 0.16 on 4 kHz copies
/// (0.83 vs 0.67), the old MP3s and low-rate sources of real libraries.
const DEFAULT_AUGMENT: &str = "band:4000";
/// The head's default L2 penalty (`--l2`).
const HEAD_L2: f64 = 1e-3;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(backbone) = &args.backbone {
        return train_head(&args, backbone);
    }
    let Some(data) = args.data else {
        anyhow::bail!("--data MANIFEST.csv is required to train a network");
    };
    let Some(cache) = args.cache else {
        anyhow::bail!(
            "--cache DIR is required to train a network (fill it with `musicrec dataset prepare`)"
        );
    };
    let mut config = TrainConfig::new(data, cache, args.out);
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
    config.command_line = Some(musicrec_train::command_line());

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

/// `--backbone`: a genre head on a built-in backbone.
fn train_head(args: &Args, backbone: &str) -> anyhow::Result<ExitCode> {
    let kind = musicrec_embed::built_in::BackboneKind::parse(backbone)?;
    if args.labels == "tags" {
        return train_head_from_tags(args, kind);
    }
    let Some(data) = args.data.clone() else {
        anyhow::bail!(
            "--data MANIFEST.csv is required with --labels manifest (or pass --labels tags --from-db CATALOG)"
        );
    };
    let analysis: Analysis = args
        .analysis
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    let variants = Variant::parse_augment(&args.augment).map_err(|e| anyhow::anyhow!(e))?;
    let splits = Split::parse_list(&args.splits).map_err(|e| anyhow::anyhow!(e))?;
    let cache = match &args.cache {
        Some(dir) => dir.clone(),
        None => musicrec_lab::backbone_feature_cache()?,
    };
    let config = HeadTrainConfig {
        manifest: data,
        out: args.out.clone(),
        cache,
        splits,
        variants,
        analysis,
        fit: FitOptions {
            l2: args.l2,
            seed: args.seed,
            ..FitOptions::default()
        },
        cv_folds: args.cv,
        command_line: Some(musicrec_train::command_line()),
        progress: true,
    };
    let backbone = kind.load()?;
    let report = musicrec_train::train_head(&config, backbone.as_ref()).map_err(one_line)?;
    let training = &report.config.training;
    outln!(
        "{}: genre head on {} ({} genres, {} clips, {} examples) in {:.1} s; features: {} computed, {} cached in {}",
        args.out.display(),
        report.config.backbone,
        report.config.genres.len(),
        training.clips,
        training.examples,
        report.secs,
        report.computed,
        report.cached,
        config.cache.display()
    )?;
    if let Some(folds) = training.cv_folds {
        for result in &training.cross_validation {
            outln!(
                "cross-validation ({folds} folds): {}",
                describe_accuracy(result)
            )?;
        }
    }
    if let Some(test) = &training.test {
        outln!("test split: {}", describe_accuracy(test))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--labels tags --from-db CATALOG`: a head learnt from the genre tags of the catalog's files.
fn train_head_from_tags(
    args: &Args,
    kind: musicrec_embed::built_in::BackboneKind,
) -> anyhow::Result<ExitCode> {
    let Some(db) = &args.from_db else {
        anyhow::bail!(
            "--labels tags needs --from-db CATALOG (a catalog scanned with the backbone)"
        );
    };
    let outcome = tags_head::train_head_from_tags(&TagsHeadSettings {
        backbone: kind,
        db: db.clone(),
        out: args.out.clone(),
        min_tracks: args.min_tracks,
        held_out: args.held_out,
        l2: args.l2,
        seed: args.seed,
        command_line: Some(musicrec_train::command_line()),
    })?;
    outln!(
        "{}: genre head on {} from the genre tags of {} of {} tracks ({} untagged, {} in genres with fewer than {} tracks: {})",
        args.out.display(),
        outcome.config.backbone,
        outcome.tagged,
        outcome.tracks,
        outcome.untagged,
        outcome.rare.iter().map(|(_, n)| n).sum::<usize>(),
        args.min_tracks,
        outcome.describe_rare()
    )?;
    outln!("held-out accuracy {:.3}", outcome.held_out_accuracy)?;
    outln!(
        "{:<20} {:>6} {:>8} {:>9} {:>6}",
        "genre",
        "train",
        "held out",
        "precision",
        "recall"
    )?;
    for r in &outcome.labels {
        outln!(
            "{:<20} {:>6} {:>8} {:>9.2} {:>6.2}",
            r.label,
            r.train,
            r.held_out,
            r.precision,
            r.recall
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

//! `musicrec predict`: genre probabilities and top genre of audio files with a trained model
//! directory. All logic lives in `musicrec_train`; this module loads, loops and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use musicrec_train::{DeviceKind, ModelDir};

/// Predict the genre of audio files with a model directory from `musicrec train`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Each file is decoded at the model's sample rate, turned into its log-mel, cut into the model's \
windows (a short file gives one padded window), and the per-genre probabilities (sigmoid outputs) \
are averaged over the windows. Files that cannot be decoded are reported and skipped (exit status 1).

Examples:
  musicrec predict song.mp3 other.flac            # the built-in model
  musicrec predict --model models/crnn song.mp3 other.flac
  musicrec predict --model models/crnn --format json music/*.mp3")]
pub struct Args {
    /// Model directory written by `musicrec train` [default: the built-in model].
    #[arg(long, value_name = "MODEL_DIR")]
    model: Option<PathBuf>,
    /// Audio files.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// table: one line per file with the top genre and every probability; json: an array of
    /// {path, top_genre, probabilities: {genre: p}, windows}.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
    /// cpu, cuda (builds with the `gpu` feature) or wgpu (the `wgpu` feature).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda", "wgpu"])]
    device: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let device: DeviceKind = args.device.parse().map_err(one_line)?;
    let model = match &args.model {
        Some(dir) => ModelDir::load_on(dir, device).map_err(one_line)?,
        None => crate::default_model::load(device)?,
    };
    let genres = model.genres();
    let mut failed = 0;
    let mut json = Vec::new();
    if args.format == "table" {
        let header: Vec<String> = genres.iter().map(|g| format!("{g:>9}")).collect();
        outln!("{:<10} {:>6}  {}  file", "top", "p", header.join(" "))?;
    }
    for file in &args.files {
        let prediction = match model.predict_file(file) {
            Ok(p) => p,
            Err(err) => {
                eprintln!("error: {err}");
                failed += 1;
                continue;
            }
        };
        let top = prediction.top_genre(&model);
        if args.format == "table" {
            let cells: Vec<String> = prediction
                .probabilities
                .iter()
                .map(|p| format!("{p:>9.4}"))
                .collect();
            outln!(
                "{top:<10} {:>6.4}  {}  {}",
                prediction.probabilities[prediction.top],
                cells.join(" "),
                file.display()
            )?;
        } else {
            let probabilities: serde_json::Map<String, serde_json::Value> = genres
                .iter()
                .zip(&prediction.probabilities)
                .map(|(g, p)| (g.clone(), serde_json::json!(p)))
                .collect();
            json.push(serde_json::json!({
                "path": file.display().to_string(),
                "top_genre": top,
                "probabilities": probabilities,
                "windows": prediction.windows,
            }));
        }
    }
    if args.format == "json" {
        outln!("{}", serde_json::to_string_pretty(&json)?)?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn one_line(err: musicrec_train::TrainError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

//! `musicrec predict`: genre probabilities and top genre of audio files with the built-in CNN, a
//! trained CNN/CRNN model directory, or MusiCNN (`--model musicnn`, or a genre head directory on
//! it; its top MSD tags are printed too). Models and predictions are `musicrec_embed::predict`'s;
//! this module parses, loops and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use musicrec_embed::one_line;
use musicrec_embed::predict::Predictor;
use musicrec_train::{Analysis, DeviceKind};

/// Predict the genre of audio files (and, with the default model, their top MSD tags).
#[derive(clap::Args, Debug)]
#[command(after_help = "\
With MusiCNN (the default, `--model musicnn`, or a head directory) each file is decoded at 16 kHz, cut into 3 s patches (at most --analysis \
of them, evenly spread), run through MusiCNN, and the patches' embeddings and tag probabilities are \
averaged; a genre head (the built-in one, trained on GTZAN's 10 genres, unless --model names \
another) gives the genre probabilities (softmax; with `--model musicnn-tags`, the tags are the \
genres), and the five most probable of MusiCNN's 50 Million Song Dataset tags are printed beside \
them. With the built-in CNN (`--model cnn`) or a CNN/CRNN model directory the file is cut into the model's windows and its per-genre sigmoid outputs are \
averaged. Files that cannot be decoded are reported and skipped (exit status 1).

Examples:
  musicrec predict song.mp3 other.flac            # MusiCNN: genres and its top tags
  musicrec predict --model cnn song.mp3           # the built-in CNN
  musicrec predict --model models/my-genres song.mp3   # a genre head from `train --backbone`
  musicrec predict --model models/crnn --format json music/*.mp3")]
pub struct Args {
    /// `musicnn` (default: MusiCNN with the built-in genre head), `musicnn-tags`, `cnn`, a head
    /// directory (`train --backbone`) or a model directory (`train --arch`).
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
    /// Audio files.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// table: one line per file with the top genre and every probability (and the top tags);
    /// json: an array of {path, top_genre, probabilities: {genre: p}, windows, tags: [[tag, p]]}.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
    /// cpu, cuda (builds with the `gpu` feature) or wgpu (the `wgpu` feature); CNN/CRNN only.
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda", "wgpu"])]
    device: String,
    /// Backbone patches per file: `full`, or at most N evenly spread.
    #[arg(long, value_name = "N|full", default_value = "20")]
    analysis: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let device: DeviceKind = args.device.parse().map_err(one_line)?;
    let analysis: Analysis = args
        .analysis
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    let predictor = Predictor::load(args.model.as_deref(), device, analysis)?;
    let genres = predictor.genres();
    let mut failed = 0;
    let mut json = Vec::new();
    if args.format == "table" {
        let header: Vec<String> = genres.iter().map(|g| format!("{g:>9}")).collect();
        let tags = if predictor.has_tags() {
            "top tags  "
        } else {
            ""
        };
        outln!("{:<10} {:>6}  {}  {tags}file", "top", "p", header.join(" "))?;
    }
    for file in &args.files {
        let row = match predictor.predict(file) {
            Ok(row) => row,
            Err(err) => {
                eprintln!("error: {err:#}");
                failed += 1;
                continue;
            }
        };
        let top = row.top;
        let top_genre = &genres[top];
        if args.format == "table" {
            let cells: Vec<String> = row
                .probabilities
                .iter()
                .map(|p| format!("{p:>9.4}"))
                .collect();
            let tags: String = row
                .tags
                .iter()
                .map(|(t, p)| format!("{t} {p:.2}, "))
                .collect();
            let tags = if row.tags.is_empty() {
                String::new()
            } else {
                format!("{}  ", tags.trim_end_matches(", "))
            };
            outln!(
                "{top_genre:<10} {:>6.4}  {}  {tags}{}",
                row.probabilities[top],
                cells.join(" "),
                file.display()
            )?;
        } else {
            let probabilities: serde_json::Map<String, serde_json::Value> = genres
                .iter()
                .zip(&row.probabilities)
                .map(|(g, p)| (g.clone(), serde_json::json!(p)))
                .collect();
            let mut value = serde_json::json!({
                "path": file.display().to_string(),
                "top_genre": top_genre,
                "probabilities": probabilities,
                "windows": row.windows,
            });
            if !row.tags.is_empty() {
                value["tags"] = serde_json::json!(row.tags);
            }
            json.push(value);
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

//! `musicrec model [--model NAME|DIR]`: what a model is, before anyone scans a library with it:
//! its architecture, feature preset, genres and embedding size, then its card(s): for MusiCNN
//! its card with the ISC licence and attribution (and a head's card when a head directory is
//! given); for a CNN/CRNN directory its `MODEL.md` (the data, the command and the metrics it was
//! made with). The summary is `musicrec_embed::summary`'s; this module prints it.

use std::path::PathBuf;
use std::process::ExitCode;

use musicrec_embed::ModelChoice;
use musicrec_embed::summary::ModelSummary;

/// Show a model's summary and model card (the default model unless --model).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// `musicnn` (default: MusiCNN with the built-in genre head), `musicnn-tags`, `cnn`, a head
    /// directory (`train --backbone`) or a model directory (`train --arch`).
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let choice = ModelChoice::parse(args.model.as_deref())?;
    out!("{}", ModelSummary::of(&choice)?)?;
    Ok(ExitCode::SUCCESS)
}

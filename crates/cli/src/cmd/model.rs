//! `musicrec model [--model DIR]`: what a model is, before anyone scans a library with it: its
//! architecture, feature preset, genres and embedding size, then its model card (`MODEL.md`: the
//! data, the command and the metrics it was made with). The built-in model unless `--model`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use musicrec_train::{DeviceKind, ModelDir};

/// Show a model's summary and model card (the built-in model unless --model).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model directory made by `musicrec train` [default: the built-in model].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (model, id, card) = match &args.model {
        Some(dir) => {
            let model = ModelDir::load_on(dir, DeviceKind::Cpu)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("cannot load the model in {}", dir.display()))?;
            let id = crate::embedder::model_id_of(dir, &model.config().arch)?;
            let card_path = dir.join(musicrec_train::CARD_FILE);
            let card = std::fs::read_to_string(&card_path).unwrap_or_else(|_| {
                format!("(no {} in {})\n", musicrec_train::CARD_FILE, dir.display())
            });
            (model, id, card)
        }
        None => (
            crate::default_model::load(DeviceKind::Cpu)?,
            crate::default_model::model_id()?,
            crate::default_model::MODEL_CARD.to_owned(),
        ),
    };
    let config = model.config();
    outln!("model      {id}")?;
    outln!(
        "source     {}",
        args.model
            .as_ref()
            .map_or(crate::default_model::NAME.to_owned(), |d| d
                .display()
                .to_string())
    )?;
    outln!("arch       {}", config.arch)?;
    outln!(
        "features   preset {} ({} Hz, {} mels, n_fft {}, hop {})",
        config.preset.as_deref().unwrap_or("custom"),
        config.mel.sample_rate,
        config.mel.n_mels,
        config.mel.n_fft,
        config.mel.hop_length
    )?;
    outln!(
        "window     {} frames ({:.1} s)",
        config.window_frames,
        config.window_secs()
    )?;
    outln!("embedding  {} dimensions", config.model.embedding_dim())?;
    outln!("genres     {}", model.genres().join(", "))?;
    outln!()?;
    out!("{card}")?;
    if !card.ends_with('\n') {
        outln!()?;
    }
    Ok(ExitCode::SUCCESS)
}

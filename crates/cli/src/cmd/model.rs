//! `musicrec model [--model NAME|DIR]`: what a model is, before anyone scans a library with it:
//! its architecture, feature preset, genres and embedding size, then its card(s): for MusiCNN
//! its card with the ISC licence and attribution (and a head's card when a head directory is
//! given); for a CNN/CRNN directory its `MODEL.md` (the data, the command and the metrics it was
//! made with).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use musicrec_train::{Analysis, DeviceKind, ModelDir};

use musicrec_embed::{HeadSource, ModelChoice, one_line};

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
    let id = choice.model_id()?;
    match choice {
        ModelChoice::Backbone { head } => {
            let models = musicrec_embed::load_backbone_and_head(&head)?;
            let backbone = &models.backbone;
            outln!("model      {id}")?;
            outln!("source     {} with {}", backbone.name(), head.describe())?;
            outln!("backbone   {} (id {})", backbone.name(), backbone.id())?;
            outln!(
                "features   preset musicnn (16000 Hz, 96 mels, n_fft 512, hop 256, log10(1 + 10000 x)), \
                 3 s patches, at most {} per track (evenly spread)",
                Analysis::default()
            )?;
            outln!(
                "embedding  {} dimensions (penultimate layer, averaged over the patches)",
                backbone.embedding_dim()
            )?;
            outln!("genres     {}", models.genres().join(", "))?;
            outln!("tags       {}", backbone.tag_names().join(", "))?;
            outln!()?;
            if backbone.name().starts_with("musicnn") {
                print_card(musicrec_embed::built_in::MUSICNN_CARD)?;
                outln!()?;
                // The ISC licence asks for its notice in every copy: the weights are in this binary.
                outln!("Licence of the MusiCNN weights (models/musicnn-msd/LICENSE):")?;
                print_card(musicrec_embed::built_in::MUSICNN_LICENSE)?;
                outln!()?;
            }
            match &head {
                HeadSource::BuiltIn => print_card(musicrec_embed::built_in::GENRE_HEAD_CARD)?,
                HeadSource::Dir(dir) => {
                    let card =
                        std::fs::read_to_string(dir.join(musicrec_train::head::HEAD_CARD_FILE))
                            .unwrap_or_else(|_| format!("(no MODEL.md in {})\n", dir.display()));
                    print_card(&card)?;
                }
                HeadSource::Tags => {}
            }
        }
        ModelChoice::BuiltInCnn | ModelChoice::ModelDir(_) => {
            let (model, source, card) = match &choice {
                ModelChoice::ModelDir(dir) => {
                    let model = ModelDir::load_on(dir, DeviceKind::Cpu)
                        .map_err(one_line)
                        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
                    let card_path = dir.join(musicrec_train::CARD_FILE);
                    let card = std::fs::read_to_string(&card_path).unwrap_or_else(|_| {
                        format!("(no {} in {})\n", musicrec_train::CARD_FILE, dir.display())
                    });
                    (model, dir.display().to_string(), card)
                }
                _ => (
                    musicrec_embed::built_in::load(DeviceKind::Cpu)?,
                    musicrec_embed::built_in::NAME.to_owned(),
                    musicrec_embed::built_in::MODEL_CARD.to_owned(),
                ),
            };
            let config = model.config();
            outln!("model      {id}")?;
            outln!("source     {source}")?;
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
            print_card(&card)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_card(card: &str) -> anyhow::Result<()> {
    out!("{card}")?;
    if !card.ends_with('\n') {
        outln!()?;
    }
    Ok(())
}

//! What a model is, before anyone scans a library with it ([`ModelSummary`]): its architecture,
//! feature preset, genres and embedding size, then its card(s): for MusiCNN its card with the
//! ISC licence and attribution (and a head's card), for a CNN/CRNN directory its `MODEL.md`.

use std::fmt;

use anyhow::Context;
use musicrec_train::{Analysis, DeviceKind, ModelDir};

use crate::{HeadSource, ModelChoice, one_line};

/// A model's summary lines and cards, as `musicrec model` prints them (its `Display`).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSummary {
    /// Label and value, one line each: model id, source, architecture, features, genres, ...
    pub fields: Vec<(&'static str, String)>,
    /// Texts printed one after the other after a blank line, each ended by a newline when it
    /// lacks one (an empty text is a blank line).
    pub cards: Vec<String>,
}

impl ModelSummary {
    /// Loads the model `choice` names (on the CPU) and reads its cards.
    pub fn of(choice: &ModelChoice) -> anyhow::Result<Self> {
        let id = choice.model_id()?;
        match choice {
            ModelChoice::Backbone { head } => backbone_summary(id, head),
            ModelChoice::ModelDir(dir) => {
                let model = ModelDir::load_on(dir, DeviceKind::Cpu)
                    .map_err(one_line)
                    .with_context(|| format!("cannot load the model in {}", dir.display()))?;
                let card = std::fs::read_to_string(dir.join(musicrec_train::CARD_FILE))
                    .unwrap_or_else(|_| {
                        format!("(no {} in {})\n", musicrec_train::CARD_FILE, dir.display())
                    });
                Ok(model_dir_summary(
                    id,
                    &model,
                    dir.display().to_string(),
                    card,
                ))
            }
            ModelChoice::BuiltInCnn => Ok(model_dir_summary(
                id,
                &crate::built_in::load(DeviceKind::Cpu)?,
                crate::built_in::NAME.to_owned(),
                crate::built_in::MODEL_CARD.to_owned(),
            )),
        }
    }
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (label, value) in &self.fields {
            writeln!(f, "{label:<10} {value}")?;
        }
        writeln!(f)?;
        for card in &self.cards {
            f.write_str(card)?;
            if !card.ends_with('\n') {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

fn backbone_summary(id: String, head: &HeadSource) -> anyhow::Result<ModelSummary> {
    let models = crate::load_backbone_and_head(head)?;
    let backbone = &models.backbone;
    let fields = vec![
        ("model", id),
        (
            "source",
            format!("{} with {}", backbone.name(), head.describe()),
        ),
        (
            "backbone",
            format!("{} (id {})", backbone.name(), backbone.id()),
        ),
        (
            "features",
            format!(
                "preset musicnn (16000 Hz, 96 mels, n_fft 512, hop 256, log10(1 + 10000 x)), \
                 3 s patches, at most {} per track (evenly spread)",
                Analysis::default()
            ),
        ),
        (
            "embedding",
            format!(
                "{} dimensions (penultimate layer, averaged over the patches)",
                backbone.embedding_dim()
            ),
        ),
        ("genres", models.genres().join(", ")),
        ("tags", backbone.tag_names().join(", ")),
    ];
    let mut cards = Vec::new();
    if backbone.name().starts_with("musicnn") {
        // The ISC licence asks for its notice in every copy: the weights are in this binary.
        cards.extend([
            crate::built_in::MUSICNN_CARD.to_owned(),
            String::new(),
            format!(
                "Licence of the MusiCNN weights (models/musicnn-msd/LICENSE):\n{}",
                crate::built_in::MUSICNN_LICENSE
            ),
            String::new(),
        ]);
    }
    match head {
        HeadSource::BuiltIn => cards.push(crate::built_in::GENRE_HEAD_CARD.to_owned()),
        HeadSource::Dir(dir) => cards.push(
            std::fs::read_to_string(dir.join(musicrec_train::head::HEAD_CARD_FILE))
                .unwrap_or_else(|_| format!("(no MODEL.md in {})\n", dir.display())),
        ),
        HeadSource::Tags => {}
    }
    Ok(ModelSummary { fields, cards })
}

fn model_dir_summary(id: String, model: &ModelDir, source: String, card: String) -> ModelSummary {
    let config = model.config();
    let fields = vec![
        ("model", id),
        ("source", source),
        ("arch", config.arch.to_string()),
        (
            "features",
            format!(
                "preset {} ({} Hz, {} mels, n_fft {}, hop {})",
                config.preset.as_deref().unwrap_or("custom"),
                config.mel.sample_rate,
                config.mel.n_mels,
                config.mel.n_fft,
                config.mel.hop_length
            ),
        ),
        (
            "window",
            format!(
                "{} frames ({:.1} s)",
                config.window_frames,
                config.window_secs()
            ),
        ),
        (
            "embedding",
            format!("{} dimensions", config.model.embedding_dim()),
        ),
        ("genres", model.genres().join(", ")),
    ];
    ModelSummary {
        fields,
        cards: vec![card],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_aligned_and_cards_end_with_a_newline() {
        let summary = ModelSummary {
            fields: vec![
                ("model", "m-1".into()),
                ("embedding", "8 dimensions".into()),
            ],
            cards: vec!["# Card".into(), String::new(), "licence\n".into()],
        };
        assert_eq!(
            summary.to_string(),
            "model      m-1\nembedding  8 dimensions\n\n# Card\n\nlicence\n"
        );
    }
}

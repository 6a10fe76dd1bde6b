//! Genre predictions of single files, as `musicrec predict` makes them: with a CNN/CRNN model
//! directory (the built-in CNN or one from `train --arch`), or a backbone with a genre head,
//! whose most probable tags come with the genres.

use std::path::Path;

use musicrec_train::{Analysis, DeviceKind, ModelDir};

use crate::{BackboneAndHead, ModelChoice, one_line};

/// Tags given per file by a backbone.
pub const TOP_TAGS: usize = 5;

/// One file's prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// One probability per genre, in [`Predictor::genres`] order.
    pub probabilities: Vec<f32>,
    /// The index of the most probable genre.
    pub top: usize,
    /// Windows (CNN/CRNN) or patches (backbone) averaged.
    pub windows: usize,
    /// The backbone's [`TOP_TAGS`] most probable tags, most probable first (empty for CNN/CRNN).
    pub tags: Vec<(String, f32)>,
}

/// What predicts: a model directory, or a backbone and its head.
pub enum Predictor {
    ModelDir(Box<ModelDir>),
    Backbone {
        models: Box<BackboneAndHead>,
        genres: Vec<String>,
        analysis: Analysis,
    },
}

impl Predictor {
    /// Loads what `--model` names (see [`ModelChoice::parse`]): a model directory on `device`,
    /// or a backbone and head that analyse `analysis` patches per file.
    pub fn load(
        model: Option<&Path>,
        device: DeviceKind,
        analysis: Analysis,
    ) -> anyhow::Result<Self> {
        Ok(match ModelChoice::parse(model)? {
            ModelChoice::ModelDir(dir) => {
                Self::ModelDir(Box::new(ModelDir::load_on(dir, device).map_err(one_line)?))
            }
            ModelChoice::BuiltInCnn => Self::ModelDir(Box::new(crate::built_in::load(device)?)),
            ModelChoice::Backbone { head } => {
                let models = crate::load_backbone_and_head(&head)?;
                Self::Backbone {
                    genres: models.genres(),
                    models: Box::new(models),
                    analysis,
                }
            }
        })
    }

    /// The genre names, in the order of [`Prediction::probabilities`].
    pub fn genres(&self) -> &[String] {
        match self {
            Self::ModelDir(model) => model.genres(),
            Self::Backbone { genres, .. } => genres,
        }
    }

    /// Whether predictions carry tags (a backbone).
    pub fn has_tags(&self) -> bool {
        matches!(self, Self::Backbone { .. })
    }

    /// Decodes `file` and predicts its genres (and tags); errors name the file.
    pub fn predict(&self, file: &Path) -> anyhow::Result<Prediction> {
        let (probabilities, windows, tags) = match self {
            Self::ModelDir(model) => {
                let p = model.predict_file(file).map_err(one_line)?;
                (p.probabilities, p.windows, Vec::new())
            }
            Self::Backbone {
                models, analysis, ..
            } => {
                let backbone = &models.backbone;
                let audio = musicrec_audio::load(file, Some(backbone.sample_rate()))
                    .map_err(|e| anyhow::anyhow!("{}: cannot decode: {e}", file.display()))?;
                let features = backbone
                    .features(&audio.samples, *analysis)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let probabilities = models.genre_probs(&features).map_err(one_line)?;
                let tags = top_tags(backbone.tag_names(), &features.tags, TOP_TAGS);
                (probabilities, features.patches, tags)
            }
        };
        Ok(Prediction {
            top: musicrec_train::predict::argmax(&probabilities),
            probabilities,
            windows,
            tags,
        })
    }
}

/// The `k` most probable of `names` by `probs`, most probable first.
pub fn top_tags(names: &[String], probs: &[f32], k: usize) -> Vec<(String, f32)> {
    let mut tags: Vec<(String, f32)> = names.iter().cloned().zip(probs.iter().copied()).collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.truncate(k);
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_tags_are_the_most_probable_first() {
        let names: Vec<String> = ["rock", "jazz", "pop"].map(String::from).to_vec();
        let top = top_tags(&names, &[0.2, 0.7, 0.5], 2);
        assert_eq!(top, [("jazz".to_string(), 0.7), ("pop".to_string(), 0.5)]);
    }
}

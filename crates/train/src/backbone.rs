//! Backbones: pretrained networks that turn a decoded track into per-patch features, and the
//! track-level features musicrec keeps of them (the per-patch embeddings and tag probabilities
//! averaged over a bounded, evenly spread set of patches).
//!
//! [`Backbone`] is the seam between the networks (MusiCNN; the built-in CNN serves as one in
//! tests, being cheap) and what is built on them: the catalog embedder, the genre heads of
//! [`crate::head`] and their feature cache ([`crate::feature_cache`]).

use std::fmt;
use std::str::FromStr;

use musicrec_datasets::window::{WindowConfig, mean_of, windows};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::model_dir::ModelDir;
use crate::predict::run_windows_both;

/// Patches analysed per track by default: evenly spread over the track, so a 30 s clip (10
/// MusiCNN patches) is analysed whole and a long track costs at most this many forward passes.
pub const DEFAULT_MAX_PATCHES: usize = 20;

/// Which patches of a track are analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Analysis {
    /// At most this many patches, evenly spread over the track (all of them when it has fewer).
    Bounded(usize),
    /// Every patch.
    Full,
}

impl Analysis {
    /// The patches to analyse among `starts` (a track's patches in order): all when allowed,
    /// else evenly spread ones, first and last included (`musicnn::spread_patches`).
    pub fn pick(self, starts: &[usize]) -> Vec<usize> {
        match self {
            Self::Full => starts.to_vec(),
            Self::Bounded(n) => musicrec_model::musicnn::spread_patches(starts, n),
        }
    }
}

impl Default for Analysis {
    fn default() -> Self {
        Self::Bounded(DEFAULT_MAX_PATCHES)
    }
}

impl fmt::Display for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bounded(n) => write!(f, "{n}"),
            Self::Full => f.write_str("full"),
        }
    }
}

impl FromStr for Analysis {
    type Err = String;

    /// `full`, or a positive number of patches.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        if text == "full" {
            return Ok(Self::Full);
        }
        match text.parse::<usize>() {
            Ok(n) if n > 0 => Ok(Self::Bounded(n)),
            _ => Err(format!(
                "--analysis takes `full` or a positive number of patches, not `{text}`"
            )),
        }
    }
}

/// What a backbone keeps of one track.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackFeatures {
    /// Per-patch embeddings averaged ([`Backbone::embedding_dim`] values).
    pub embedding: Vec<f32>,
    /// Per-patch tag probabilities averaged, in [`Backbone::tag_names`] order.
    pub tags: Vec<f32>,
    /// How many patches were averaged.
    pub patches: usize,
}

/// A pretrained network over decoded audio.
///
/// Burn modules are not `Sync`: a backbone is used from one thread at a time (callers that run
/// several threads hold one backbone per thread).
pub trait Backbone {
    /// Short name of the network and its weights (`musicnn-msd`), written into head directories.
    fn name(&self) -> &str;
    /// The name plus a hash of the weights: two backbones with one id give the same features.
    fn id(&self) -> &str;
    /// Sample rate the samples given to [`Backbone::features`] must have.
    fn sample_rate(&self) -> u32;
    /// Length of [`TrackFeatures::embedding`].
    fn embedding_dim(&self) -> usize;
    /// Names of [`TrackFeatures::tags`].
    fn tag_names(&self) -> &[String];
    /// The features of mono `samples` at [`Backbone::sample_rate`]; a track shorter than one
    /// patch is padded to one.
    fn features(&self, samples: &[f32], analysis: Analysis) -> Result<TrackFeatures>;
}

/// A CNN or CRNN model directory used as a backbone: the embedding is its window embedding, the
/// "tags" its genre probabilities. Cheap enough for tests of everything built on backbones.
#[derive(Debug)]
pub struct ModelDirBackbone {
    model: ModelDir,
    name: String,
    id: String,
}

impl ModelDirBackbone {
    /// `model` under `id` (the catalog's model id of the directory, `cnn-<hash>`).
    pub fn new(model: ModelDir, id: String) -> Self {
        Self {
            name: model.config().arch.clone(),
            model,
            id,
        }
    }

    pub fn model(&self) -> &ModelDir {
        &self.model
    }
}

impl Backbone for ModelDirBackbone {
    fn name(&self) -> &str {
        &self.name
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn sample_rate(&self) -> u32 {
        self.model.config().mel.sample_rate
    }

    fn embedding_dim(&self) -> usize {
        self.model.config().model.embedding_dim()
    }

    fn tag_names(&self) -> &[String] {
        self.model.genres()
    }

    fn features(&self, samples: &[f32], analysis: Analysis) -> Result<TrackFeatures> {
        if samples.is_empty() {
            return Err(TrainError::Data("no audio samples".into()));
        }
        let log_mel = self.model.extractor().log_mel(samples);
        let all = windows(
            &log_mel,
            &WindowConfig::new(self.model.config().window_frames),
        );
        let indices: Vec<usize> = (0..all.len()).collect();
        let chosen: Vec<_> = analysis
            .pick(&indices)
            .into_iter()
            .map(|i| all[i].clone())
            .collect();
        let (embeddings, probabilities) = run_windows_both(&self.model, &chosen)?;
        Ok(TrackFeatures {
            embedding: mean_of(&embeddings),
            tags: mean_of(&probabilities),
            patches: chosen.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Analysis;

    #[test]
    fn analysis_picks_all_or_evenly_spread_patches() {
        let five: Vec<usize> = (0..5).collect();
        assert_eq!(Analysis::Bounded(20).pick(&five), five);
        assert_eq!(Analysis::Full.pick(&five), five);
        let hundred: Vec<usize> = (0..100).collect();
        assert_eq!(Analysis::Bounded(4).pick(&hundred), vec![0, 33, 66, 99]);
        let picked = Analysis::Bounded(20).pick(&hundred[..41]);
        assert_eq!(picked.len(), 20);
        assert!(picked.windows(2).all(|w| w[0] < w[1]), "{picked:?}");
        assert_eq!((picked[0], *picked.last().unwrap()), (0, 40));
        assert!(Analysis::Bounded(3).pick(&[]).is_empty());
    }

    #[test]
    fn analysis_parses_and_prints_back() {
        assert_eq!("full".parse::<Analysis>().unwrap(), Analysis::Full);
        assert_eq!("12".parse::<Analysis>().unwrap(), Analysis::Bounded(12));
        assert!("0".parse::<Analysis>().is_err());
        assert!("many".parse::<Analysis>().unwrap_err().contains("many"));
        assert_eq!(Analysis::default().to_string(), "20");
    }
}

//! The adapter between a trained model directory (`musicrec_train::ModelDir`) and the catalog's
//! [`TrackEmbedder`] seam: one decode and one log-mel per file, then the averaged window
//! embedding and genre probabilities from that same log-mel.
//!
//! The model id is `<arch>-<first 16 hex of blake3(config.json bytes + weights bytes)>`: the same
//! files give the same id on every machine, and retraining (new weights) gives a new one, so the
//! catalog never mixes vectors of two models. The built-in model ([`crate::default_model`]) gets
//! its id from the same bytes.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use musicrec_catalog::{ModelInfo, TrackEmbedder, TrackEmbedding};
pub use musicrec_train::model_dir::{model_id_of, model_id_of_bytes};
use musicrec_train::{DeviceKind, ModelDir};

/// A [`TrackEmbedder`] over a loaded model directory.
pub struct ModelEmbedder {
    /// Burn modules are not `Sync`; inference runs one file at a time behind this lock while
    /// decoding and the log-mel (most of the time per file) run in parallel outside it.
    model: Mutex<ModelDir>,
    model_id: String,
    info: ModelInfo,
    sample_rate: u32,
    description: String,
}

impl ModelEmbedder {
    /// Loads the model directory `dir` and derives its stable id.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let model = ModelDir::load(dir)?;
        let model_id = model_id_of(dir, &model.config().arch)?;
        Self::from_model(model, model_id, dir.display().to_string())
    }

    /// The model built into the binary.
    pub fn built_in() -> anyhow::Result<Self> {
        let model = crate::default_model::load(DeviceKind::Cpu)?;
        let model_id = crate::default_model::model_id()?;
        Self::from_model(model, model_id, crate::default_model::NAME.to_string())
    }

    /// `--model DIR` when given, else the built-in model.
    pub fn load_or_built_in(dir: Option<&Path>) -> anyhow::Result<Self> {
        match dir {
            Some(dir) => {
                Self::load(dir).with_context(|| format!("cannot load model {}", dir.display()))
            }
            None => Self::built_in(),
        }
    }

    /// The model directory, or "built-in default model".
    pub fn description(&self) -> &str {
        &self.description
    }

    fn from_model(model: ModelDir, model_id: String, description: String) -> anyhow::Result<Self> {
        let embedding_dim = model.config().model.embedding_dim();
        let info = ModelInfo {
            genres: model.genres().to_vec(),
            embedding_dim,
            config: serde_json::to_value(model.config())
                .context("cannot serialise the model config")?,
        };
        let sample_rate = model.config().mel.sample_rate;
        Ok(Self {
            model: Mutex::new(model),
            model_id,
            info,
            sample_rate,
            description,
        })
    }
}

impl TrackEmbedder for ModelEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn model_info(&self) -> ModelInfo {
        self.info.clone()
    }

    fn embed(&self, path: &Path) -> Result<TrackEmbedding, String> {
        let audio =
            musicrec_audio::load(path, Some(self.sample_rate)).map_err(|e| e.to_string())?;
        if audio.samples.is_empty() {
            return Err("no audio samples".into());
        }
        let duration_secs = audio.samples.len() as f64 / f64::from(self.sample_rate);
        // The extractor is cheap to clone (shared FFT plan) and lets the log-mel run unlocked.
        let extractor = self.lock()?.extractor().clone();
        let log_mel = extractor.log_mel(&audio.samples);
        // One forward pass gives both outputs (the embedding feeds the classifier).
        let outputs = self
            .lock()?
            .embed_and_predict_log_mel(&log_mel)
            .map_err(|e| e.to_string())?;
        Ok(TrackEmbedding {
            embedding: outputs.embedding,
            genre_probs: outputs.probabilities,
            duration_secs,
        })
    }
}

impl ModelEmbedder {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, ModelDir>, String> {
        self.model
            .lock()
            .map_err(|_| "the model failed on an earlier file (poisoned lock)".to_string())
    }
}

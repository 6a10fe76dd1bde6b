//! Genre classifiers over log-mel spectrograms, in Burn 0.22: a 5-block [`Cnn`] and Choi et
//! al.'s [`Crnn`], plus [`GenreModel`] / [`ModelConfig`] to handle either one.
//!
//! Input is `[batch, 1, n_mels, frames]` (96 mels for the `choi` preset, 128 for `librosa`).
//! Every model gives `forward` (logits, one per genre), `probabilities` (sigmoid of those) and
//! `embed` (the vector right before the classifier: the song embedding recommendation uses).
//! All three check the input shape first and return [`ModelError::Input`] instead of panicking.
//!
//! Burn 0.22 has no backend type parameter: the backend lives in the [`Device`]
//! (`Device::flex()` on CPU, `Device::cuda(0)` with this crate's `gpu` feature), so one code
//! path serves all backends. Training uses `device.autodiff()`; [`burn::module::Module::valid`]
//! gives the eval-mode copy (batch norm on running statistics, dropout off).
//!
//! Every layer has a PyTorch twin in `scripts/golden/models.py`; `tests/golden_parity.rs`
//! loads that twin's weights and matches logits and embeddings within 1e-4.

mod block;
mod cnn;
mod conv_cpu;
mod crnn;
mod error;
mod host;
pub mod musicnn;
mod musicnn_cpu;
pub mod pools;
mod weights;

pub use block::ConvBlock;
pub use burn;
pub use burn::tensor::Device;
pub use cnn::{Cnn, CnnConfig};
pub use conv_cpu::{HostCnn, HostCrnn, HostModel};
pub use crnn::{Crnn, CrnnConfig};
pub use error::ModelError;
pub use weights::{load_weights, load_weights_from_bytes, save_weights};

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;

/// Either architecture's config; serialises to JSON as `{"Cnn": {...}}` / `{"Crnn": {...}}`
/// (burn's `Config::save` / `Config::load`), which is what a model directory stores.
#[derive(Config, Debug)]
pub enum ModelConfig {
    /// The 5-block CNN.
    Cnn(CnnConfig),
    /// Choi et al.'s CRNN.
    Crnn(CrnnConfig),
}

impl ModelConfig {
    /// Builds the model with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> Result<GenreModel, ModelError> {
        Ok(match self {
            Self::Cnn(config) => GenreModel::Cnn(config.init(device)?),
            Self::Crnn(config) => GenreModel::Crnn(config.init(device)?),
        })
    }

    /// Mel bins the model expects.
    pub fn n_mels(&self) -> usize {
        match self {
            Self::Cnn(config) => config.n_mels,
            Self::Crnn(config) => config.n_mels,
        }
    }

    /// Number of genre outputs.
    pub fn n_genres(&self) -> usize {
        match self {
            Self::Cnn(config) => config.n_genres,
            Self::Crnn(config) => config.n_genres,
        }
    }

    /// Length of the vector [`GenreModel::embed`] returns.
    pub fn embedding_dim(&self) -> usize {
        match self {
            Self::Cnn(config) => config.embedding_dim(),
            Self::Crnn(config) => config.embedding_dim(),
        }
    }
}

/// Either architecture behind one type, so a training loop or a catalog builder need not care.
#[derive(Module, Debug)]
// One model lives per process and is moved rarely; boxing would only complicate the derive.
#[allow(clippy::large_enum_variant)]
pub enum GenreModel {
    /// The 5-block CNN.
    Cnn(Cnn),
    /// Choi et al.'s CRNN.
    Crnn(Crnn),
}

impl GenreModel {
    /// Checks an input shape `[batch, 1, n_mels, frames]` without running anything.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), ModelError> {
        match self {
            Self::Cnn(model) => model.check_input(shape),
            Self::Crnn(model) => model.check_input(shape),
        }
    }

    /// Logits `[batch, n_genres]`.
    pub fn forward(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        match self {
            Self::Cnn(model) => model.forward(x),
            Self::Crnn(model) => model.forward(x),
        }
    }

    /// Per-genre probabilities `[batch, n_genres]` (sigmoid of the logits).
    pub fn probabilities(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        match self {
            Self::Cnn(model) => model.probabilities(x),
            Self::Crnn(model) => model.probabilities(x),
        }
    }

    /// Song embeddings `[batch, embedding_dim]`.
    pub fn embed(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        match self {
            Self::Cnn(model) => model.embed(x),
            Self::Crnn(model) => model.embed(x),
        }
    }

    /// Embeddings `[batch, embedding_dim]` and probabilities `[batch, n_genres]` from one forward
    /// pass: the same values as [`Self::embed`] and [`Self::probabilities`], at the cost of one.
    pub fn embed_and_probabilities(
        &self,
        x: Tensor<4>,
    ) -> Result<(Tensor<2>, Tensor<2>), ModelError> {
        match self {
            Self::Cnn(model) => model.embed_and_probabilities(x),
            Self::Crnn(model) => model.embed_and_probabilities(x),
        }
    }

    /// Writes the weights to a SafeTensors file ([`save_weights`]).
    pub fn save_weights(&self, path: &Path) -> Result<(), ModelError> {
        save_weights(self, path)
    }

    /// Loads weights written for the same config ([`load_weights`]).
    pub fn load_weights(self, path: &Path) -> Result<Self, ModelError> {
        load_weights(self, path)
    }

    /// Loads the bytes of such a weights file ([`load_weights_from_bytes`]); `name` labels
    /// errors.
    pub fn load_weights_from_bytes(self, bytes: &[u8], name: &Path) -> Result<Self, ModelError> {
        load_weights_from_bytes(self, bytes, name)
    }
}

/// Shared input check: one channel, the configured mel count, at least `min_frames` frames.
fn check_input(shape: [usize; 4], n_mels: usize, min_frames: usize) -> Result<(), ModelError> {
    let [batch, channels, mels, frames] = shape;
    let reason = if batch == 0 {
        "empty batch".to_string()
    } else if channels != 1 {
        format!("expected 1 channel, got {channels}")
    } else if mels != n_mels {
        format!("the model was configured for {n_mels} mel bins, the input has {mels}")
    } else if frames < min_frames.max(1) {
        format!("needs at least {} frames, got {frames}", min_frames.max(1))
    } else {
        return Ok(());
    };
    Err(ModelError::Input { shape, reason })
}

//! The crate's one error type: bad configs, inputs that do not fit a model, unusable weights files.

use std::path::PathBuf;

/// Everything that can go wrong building, running, saving or loading a model.
///
/// Shapes are checked before any Burn call, so bad input ends here rather than in a panic
/// inside a tensor op.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The configuration cannot describe a working network (e.g. mismatched list lengths).
    #[error("invalid model config: {0}")]
    Config(String),
    /// The input tensor's shape does not match what the config expects.
    #[error("input of shape {shape:?} does not fit the model: {reason}")]
    Input {
        /// The offending input shape, `[batch, channels, n_mels, frames]`.
        shape: [usize; 4],
        /// What is wrong with it.
        reason: String,
    },
    /// A weights file could not be written, read, or does not match the model.
    #[error("weights file {}: {reason}", path.display())]
    Weights {
        /// The file involved.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

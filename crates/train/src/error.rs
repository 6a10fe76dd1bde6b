//! The train stage's one error type. Every variant renders as a one-line reason that names the
//! file or option involved and, where there is one, the command that fixes it.

use std::path::PathBuf;

/// Everything that can stop training, loading a model directory or predicting.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A training option is out of range or inconsistent.
    #[error("{0}")]
    Config(String),
    /// The data cannot train a model (one genre, an empty split, missing cache entries, ...).
    #[error("{0}")]
    Data(String),
    /// The asked device is not available in this build or on this machine.
    #[error("{0}")]
    Device(String),
    /// A model directory is missing, from another version, or does not fit the input.
    #[error("model directory {}: {reason}", dir.display())]
    ModelDir { dir: PathBuf, reason: String },
    /// A checkpoint could not be written or read back.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint { path: PathBuf, reason: String },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An audio file could not be decoded for prediction.
    #[error("{}: cannot decode: {source}", path.display())]
    Audio {
        path: PathBuf,
        #[source]
        source: musicrec_audio::AudioError,
    },
    #[error(transparent)]
    Datasets(#[from] musicrec_datasets::DatasetError),
    #[error(transparent)]
    Features(#[from] musicrec_features::FeatureError),
    #[error(transparent)]
    Model(#[from] musicrec_model::ModelError),
    #[error(transparent)]
    Plot(#[from] musicrec_plot::PlotError),
}

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn checkpoint(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        Self::Checkpoint {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn model_dir(dir: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::ModelDir {
            dir: dir.into(),
            reason: reason.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

//! The crate's error type: bad input, undefined statistics, I/O and drawing failures.

use std::path::PathBuf;

/// Everything that can go wrong in the eval stage, each with a one-line message.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The caller's data cannot be evaluated (shape mismatch, NaN score, label out of range...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The statistic is mathematically undefined for this data (e.g. zero variance).
    #[error("undefined: {0}")]
    Undefined(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Drawing or encoding a plot failed.
    #[error("plot {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    /// Serialising a report failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl EvalError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        EvalError::InvalidInput(message.into())
    }
}

//! The one error type of the features stage.

use std::path::PathBuf;

/// What can go wrong computing or storing features.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// A [`crate::MelConfig`] that cannot be computed (zero sizes, fmax above Nyquist, ...).
    #[error("invalid mel configuration: {0}")]
    InvalidConfig(String),
    /// A `.npy` file that is unreadable or not a 2-D float32 array.
    #[error("{}: {reason}", path.display())]
    Npy { path: PathBuf, reason: String },
}

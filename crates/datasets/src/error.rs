//! The one error type of the datasets stage: every variant renders as a one-line reason naming the file.

use std::path::PathBuf;

/// What went wrong while loading, writing or caching a data set.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A CSV file (manifest, tracks.csv, genres.csv) does not have the expected shape.
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// A requested genre (label) does not exist in the source.
    #[error("unknown genre '{name}'; available: {}", available.join(", "))]
    UnknownGenre {
        name: String,
        available: Vec<String>,
    },
    /// The source holds nothing usable.
    #[error("{0}")]
    Empty(String),
    /// A user-supplied option is out of range.
    #[error("{0}")]
    InvalidOption(String),
    /// The feature cache has no entry for this file / hash under this feature configuration.
    #[error("not in the feature cache: {0}")]
    NotCached(String),
    /// The log-mel front end rejected its configuration, or a cached file could not be read.
    #[error("{0}")]
    Features(#[from] musicrec_features::FeatureError),
}

impl DatasetError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

/// A CSV reader's error on `path`: I/O stays I/O, the rest is a format error.
pub(crate) fn csv_error(path: &std::path::Path, e: csv::Error) -> DatasetError {
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DatasetError::io(path, io),
        _ => DatasetError::format(path, message),
    }
}

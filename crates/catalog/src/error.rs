//! The catalog's error type. Every `Display` is one line.

use std::path::PathBuf;

/// Why a catalog operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file exists but is not a musicrec catalog; it was left untouched.
    #[error("{}: not a musicrec catalog ({reason}); refusing to open or modify it", path.display())]
    NotACatalog {
        /// The file that was refused.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// The catalog was written by a newer musicrec with a schema this one does not know.
    #[error("{}: catalog schema is newer than this musicrec supports; upgrade musicrec", path.display())]
    SchemaTooNew {
        /// The catalog file.
        path: PathBuf,
    },
    /// The database failed (SQLite or PostgreSQL: a constraint, a lost connection, a locked
    /// file, ...). Each backend maps its driver's error here, keeping the message on one line
    /// and the driver's error beside it.
    #[error("{message}")]
    Database {
        /// The whole message: "database error: ..." for SQLite; for PostgreSQL the database URL
        /// without password, severity and SQLSTATE first.
        message: String,
        /// The driver's error, kept for inspection. Its text is already in `message`, so it is
        /// deliberately not the `source()`: a report of the error chain would say it twice.
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Applying the schema migrations failed.
    #[error("schema migration failed: {0}")]
    Migration(String),
    /// A file or folder could not be read or created.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error: said in the message, so deliberately not the `source()` (a
        /// report of the chain would say it twice).
        cause: std::io::Error,
    },
    /// The model id is not registered in the catalog.
    #[error("unknown model {0:?}")]
    UnknownModel(String),
    /// The model id is registered with a different genre list or embedding size.
    #[error("model {model:?} is already registered with {reason}")]
    ModelMismatch {
        /// The model id.
        model: String,
        /// What differs.
        reason: String,
    },
    /// No track has this id.
    #[error("unknown track id {0}")]
    UnknownTrack(i64),
    /// No user has this id.
    #[error("unknown user id {0}")]
    UnknownUser(i64),
    /// An argument was out of range or malformed.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Stored data does not decode (e.g. an embedding BLOB of the wrong length).
    #[error("corrupt catalog data: {0}")]
    CorruptData(String),
    /// The platform has no data directory (no home directory).
    #[error("no platform data directory (no home directory?); pass a catalog path explicitly")]
    NoDataDir,
}

impl CatalogError {
    /// A [`CatalogError::Database`] from a driver's error: its message on one line, the error
    /// kept beside it.
    pub fn database(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        CatalogError::Database {
            message: format!("database error: {}", one_line(&err)),
            cause: Some(Box::new(err)),
        }
    }
}

/// Collapses a library message onto one line.
pub fn one_line(message: impl std::fmt::Display) -> String {
    message
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

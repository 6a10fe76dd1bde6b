//! Turning PostgreSQL client errors into the catalog's one-line errors.

use std::path::PathBuf;

use musicrec_catalog::CatalogError;

/// A database error as a [`CatalogError`]: the catalog's error type has no database-neutral
/// variant (its `Sqlite` one wraps rusqlite's type), so it is an I/O error on the database URL,
/// with the server's message, SQLSTATE and detail on one line.
pub(crate) fn db_error(label: &str, err: postgres::Error) -> CatalogError {
    let message = match err.as_db_error() {
        Some(db) => {
            let mut text = format!("{} ({}): {}", db.severity(), db.code().code(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(": ");
                text.push_str(detail);
            }
            text
        }
        None => {
            // The client's own errors keep their cause in `source()`.
            let mut text = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    };
    CatalogError::Io {
        path: PathBuf::from(label),
        cause: std::io::Error::other(one_line(message)),
    }
}

/// Collapses a library message onto one line.
pub(crate) fn one_line(message: impl std::fmt::Display) -> String {
    message
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

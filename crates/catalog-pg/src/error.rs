//! Turning PostgreSQL client errors into the catalog's one-line errors.

use musicrec_catalog::{CatalogError, one_line};

/// A database error as the catalog's [`CatalogError::Database`]: the database URL (without
/// password), the server's severity, SQLSTATE, message and detail on one line; the client's
/// error kept as the source.
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
    CatalogError::Database {
        message: format!("{label}: {}", one_line(message)),
        cause: Some(Box::new(err)),
    }
}

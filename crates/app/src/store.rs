//! Which catalog a front end talks to: `--db` names it (a SQLite file path, or a
//! `postgres://`/`postgresql://` URL of a PostgreSQL catalog shared by several machines), or the
//! platform's default SQLite file. Every command opens its store here, as a
//! `Box<dyn CatalogStore>`, so that backends are chosen in one place.

use std::path::PathBuf;

use musicrec_catalog::CatalogStore;
use musicrec_catalog_pg::{PostgresStore, is_postgres_url, redact_url};
use musicrec_catalog_sqlite::{SqliteStore, default_catalog_path};

use crate::error::{AppError, Result};

/// A parsed `--db` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Db {
    /// A SQLite catalog file.
    Sqlite(PathBuf),
    /// A PostgreSQL catalog: the connection URL (it may hold a password: show
    /// [`Db::describe`], never the URL itself).
    Postgres(String),
}

impl Db {
    /// `--db` as given, or the platform's default catalog file.
    pub fn from_arg(arg: Option<&str>) -> Result<Db> {
        match arg {
            Some(text) if text.trim().is_empty() => Err(AppError::Invalid("--db is empty".into())),
            Some(text) if is_postgres_url(text) => Ok(Db::Postgres(text.trim().to_owned())),
            Some(text) => Ok(Db::Sqlite(PathBuf::from(text))),
            None => Ok(Db::Sqlite(default_catalog_path().map_err(|source| {
                AppError::Open {
                    catalog: "(the default catalog; pass --db)".into(),
                    source,
                }
            })?)),
        }
    }

    /// How messages name this catalog.
    pub fn describe(&self) -> String {
        match self {
            Db::Sqlite(path) => path.display().to_string(),
            Db::Postgres(url) => redact_url(url),
        }
    }

    /// The `--db ...` words to repeat in a hint, empty for the default catalog.
    fn hint_flag(arg: Option<&str>) -> String {
        arg.map(|db| format!(" --db {db}")).unwrap_or_default()
    }
}

/// Opens an existing catalog for reading commands (`stats`, `recommend`, `scan --failed`): a
/// missing catalog is an error that says how to make one, not a new empty catalog.
pub fn open_existing(arg: Option<&str>) -> Result<Box<dyn CatalogStore>> {
    let db = Db::from_arg(arg)?;
    match &db {
        Db::Sqlite(path) => {
            if !path.is_file() {
                return Err(AppError::Unavailable(format!(
                    "no catalog at {}: run `musicrec scan DIR{}` first",
                    path.display(),
                    Db::hint_flag(arg)
                )));
            }
            Ok(Box::new(open_sqlite(path)?))
        }
        // A server database exists or not as a whole; an empty one is a valid, empty catalog.
        Db::Postgres(url) => Ok(Box::new(open_postgres(url)?)),
    }
}

/// Opens the catalog for writing commands (`scan`), creating it when it does not exist.
pub fn open_or_create(arg: Option<&str>) -> Result<(Db, Box<dyn CatalogStore>)> {
    let db = Db::from_arg(arg)?;
    let store: Box<dyn CatalogStore> = match &db {
        Db::Sqlite(path) => Box::new(open_sqlite(path)?),
        Db::Postgres(url) => Box::new(open_postgres(url)?),
    };
    Ok((db, store))
}

/// Connects to a PostgreSQL catalog (creating or migrating its tables).
pub fn open_postgres(url: &str) -> Result<PostgresStore> {
    PostgresStore::connect(url).map_err(|source| AppError::Open {
        catalog: redact_url(url),
        source,
    })
}

fn open_sqlite(path: &std::path::Path) -> Result<SqliteStore> {
    SqliteStore::open(path).map_err(|source| AppError::Open {
        catalog: path.display().to_string(),
        source,
    })
}

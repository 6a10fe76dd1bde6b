//! Which catalog a command talks to: `--db` names it (a SQLite file path; a server URL once a
//! server backend exists), or the platform's default SQLite file. Every command opens its store
//! here, as a `Box<dyn CatalogStore>`, so that backends are chosen in one place.

use std::path::PathBuf;

use anyhow::{Context, bail};
use musicrec_catalog::{CatalogStore, SqliteStore, default_catalog_path};

/// A parsed `--db` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Db {
    /// A SQLite catalog file.
    Sqlite(PathBuf),
}

impl Db {
    /// `--db` as given, or the platform's default catalog file.
    pub fn from_arg(arg: Option<&str>) -> anyhow::Result<Db> {
        match arg {
            Some(text) if text.trim().is_empty() => bail!("--db is empty"),
            Some(text) => Ok(Db::Sqlite(PathBuf::from(text))),
            None => Ok(Db::Sqlite(
                default_catalog_path()
                    .context("cannot find a default catalog location; pass --db")?,
            )),
        }
    }

    /// How messages name this catalog.
    pub fn describe(&self) -> String {
        match self {
            Db::Sqlite(path) => path.display().to_string(),
        }
    }

    /// The `--db ...` words to repeat in a hint, empty for the default catalog.
    fn hint_flag(arg: Option<&str>) -> String {
        arg.map(|db| format!(" --db {db}")).unwrap_or_default()
    }
}

/// Opens an existing catalog for reading commands (`stats`, `recommend`, `scan --failed`): a
/// missing catalog is an error that says how to make one, not a new empty catalog.
pub fn open_existing(arg: Option<&str>) -> anyhow::Result<Box<dyn CatalogStore>> {
    let db = Db::from_arg(arg)?;
    match &db {
        Db::Sqlite(path) => {
            if !path.is_file() {
                bail!(
                    "no catalog at {}: run `musicrec scan DIR{}` first",
                    path.display(),
                    Db::hint_flag(arg)
                );
            }
            Ok(Box::new(SqliteStore::open(path).with_context(|| {
                format!("cannot open catalog {}", path.display())
            })?))
        }
    }
}

/// Opens the catalog for writing commands (`scan`), creating it when it does not exist.
pub fn open_or_create(arg: Option<&str>) -> anyhow::Result<(Db, Box<dyn CatalogStore>)> {
    let db = Db::from_arg(arg)?;
    let store: Box<dyn CatalogStore> = match &db {
        Db::Sqlite(path) => Box::new(
            SqliteStore::open(path)
                .with_context(|| format!("cannot open catalog {}", path.display()))?,
        ),
    };
    Ok((db, store))
}

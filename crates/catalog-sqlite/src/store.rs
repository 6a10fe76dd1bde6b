//! [`SqliteStore`]: the catalog in one SQLite file.
//!
//! Opening never damages a foreign file: the `application_id` header field marks musicrec
//! catalogs; a file with another id, or an SQLite file that already has tables but no id, or a
//! file that is not SQLite at all, is refused before anything is written. A new or empty file
//! gets the id and the schema.
//!
//! Migrations: `rusqlite_migration` (an ordered list of SQL scripts, the applied count kept in
//! `PRAGMA user_version`, each step atomic). A catalog written by a newer musicrec (more
//! migrations than this build knows) is refused instead of being used with a wrong schema.
//!
//! The catalog's statements are shared with PostgreSQL (`musicrec_catalog::sql`); this file
//! runs them through rusqlite ([`SqliteDb`]). Write transactions are `BEGIN IMMEDIATE`: the write
//! lock is taken (waiting up to the busy timeout) before the first read of the transaction, so
//! a check and the write that depends on it can never be split by another process.
//!
//! Connection settings: WAL journal (readers do not block the single writer), `synchronous =
//! NORMAL` (a committed transaction survives a killed process; only an OS crash may lose the
//! last ones, never consistency), a busy timeout so concurrent processes wait instead of failing,
//! and foreign keys on.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use musicrec_catalog::sql::{Db, Dialect, SqlRow, SqlStore, Value, render};
use musicrec_catalog::{APPLICATION_ID, CatalogError, Result, one_line};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use rusqlite_migration::{M, MigrationDefinitionError, Migrations};

/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Schema migrations, oldest first. Append; never edit one that has shipped.
static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("schema.sql")).comment("v1: tracks, models, embeddings, users"),
        M::up(EXPERIMENT_SCHEMA).comment("v2: listening experiments"),
        M::up(REVISION_SCHEMA).comment("v3: change revision of tracks and embeddings"),
        M::up(UPSTREAM_SCHEMA).comment("v4: songs of the Subsonic servers served as companion"),
        M::up(WARNING_SCHEMA).comment("v5: a track's scan warning (truncated file)"),
    ])
});

/// v3: the change revision a server polls to know that its in-memory index is stale
/// ([`CatalogStore::revision`]). Triggers bump it for every row inserted, updated or deleted in
/// `tracks` or `embeddings`, whichever statement does it (scans, purges, cascades, a later
/// migration), inside the writing transaction: a reader sees the new revision exactly when it
/// sees the change. SQLite has one writer at a time, so the bumps never contend.
const REVISION_SCHEMA: &str = "
CREATE TABLE catalog_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO catalog_revision (id, revision) VALUES (1, 0);

CREATE TRIGGER tracks_insert_revision AFTER INSERT ON tracks
BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER tracks_update_revision AFTER UPDATE ON tracks
BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER tracks_delete_revision AFTER DELETE ON tracks
BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER embeddings_insert_revision AFTER INSERT ON embeddings
BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER embeddings_update_revision AFTER UPDATE ON embeddings
BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER embeddings_delete_revision AFTER DELETE ON embeddings
BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; END;
";

/// v5: what a scan noticed about a file it still embedded (a truncated file analysed as far as
/// it could be read), shown by `scan --failed`; NULL for a file read whole.
const WARNING_SCHEMA: &str = "ALTER TABLE tracks ADD COLUMN warning TEXT;";

/// v4: the songs of Subsonic servers musicrec is the companion of, and their catalog tracks. No
/// foreign key to tracks: a purged track leaves a stale id that readers skip, and the next sync
/// corrects it.
const UPSTREAM_SCHEMA: &str = "
CREATE TABLE upstream_songs (
    upstream    TEXT    NOT NULL,             -- the server's URL and user
    upstream_id TEXT    NOT NULL,
    track_id    INTEGER,                      -- NULL: no catalog track matched
    matched_by  TEXT,                         -- path or tags
    song_json   TEXT    NOT NULL,             -- the server's Child object
    synced_at   INTEGER NOT NULL,
    PRIMARY KEY (upstream, upstream_id)
);
";

/// v2: listening experiments. Session items keep the track id *and* its path without a foreign
/// key, so purging missing tracks never deletes a study's recorded answers.
const EXPERIMENT_SCHEMA: &str = "
CREATE TABLE studies (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    methods_json TEXT    NOT NULL,            -- JSON array of method names, in order
    k            INTEGER NOT NULL CHECK (k > 0),
    decoys       INTEGER NOT NULL CHECK (decoys >= 0),
    simulated    INTEGER NOT NULL CHECK (simulated IN (0, 1)),
    created_at   INTEGER NOT NULL
);

CREATE TABLE study_sessions (
    id          INTEGER PRIMARY KEY,
    study_id    INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    participant TEXT    NOT NULL,
    seeds_json  TEXT    NOT NULL,             -- JSON array of track ids
    simulated   INTEGER NOT NULL CHECK (simulated IN (0, 1)),
    created_at  INTEGER NOT NULL,
    UNIQUE (study_id, participant)
);

CREATE TABLE session_items (
    session_id   INTEGER NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    track_id     INTEGER NOT NULL,
    track_path   TEXT    NOT NULL,
    origins_json TEXT    NOT NULL,            -- JSON array: method names and/or decoy
    PRIMARY KEY (session_id, position),
    UNIQUE (session_id, track_id)
);

CREATE TABLE session_responses (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL,
    track_id   INTEGER NOT NULL,
    round      INTEGER NOT NULL CHECK (round >= 1),
    rating     INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    created_at INTEGER NOT NULL,
    FOREIGN KEY (session_id, track_id) REFERENCES session_items (session_id, track_id)
        ON DELETE CASCADE
);
CREATE INDEX session_responses_session ON session_responses (session_id, track_id, round);
";

/// A catalog stored in one SQLite database file.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates, with its parent folders) the catalog at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|cause| CatalogError::Io {
                path: parent.to_path_buf(),
                cause,
            })?;
        }
        if path.is_dir() {
            return Err(CatalogError::NotACatalog {
                path,
                reason: "it is a directory".into(),
            });
        }
        let conn = Connection::open(&path).map_err(db_err)?;
        Self::init(conn, path)
    }

    /// Opens the catalog at [`crate::default_catalog_path`].
    pub fn open_default() -> Result<Self> {
        Self::open(crate::default_catalog_path()?)
    }

    /// A private catalog in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(
            Connection::open_in_memory().map_err(db_err)?,
            PathBuf::from(":memory:"),
        )
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db_err)
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
        claim_or_refuse(&mut conn, &path)?;
        // Only now that the file is known to be ours may its header change (WAL is recorded there).
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(db_err)?;
        migrate(&mut conn, &path)?;
        Ok(Self { conn, path })
    }
}

/// Brings the schema to the latest version. rusqlite_migration reads `user_version` before it
/// opens its (atomic) migration transaction, so when two processes open a new catalog at once
/// the slower one can try a step the other has just committed and fail; its own transaction has
/// then rolled back, and once the version has moved it simply goes on from the new one.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let version = |conn: &Connection| -> Result<i64> {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db_err)
    };
    let mut attempts = 0;
    loop {
        let before = version(conn)?;
        match MIGRATIONS.to_latest(conn) {
            Ok(()) => return Ok(()),
            Err(rusqlite_migration::Error::MigrationDefinition(
                MigrationDefinitionError::DatabaseTooFarAhead,
            )) => {
                return Err(CatalogError::SchemaTooNew {
                    path: path.to_path_buf(),
                });
            }
            Err(err) => {
                attempts += 1;
                if attempts >= 5 || version(conn)? == before {
                    return Err(CatalogError::Migration(one_line(err)));
                }
            }
        }
    }
}

/// Checks the application id inside an immediate transaction (two processes creating the same
/// catalog serialise here) and stamps it on a new, empty database.
fn claim_or_refuse(conn: &mut Connection, path: &Path) -> Result<()> {
    let refuse = |reason: String| CatalogError::NotACatalog {
        path: path.to_path_buf(),
        reason,
    };
    let not_sqlite = |err: rusqlite::Error| match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            refuse("not an SQLite database".into())
        }
        _ => db_err(err),
    };
    // The common case (an existing catalog) needs only a read, no write lock.
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(not_sqlite)?;
    if app_id == APPLICATION_ID {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(not_sqlite)?;
    let app_id: i32 = tx
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(not_sqlite)?;
    if app_id == APPLICATION_ID {
        return Ok(());
    }
    if app_id != 0 {
        return Err(refuse(format!(
            "its application_id is {app_id:#010x}, another program's"
        )));
    }
    let objects: i64 = tx
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(not_sqlite)?;
    let user_version: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err)?;
    if objects > 0 || user_version != 0 {
        return Err(refuse(format!(
            "it is an SQLite database with {objects} tables/indexes of another program"
        )));
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(())
}

/// A driver error as the catalog's database error.
fn db_err(err: rusqlite::Error) -> CatalogError {
    CatalogError::database(err)
}

impl SqlStore for SqliteStore {
    fn read<T>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
        f(&mut SqliteDb { conn: &self.conn })
    }

    fn write<T>(&mut self, f: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
        f(&mut SqliteDb { conn: &self.conn })
    }
}

/// The shared SQL's connection seam on a rusqlite connection (prepared statements cached by
/// rusqlite per connection).
struct SqliteDb<'c> {
    conn: &'c Connection,
}

impl SqliteDb<'_> {
    fn statement(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>> {
        self.conn
            .prepare_cached(&render(sql, Dialect::Sqlite))
            .map_err(db_err)
    }

    /// Runs `body` between `begin` and COMMIT, or ROLLBACK when it fails.
    fn between(
        &mut self,
        begin: &str,
        body: &mut dyn FnMut(&mut dyn Db) -> Result<()>,
    ) -> Result<()> {
        self.conn.execute_batch(begin).map_err(db_err)?;
        match body(self) {
            Ok(()) => self.conn.execute_batch("COMMIT").map_err(db_err),
            Err(err) => {
                // The original error matters more than a failed rollback (the connection
                // rolls back by itself when it closes).
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(err)
            }
        }
    }
}

fn to_sql<'a>(value: &Value<'a>) -> rusqlite::types::ToSqlOutput<'a> {
    use rusqlite::types::{ToSqlOutput, Value as Owned};
    match *value {
        Value::Null => ToSqlOutput::Owned(Owned::Null),
        Value::Int(v) => ToSqlOutput::Owned(Owned::Integer(v)),
        Value::Real(v) => ToSqlOutput::Owned(Owned::Real(v)),
        Value::Bool(v) => ToSqlOutput::Owned(Owned::Integer(i64::from(v))),
        Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        Value::Blob(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
    }
}

fn bind(params: &[Value<'_>]) -> impl rusqlite::Params {
    rusqlite::params_from_iter(params.iter().map(to_sql))
}

impl Db for SqliteDb<'_> {
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64> {
        let changed = self.statement(sql)?.execute(bind(params)).map_err(db_err)?;
        Ok(changed as u64)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()> {
        let mut statement = self.statement(sql)?;
        let mut rows = statement.query(bind(params)).map_err(db_err)?;
        while let Some(row) = rows.next().map_err(db_err)? {
            each(&SqliteRow(row))?;
        }
        Ok(())
    }

    fn transaction(&mut self, body: &mut dyn FnMut(&mut dyn Db) -> Result<()>) -> Result<()> {
        self.between("BEGIN IMMEDIATE", body)
    }

    fn snapshot(&mut self, body: &mut dyn FnMut(&mut dyn Db) -> Result<()>) -> Result<()> {
        // A deferred transaction reads one WAL snapshot and takes no write lock.
        self.between("BEGIN DEFERRED", body)
    }

    fn tracks_changed(&mut self) -> Result<()> {
        // The schema's triggers bump the revision with every change (REVISION_SCHEMA).
        Ok(())
    }
}

struct SqliteRow<'r, 's>(&'r rusqlite::Row<'s>);

impl SqlRow for SqliteRow<'_, '_> {
    fn value(&self, index: usize) -> Result<Value<'_>> {
        Ok(match self.0.get_ref(index).map_err(db_err)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Real(v) => Value::Real(v),
            ValueRef::Text(v) => Value::Text(std::str::from_utf8(v).map_err(|e| {
                CatalogError::CorruptData(format!("column {index}: text is not UTF-8: {e}"))
            })?),
            ValueRef::Blob(v) => Value::Blob(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn application_id_spells_mrec() {
        assert_eq!(APPLICATION_ID.to_be_bytes(), *b"MREC");
    }
}

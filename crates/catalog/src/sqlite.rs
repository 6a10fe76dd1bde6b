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
//! Connection settings: WAL journal (readers do not block the single writer), `synchronous =
//! NORMAL` (a committed transaction survives a killed process; only an OS crash may lose the
//! last ones, never consistency), a busy timeout so concurrent processes wait instead of failing,
//! and foreign keys on.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};
use rusqlite_migration::{M, MigrationDefinitionError, Migrations};

use crate::blob::{encode_f32_le, extend_f32_le};
use crate::error::one_line;
use crate::experiment::validate_new_study;
use crate::store::{FileFacts, IndexedFailure, IndexedTrack, ScanIndex, ScanUpdate};
use crate::types::{argmax, path_text};
use crate::{
    CatalogError, CatalogStats, CatalogStore, EmbeddingSet, ExperimentResponse, ExperimentStore,
    Feedback, GenreCentroid, GenreCount, ModelInfo, ModelStats, NewStudy, Page, Rating, Result,
    ScanFailure, Session, SessionId, SessionItem, Study, StudyId, Track, TrackEmbedding, TrackId,
    TrackSummary, TrackTags, User, UserId, decode_f32_le,
};

/// `PRAGMA application_id` of musicrec catalogs: the bytes "MREC".
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"MREC");

/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest page [`CatalogStore::search`] returns.
const MAX_PAGE: u64 = 1000;

/// Schema migrations, oldest first. Append; never edit one that has shipped.
static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("schema.sql")).comment("v1: tracks, models, embeddings, users"),
        M::up(EXPERIMENT_SCHEMA).comment("v2: listening experiments"),
        M::up(REVISION_SCHEMA).comment("v3: change revision of tracks and embeddings"),
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
            std::fs::create_dir_all(parent).map_err(|source| CatalogError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        if path.is_dir() {
            return Err(CatalogError::NotACatalog {
                path,
                reason: "it is a directory".into(),
            });
        }
        let conn = Connection::open(&path)?;
        Self::init(conn, path)
    }

    /// Opens the catalog at [`crate::default_catalog_path`].
    pub fn open_default() -> Result<Self> {
        Self::open(crate::default_catalog_path()?)
    }

    /// A private catalog in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?, PathBuf::from(":memory:"))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        claim_or_refuse(&mut conn, &path)?;
        // Only now that the file is known to be ours may its header change (WAL is recorded there).
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&mut conn, &path)?;
        Ok(Self { conn, path })
    }

    fn track_row(&self, sql_where: &str, params: impl rusqlite::Params) -> Result<Vec<Track>> {
        let sql = format!("SELECT {TRACK_COLUMNS} FROM tracks WHERE {sql_where}");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params, track_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn require_model(&self, model_id: &str) -> Result<ModelInfo> {
        self.model(model_id)?
            .ok_or_else(|| CatalogError::UnknownModel(model_id.to_owned()))
    }
}

/// Brings the schema to the latest version. rusqlite_migration reads `user_version` before it
/// opens its (atomic) migration transaction, so when two processes open a new catalog at once
/// the slower one can try a step the other has just committed and fail; its own transaction has
/// then rolled back, and once the version has moved it simply goes on from the new one.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let version = |conn: &Connection| -> Result<i64> {
        Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
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
                    return Err(err.into());
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
        _ => CatalogError::Sqlite(err),
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
    let user_version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if objects > 0 || user_version != 0 {
        return Err(refuse(format!(
            "it is an SQLite database with {objects} tables/indexes of another program"
        )));
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}

const TRACK_COLUMNS: &str = "id, path, content_hash, size_bytes, mtime_ns, duration_secs, \
     artist, title, album, genre_tag, year, added_at, updated_at, missing_since";

fn track_from_row(row: &Row<'_>) -> rusqlite::Result<Track> {
    Ok(Track {
        id: TrackId(row.get(0)?),
        path: PathBuf::from(row.get::<_, String>(1)?),
        content_hash: hash_from_sql(row, 2)?,
        size_bytes: row.get::<_, i64>(3)?.max(0) as u64,
        mtime_ns: row.get(4)?,
        duration_secs: row.get(5)?,
        tags: TrackTags {
            artist: row.get(6)?,
            title: row.get(7)?,
            album: row.get(8)?,
            genre: row.get(9)?,
            year: row.get(10)?,
        },
        added_at: row.get(11)?,
        updated_at: row.get(12)?,
        missing_since: row.get(13)?,
    })
}

/// A BLOB column borrowed from SQLite's buffer (no copy).
fn blob<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<&'r [u8]> {
    row.get_ref(index)?.as_blob().map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Blob, Box::new(err))
    })
}

fn hash_from_sql(row: &Row<'_>, index: usize) -> rusqlite::Result<blake3::Hash> {
    let hex: String = row.get(index)?;
    blake3::Hash::from_hex(hex.as_bytes()).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    })
}

/// Lookup key of a tag: trimmed, Unicode lower case (SQLite's `lower()` and `NOCASE` fold ASCII
/// only, so "Björk" and "BJÖRK" would not meet).
fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

fn fold_opt(text: &Option<String>) -> Option<String> {
    text.as_deref().map(fold)
}

/// `text` as a LIKE pattern matching it anywhere, with `\` escaping the wildcards.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn utf8_path(path: &Path) -> Result<&str> {
    path_text(path)
        .ok_or_else(|| CatalogError::Invalid(format!("path {} is not valid UTF-8", path.display())))
}

fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| CatalogError::Invalid(format!("{what} {value} is too large")))
}

fn model_from_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn parse_model(model_id: &str, config: &str, genres: &str, dim: i64) -> Result<ModelInfo> {
    let corrupt = |what: &str, err: &dyn std::fmt::Display| {
        CatalogError::CorruptData(format!("model {model_id:?}: {what}: {}", one_line(err)))
    };
    Ok(ModelInfo {
        config: serde_json::from_str(config).map_err(|e| corrupt("config_json", &e))?,
        genres: serde_json::from_str(genres).map_err(|e| corrupt("genres_json", &e))?,
        embedding_dim: usize::try_from(dim).map_err(|e| corrupt("embedding_dim", &e))?,
    })
}

/// Checks a model output against the registered model before it is stored.
fn check_output(model_id: &str, model: &ModelInfo, output: &TrackEmbedding) -> Result<()> {
    if output.embedding.len() != model.embedding_dim {
        return Err(CatalogError::Invalid(format!(
            "model {model_id:?} declares embedding size {} but produced {}",
            model.embedding_dim,
            output.embedding.len()
        )));
    }
    if output.genre_probs.len() != model.genres.len() {
        return Err(CatalogError::Invalid(format!(
            "model {model_id:?} declares {} genres but produced {} probabilities",
            model.genres.len(),
            output.genre_probs.len()
        )));
    }
    if !output
        .embedding
        .iter()
        .chain(&output.genre_probs)
        .all(|v| v.is_finite())
    {
        return Err(CatalogError::Invalid(format!(
            "model {model_id:?} produced a non-finite value"
        )));
    }
    Ok(())
}

impl CatalogStore for SqliteStore {
    fn register_model(&mut self, model_id: &str, info: &ModelInfo) -> Result<()> {
        if model_id.trim().is_empty() {
            return Err(CatalogError::Invalid("empty model id".into()));
        }
        if info.embedding_dim == 0 {
            return Err(CatalogError::Invalid(format!(
                "model {model_id:?} has embedding size 0"
            )));
        }
        if let Some(existing) = self.model(model_id)? {
            let reason = if existing.embedding_dim != info.embedding_dim {
                Some(format!(
                    "embedding size {} (not {})",
                    existing.embedding_dim, info.embedding_dim
                ))
            } else if existing.genres != info.genres {
                Some(format!(
                    "genres {:?} (not {:?})",
                    existing.genres, info.genres
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(CatalogError::ModelMismatch {
                    model: model_id.to_owned(),
                    reason,
                });
            }
        }
        let genres =
            serde_json::to_string(&info.genres).map_err(|e| CatalogError::Invalid(one_line(e)))?;
        self.conn.execute(
            "INSERT INTO models (id, config_json, genres_json, embedding_dim, registered_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET config_json = excluded.config_json",
            params![
                model_id,
                info.config.to_string(),
                genres,
                to_i64(info.embedding_dim as u64, "embedding size")?,
                now_ms()
            ],
        )?;
        Ok(())
    }

    fn model(&self, model_id: &str) -> Result<Option<ModelInfo>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT id, config_json, genres_json, embedding_dim FROM models WHERE id = ?1",
            )?
            .query_row([model_id], model_from_row)
            .optional()?;
        row.map(|(id, config, genres, dim)| parse_model(&id, &config, &genres, dim))
            .transpose()
    }

    fn model_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM models ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    fn scan_index(&self, model_id: &str) -> Result<ScanIndex> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.id, t.path, t.content_hash, t.size_bytes, t.mtime_ns,
                    t.missing_since IS NOT NULL,
                    EXISTS (SELECT 1 FROM embeddings e WHERE e.track_id = t.id AND e.model_id = ?1)
             FROM tracks t ORDER BY t.id",
        )?;
        let tracks = stmt
            .query_map([model_id], |row| {
                Ok(IndexedTrack {
                    id: TrackId(row.get(0)?),
                    path: PathBuf::from(row.get::<_, String>(1)?),
                    file: FileFacts {
                        content_hash: hash_from_sql(row, 2)?,
                        size_bytes: row.get::<_, i64>(3)?.max(0) as u64,
                        mtime_ns: row.get(4)?,
                    },
                    missing: row.get(5)?,
                    has_embedding: row.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, size_bytes, mtime_ns FROM scan_failures
             WHERE model_id = ?1 AND size_bytes IS NOT NULL AND mtime_ns IS NOT NULL",
        )?;
        let failures = stmt
            .query_map([model_id], |row| {
                Ok(IndexedFailure {
                    path: PathBuf::from(row.get::<_, String>(0)?),
                    size_bytes: row.get::<_, i64>(1)?.max(0) as u64,
                    mtime_ns: row.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ScanIndex { tracks, failures })
    }

    fn apply_scan_updates(&mut self, model_id: &str, updates: &[ScanUpdate]) -> Result<()> {
        let model = self.require_model(model_id)?;
        for update in updates {
            if let ScanUpdate::Embedded { output, .. } = update {
                check_output(model_id, &model, output)?;
            }
        }
        let now = now_ms();
        let tx = self.conn.transaction()?;
        for update in updates {
            match update {
                ScanUpdate::Embedded {
                    path,
                    file,
                    tags,
                    output,
                } => {
                    let path = utf8_path(path)?;
                    let hash = file.content_hash.to_hex();
                    let previous: Option<(i64, String)> = tx
                        .prepare_cached("SELECT id, content_hash FROM tracks WHERE path = ?1")?
                        .query_row([path], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    if let Some((id, old_hash)) = &previous
                        && old_hash.as_str() != hash.as_str()
                    {
                        // Other models' vectors describe the old content.
                        tx.prepare_cached(
                            "DELETE FROM embeddings WHERE track_id = ?1 AND model_id <> ?2",
                        )?
                        .execute(params![id, model_id])?;
                    }
                    let track_id: i64 = tx
                        .prepare_cached(
                            "INSERT INTO tracks (path, content_hash, size_bytes, mtime_ns,
                                duration_secs, artist, title, album, genre_tag, year,
                                artist_key, title_key, album_key, added_at, updated_at,
                                missing_since)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                                     ?14, ?14, NULL)
                             ON CONFLICT (path) DO UPDATE SET
                                content_hash = excluded.content_hash,
                                size_bytes = excluded.size_bytes,
                                mtime_ns = excluded.mtime_ns,
                                duration_secs = excluded.duration_secs,
                                artist = excluded.artist, title = excluded.title,
                                album = excluded.album, genre_tag = excluded.genre_tag,
                                year = excluded.year, artist_key = excluded.artist_key,
                                title_key = excluded.title_key, album_key = excluded.album_key,
                                updated_at = excluded.updated_at, missing_since = NULL
                             RETURNING id",
                        )?
                        .query_row(
                            params![
                                path,
                                hash.as_str(),
                                to_i64(file.size_bytes, "file size")?,
                                file.mtime_ns,
                                output.duration_secs,
                                tags.artist,
                                tags.title,
                                tags.album,
                                tags.genre,
                                tags.year,
                                fold_opt(&tags.artist),
                                fold_opt(&tags.title),
                                fold_opt(&tags.album),
                                now
                            ],
                            |r| r.get(0),
                        )?;
                    tx.prepare_cached(
                        "INSERT INTO embeddings (track_id, model_id, embedding, genre_probs,
                            created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (track_id, model_id) DO UPDATE SET
                            embedding = excluded.embedding, genre_probs = excluded.genre_probs,
                            created_at = excluded.created_at",
                    )?
                    .execute(params![
                        track_id,
                        model_id,
                        encode_f32_le(&output.embedding),
                        encode_f32_le(&output.genre_probs),
                        now
                    ])?;
                    tx.prepare_cached("DELETE FROM scan_failures WHERE path = ?1")?
                        .execute([path])?;
                }
                ScanUpdate::Moved {
                    track,
                    path,
                    file,
                    tags,
                } => {
                    let path = utf8_path(path)?;
                    let changed = tx
                        .prepare_cached(
                            "UPDATE tracks SET path = ?2, content_hash = ?3, size_bytes = ?4,
                                mtime_ns = ?5, artist = ?6, title = ?7, album = ?8,
                                genre_tag = ?9, year = ?10, artist_key = ?11, title_key = ?12,
                                album_key = ?13, updated_at = ?14, missing_since = NULL
                             WHERE id = ?1",
                        )?
                        .execute(params![
                            track.0,
                            path,
                            file.content_hash.to_hex().as_str(),
                            to_i64(file.size_bytes, "file size")?,
                            file.mtime_ns,
                            tags.artist,
                            tags.title,
                            tags.album,
                            tags.genre,
                            tags.year,
                            fold_opt(&tags.artist),
                            fold_opt(&tags.title),
                            fold_opt(&tags.album),
                            now
                        ])?;
                    if changed == 0 {
                        return Err(CatalogError::UnknownTrack(track.0));
                    }
                    tx.prepare_cached("DELETE FROM scan_failures WHERE path = ?1")?
                        .execute([path])?;
                }
                ScanUpdate::Refreshed { track, file } => {
                    tx.prepare_cached(
                        "UPDATE tracks SET content_hash = ?2, size_bytes = ?3, mtime_ns = ?4,
                            updated_at = ?5, missing_since = NULL
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        track.0,
                        file.content_hash.to_hex().as_str(),
                        to_i64(file.size_bytes, "file size")?,
                        file.mtime_ns,
                        now
                    ])?;
                }
                ScanUpdate::Failed {
                    path,
                    size_bytes,
                    mtime_ns,
                    reason,
                    stale_track,
                } => {
                    // A path that is not UTF-8 is still worth reporting; it is stored lossily.
                    let path = path.to_string_lossy();
                    let size = size_bytes.map(|s| to_i64(s, "file size")).transpose()?;
                    tx.prepare_cached(
                        "INSERT INTO scan_failures (path, model_id, reason, size_bytes, mtime_ns,
                            failed_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (path) DO UPDATE SET model_id = excluded.model_id,
                            reason = excluded.reason, size_bytes = excluded.size_bytes,
                            mtime_ns = excluded.mtime_ns, failed_at = excluded.failed_at",
                    )?
                    .execute(params![
                        path.as_ref(),
                        model_id,
                        reason,
                        size,
                        mtime_ns,
                        now
                    ])?;
                    if let Some(track) = stale_track {
                        tx.prepare_cached(
                            "UPDATE tracks SET missing_since = ?2, updated_at = ?2
                             WHERE id = ?1 AND missing_since IS NULL",
                        )?
                        .execute(params![track.0, now])?;
                    }
                }
                ScanUpdate::Missing { track } => {
                    tx.prepare_cached(
                        "UPDATE tracks SET missing_since = ?2, updated_at = ?2
                         WHERE id = ?1 AND missing_since IS NULL",
                    )?
                    .execute(params![track.0, now])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn track(&self, id: TrackId) -> Result<Option<Track>> {
        Ok(self.track_row("id = ?1", [id.0])?.pop())
    }

    fn track_by_path(&self, path: &Path) -> Result<Option<Track>> {
        let Some(path) = path_text(path) else {
            return Ok(None);
        };
        Ok(self.track_row("path = ?1", [path])?.pop())
    }

    fn tracks_by_artist_title(&self, artist: &str, title: &str) -> Result<Vec<Track>> {
        self.track_row(
            "artist_key = ?1 AND title_key = ?2 AND missing_since IS NULL ORDER BY id",
            [fold(artist), fold(title)],
        )
    }

    fn tracks_by_title(&self, title: &str) -> Result<Vec<Track>> {
        self.track_row(
            "title_key = ?1 AND missing_since IS NULL ORDER BY id",
            [fold(title)],
        )
    }

    fn search(&self, text: &str, offset: u64, limit: u64) -> Result<Page<Track>> {
        let pattern = contains_pattern(&fold(text));
        // LIKE on `path` folds ASCII case in SQLite; the *_key columns are already folded.
        let filter = "missing_since IS NULL AND (artist_key LIKE ?1 ESCAPE '\\'
            OR title_key LIKE ?1 ESCAPE '\\' OR album_key LIKE ?1 ESCAPE '\\'
            OR path LIKE ?1 ESCAPE '\\')";
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM tracks WHERE {filter}"),
            [&pattern],
            |r| r.get(0),
        )?;
        let items = self.track_row(
            &format!(
                "{filter} ORDER BY artist_key IS NULL, artist_key, title_key, path
                 LIMIT ?2 OFFSET ?3"
            ),
            params![
                pattern,
                to_i64(limit.min(MAX_PAGE), "limit")?,
                to_i64(offset, "offset")?
            ],
        )?;
        Ok(Page {
            total: total.max(0) as u64,
            offset,
            items,
        })
    }

    fn purge_missing(&mut self) -> Result<u64> {
        let removed = self
            .conn
            .execute("DELETE FROM tracks WHERE missing_since IS NOT NULL", [])?;
        Ok(removed as u64)
    }

    fn load_embeddings(&self, model_id: &str) -> Result<EmbeddingSet> {
        let model = self.require_model(model_id)?;
        let (dim, n_genres) = (model.embedding_dim, model.genres.len());
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM embeddings e JOIN tracks t ON t.id = e.track_id
             WHERE e.model_id = ?1 AND t.missing_since IS NULL",
            [model_id],
            |r| r.get(0),
        )?;
        let count = count.max(0) as usize;
        let mut tracks = Vec::with_capacity(count);
        let mut embeddings = Vec::with_capacity(count * dim);
        let mut genre_probs = Vec::with_capacity(count * n_genres);
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.id, t.path, t.artist, t.title, t.content_hash, e.embedding, e.genre_probs
             FROM embeddings e JOIN tracks t ON t.id = e.track_id
             WHERE e.model_id = ?1 AND t.missing_since IS NULL
             ORDER BY t.id",
        )?;
        let mut rows = stmt.query([model_id])?;
        while let Some(row) = rows.next()? {
            let id = TrackId(row.get(0)?);
            // Decode straight from SQLite's buffer into the flat matrices.
            let embedding = blob(row, 5)?;
            let probs = blob(row, 6)?;
            if embedding.len() != dim * 4 || probs.len() != n_genres * 4 {
                return Err(CatalogError::CorruptData(format!(
                    "track {id}: stored vectors of {} and {} bytes for model {model_id:?} \
                     (expected {} and {})",
                    embedding.len(),
                    probs.len(),
                    dim * 4,
                    n_genres * 4
                )));
            }
            extend_f32_le(&mut embeddings, embedding)?;
            extend_f32_le(&mut genre_probs, probs)?;
            tracks.push(TrackSummary {
                id,
                path: PathBuf::from(row.get::<_, String>(1)?),
                artist: row.get(2)?,
                title: row.get(3)?,
                content_hash: hash_from_sql(row, 4)?,
            });
        }
        Ok(EmbeddingSet {
            model_id: model_id.to_owned(),
            model,
            tracks,
            embeddings,
            genre_probs,
        })
    }

    fn embedding(&self, track: TrackId, model_id: &str) -> Result<Option<TrackEmbedding>> {
        let row: Option<(Vec<u8>, Vec<u8>, Option<f64>)> = self
            .conn
            .prepare_cached(
                "SELECT e.embedding, e.genre_probs, t.duration_secs
                 FROM embeddings e JOIN tracks t ON t.id = e.track_id
                 WHERE e.track_id = ?1 AND e.model_id = ?2",
            )?
            .query_row(params![track.0, model_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        row.map(|(embedding, probs, duration)| {
            Ok(TrackEmbedding {
                embedding: decode_f32_le(&embedding)?,
                genre_probs: decode_f32_le(&probs)?,
                duration_secs: duration.unwrap_or(0.0),
            })
        })
        .transpose()
    }

    fn store_genre_centroids(&mut self, model_id: &str, centroids: &[GenreCentroid]) -> Result<()> {
        let model = self.require_model(model_id)?;
        for c in centroids {
            if c.centroid.len() != model.embedding_dim || c.genre_index >= model.genres.len() {
                return Err(CatalogError::Invalid(format!(
                    "centroid for genre {} does not fit model {model_id:?}",
                    c.genre_index
                )));
            }
        }
        let now = now_ms();
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM genre_centroids WHERE model_id = ?1",
            [model_id],
        )?;
        for c in centroids {
            tx.prepare_cached(
                "INSERT INTO genre_centroids (model_id, genre_index, genre, centroid,
                    member_count, centre_track_id, computed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                model_id,
                c.genre_index as i64,
                c.genre,
                encode_f32_le(&c.centroid),
                c.member_count as i64,
                c.centre_track.map(|t| t.0),
                now
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn genre_centroids(&self, model_id: &str) -> Result<Vec<GenreCentroid>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT genre_index, genre, centroid, member_count, centre_track_id
             FROM genre_centroids WHERE model_id = ?1 ORDER BY genre_index",
        )?;
        let rows = stmt
            .query_map([model_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(index, genre, centroid, members, centre)| {
                Ok(GenreCentroid {
                    genre_index: index.max(0) as usize,
                    genre,
                    centroid: decode_f32_le(&centroid)?,
                    member_count: members.max(0) as usize,
                    centre_track: centre.map(TrackId),
                })
            })
            .collect()
    }

    fn add_user(&mut self, name: &str) -> Result<UserId> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CatalogError::Invalid("empty user name".into()));
        }
        self.conn.execute(
            "INSERT INTO users (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, now_ms()],
        )?;
        let id = self
            .conn
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))?;
        Ok(UserId(id))
    }

    fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, name, created_at FROM users WHERE name = ?1")?
            .query_row([name.trim()], |r| {
                Ok(User {
                    id: UserId(r.get(0)?),
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                })
            })
            .optional()?)
    }

    fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, created_at FROM users ORDER BY id")?;
        let users = stmt.query_map([], |r| {
            Ok(User {
                id: UserId(r.get(0)?),
                name: r.get(1)?,
                created_at: r.get(2)?,
            })
        })?;
        Ok(users.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn record_feedback(&mut self, user: UserId, track: TrackId, rating: Rating) -> Result<()> {
        let exists = |sql: &str, id: i64| -> Result<bool> {
            Ok(self
                .conn
                .query_row(sql, [id], |_| Ok(()))
                .optional()?
                .is_some())
        };
        if !exists("SELECT 1 FROM users WHERE id = ?1", user.0)? {
            return Err(CatalogError::UnknownUser(user.0));
        }
        if !exists("SELECT 1 FROM tracks WHERE id = ?1", track.0)? {
            return Err(CatalogError::UnknownTrack(track.0));
        }
        self.conn.execute(
            "INSERT INTO feedback (user_id, track_id, rating, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![user.0, track.0, rating.as_i64(), now_ms()],
        )?;
        Ok(())
    }

    fn feedback(&self, user: UserId) -> Result<Vec<Feedback>> {
        // The latest event per track; ids grow with time, so MAX(id) is the latest.
        let mut stmt = self.conn.prepare_cached(
            "SELECT user_id, track_id, rating, created_at FROM feedback
             WHERE id IN (SELECT max(id) FROM feedback WHERE user_id = ?1 GROUP BY track_id)
             ORDER BY track_id",
        )?;
        let rows = stmt
            .query_map([user.0], |r| {
                Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<Vec<(i64, i64, i64, i64)>>>()?;
        rows.into_iter()
            .map(|(user, track, rating, at)| {
                Ok(Feedback {
                    user: UserId(user),
                    track: TrackId(track),
                    rating: Rating::from_i64(rating).ok_or_else(|| {
                        CatalogError::CorruptData(format!("feedback rating {rating}"))
                    })?,
                    created_at: at,
                })
            })
            .collect()
    }

    fn clear_feedback(&mut self, user: UserId, track: TrackId) -> Result<u64> {
        let removed = self.conn.execute(
            "DELETE FROM feedback WHERE user_id = ?1 AND track_id = ?2",
            params![user.0, track.0],
        )?;
        Ok(removed as u64)
    }

    fn failed(&self) -> Result<Vec<ScanFailure>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, model_id, reason, failed_at FROM scan_failures ORDER BY path",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ScanFailure {
                path: PathBuf::from(r.get::<_, String>(0)?),
                model_id: r.get(1)?,
                reason: r.get(2)?,
                failed_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn stats(&self) -> Result<CatalogStats> {
        let count = |sql: &str| -> Result<u64> {
            Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))?.max(0) as u64)
        };
        let mut models = Vec::new();
        for model_id in self.model_ids()? {
            let model = self.require_model(&model_id)?;
            let mut per_genre = vec![0u64; model.genres.len()];
            let mut embedded = 0u64;
            let mut stmt = self.conn.prepare_cached(
                "SELECT e.genre_probs FROM embeddings e JOIN tracks t ON t.id = e.track_id
                 WHERE e.model_id = ?1 AND t.missing_since IS NULL",
            )?;
            let mut rows = stmt.query([&model_id])?;
            let mut probs = Vec::with_capacity(model.genres.len());
            while let Some(row) = rows.next()? {
                probs.clear();
                extend_f32_le(&mut probs, blob(row, 0)?)?;
                embedded += 1;
                if let Some(genre) = argmax(&probs).filter(|&g| g < per_genre.len()) {
                    per_genre[genre] += 1;
                }
            }
            models.push(ModelStats {
                model_id,
                embedding_dim: model.embedding_dim,
                embedded_tracks: embedded,
                per_genre: model
                    .genres
                    .iter()
                    .zip(per_genre)
                    .map(|(genre, tracks)| GenreCount {
                        genre: genre.clone(),
                        tracks,
                    })
                    .collect(),
            });
        }
        Ok(CatalogStats {
            tracks: count("SELECT count(*) FROM tracks WHERE missing_since IS NULL")?,
            missing_tracks: count("SELECT count(*) FROM tracks WHERE missing_since IS NOT NULL")?,
            failures: count("SELECT count(*) FROM scan_failures")?,
            users: count("SELECT count(*) FROM users")?,
            feedback_events: count("SELECT count(*) FROM feedback")?,
            models,
        })
    }

    fn revision(&self) -> Result<u64> {
        let revision: i64 = self
            .conn
            .prepare_cached("SELECT revision FROM catalog_revision WHERE id = 1")?
            .query_row([], |r| r.get(0))?;
        Ok(revision.max(0) as u64)
    }

    fn experiments(&self) -> Option<&dyn ExperimentStore> {
        Some(self)
    }

    fn experiments_mut(&mut self) -> Option<&mut dyn ExperimentStore> {
        Some(self)
    }
}

fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| CatalogError::Invalid(one_line(e)))
}

fn json_value<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| CatalogError::CorruptData(format!("{what}: {}", one_line(e))))
}

const STUDY_COLUMNS: &str = "id, name, methods_json, k, decoys, simulated, created_at";

fn study_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, String, String, i64, i64, bool, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

impl SqliteStore {
    fn study_where(&self, sql_where: &str, params: impl rusqlite::Params) -> Result<Vec<Study>> {
        let sql = format!("SELECT {STUDY_COLUMNS} FROM studies WHERE {sql_where}");
        let rows = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params, study_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, name, methods, k, decoys, simulated, created_at)| {
                Ok(Study {
                    id: StudyId(id),
                    methods: json_value(&methods, &format!("study {name:?} methods"))?,
                    name,
                    k: k.max(0) as usize,
                    decoys: decoys.max(0) as usize,
                    simulated,
                    created_at,
                })
            })
            .collect()
    }

    fn session_where(
        &self,
        sql_where: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT id, study_id, participant, seeds_json, simulated, created_at
             FROM study_sessions WHERE {sql_where}"
        );
        let rows = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut sessions = Vec::with_capacity(rows.len());
        for (id, study, participant, seeds, simulated, created_at) in rows {
            let seeds: Vec<i64> = json_value(&seeds, &format!("session {id} seeds"))?;
            let items = self
                .conn
                .prepare_cached(
                    "SELECT track_id, track_path, origins_json FROM session_items
                     WHERE session_id = ?1 ORDER BY position",
                )?
                .query_map([id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .map(|(track, path, origins)| {
                    Ok(SessionItem {
                        track: TrackId(track),
                        path: PathBuf::from(path),
                        origins: json_value(&origins, &format!("session {id} item origins"))?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            sessions.push(Session {
                id: SessionId(id),
                study: StudyId(study),
                participant,
                seeds: seeds.into_iter().map(TrackId).collect(),
                items,
                simulated,
                created_at,
            });
        }
        Ok(sessions)
    }

    fn has_real_sessions(&self, study: StudyId) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM study_sessions WHERE study_id = ?1 AND simulated = 0 LIMIT 1",
                [study.0],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

impl ExperimentStore for SqliteStore {
    fn create_study(&mut self, study: &NewStudy) -> Result<Study> {
        validate_new_study(study)?;
        let name = study.name.trim();
        if self.study_by_name(name)?.is_some() {
            return Err(CatalogError::Invalid(format!(
                "a study named {name:?} already exists"
            )));
        }
        self.conn.execute(
            "INSERT INTO studies (name, methods_json, k, decoys, simulated, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                name,
                json_text(&study.methods)?,
                to_i64(study.k as u64, "k")?,
                to_i64(study.decoys as u64, "decoys")?,
                study.simulated,
                now_ms()
            ],
        )?;
        self.study_by_name(name)?
            .ok_or_else(|| CatalogError::CorruptData(format!("study {name:?} vanished")))
    }

    fn study_by_name(&self, name: &str) -> Result<Option<Study>> {
        Ok(self.study_where("name = ?1", [name.trim()])?.pop())
    }

    fn study(&self, id: StudyId) -> Result<Option<Study>> {
        Ok(self.study_where("id = ?1", [id.0])?.pop())
    }

    fn studies(&self) -> Result<Vec<Study>> {
        self.study_where("1 ORDER BY id", [])
    }

    fn mark_study_simulated(&mut self, id: StudyId) -> Result<()> {
        let study = self
            .study(id)?
            .ok_or_else(|| CatalogError::Invalid(format!("no study with id {id}")))?;
        if study.simulated {
            return Ok(());
        }
        if self.has_real_sessions(id)? {
            return Err(CatalogError::Invalid(format!(
                "study {:?} already has real participants; simulate into a new study",
                study.name
            )));
        }
        self.conn
            .execute("UPDATE studies SET simulated = 1 WHERE id = ?1", [id.0])?;
        Ok(())
    }

    fn create_session(
        &mut self,
        study: StudyId,
        participant: &str,
        seeds: &[TrackId],
        items: &[SessionItem],
        simulated: bool,
    ) -> Result<Session> {
        let participant = participant.trim();
        if participant.is_empty() {
            return Err(CatalogError::Invalid("empty participant name".into()));
        }
        let found = self
            .study(study)?
            .ok_or_else(|| CatalogError::Invalid(format!("no study with id {study}")))?;
        if found.simulated && !simulated {
            return Err(CatalogError::Invalid(format!(
                "study {:?} is simulated; real participants go into a study of their own",
                found.name
            )));
        }
        if !found.simulated && simulated {
            return Err(CatalogError::Invalid(format!(
                "study {:?} is not marked simulated",
                found.name
            )));
        }
        if let Some(existing) = self.session_of(study, participant)? {
            return Err(CatalogError::Invalid(format!(
                "participant {participant:?} already has session {} in study {:?}",
                existing.id, found.name
            )));
        }
        if items.is_empty() {
            return Err(CatalogError::Invalid(
                "a session needs at least one item".into(),
            ));
        }
        for (i, item) in items.iter().enumerate() {
            if items[..i].iter().any(|other| other.track == item.track) {
                return Err(CatalogError::Invalid(format!(
                    "track {} is listed twice in the session",
                    item.track
                )));
            }
            if item.origins.is_empty() {
                return Err(CatalogError::Invalid(format!(
                    "track {} has no recorded origin",
                    item.track
                )));
            }
            if self.track(item.track)?.is_none() {
                return Err(CatalogError::UnknownTrack(item.track.0));
            }
        }
        let now = now_ms();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO study_sessions (study_id, participant, seeds_json, simulated, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                study.0,
                participant,
                json_text(&seeds.iter().map(|t| t.0).collect::<Vec<_>>())?,
                simulated,
                now
            ],
        )?;
        let session = tx.last_insert_rowid();
        for (position, item) in items.iter().enumerate() {
            tx.prepare_cached(
                "INSERT INTO session_items (session_id, position, track_id, track_path, origins_json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                session,
                position as i64,
                item.track.0,
                utf8_path(&item.path)?,
                json_text(&item.origins)?
            ])?;
        }
        tx.commit()?;
        self.session(SessionId(session))?
            .ok_or_else(|| CatalogError::CorruptData(format!("session {session} vanished")))
    }

    fn session(&self, id: SessionId) -> Result<Option<Session>> {
        Ok(self.session_where("id = ?1", [id.0])?.pop())
    }

    fn session_of(&self, study: StudyId, participant: &str) -> Result<Option<Session>> {
        Ok(self
            .session_where(
                "study_id = ?1 AND participant = ?2",
                params![study.0, participant.trim()],
            )?
            .pop())
    }

    fn sessions(&self, study: StudyId) -> Result<Vec<Session>> {
        self.session_where("study_id = ?1 ORDER BY id", [study.0])
    }

    fn record_response(
        &mut self,
        session: SessionId,
        track: TrackId,
        round: u32,
        rating: Rating,
    ) -> Result<()> {
        if round == 0 {
            return Err(CatalogError::Invalid("rounds count from 1".into()));
        }
        let exists = |sql: &str, p: &[i64]| -> Result<bool> {
            Ok(self
                .conn
                .query_row(sql, rusqlite::params_from_iter(p), |_| Ok(()))
                .optional()?
                .is_some())
        };
        if !exists("SELECT 1 FROM study_sessions WHERE id = ?1", &[session.0])? {
            return Err(CatalogError::Invalid(format!(
                "no session with id {session}"
            )));
        }
        if !exists(
            "SELECT 1 FROM session_items WHERE session_id = ?1 AND track_id = ?2",
            &[session.0, track.0],
        )? {
            return Err(CatalogError::Invalid(format!(
                "track {track} is not in session {session}: only the session's items can be rated"
            )));
        }
        self.conn.execute(
            "INSERT INTO session_responses (session_id, track_id, round, rating, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                session.0,
                track.0,
                i64::from(round),
                rating.as_i64(),
                now_ms()
            ],
        )?;
        Ok(())
    }

    fn responses(&self, study: StudyId) -> Result<Vec<ExperimentResponse>> {
        // The latest event per (session, track, round); ids grow with time.
        let rows = self
            .conn
            .prepare_cached(
                "SELECT r.session_id, r.track_id, r.round, r.rating, r.created_at
                 FROM session_responses r
                 WHERE r.id IN (
                     SELECT max(x.id) FROM session_responses x
                     JOIN study_sessions s ON s.id = x.session_id
                     WHERE s.study_id = ?1
                     GROUP BY x.session_id, x.track_id, x.round)
                 ORDER BY r.session_id, r.round, r.track_id",
            )?
            .query_map([study.0], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(session, track, round, rating, at)| {
                Ok(ExperimentResponse {
                    session: SessionId(session),
                    track: TrackId(track),
                    round: u32::try_from(round).map_err(|_| {
                        CatalogError::CorruptData(format!("response round {round}"))
                    })?,
                    rating: Rating::from_i64(rating).ok_or_else(|| {
                        CatalogError::CorruptData(format!("response rating {rating}"))
                    })?,
                    created_at: at,
                })
            })
            .collect()
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
    fn like_pattern_escapes_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn application_id_spells_mrec() {
        assert_eq!(APPLICATION_ID.to_be_bytes(), *b"MREC");
    }
}

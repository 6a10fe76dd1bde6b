//! [`PostgresStore`]: the musicrec catalog in a PostgreSQL database, behind the same
//! [`CatalogStore`] trait and with the same tables as the SQLite store.
//!
//! - **Ownership check.** Opening never damages a foreign database: a table `musicrec_catalog`
//!   holding [`APPLICATION_ID`] marks musicrec catalogs (the counterpart of SQLite's
//!   `application_id`). A schema that has tables but no marker, or a marker with another id, is
//!   refused before anything is written. An empty schema gets the marker and the tables.
//! - **Migrations.** refinery (ordered `V<n>__name.sql` scripts in `src/migrations`, applied ones
//!   recorded with checksums in `refinery_schema_history`). A database that has migrations this
//!   build does not know is refused as [`CatalogError::SchemaTooNew`]. Opening takes a
//!   session advisory lock, so many workers starting at once migrate exactly once.
//! - **Vectors** are `BYTEA` in the SQLite store's f32 little-endian layout rather than `real[]`:
//!   4 bytes per value on disk and on the wire (a binary `real[]` carries a 4-byte length per
//!   element plus a header, twice the bytes at dim 32), one codec for both backends, and decoding
//!   is a straight copy. Nothing is searched in SQL (no pgvector in Debian), so SQL never needs
//!   to see the elements.
//! - **Refresh.** [`CatalogStore::revision`] is a counter that every transaction changing
//!   tracks or embeddings bumps as its last statement (one row, so bumps are ordered by commit
//!   and the row lock is held only from the bump to the commit); reading it is one primary-key
//!   lookup. A server polls it and reloads with [`CatalogStore::load_embeddings`] (one
//!   streamed, binary query) when it changed.
//! - **Listening experiments** (migration V3, the SQLite store's schema v2): the
//!   [`musicrec_catalog::ExperimentStore`] of `musicrec experiment`, in `experiment.rs`.
//! - **Bulk import.** [`PostgresStore::import_new_tracks`] loads many new tracks with
//!   `COPY ... FROM STDIN (FORMAT binary)` (benchmarks, migrating a large SQLite catalog).
//!
//! Database errors surface as [`CatalogError::Io`] whose path is the database URL without its
//! password (the catalog's error type has no database-neutral variant; see `error.rs`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use musicrec_catalog::{
    APPLICATION_ID, CatalogError, CatalogStats, CatalogStore, EmbeddingSet, ExperimentStore,
    Feedback, FileFacts, GenreCentroid, GenreCount, IndexedFailure, IndexedTrack, ModelInfo,
    ModelStats, Page, Rating, Result, ScanFailure, ScanIndex, ScanUpdate, Track, TrackEmbedding,
    TrackId, TrackSummary, TrackTags, User, UserId, decode_f32_le, encode_f32_le,
};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, IsolationLevel, NoTls, Row, Statement, Transaction};

use crate::error::{db_error, one_line};

/// Largest page [`CatalogStore::search`] returns (as the SQLite store).
const MAX_PAGE: u64 = 1000;

/// Key of the advisory lock held while checking ownership and migrating.
const SCHEMA_LOCK_KEY: i64 = 0x4d52_4543_0001; // "MREC" + 1

mod embedded {
    refinery::embed_migrations!("src/migrations");
}

/// Number of schema migrations this build knows.
pub fn known_schema_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// A musicrec catalog in PostgreSQL.
pub struct PostgresStore {
    inner: RefCell<Inner>,
    label: String,
}

/// The connection and its prepared statements (a cache: every statement is prepared once per
/// connection, then each execution is one round trip).
pub(crate) struct Inner {
    pub(crate) client: Client,
    pub(crate) statements: HashMap<&'static str, Statement>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.label)
            .finish_non_exhaustive()
    }
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match postgres::Config::from_str(url) {
        Ok(config) => {
            let user = config
                .get_user()
                .map(|u| format!("{u}@"))
                .unwrap_or_default();
            let host = config
                .get_hosts()
                .iter()
                .map(|h| match h {
                    postgres::config::Host::Tcp(name) => name.clone(),
                    postgres::config::Host::Unix(path) => path.display().to_string(),
                })
                .collect::<Vec<_>>()
                .join(",");
            let port = config
                .get_ports()
                .first()
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            let db = config.get_dbname().unwrap_or("");
            format!("postgresql://{user}{host}{port}/{db}")
        }
        Err(_) => "postgresql://(unparsable URL)".to_owned(),
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/db`, or libpq key=value form),
    /// checks that the database is a musicrec catalog (or empty) and migrates it.
    pub fn connect(url: &str) -> Result<Self> {
        let label = redact_url(url);
        let config = postgres::Config::from_str(url).map_err(|err| {
            CatalogError::Invalid(format!("bad PostgreSQL URL {label}: {}", one_line(&err)))
        })?;
        let client = config.connect(NoTls).map_err(|err| db_error(&label, err))?;
        let mut store = Self {
            inner: RefCell::new(Inner {
                client,
                statements: HashMap::new(),
            }),
            label,
        };
        store.claim_and_migrate()?;
        Ok(store)
    }

    /// The database URL without its password.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Highest applied schema migration.
    pub fn schema_version(&self) -> Result<i64> {
        let mut inner = self.inner.borrow_mut();
        let last = embedded::migrations::runner()
            .get_last_applied_migration(&mut inner.client)
            .map_err(|err| CatalogError::Migration(one_line(&err)))?;
        Ok(last.map(|m| i64::from(m.version())).unwrap_or(0))
    }

    fn claim_and_migrate(&mut self) -> Result<()> {
        let label = self.label.clone();
        let client = &mut self.inner.get_mut().client;
        client
            .execute("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK_KEY])
            .map_err(|e| db_error(&label, e))?;
        let result = claim_or_refuse(client, &label).and_then(|()| {
            embedded::migrations::runner()
                .set_abort_divergent(true)
                .set_abort_missing(true)
                .run(client)
                .map(|_| ())
                .map_err(|err| match err.kind() {
                    refinery::error::Kind::MissingVersion(_) => CatalogError::SchemaTooNew {
                        path: PathBuf::from(&label),
                    },
                    _ => CatalogError::Migration(one_line(&err)),
                })
        });
        // Unlock even after a refusal; a lost connection releases the lock anyway.
        let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK_KEY]);
        result
    }

    /// Runs `f` with the connection and its statement cache.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        f(&mut self.inner.borrow_mut())
    }

    pub(crate) fn inner_mut(
        &mut self,
    ) -> (&mut Client, &mut HashMap<&'static str, Statement>, &str) {
        let inner = self.inner.get_mut();
        (&mut inner.client, &mut inner.statements, &self.label)
    }

    fn require_model(&self, model_id: &str) -> Result<ModelInfo> {
        self.model(model_id)?
            .ok_or_else(|| CatalogError::UnknownModel(model_id.to_owned()))
    }

    fn tracks_where(&self, sql_where: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Track>> {
        let sql = format!("SELECT {TRACK_COLUMNS} FROM tracks WHERE {sql_where}");
        self.with(|inner| {
            let rows = inner
                .client
                .query(sql.as_str(), params)
                .map_err(|e| db_error(&self.label, e))?;
            rows.iter()
                .map(|r| track_from_row(r, &self.label))
                .collect()
        })
    }

    /// Adds many tracks that are not in the catalog yet, with `model_id`'s outputs, using
    /// `COPY ... (FORMAT binary)` into a staging table and two set-based inserts, in one
    /// transaction. Every update must be [`ScanUpdate::Embedded`] with a path not stored yet
    /// (otherwise nothing is written and the error says why); for rescans use
    /// [`CatalogStore::apply_scan_updates`].
    pub fn import_new_tracks(&mut self, model_id: &str, updates: &[ScanUpdate]) -> Result<u64> {
        let model = self.require_model(model_id)?;
        for update in updates {
            match update {
                ScanUpdate::Embedded { output, .. } => check_output(model_id, &model, output)?,
                other => {
                    return Err(CatalogError::Invalid(format!(
                        "import_new_tracks takes only new embedded tracks, not {other:?}"
                    )));
                }
            }
        }
        let label = self.label.clone();
        let err = |e| db_error(&label, e);
        let now = now_ms();
        let client = &mut self.inner.get_mut().client;
        let mut tx = client.transaction().map_err(err)?;
        tx.batch_execute(
            "CREATE TEMP TABLE import_staging (
                seq BIGINT, path TEXT, content_hash TEXT, size_bytes BIGINT, mtime_ns BIGINT,
                duration_secs DOUBLE PRECISION, artist TEXT, title TEXT, album TEXT,
                genre_tag TEXT, year INTEGER, artist_key TEXT, title_key TEXT, album_key TEXT,
                embedding BYTEA, genre_probs BYTEA) ON COMMIT DROP",
        )
        .map_err(err)?;
        let sink = tx
            .copy_in("COPY import_staging FROM STDIN (FORMAT binary)")
            .map_err(err)?;
        let types = [
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::FLOAT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::INT4,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::BYTEA,
            Type::BYTEA,
        ];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for (seq, update) in updates.iter().enumerate() {
            let ScanUpdate::Embedded {
                path,
                file,
                tags,
                output,
            } = update
            else {
                unreachable!("checked above");
            };
            let row: [&(dyn ToSql + Sync); 16] = [
                &(seq as i64),
                &utf8_path(path)?,
                &file.content_hash.to_hex().as_str().to_owned(),
                &to_i64(file.size_bytes, "file size")?,
                &file.mtime_ns,
                &output.duration_secs,
                &tags.artist,
                &tags.title,
                &tags.album,
                &tags.genre,
                &tags.year,
                &fold_opt(&tags.artist),
                &fold_opt(&tags.title),
                &fold_opt(&tags.album),
                &encode_f32_le(&output.embedding),
                &encode_f32_le(&output.genre_probs),
            ];
            writer.write(&row).map_err(err)?;
        }
        writer.finish().map_err(err)?;
        let existing: i64 = tx
            .query_one(
                "SELECT count(*) FROM import_staging s JOIN tracks t ON t.path = s.path",
                &[],
            )
            .map_err(err)?
            .get(0);
        if existing > 0 {
            return Err(CatalogError::Invalid(format!(
                "{existing} of the imported paths are already in the catalog; use a scan"
            )));
        }
        let inserted = tx
            .execute(
                "INSERT INTO tracks (path, content_hash, size_bytes, mtime_ns, duration_secs,
                    artist, title, album, genre_tag, year, artist_key, title_key, album_key,
                    added_at, updated_at)
                 SELECT path, content_hash, size_bytes, mtime_ns, duration_secs, artist, title,
                    album, genre_tag, year, artist_key, title_key, album_key, $1, $1
                 FROM import_staging ORDER BY seq",
                &[&now],
            )
            .map_err(err)?;
        tx.execute(
            "INSERT INTO embeddings (track_id, model_id, embedding, genre_probs, created_at)
             SELECT t.id, $1, s.embedding, s.genre_probs, $2
             FROM import_staging s JOIN tracks t ON t.path = s.path",
            &[&model_id, &now],
        )
        .map_err(err)?;
        tx.execute(
            "DELETE FROM scan_failures f USING import_staging s WHERE f.path = s.path",
            &[],
        )
        .map_err(err)?;
        tx.execute(BUMP_REVISION, &[]).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(inserted)
    }
}

/// Checks the marker table, or stamps an empty schema (under the advisory lock).
fn claim_or_refuse(client: &mut Client, label: &str) -> Result<()> {
    let err = |e| db_error(label, e);
    let refuse = |reason: String| CatalogError::NotACatalog {
        path: PathBuf::from(label),
        reason,
    };
    let schema: Option<String> = client
        .query_one("SELECT current_schema()", &[])
        .map_err(err)?
        .get(0);
    let Some(schema) = schema else {
        return Err(refuse(
            "its search_path names no existing schema to hold the tables".into(),
        ));
    };
    let marker: Option<String> = client
        .query_one(
            "SELECT to_regclass(quote_ident($1) || '.musicrec_catalog')::text",
            &[&schema],
        )
        .map_err(err)?
        .get(0);
    if marker.is_some() {
        let ids: Vec<i32> = client
            .query(
                &format!(
                    "SELECT application_id FROM {}.musicrec_catalog",
                    quote_ident(&schema)
                ),
                &[],
            )
            .map_err(err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        return match ids.as_slice() {
            [id] if *id == APPLICATION_ID => Ok(()),
            _ => Err(refuse(format!(
                "its musicrec_catalog table holds {ids:?}, not application id {APPLICATION_ID:#010x}"
            ))),
        };
    }
    let objects: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')",
            &[&schema],
        )
        .map_err(err)?
        .get(0);
    if objects > 0 {
        return Err(refuse(format!(
            "schema {schema:?} has {objects} tables/sequences/views of another program"
        )));
    }
    client
        .batch_execute(&format!(
            "CREATE TABLE musicrec_catalog (application_id INTEGER NOT NULL);
             INSERT INTO musicrec_catalog VALUES ({APPLICATION_ID});"
        ))
        .map_err(err)?;
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The cached prepared statement for `sql`.
pub(crate) fn prepare<C: GenericClient>(
    client: &mut C,
    cache: &mut HashMap<&'static str, Statement>,
    label: &str,
    sql: &'static str,
) -> Result<Statement> {
    if let Some(statement) = cache.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql).map_err(|e| db_error(label, e))?;
    cache.insert(sql, statement.clone());
    Ok(statement)
}

/// The last statement of every transaction that changes tracks or embeddings.
pub(crate) const BUMP_REVISION: &str = "UPDATE catalog_revision SET revision = revision + 1";

const TRACK_COLUMNS: &str = "id, path, content_hash, size_bytes, mtime_ns, duration_secs, \
     artist, title, album, genre_tag, year, added_at, updated_at, missing_since";

fn track_from_row(row: &Row, label: &str) -> Result<Track> {
    Ok(Track {
        id: TrackId(row.get(0)),
        path: PathBuf::from(row.get::<_, String>(1)),
        content_hash: parse_hash(row.get(2), label)?,
        size_bytes: row.get::<_, i64>(3).max(0) as u64,
        mtime_ns: row.get(4),
        duration_secs: row.get(5),
        tags: TrackTags {
            artist: row.get(6),
            title: row.get(7),
            album: row.get(8),
            genre: row.get(9),
            year: row.get(10),
        },
        added_at: row.get(11),
        updated_at: row.get(12),
        missing_since: row.get(13),
    })
}

pub(crate) fn parse_hash(hex: &str, label: &str) -> Result<blake3::Hash> {
    blake3::Hash::from_hex(hex.as_bytes())
        .map_err(|e| CatalogError::CorruptData(format!("{label}: content hash {hex:?}: {e}")))
}

/// Lookup key of a tag: trimmed, Unicode lower case (same as the SQLite store).
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

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn utf8_path(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| CatalogError::Invalid(format!("path {} is not valid UTF-8", path.display())))
}

fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| CatalogError::Invalid(format!("{what} {value} is too large")))
}

fn parse_model(model_id: &str, config: &str, genres: &str, dim: i32) -> Result<ModelInfo> {
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

fn model_row(client: &mut Client, label: &str, model_id: &str) -> Result<Option<ModelInfo>> {
    let row = client
        .query_opt(
            "SELECT config_json, genres_json, embedding_dim FROM models WHERE id = $1",
            &[&model_id],
        )
        .map_err(|e| db_error(label, e))?;
    row.map(|r| parse_model(model_id, r.get(0), r.get(1), r.get(2)))
        .transpose()
}

/// Checks every embedded output of `updates` against `model_id` (before any write).
pub(crate) fn check_updates(
    client: &mut Client,
    label: &str,
    model_id: &str,
    updates: &[ScanUpdate],
) -> Result<()> {
    let model = model_row(client, label, model_id)?
        .ok_or_else(|| CatalogError::UnknownModel(model_id.to_owned()))?;
    for update in updates {
        if let ScanUpdate::Embedded { output, .. } = update {
            check_output(model_id, &model, output)?;
        }
    }
    Ok(())
}

/// Applies `updates` inside `tx` (the caller commits): the same statements and semantics as
/// the SQLite store's `apply_scan_updates`. Outputs must have been checked with
/// [`check_updates`].
pub(crate) fn apply_updates_in(
    tx: &mut Transaction<'_>,
    cache: &mut HashMap<&'static str, Statement>,
    label: &str,
    model_id: &str,
    updates: &[ScanUpdate],
) -> Result<()> {
    let err = |e| db_error(label, e);
    let now = now_ms();
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
                let hash = hash.as_str();
                let st = prepare(
                    tx,
                    cache,
                    label,
                    "SELECT id, content_hash FROM tracks WHERE path = $1",
                )?;
                let previous = tx.query_opt(&st, &[&path]).map_err(err)?;
                if let Some(row) = previous
                    && row.get::<_, &str>(1) != hash
                {
                    // Other models' vectors describe the old content.
                    let st = prepare(
                        tx,
                        cache,
                        label,
                        "DELETE FROM embeddings WHERE track_id = $1 AND model_id <> $2",
                    )?;
                    tx.execute(&st, &[&row.get::<_, i64>(0), &model_id])
                        .map_err(err)?;
                }
                let st = prepare(
                    tx,
                    cache,
                    label,
                    "INSERT INTO tracks (path, content_hash, size_bytes, mtime_ns,
                        duration_secs, artist, title, album, genre_tag, year,
                        artist_key, title_key, album_key, added_at, updated_at, missing_since)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14,
                             NULL)
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
                )?;
                let track_id: i64 = tx
                    .query_one(
                        &st,
                        &[
                            &path,
                            &hash,
                            &to_i64(file.size_bytes, "file size")?,
                            &file.mtime_ns,
                            &output.duration_secs,
                            &tags.artist,
                            &tags.title,
                            &tags.album,
                            &tags.genre,
                            &tags.year,
                            &fold_opt(&tags.artist),
                            &fold_opt(&tags.title),
                            &fold_opt(&tags.album),
                            &now,
                        ],
                    )
                    .map_err(err)?
                    .get(0);
                let st = prepare(
                    tx,
                    cache,
                    label,
                    "INSERT INTO embeddings (track_id, model_id, embedding, genre_probs,
                        created_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (track_id, model_id) DO UPDATE SET
                        embedding = excluded.embedding, genre_probs = excluded.genre_probs,
                        created_at = excluded.created_at",
                )?;
                tx.execute(
                    &st,
                    &[
                        &track_id,
                        &model_id,
                        &encode_f32_le(&output.embedding),
                        &encode_f32_le(&output.genre_probs),
                        &now,
                    ],
                )
                .map_err(err)?;
                let st = prepare(
                    tx,
                    cache,
                    label,
                    "DELETE FROM scan_failures WHERE path = $1",
                )?;
                tx.execute(&st, &[&path]).map_err(err)?;
            }
            ScanUpdate::Moved {
                track,
                path,
                file,
                tags,
            } => {
                let path = utf8_path(path)?;
                let st = prepare(
                    tx,
                    cache,
                    label,
                    "UPDATE tracks SET path = $2, content_hash = $3, size_bytes = $4,
                        mtime_ns = $5, artist = $6, title = $7, album = $8,
                        genre_tag = $9, year = $10, artist_key = $11, title_key = $12,
                        album_key = $13, updated_at = $14, missing_since = NULL
                     WHERE id = $1",
                )?;
                let changed = tx
                    .execute(
                        &st,
                        &[
                            &track.0,
                            &path,
                            &file.content_hash.to_hex().as_str(),
                            &to_i64(file.size_bytes, "file size")?,
                            &file.mtime_ns,
                            &tags.artist,
                            &tags.title,
                            &tags.album,
                            &tags.genre,
                            &tags.year,
                            &fold_opt(&tags.artist),
                            &fold_opt(&tags.title),
                            &fold_opt(&tags.album),
                            &now,
                        ],
                    )
                    .map_err(err)?;
                if changed == 0 {
                    return Err(CatalogError::UnknownTrack(track.0));
                }
                let st = prepare(
                    tx,
                    cache,
                    label,
                    "DELETE FROM scan_failures WHERE path = $1",
                )?;
                tx.execute(&st, &[&path]).map_err(err)?;
            }
            ScanUpdate::Refreshed { track, file } => {
                let st = prepare(
                    tx,
                    cache,
                    label,
                    "UPDATE tracks SET content_hash = $2, size_bytes = $3, mtime_ns = $4,
                        updated_at = $5, missing_since = NULL
                     WHERE id = $1",
                )?;
                tx.execute(
                    &st,
                    &[
                        &track.0,
                        &file.content_hash.to_hex().as_str(),
                        &to_i64(file.size_bytes, "file size")?,
                        &file.mtime_ns,
                        &now,
                    ],
                )
                .map_err(err)?;
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
                let st = prepare(
                    tx,
                    cache,
                    label,
                    "INSERT INTO scan_failures (path, model_id, reason, size_bytes, mtime_ns,
                        failed_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (path) DO UPDATE SET model_id = excluded.model_id,
                        reason = excluded.reason, size_bytes = excluded.size_bytes,
                        mtime_ns = excluded.mtime_ns, failed_at = excluded.failed_at",
                )?;
                tx.execute(
                    &st,
                    &[&path.as_ref(), &model_id, reason, &size, mtime_ns, &now],
                )
                .map_err(err)?;
                if let Some(track) = stale_track {
                    mark_missing(tx, cache, label, *track, now)?;
                }
            }
            ScanUpdate::Missing { track } => mark_missing(tx, cache, label, *track, now)?,
        }
    }
    if !updates.is_empty() {
        let st = prepare(tx, cache, label, BUMP_REVISION)?;
        tx.execute(&st, &[]).map_err(err)?;
    }
    Ok(())
}

fn mark_missing(
    tx: &mut Transaction<'_>,
    cache: &mut HashMap<&'static str, Statement>,
    label: &str,
    track: TrackId,
    now: i64,
) -> Result<()> {
    let st = prepare(
        tx,
        cache,
        label,
        "UPDATE tracks SET missing_since = $2, updated_at = $2
         WHERE id = $1 AND missing_since IS NULL",
    )?;
    tx.execute(&st, &[&track.0, &now])
        .map_err(|e| db_error(label, e))?;
    Ok(())
}

impl CatalogStore for PostgresStore {
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
            serde_json::to_string(&info.genres).map_err(|e| CatalogError::Invalid(one_line(&e)))?;
        let dim = i32::try_from(info.embedding_dim).map_err(|_| {
            CatalogError::Invalid(format!(
                "embedding size {} is too large",
                info.embedding_dim
            ))
        })?;
        let label = &self.label;
        self.inner
            .get_mut()
            .client
            .execute(
                "INSERT INTO models (id, config_json, genres_json, embedding_dim, registered_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET config_json = excluded.config_json",
                &[
                    &model_id,
                    &info.config.to_string(),
                    &genres,
                    &dim,
                    &now_ms(),
                ],
            )
            .map_err(|e| db_error(label, e))?;
        Ok(())
    }

    fn model(&self, model_id: &str) -> Result<Option<ModelInfo>> {
        self.with(|inner| model_row(&mut inner.client, &self.label, model_id))
    }

    fn model_ids(&self) -> Result<Vec<String>> {
        self.with(|inner| {
            Ok(inner
                .client
                .query("SELECT id FROM models ORDER BY id COLLATE \"C\"", &[])
                .map_err(|e| db_error(&self.label, e))?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn scan_index(&self, model_id: &str) -> Result<ScanIndex> {
        self.with(|inner| {
            let err = |e| db_error(&self.label, e);
            let rows = inner
                .client
                .query(
                    "SELECT t.id, t.path, t.content_hash, t.size_bytes, t.mtime_ns,
                        t.missing_since IS NOT NULL,
                        EXISTS (SELECT 1 FROM embeddings e
                                WHERE e.track_id = t.id AND e.model_id = $1)
                     FROM tracks t ORDER BY t.id",
                    &[&model_id],
                )
                .map_err(err)?;
            let tracks = rows
                .iter()
                .map(|row| {
                    Ok(IndexedTrack {
                        id: TrackId(row.get(0)),
                        path: PathBuf::from(row.get::<_, String>(1)),
                        file: FileFacts {
                            content_hash: parse_hash(row.get(2), &self.label)?,
                            size_bytes: row.get::<_, i64>(3).max(0) as u64,
                            mtime_ns: row.get(4),
                        },
                        missing: row.get(5),
                        has_embedding: row.get(6),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let failures = inner
                .client
                .query(
                    "SELECT path, size_bytes, mtime_ns FROM scan_failures
                     WHERE model_id = $1 AND size_bytes IS NOT NULL AND mtime_ns IS NOT NULL",
                    &[&model_id],
                )
                .map_err(err)?
                .iter()
                .map(|row| IndexedFailure {
                    path: PathBuf::from(row.get::<_, String>(0)),
                    size_bytes: row.get::<_, i64>(1).max(0) as u64,
                    mtime_ns: row.get(2),
                })
                .collect();
            Ok(ScanIndex { tracks, failures })
        })
    }

    fn apply_scan_updates(&mut self, model_id: &str, updates: &[ScanUpdate]) -> Result<()> {
        let label = self.label.clone();
        let Inner { client, statements } = self.inner.get_mut();
        check_updates(client, &label, model_id, updates)?;
        let mut tx = client.transaction().map_err(|e| db_error(&label, e))?;
        apply_updates_in(&mut tx, statements, &label, model_id, updates)?;
        tx.commit().map_err(|e| db_error(&label, e))
    }

    fn track(&self, id: TrackId) -> Result<Option<Track>> {
        Ok(self.tracks_where("id = $1", &[&id.0])?.pop())
    }

    fn track_by_path(&self, path: &Path) -> Result<Option<Track>> {
        let Some(path) = path.to_str() else {
            return Ok(None);
        };
        Ok(self.tracks_where("path = $1", &[&path])?.pop())
    }

    fn tracks_by_artist_title(&self, artist: &str, title: &str) -> Result<Vec<Track>> {
        self.tracks_where(
            "artist_key = $1 AND title_key = $2 AND missing_since IS NULL ORDER BY id",
            &[&fold(artist), &fold(title)],
        )
    }

    fn tracks_by_title(&self, title: &str) -> Result<Vec<Track>> {
        self.tracks_where(
            "title_key = $1 AND missing_since IS NULL ORDER BY id",
            &[&fold(title)],
        )
    }

    fn search(&self, text: &str, offset: u64, limit: u64) -> Result<Page<Track>> {
        let pattern = contains_pattern(&fold(text));
        // As SQLite: the *_key columns are folded already; the path match ignores case.
        let filter = "missing_since IS NULL AND (artist_key LIKE $1 OR title_key LIKE $1
            OR album_key LIKE $1 OR path ILIKE $1)";
        let total: i64 = self.with(|inner| {
            Ok(inner
                .client
                .query_one(
                    format!("SELECT count(*) FROM tracks WHERE {filter}").as_str(),
                    &[&pattern],
                )
                .map_err(|e| db_error(&self.label, e))?
                .get(0))
        })?;
        // Byte order ("C") and NULL titles first: the SQLite store's order exactly.
        let items = self.tracks_where(
            &format!(
                "{filter} ORDER BY artist_key IS NULL, artist_key COLLATE \"C\",
                 title_key COLLATE \"C\" NULLS FIRST, path COLLATE \"C\" LIMIT $2 OFFSET $3"
            ),
            &[
                &pattern,
                &to_i64(limit.min(MAX_PAGE), "limit")?,
                &to_i64(offset, "offset")?,
            ],
        )?;
        Ok(Page {
            total: total.max(0) as u64,
            offset,
            items,
        })
    }

    fn purge_missing(&mut self) -> Result<u64> {
        let label = &self.label;
        let err = |e| db_error(label, e);
        let mut tx = self.inner.get_mut().client.transaction().map_err(err)?;
        let removed = tx
            .execute("DELETE FROM tracks WHERE missing_since IS NOT NULL", &[])
            .map_err(err)?;
        if removed > 0 {
            tx.execute(BUMP_REVISION, &[]).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(removed)
    }

    fn load_embeddings(&self, model_id: &str) -> Result<EmbeddingSet> {
        let model = self.require_model(model_id)?;
        let (dim, n_genres) = (model.embedding_dim, model.genres.len());
        self.with(|inner| {
            let err = |e| db_error(&self.label, e);
            // One snapshot for the count (to size the matrices once) and the rows.
            let mut tx = inner
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(err)?;
            let count: i64 = tx
                .query_one(
                    "SELECT count(*) FROM embeddings e JOIN tracks t ON t.id = e.track_id
                     WHERE e.model_id = $1 AND t.missing_since IS NULL",
                    &[&model_id],
                )
                .map_err(err)?
                .get(0);
            let count = count.max(0) as usize;
            let mut tracks = Vec::with_capacity(count);
            let mut embeddings = Vec::with_capacity(count * dim);
            let mut genre_probs = Vec::with_capacity(count * n_genres);
            // Streamed row by row (binary results), never all rows in memory at once.
            let mut rows = tx
                .query_raw(
                    "SELECT t.id, t.path, t.artist, t.title, t.content_hash, e.embedding,
                        e.genre_probs
                     FROM embeddings e JOIN tracks t ON t.id = e.track_id
                     WHERE e.model_id = $1 AND t.missing_since IS NULL
                     ORDER BY t.id",
                    [model_id],
                )
                .map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                let id = TrackId(row.get(0));
                let embedding: &[u8] = row.get(5);
                let probs: &[u8] = row.get(6);
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
                extend_f32_le(&mut embeddings, embedding);
                extend_f32_le(&mut genre_probs, probs);
                tracks.push(TrackSummary {
                    id,
                    path: PathBuf::from(row.get::<_, String>(1)),
                    artist: row.get(2),
                    title: row.get(3),
                    content_hash: parse_hash(row.get(4), &self.label)?,
                });
            }
            drop(rows);
            tx.commit().map_err(err)?;
            Ok(EmbeddingSet {
                model_id: model_id.to_owned(),
                model,
                tracks,
                embeddings,
                genre_probs,
            })
        })
    }

    fn embedding(&self, track: TrackId, model_id: &str) -> Result<Option<TrackEmbedding>> {
        let row = self.with(|inner| {
            inner
                .client
                .query_opt(
                    "SELECT e.embedding, e.genre_probs, t.duration_secs
                     FROM embeddings e JOIN tracks t ON t.id = e.track_id
                     WHERE e.track_id = $1 AND e.model_id = $2",
                    &[&track.0, &model_id],
                )
                .map_err(|e| db_error(&self.label, e))
        })?;
        row.map(|r| {
            Ok(TrackEmbedding {
                embedding: decode_f32_le(r.get(0))?,
                genre_probs: decode_f32_le(r.get(1))?,
                duration_secs: r.get::<_, Option<f64>>(2).unwrap_or(0.0),
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
        let label = self.label.clone();
        let err = |e| db_error(&label, e);
        let mut tx = self.inner.get_mut().client.transaction().map_err(err)?;
        tx.execute(
            "DELETE FROM genre_centroids WHERE model_id = $1",
            &[&model_id],
        )
        .map_err(err)?;
        for c in centroids {
            tx.execute(
                "INSERT INTO genre_centroids (model_id, genre_index, genre, centroid,
                    member_count, centre_track_id, computed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &model_id,
                    &(c.genre_index as i32),
                    &c.genre,
                    &encode_f32_le(&c.centroid),
                    &(c.member_count as i64),
                    &c.centre_track.map(|t| t.0),
                    &now,
                ],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn genre_centroids(&self, model_id: &str) -> Result<Vec<GenreCentroid>> {
        let rows = self.with(|inner| {
            inner
                .client
                .query(
                    "SELECT genre_index, genre, centroid, member_count, centre_track_id
                     FROM genre_centroids WHERE model_id = $1 ORDER BY genre_index",
                    &[&model_id],
                )
                .map_err(|e| db_error(&self.label, e))
        })?;
        rows.iter()
            .map(|r| {
                Ok(GenreCentroid {
                    genre_index: r.get::<_, i32>(0).max(0) as usize,
                    genre: r.get(1),
                    centroid: decode_f32_le(r.get(2))?,
                    member_count: r.get::<_, i64>(3).max(0) as usize,
                    centre_track: r.get::<_, Option<i64>>(4).map(TrackId),
                })
            })
            .collect()
    }

    fn add_user(&mut self, name: &str) -> Result<UserId> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CatalogError::Invalid("empty user name".into()));
        }
        let label = &self.label;
        let client = &mut self.inner.get_mut().client;
        client
            .execute(
                "INSERT INTO users (name, created_at) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING",
                &[&name, &now_ms()],
            )
            .map_err(|e| db_error(label, e))?;
        let row = client
            .query_one("SELECT id FROM users WHERE name = $1", &[&name])
            .map_err(|e| db_error(label, e))?;
        Ok(UserId(row.get(0)))
    }

    fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let row = self.with(|inner| {
            inner
                .client
                .query_opt(
                    "SELECT id, name, created_at FROM users WHERE name = $1",
                    &[&name.trim()],
                )
                .map_err(|e| db_error(&self.label, e))
        })?;
        Ok(row.map(|r| User {
            id: UserId(r.get(0)),
            name: r.get(1),
            created_at: r.get(2),
        }))
    }

    fn users(&self) -> Result<Vec<User>> {
        let rows = self.with(|inner| {
            inner
                .client
                .query("SELECT id, name, created_at FROM users ORDER BY id", &[])
                .map_err(|e| db_error(&self.label, e))
        })?;
        Ok(rows
            .iter()
            .map(|r| User {
                id: UserId(r.get(0)),
                name: r.get(1),
                created_at: r.get(2),
            })
            .collect())
    }

    fn record_feedback(&mut self, user: UserId, track: TrackId, rating: Rating) -> Result<()> {
        let label = &self.label;
        let err = |e| db_error(label, e);
        let client = &mut self.inner.get_mut().client;
        if client
            .query_opt("SELECT 1 FROM users WHERE id = $1", &[&user.0])
            .map_err(err)?
            .is_none()
        {
            return Err(CatalogError::UnknownUser(user.0));
        }
        if client
            .query_opt("SELECT 1 FROM tracks WHERE id = $1", &[&track.0])
            .map_err(err)?
            .is_none()
        {
            return Err(CatalogError::UnknownTrack(track.0));
        }
        client
            .execute(
                "INSERT INTO feedback (user_id, track_id, rating, created_at)
                 VALUES ($1, $2, $3, $4)",
                &[&user.0, &track.0, &(rating.as_i64() as i32), &now_ms()],
            )
            .map_err(err)?;
        Ok(())
    }

    fn clear_feedback(&mut self, user: UserId, track: TrackId) -> Result<u64> {
        let label = &self.label;
        self.inner
            .get_mut()
            .client
            .execute(
                "DELETE FROM feedback WHERE user_id = $1 AND track_id = $2",
                &[&user.0, &track.0],
            )
            .map_err(|e| db_error(label, e))
    }

    fn feedback(&self, user: UserId) -> Result<Vec<Feedback>> {
        // The latest event per track; ids grow with time, so max(id) is the latest.
        let rows = self.with(|inner| {
            inner
                .client
                .query(
                    "SELECT user_id, track_id, rating, created_at FROM feedback
                     WHERE id IN (SELECT max(id) FROM feedback WHERE user_id = $1
                                  GROUP BY track_id)
                     ORDER BY track_id",
                    &[&user.0],
                )
                .map_err(|e| db_error(&self.label, e))
        })?;
        rows.iter()
            .map(|r| {
                let rating: i32 = r.get(2);
                Ok(Feedback {
                    user: UserId(r.get(0)),
                    track: TrackId(r.get(1)),
                    rating: Rating::from_i64(i64::from(rating)).ok_or_else(|| {
                        CatalogError::CorruptData(format!("feedback rating {rating}"))
                    })?,
                    created_at: r.get(3),
                })
            })
            .collect()
    }

    fn failed(&self) -> Result<Vec<ScanFailure>> {
        let rows = self.with(|inner| {
            inner
                .client
                .query(
                    "SELECT path, model_id, reason, failed_at FROM scan_failures
                     ORDER BY path COLLATE \"C\"",
                    &[],
                )
                .map_err(|e| db_error(&self.label, e))
        })?;
        Ok(rows
            .iter()
            .map(|r| ScanFailure {
                path: PathBuf::from(r.get::<_, String>(0)),
                model_id: r.get(1),
                reason: r.get(2),
                failed_at: r.get(3),
            })
            .collect())
    }

    /// The counter that every transaction changing tracks or embeddings bumps as its last
    /// statement (scan updates, worker completions, enqueue's un-flagging and pruning, imports,
    /// purges): it grows with every committed change, one primary-key read.
    fn revision(&self) -> Result<u64> {
        self.with(|inner| {
            let st = prepare(
                &mut inner.client,
                &mut inner.statements,
                &self.label,
                "SELECT revision FROM catalog_revision",
            )?;
            let row = inner
                .client
                .query_one(&st, &[])
                .map_err(|e| db_error(&self.label, e))?;
            Ok(row.get::<_, i64>(0).max(0) as u64)
        })
    }

    fn experiments(&self) -> Option<&dyn ExperimentStore> {
        Some(self)
    }

    fn experiments_mut(&mut self) -> Option<&mut dyn ExperimentStore> {
        Some(self)
    }

    fn stats(&self) -> Result<CatalogStats> {
        let mut models = Vec::new();
        for model_id in self.model_ids()? {
            let model = self.require_model(&model_id)?;
            let mut per_genre = vec![0u64; model.genres.len()];
            let mut embedded = 0u64;
            self.with(|inner| {
                let err = |e| db_error(&self.label, e);
                let mut rows = inner
                    .client
                    .query_raw(
                        "SELECT e.genre_probs FROM embeddings e
                         JOIN tracks t ON t.id = e.track_id
                         WHERE e.model_id = $1 AND t.missing_since IS NULL",
                        [&model_id],
                    )
                    .map_err(err)?;
                let mut probs = Vec::with_capacity(model.genres.len());
                while let Some(row) = rows.next().map_err(err)? {
                    probs.clear();
                    extend_f32_le(&mut probs, row.get(0));
                    embedded += 1;
                    if let Some(genre) = argmax(&probs).filter(|&g| g < per_genre.len()) {
                        per_genre[genre] += 1;
                    }
                }
                Ok(())
            })?;
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
        let counts = self.with(|inner| {
            inner
                .client
                .query_one(
                    "SELECT (SELECT count(*) FROM tracks WHERE missing_since IS NULL),
                            (SELECT count(*) FROM tracks WHERE missing_since IS NOT NULL),
                            (SELECT count(*) FROM scan_failures),
                            (SELECT count(*) FROM users),
                            (SELECT count(*) FROM feedback)",
                    &[],
                )
                .map_err(|e| db_error(&self.label, e))
        })?;
        let count = |i: usize| counts.get::<_, i64>(i).max(0) as u64;
        Ok(CatalogStats {
            tracks: count(0),
            missing_tracks: count(1),
            failures: count(2),
            users: count(3),
            feedback_events: count(4),
            models,
        })
    }
}

/// Appends little-endian f32 values; the caller has checked the length is a multiple of 4.
fn extend_f32_le(out: &mut Vec<f32>, bytes: &[u8]) {
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]])),
    );
}

/// Index of the largest value (first one on ties, NaN skipped), as the SQLite store counts genres.
fn argmax(values: &[f32]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &v)| match best {
            Some((_, b)) if b >= v || v.is_nan() => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn urls_are_shown_without_password() {
        let shown = redact_url("postgres://ada:secret@db.example:5433/music");
        assert_eq!(shown, "postgresql://ada@db.example:5433/music");
        assert!(!redact_url("host=/run/pg user=bob password=pw dbname=m").contains("pw"));
    }

    #[test]
    fn migrations_are_numbered_and_known() {
        assert_eq!(known_schema_version(), 3);
    }
}

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
//!   [`musicrec_catalog::ExperimentStore`] of `musicrec experiment`, shared with SQLite; its
//!   row locks (`FOR UPDATE`) keep concurrent writers of one study consistent.
//! - **Bulk import.** [`PostgresStore::import_new_tracks`] loads many new tracks with
//!   `COPY ... FROM STDIN (FORMAT binary)` (benchmarks, migrating a large SQLite catalog).
//!
//! The catalog's statements are shared with SQLite (`musicrec_catalog::sql`); this file runs them
//! through the postgres client ([`PgDb`]) and keeps what is PostgreSQL's own: the ownership check,
//! migrations, the revision bump, the binary COPY import. Database errors surface as
//! [`CatalogError::Database`], with the database URL (without its password), severity and
//! SQLSTATE in the message.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;

use musicrec_catalog::sql::{Db, Dialect, SqlRow, SqlStore, Value, fold_opt, render, to_i64};
use musicrec_catalog::{APPLICATION_ID, CatalogError, Result, ScanUpdate, encode_f32_le, one_line};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};

pub(crate) use musicrec_catalog::sql::{now_ms, utf8_path};

use crate::error::db_error;

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
    pub(crate) statements: HashMap<String, Statement>,
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

    pub(crate) fn inner_mut(&mut self) -> (&mut Client, &mut HashMap<String, Statement>, &str) {
        let inner = self.inner.get_mut();
        (&mut inner.client, &mut inner.statements, &self.label)
    }

    /// Adds many tracks that are not in the catalog yet, with `model_id`'s outputs, using
    /// `COPY ... (FORMAT binary)` into a staging table and two set-based inserts, in one
    /// transaction. Every update must be [`ScanUpdate::Embedded`] with a path not stored yet
    /// (otherwise nothing is written and the error says why); for rescans use
    /// [`CatalogStore::apply_scan_updates`].
    pub fn import_new_tracks(&mut self, model_id: &str, updates: &[ScanUpdate]) -> Result<u64> {
        if let Some(other) = updates
            .iter()
            .find(|u| !matches!(u, ScanUpdate::Embedded { .. }))
        {
            return Err(CatalogError::Invalid(format!(
                "import_new_tracks takes only new embedded tracks, not {other:?}"
            )));
        }
        {
            let (client, cache, label) = self.inner_mut();
            check_updates(client, cache, label, model_id, updates)?;
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
                embedding BYTEA, genre_probs BYTEA, warning TEXT) ON COMMIT DROP",
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
            Type::TEXT,
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
            let row: [&(dyn ToSql + Sync); 17] = [
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
                &output.warning,
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
                    added_at, updated_at, warning)
                 SELECT path, content_hash, size_bytes, mtime_ns, duration_secs, artist, title,
                    album, genre_tag, year, artist_key, title_key, album_key, $1, $1, warning
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

/// The cached prepared statement for `sql` (written in the shared `?N` style or directly in
/// PostgreSQL's `$N` style: rendering leaves the latter alone).
pub(crate) fn prepare<C: GenericClient>(
    client: &mut C,
    cache: &mut HashMap<String, Statement>,
    label: &str,
    sql: &str,
) -> Result<Statement> {
    if let Some(statement) = cache.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client
        .prepare(&render(sql, Dialect::Postgres))
        .map_err(|e| db_error(label, e))?;
    cache.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

/// The last statement of every transaction that changes tracks or embeddings.
pub(crate) const BUMP_REVISION: &str = "UPDATE catalog_revision SET revision = revision + 1";

/// A stored content hash, or the corruption error naming the database.
pub(crate) fn parse_hash(hex: &str, label: &str) -> Result<blake3::Hash> {
    musicrec_catalog::sql::parse_hash(hex).map_err(|e| match e {
        CatalogError::CorruptData(message) => {
            CatalogError::CorruptData(format!("{label}: {message}"))
        }
        other => other,
    })
}

/// Checks every embedded output of `updates` against `model_id` (before any write).
pub(crate) fn check_updates(
    client: &mut Client,
    cache: &mut HashMap<String, Statement>,
    label: &str,
    model_id: &str,
    updates: &[ScanUpdate],
) -> Result<()> {
    musicrec_catalog::sql::check_updates(&mut PgDb::new(client, cache, label), model_id, updates)
}

/// Applies `updates` inside `tx` (the caller commits): the shared scan-update statements, the
/// revision bumped last. Outputs must have been checked with [`check_updates`].
pub(crate) fn apply_updates_in(
    tx: &mut Transaction<'_>,
    cache: &mut HashMap<String, Statement>,
    label: &str,
    model_id: &str,
    updates: &[ScanUpdate],
) -> Result<()> {
    let mut db = PgDb::new(tx, cache, label);
    db.in_transaction = true;
    musicrec_catalog::sql::apply_updates(&mut db, model_id, updates)
}

impl SqlStore for PostgresStore {
    fn read<T>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
        let mut inner = self.inner.borrow_mut();
        let Inner { client, statements } = &mut *inner;
        f(&mut PgDb::new(client, statements, &self.label))
    }

    fn write<T>(&mut self, f: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
        let (client, statements, label) = self.inner_mut();
        f(&mut PgDb::new(client, statements, label))
    }
}

/// The shared SQL's connection seam on a postgres client or transaction: statements prepared
/// once per connection, values converted to each parameter's and column's type.
pub(crate) struct PgDb<'a, C: GenericClient> {
    client: &'a mut C,
    cache: &'a mut HashMap<String, Statement>,
    label: &'a str,
    /// Inside a transaction already (a nested `transaction` is then a savepoint).
    in_transaction: bool,
}

impl<'a, C: GenericClient> PgDb<'a, C> {
    pub(crate) fn new(
        client: &'a mut C,
        cache: &'a mut HashMap<String, Statement>,
        label: &'a str,
    ) -> Self {
        Self {
            client,
            cache,
            label,
            in_transaction: false,
        }
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        prepare(self.client, self.cache, self.label, sql)
    }
}

impl<C: GenericClient> Db for PgDb<'_, C> {
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64> {
        let statement = self.statement(sql)?;
        let values: Vec<PgValue<'_>> = params.iter().copied().map(PgValue).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        self.client
            .execute(&statement, &refs)
            .map_err(|e| db_error(self.label, e))
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()> {
        let statement = self.statement(sql)?;
        let label = self.label;
        let err = |e| db_error(label, e);
        // Streamed row by row (binary results), never all rows in memory at once.
        let mut rows = self
            .client
            .query_raw(&statement, params.iter().copied().map(PgValue))
            .map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            each(&PgRow(&row))?;
        }
        Ok(())
    }

    fn transaction(&mut self, body: &mut dyn FnMut(&mut dyn Db) -> Result<()>) -> Result<()> {
        let label = self.label;
        let mut tx = self.client.transaction().map_err(|e| db_error(label, e))?;
        let mut db = PgDb::new(&mut tx, self.cache, label);
        db.in_transaction = true;
        body(&mut db)?;
        tx.commit().map_err(|e| db_error(label, e))
    }

    fn snapshot(&mut self, body: &mut dyn FnMut(&mut dyn Db) -> Result<()>) -> Result<()> {
        if self.in_transaction {
            return body(self);
        }
        let label = self.label;
        let mut tx = self.client.transaction().map_err(|e| db_error(label, e))?;
        // First statement of the transaction, so the whole body reads one snapshot.
        tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .map_err(|e| db_error(label, e))?;
        let mut db = PgDb::new(&mut tx, self.cache, label);
        db.in_transaction = true;
        body(&mut db)?;
        tx.commit().map_err(|e| db_error(label, e))
    }

    fn tracks_changed(&mut self) -> Result<()> {
        self.execute(BUMP_REVISION, &[]).map(|_| ())
    }
}

/// A shared-SQL value bound to a parameter of whatever integer, float, boolean, text or bytes
/// type PostgreSQL inferred for it.
#[derive(Debug)]
struct PgValue<'a>(Value<'a>);

impl ToSql for PgValue<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("cannot store {:?} in a {ty} parameter", self.0).into()
        };
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Real(v) => match *ty {
                Type::FLOAT8 => v.to_sql(ty, out),
                Type::FLOAT4 => (v as f32).to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Bool(v) => match *ty {
                Type::BOOL => v.to_sql(ty, out),
                Type::INT8 | Type::INT4 | Type::INT2 => {
                    PgValue(Value::Int(i64::from(v))).to_sql(ty, out)
                }
                _ => Err(mismatch()),
            },
            Value::Text(v) => v.to_sql(ty, out),
            Value::Blob(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

struct PgRow<'r>(&'r Row);

impl SqlRow for PgRow<'_> {
    fn value(&self, index: usize) -> Result<Value<'_>> {
        let row = self.0;
        let column = row
            .columns()
            .get(index)
            .ok_or_else(|| CatalogError::CorruptData(format!("no column {index} in the result")))?;
        let bad = |e: postgres::Error| {
            CatalogError::CorruptData(format!("column {:?}: {}", column.name(), one_line(e)))
        };
        let value = match *column.type_() {
            Type::INT8 => row
                .try_get::<_, Option<i64>>(index)
                .map_err(bad)?
                .map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(index)
                .map_err(bad)?
                .map(|v| Value::Int(i64::from(v))),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(index)
                .map_err(bad)?
                .map(|v| Value::Int(i64::from(v))),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(index)
                .map_err(bad)?
                .map(Value::Bool),
            Type::FLOAT8 => row
                .try_get::<_, Option<f64>>(index)
                .map_err(bad)?
                .map(Value::Real),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(index)
                .map_err(bad)?
                .map(|v| Value::Real(f64::from(v))),
            Type::BYTEA => row
                .try_get::<_, Option<&[u8]>>(index)
                .map_err(bad)?
                .map(Value::Blob),
            _ => row
                .try_get::<_, Option<&str>>(index)
                .map_err(bad)?
                .map(Value::Text),
        };
        Ok(value.unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_password() {
        let shown = redact_url("postgres://ada:secret@db.example:5433/music");
        assert_eq!(shown, "postgresql://ada@db.example:5433/music");
        assert!(!redact_url("host=/run/pg user=bob password=pw dbname=m").contains("pw"));
    }

    #[test]
    fn migrations_are_numbered_and_known() {
        assert_eq!(known_schema_version(), 5);
    }
}

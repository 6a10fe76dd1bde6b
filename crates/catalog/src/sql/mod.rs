//! The SQL both backends run, written once: the catalog's statements and their row-to-type
//! mapping over a small connection seam, [`Db`], that the SQLite store (rusqlite) and the
//! PostgreSQL store (postgres) each implement in a few dozen lines.
//!
//! Statements are written in SQLite's `?N` placeholder style with three dialect tokens; each
//! backend renders them once per statement with [`render`]:
//! - `{C}`: byte-order collation where an `ORDER BY` must agree across backends (PostgreSQL's
//!   `COLLATE "C"`; SQLite's default already is byte order),
//! - `{ILIKE}`: the case-insensitive `LIKE` (SQLite's `LIKE` already folds ASCII case),
//! - `{FOR_UPDATE}`: a row lock on a read inside a write transaction (SQLite's writer already
//!   holds the whole database).
//!
//! Values cross the seam as [`Value`]s; each backend converts them to the column's type (SQLite
//! stores every integer as 64 bits, PostgreSQL has `INTEGER`, `BIGINT` and `BOOLEAN` columns).
//!
//! Why not a query builder such as `sea-query`: the statements are fixed strings that differ
//! between the two dialects only in the placeholders and the three tokens above, so a builder
//! would replace readable SQL with builder calls and add a dependency for a string substitution.

pub(crate) mod catalog;
pub(crate) mod experiment;
pub(crate) mod upstream;

use std::borrow::Cow;
use std::path::Path;

use crate::{CatalogError, Result};

pub use catalog::{apply_updates, check_updates};

/// A value bound to a statement parameter or read from a result column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// Any integer (SQLite INTEGER; PostgreSQL SMALLINT, INTEGER, BIGINT).
    Int(i64),
    /// A float (REAL, DOUBLE PRECISION).
    Real(f64),
    /// A boolean (PostgreSQL BOOLEAN; SQLite stores 0/1).
    Bool(bool),
    /// UTF-8 text.
    Text(&'a str),
    /// Bytes (BLOB, BYTEA).
    Blob(&'a [u8]),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}
impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}
impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Blob(v)
    }
}
impl<'a> From<&'a Vec<u8>> for Value<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl<'a> From<&'a Option<i64>> for Value<'a> {
    fn from(v: &'a Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}
impl<'a> From<&'a Option<i32>> for Value<'a> {
    fn from(v: &'a Option<i32>) -> Self {
        v.map_or(Value::Null, |v| Value::Int(i64::from(v)))
    }
}
impl<'a> From<&'a Option<f64>> for Value<'a> {
    fn from(v: &'a Option<f64>) -> Self {
        v.map_or(Value::Null, Value::Real)
    }
}
impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().map_or(Value::Null, Value::Text)
    }
}

/// Parameters of a statement: `params![a, b, c]` converts each with [`Value::from`].
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::sql::Value::from($value)),*][..]
    };
}
pub(crate) use params;

/// One result row, as the backend hands it out.
pub trait SqlRow {
    /// Column `index` (0-based). Text and bytes are borrowed from the driver's buffer.
    fn value(&self, index: usize) -> Result<Value<'_>>;
}

impl<'r> dyn SqlRow + 'r {
    fn wrong(&self, index: usize, want: &str, got: Value<'_>) -> CatalogError {
        CatalogError::CorruptData(format!("column {index}: expected {want}, found {got:?}"))
    }

    /// An integer column (booleans read as 0/1).
    pub fn i64(&self, index: usize) -> Result<i64> {
        self.opt_i64(index)?
            .ok_or_else(|| self.wrong(index, "an integer", Value::Null))
    }

    /// A nullable integer column.
    pub fn opt_i64(&self, index: usize) -> Result<Option<i64>> {
        match self.value(index)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(v)),
            Value::Bool(v) => Ok(Some(i64::from(v))),
            other => Err(self.wrong(index, "an integer", other)),
        }
    }

    /// A nullable `INTEGER` column that must fit 32 bits (e.g. a year).
    pub fn opt_i32(&self, index: usize) -> Result<Option<i32>> {
        self.opt_i64(index)?
            .map(|v| {
                i32::try_from(v).map_err(|_| self.wrong(index, "a 32-bit integer", Value::Int(v)))
            })
            .transpose()
    }

    /// A boolean column (integers read as zero / non-zero).
    pub fn bool(&self, index: usize) -> Result<bool> {
        match self.value(index)? {
            Value::Bool(v) => Ok(v),
            Value::Int(v) => Ok(v != 0),
            other => Err(self.wrong(index, "a boolean", other)),
        }
    }

    /// A nullable float column.
    pub fn opt_f64(&self, index: usize) -> Result<Option<f64>> {
        match self.value(index)? {
            Value::Null => Ok(None),
            Value::Real(v) => Ok(Some(v)),
            Value::Int(v) => Ok(Some(v as f64)),
            other => Err(self.wrong(index, "a number", other)),
        }
    }

    /// A text column.
    pub fn text(&self, index: usize) -> Result<&str> {
        match self.value(index)? {
            Value::Text(v) => Ok(v),
            other => Err(self.wrong(index, "text", other)),
        }
    }

    /// A text column, owned.
    pub fn string(&self, index: usize) -> Result<String> {
        self.text(index).map(str::to_owned)
    }

    /// A nullable text column, owned.
    pub fn opt_string(&self, index: usize) -> Result<Option<String>> {
        match self.value(index)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.to_owned())),
            other => Err(self.wrong(index, "text", other)),
        }
    }

    /// A BLOB/BYTEA column, borrowed.
    pub fn blob(&self, index: usize) -> Result<&[u8]> {
        match self.value(index)? {
            Value::Blob(v) => Ok(v),
            other => Err(self.wrong(index, "bytes", other)),
        }
    }
}

/// What the backends' connections (or transactions) offer the shared SQL.
pub trait Db {
    /// Runs a statement (in the `?N` style, see [`render`]); returns the rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64>;

    /// Runs a query and hands every row to `each`, in order, streamed.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()>;

    /// Runs `body` in a write transaction: committed when it returns `Ok`, rolled back
    /// otherwise.
    fn transaction(&mut self, body: &mut dyn FnMut(&mut dyn Db) -> Result<()>) -> Result<()>;

    /// Runs `body` on one consistent, read-only view of the database.
    fn snapshot(&mut self, body: &mut dyn FnMut(&mut dyn Db) -> Result<()>) -> Result<()> {
        self.transaction(body)
    }

    /// The last statement of every transaction that changed tracks or embeddings: a backend
    /// whose schema does not count such changes itself (PostgreSQL; SQLite has triggers) bumps
    /// the catalog revision here.
    fn tracks_changed(&mut self) -> Result<()>;
}

impl<'d> dyn Db + 'd {
    /// Every row of a query, mapped.
    pub fn query_rows<T>(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        mut map: impl FnMut(&dyn SqlRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |row| {
            out.push(map(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, mapped, if there is one.
    pub fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        map: impl FnOnce(&dyn SqlRow) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut map = Some(map);
        let mut out = None;
        self.query_each(sql, params, &mut |row| {
            if let Some(map) = map.take() {
                out = Some(map(row)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Whether a query returns any row.
    pub fn exists(&mut self, sql: &str, params: &[Value<'_>]) -> Result<bool> {
        Ok(self.query_opt(sql, params, |_| Ok(()))?.is_some())
    }

    /// The first column of the first row as an integer (a count, a returned id).
    pub fn query_i64(&mut self, sql: &str, params: &[Value<'_>]) -> Result<i64> {
        self.query_opt(sql, params, |row| row.i64(0))?
            .ok_or_else(|| CatalogError::CorruptData(format!("no row from {}", one_line(sql))))
    }

    /// [`Db::transaction`] with a result.
    pub fn in_transaction<T>(&mut self, body: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
        let mut body = Some(body);
        let mut out = None;
        self.transaction(&mut |db| {
            if let Some(body) = body.take() {
                out = Some(body(db)?);
            }
            Ok(())
        })?;
        out.ok_or_else(|| CatalogError::Invalid("transaction body did not run".into()))
    }

    /// [`Db::snapshot`] with a result.
    pub fn in_snapshot<T>(&mut self, body: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
        let mut body = Some(body);
        let mut out = None;
        self.snapshot(&mut |db| {
            if let Some(body) = body.take() {
                out = Some(body(db)?);
            }
            Ok(())
        })?;
        out.ok_or_else(|| CatalogError::Invalid("snapshot body did not run".into()))
    }
}

/// A store whose catalog lives in an SQL database: implementing this is all a backend needs
/// for [`crate::CatalogStore`] and [`ExperimentStore`], which are implemented once, here, for
/// every `SqlStore` (`crates/catalog/src/sql/catalog.rs` and `experiment.rs`).
pub trait SqlStore: Send {
    /// Runs `f` with the connection for reading.
    fn read<T>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T>;
    /// Runs `f` with the connection for writing.
    fn write<T>(&mut self, f: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T>;
}

/// The SQL dialect a statement is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `?N` placeholders, as written.
    Sqlite,
    /// `$N` placeholders.
    Postgres,
}

/// `sql` (written with `?N` placeholders and the tokens in the module docs) for `dialect`.
pub fn render(sql: &str, dialect: Dialect) -> Cow<'_, str> {
    if !sql.contains(['?', '{']) {
        return Cow::Borrowed(sql);
    }
    let (collate, ilike, for_update) = match dialect {
        Dialect::Sqlite => ("", "LIKE", ""),
        Dialect::Postgres => (" COLLATE \"C\"", "ILIKE", " FOR UPDATE"),
    };
    let mut out = sql
        .replace("{C}", collate)
        .replace("{ILIKE}", ilike)
        .replace("{FOR_UPDATE}", for_update);
    if dialect == Dialect::Postgres {
        out = out.replace('?', "$");
    }
    Cow::Owned(out)
}

pub use crate::error::one_line;

/// Lookup key of a tag: trimmed, Unicode lower case (SQLite's `lower()` and `NOCASE` fold ASCII
/// only, so "Björk" and "BJÖRK" would not meet; the key columns hold this fold instead).
pub fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

pub fn fold_opt(text: &Option<String>) -> Option<String> {
    text.as_deref().map(fold)
}

/// `text` as a LIKE pattern matching it anywhere, with `\` escaping the wildcards.
pub fn contains_pattern(text: &str) -> String {
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

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A path as stored text, or a clear error when it is not UTF-8.
pub fn utf8_path(path: &Path) -> Result<&str> {
    crate::types::path_text(path)
        .ok_or_else(|| CatalogError::Invalid(format!("path {} is not valid UTF-8", path.display())))
}

/// `value` as a signed 64-bit column value.
pub fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| CatalogError::Invalid(format!("{what} {value} is too large")))
}

/// A stored content hash.
pub fn parse_hash(hex: &str) -> Result<blake3::Hash> {
    blake3::Hash::from_hex(hex.as_bytes())
        .map_err(|e| CatalogError::CorruptData(format!("content hash {hex:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn statements_render_for_each_dialect() {
        let sql = "SELECT id FROM t WHERE a = ?1 AND b {ILIKE} ?2 ORDER BY a{C}{FOR_UPDATE}";
        assert_eq!(
            render(sql, Dialect::Sqlite),
            "SELECT id FROM t WHERE a = ?1 AND b LIKE ?2 ORDER BY a"
        );
        assert_eq!(
            render(sql, Dialect::Postgres),
            "SELECT id FROM t WHERE a = $1 AND b ILIKE $2 ORDER BY a COLLATE \"C\" FOR UPDATE"
        );
        assert!(matches!(
            render("SELECT 1", Dialect::Postgres),
            Cow::Borrowed(_)
        ));
    }
}

//! What only the SQLite store has: refusing foreign files untouched, creating, stamping and
//! migrating a new file, refusing a catalog from a newer musicrec. The behaviour it shares with
//! PostgreSQL is checked by the contract suite (tests/contract.rs).

use std::path::Path;

use musicrec_catalog::{CatalogError, CatalogStore};
use musicrec_catalog_sqlite::{APPLICATION_ID, SqliteStore};
use musicrec_testkit::synthetic::{MODEL, model_info, track};

fn assert_refused_untouched(path: &Path, reason_part: &str) {
    let before = std::fs::read(path).unwrap();
    let err = SqliteStore::open(path).unwrap_err();
    assert!(matches!(err, CatalogError::NotACatalog { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(reason_part), "{message}");
    assert!(!message.contains('\n'));
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "the file must not change"
    );
    for suffix in ["-wal", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        assert!(
            !Path::new(&side).exists() || std::fs::metadata(&side).unwrap().len() == 0,
            "no journal content written"
        );
    }
}

#[test]
fn refuses_an_sqlite_database_of_another_program() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);
             INSERT INTO invoices (total) VALUES (12.5), (99.0);",
        )
        .unwrap();
    }
    assert_refused_untouched(&path, "another program");
    // Its data is intact.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM invoices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 2);
}

#[test]
fn refuses_an_empty_database_stamped_with_another_application_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stamped.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", 0x0f0f_0f0f)
            .unwrap();
    }
    assert_refused_untouched(&path, "0x0f0f0f0f");
}

#[test]
fn refuses_files_that_are_not_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "shopping list\n".repeat(400)).unwrap();
    assert_refused_untouched(&text, "not an SQLite database");
    let random = dir.path().join("random.db");
    // Bytes from a fixed-seed hash stream: reproducible "random" content.
    let mut bytes = Vec::new();
    let mut reader = blake3::Hasher::new().update(b"seed").finalize_xof();
    bytes.resize(8192, 0);
    reader.fill(&mut bytes);
    std::fs::write(&random, &bytes).unwrap();
    assert_refused_untouched(&random, "not an SQLite database");
    // A folder where the file should be.
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
}

#[test]
fn creates_stamps_migrates_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folders/catalog.db");
    {
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), 5);
        store.register_model(MODEL, &model_info()).unwrap();
        store.apply_scan_updates(MODEL, &[track(1, 1.0)]).unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(app_id, APPLICATION_ID);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.stats().unwrap().tracks, 1);
    assert_eq!(store.model(MODEL).unwrap().unwrap(), model_info());
}

#[test]
fn refuses_a_catalog_from_a_newer_musicrec() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, CatalogError::SchemaTooNew { .. }), "{err}");
}

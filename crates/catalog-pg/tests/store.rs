//! What only the PostgreSQL store has: refusing foreign databases, migrations (once, under many
//! connecting processes), one-line connection errors without passwords, the binary COPY import
//! and its revision bump. The behaviour it shares with SQLite is checked by the contract suite
//! (tests/contract.rs).

use musicrec_catalog::{CatalogError, CatalogStore, ScanUpdate};
use musicrec_catalog_pg::{PostgresStore, known_schema_version, redact_url};
use musicrec_testkit::pg::PgServer;
use musicrec_testkit::synthetic::{MODEL, model_info};

fn synthetic(i: usize) -> ScanUpdate {
    musicrec_testkit::synthetic::track(i, 1.0)
}

/// A fresh database on the shared server, or `None` when PostgreSQL is missing (outside CI).
fn fresh_url(prefix: &str) -> Option<String> {
    Some(PgServer::shared()?.new_database(prefix))
}

fn store_with(prefix: &str, n: usize) -> Option<PostgresStore> {
    let mut store = PostgresStore::connect(&fresh_url(prefix)?).unwrap();
    store.register_model(MODEL, &model_info()).unwrap();
    let updates: Vec<_> = (0..n).map(synthetic).collect();
    for chunk in updates.chunks(2000) {
        store.apply_scan_updates(MODEL, chunk).unwrap();
    }
    Some(store)
}

fn raw(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

#[test]
fn refuses_a_database_of_another_program_untouched() {
    let Some(url) = fresh_url("foreign") else {
        return;
    };
    raw(&url)
        .batch_execute(
            "CREATE TABLE invoices (id BIGINT PRIMARY KEY, total REAL);
             INSERT INTO invoices VALUES (1, 12.5), (2, 99.0);",
        )
        .unwrap();
    let err = PostgresStore::connect(&url).unwrap_err();
    assert!(matches!(err, CatalogError::NotACatalog { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("another program") && !message.contains('\n'),
        "{message}"
    );
    let mut client = raw(&url);
    let tables: Vec<String> = client
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables, ["invoices"], "nothing was created");
    let rows: i64 = client
        .query_one("SELECT count(*) FROM invoices", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 2);

    // A marker table with another id is refused too.
    let Some(url) = fresh_url("stamped") else {
        return;
    };
    raw(&url)
        .batch_execute(
            "CREATE TABLE musicrec_catalog (application_id INTEGER NOT NULL);
             INSERT INTO musicrec_catalog VALUES (252645135);",
        )
        .unwrap();
    let err = PostgresStore::connect(&url).unwrap_err();
    assert!(err.to_string().contains("252645135"), "{err}");
}

#[test]
fn creates_migrates_reopens_and_refuses_a_newer_schema() {
    let Some(url) = fresh_url("migrate") else {
        return;
    };
    {
        let mut store = PostgresStore::connect(&url).unwrap();
        assert_eq!(store.schema_version().unwrap(), known_schema_version());
        store.register_model(MODEL, &model_info()).unwrap();
        store.apply_scan_updates(MODEL, &[synthetic(1)]).unwrap();
    }
    // Many processes opening at once migrate once (advisory lock).
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PostgresStore::connect(&url).map(|_| ()))
        })
        .collect();
    for handle in handles {
        handle.join().unwrap().unwrap();
    }
    let store = PostgresStore::connect(&url).unwrap();
    assert_eq!(store.stats().unwrap().tracks, 1);
    assert_eq!(store.model(MODEL).unwrap().unwrap(), model_info());
    drop(store);
    // A migration this build does not know: refused, not used with a wrong schema.
    raw(&url)
        .batch_execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES (99, 'from_the_future', '2030-01-01T00:00:00Z', '1')",
        )
        .unwrap();
    let err = PostgresStore::connect(&url).unwrap_err();
    assert!(matches!(err, CatalogError::SchemaTooNew { .. }), "{err}");
    // The message names this database (as the URL without password), on one line.
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}: catalog schema is newer", redact_url(&url))),
        "{message}"
    );
    assert!(
        message.contains(url.rsplit('/').next().unwrap()),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn a_bad_url_or_unreachable_server_is_a_one_line_error() {
    let err = PostgresStore::connect("postgres://nobody@127.0.0.1:1/none").unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("postgresql://nobody@127.0.0.1:1/none"),
        "{message}"
    );
    assert!(!message.contains('\n'));
    let err = PostgresStore::connect("postgres://a:secret@host:notaport/db").unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[test]
fn bulk_import_equals_scan_updates_and_refuses_known_paths() {
    let Some(mut imported) = PostgresStore::connect(&fresh_url("import").unwrap_or_default()).ok()
    else {
        return;
    };
    let Some(applied) = store_with("applied", 300) else {
        return;
    };
    imported.register_model(MODEL, &model_info()).unwrap();
    let updates: Vec<_> = (0..300).map(synthetic).collect();
    assert_eq!(imported.import_new_tracks(MODEL, &updates).unwrap(), 300);
    let (a, b) = (
        imported.load_embeddings(MODEL).unwrap(),
        applied.load_embeddings(MODEL).unwrap(),
    );
    assert_eq!(a.tracks, b.tracks);
    assert_eq!(a.embeddings, b.embeddings);
    assert_eq!(a.genre_probs, b.genre_probs);
    let err = imported
        .import_new_tracks(MODEL, &updates[..2])
        .unwrap_err();
    assert!(err.to_string().contains("already in the catalog"), "{err}");
    assert_eq!(imported.stats().unwrap().tracks, 300);
}

#[test]
fn the_bulk_import_bumps_the_revision_and_a_refused_one_does_not() {
    let Some(mut store) = store_with("revision", 3) else {
        return;
    };
    let before = store.revision().unwrap();
    store.import_new_tracks(MODEL, &[synthetic(10)]).unwrap();
    let after = store.revision().unwrap();
    assert!(after > before, "the import counted");
    // Known paths: refused whole, the revision left alone.
    assert!(
        store
            .import_new_tracks(MODEL, &[synthetic(11), synthetic(1)])
            .is_err()
    );
    assert_eq!(store.revision().unwrap(), after);
    assert_eq!(store.stats().unwrap().tracks, 4);
}

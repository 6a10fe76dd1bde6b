//! The periodic refresh on a SQLite catalog: the server reloads its in-memory index when, and only
//! when, the catalog's change revision moved, including after a re-embedding that another process
//! wrote and that leaves every count as it was (the check the old count signature missed).
//! The same test on PostgreSQL is in crates/cli/tests/scale_out.rs (where server and PostgreSQL
//! store meet).

use std::path::PathBuf;

use musicrec_catalog::{CatalogStore, Rating, ScanUpdate};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_server::AppState;

use musicrec_testkit::synthetic::{MODEL, model_info, track};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_embedding_with_unchanged_counts_is_noticed_and_nothing_else_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.db");
    let mut writer = SqliteStore::open(&db).unwrap();
    writer.register_model(MODEL, &model_info()).unwrap();
    let first: Vec<_> = (0..6).map(|i| track(i, 1.0)).collect();
    writer.apply_scan_updates(MODEL, &first).unwrap();

    let state = AppState::new(Box::new(SqliteStore::open(&db).unwrap()), None).unwrap();
    let loaded = state.index().unwrap();
    assert_eq!(loaded.set.len(), 6);
    assert_eq!(loaded.revision, writer.revision().unwrap());
    assert!(!state.reload_if_changed().await.unwrap(), "nothing changed");

    // Writes that do not touch tracks or embeddings do not reload.
    let ada = writer.add_user("ada").unwrap();
    let id = writer
        .track_by_path(&PathBuf::from("/music/t002.flac"))
        .unwrap()
        .unwrap()
        .id;
    writer.record_feedback(ada, id, Rating::Like).unwrap();
    writer.recompute_genre_centroids(MODEL).unwrap();
    assert!(!state.reload_if_changed().await.unwrap());

    // Another process re-embeds track 2: same tracks, same counts, same genres.
    let stats = writer.stats().unwrap();
    writer.apply_scan_updates(MODEL, &[track(2, -1.0)]).unwrap();
    assert_eq!(writer.stats().unwrap(), stats, "the counts did not change");
    assert!(
        state.reload_if_changed().await.unwrap(),
        "the server noticed"
    );
    let reloaded = state.index().unwrap();
    let row = reloaded.row_of(id).unwrap();
    let ScanUpdate::Embedded { output, .. } = track(2, -1.0) else {
        unreachable!()
    };
    assert_eq!(reloaded.set.embedding(row), output.embedding.as_slice());
    assert_eq!(state.loaded_revision(), writer.revision().unwrap());
    assert!(!state.reload_if_changed().await.unwrap(), "once only");

    // A track leaving the library is a change too.
    writer
        .apply_scan_updates(MODEL, &[ScanUpdate::Missing { track: id }])
        .unwrap();
    assert!(state.reload_if_changed().await.unwrap());
    assert_eq!(state.index().unwrap().set.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_on_an_empty_catalog_loads_the_first_scan() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.db");
    let mut writer = SqliteStore::open(&db).unwrap();
    let state = AppState::new(Box::new(SqliteStore::open(&db).unwrap()), None).unwrap();
    assert!(state.index().is_none());
    assert!(!state.reload_if_changed().await.unwrap(), "still nothing");
    writer.register_model(MODEL, &model_info()).unwrap();
    assert!(
        !state.reload_if_changed().await.unwrap(),
        "a model without tracks"
    );
    writer.apply_scan_updates(MODEL, &[track(0, 1.0)]).unwrap();
    assert!(state.reload_if_changed().await.unwrap());
    assert_eq!(state.index().unwrap().set.len(), 1);
}

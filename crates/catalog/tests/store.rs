//! The SQLite store without audio: refusing foreign files, migrations, synthetic libraries at
//! scale (10 000 tracks), lookups, search, users, feedback, centroids and stats.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use musicrec_catalog::{
    APPLICATION_ID, CatalogError, CatalogStore, FileFacts, ModelInfo, Rating, ScanUpdate,
    SqliteStore, TrackEmbedding, TrackId, TrackMatch, TrackTags,
};

const MODEL: &str = "synthetic";
const DIM: usize = 68;
const GENRES: [&str; 4] = ["blues", "jazz", "metal", "pop"];

fn model_info() -> ModelInfo {
    ModelInfo {
        genres: GENRES.iter().map(|g| (*g).to_owned()).collect(),
        embedding_dim: DIM,
        config: serde_json::json!({ "synthetic": true }),
    }
}

/// Deterministic track `i`: embedding values i*0.001 + d, top genre i % 4.
fn synthetic(i: usize) -> ScanUpdate {
    let path = PathBuf::from(format!("/music/artist{:03}/track{i:06}.flac", i % 500));
    let mut genre_probs = vec![0.1f32; GENRES.len()];
    genre_probs[i % GENRES.len()] = 0.7;
    ScanUpdate::Embedded {
        file: FileFacts {
            content_hash: blake3::hash(path.to_str().unwrap().as_bytes()),
            size_bytes: 1_000_000 + i as u64,
            mtime_ns: 1_700_000_000_000_000_000 + i as i64,
        },
        path,
        tags: TrackTags {
            artist: Some(format!("Artist {:03}", i % 500)),
            title: Some(format!("Song {i}")),
            album: None,
            genre: None,
            year: Some(2000 + (i % 20) as i32),
        },
        output: TrackEmbedding {
            embedding: (0..DIM).map(|d| i as f32 * 0.001 + d as f32).collect(),
            genre_probs,
            duration_secs: 180.0 + i as f64,
        },
    }
}

fn store_with(n: usize) -> SqliteStore {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store.register_model(MODEL, &model_info()).unwrap();
    let updates: Vec<_> = (0..n).map(synthetic).collect();
    for chunk in updates.chunks(2000) {
        store.apply_scan_updates(MODEL, chunk).unwrap();
    }
    store
}

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
        assert_eq!(store.schema_version().unwrap(), 3);
        store.register_model(MODEL, &model_info()).unwrap();
        store.apply_scan_updates(MODEL, &[synthetic(1)]).unwrap();
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

#[test]
fn ten_thousand_tracks_load_fast_and_exactly() {
    let n = 10_000;
    let start = Instant::now();
    let store = store_with(n);
    let inserted = start.elapsed();
    let start = Instant::now();
    let set = store.load_embeddings(MODEL).unwrap();
    let loaded = start.elapsed();
    eprintln!("10k tracks, dim {DIM}: insert {inserted:?}, load {loaded:?}");
    assert!(loaded < Duration::from_secs(2), "load took {loaded:?}");
    assert_eq!(set.len(), n);
    assert_eq!(set.embeddings.len(), n * DIM);
    for row in [0, 1234, n - 1] {
        // Rows are ordered by id, ids follow insertion order.
        let ScanUpdate::Embedded { path, output, .. } = synthetic(row) else {
            unreachable!()
        };
        assert_eq!(set.tracks[row].path, path);
        assert_eq!(set.embedding(row), output.embedding.as_slice());
        assert_eq!(set.genre_probs(row), output.genre_probs.as_slice());
        assert_eq!(set.top_genre(row), Some(row % GENRES.len()));
        assert_eq!(set.row_of(set.tracks[row].id), Some(row));
    }
    let stats = store.stats().unwrap();
    assert_eq!(stats.tracks, n as u64);
    let counts: Vec<u64> = stats.models[0].per_genre.iter().map(|g| g.tracks).collect();
    assert_eq!(counts, [2500; 4]);

    // Paged search over the synthetic tags.
    let page = store.search("artist 007", 0, 5).unwrap();
    assert_eq!(page.total, 20);
    assert_eq!(page.items.len(), 5);
    let rest = store.search("ARTIST 007", 5, 100).unwrap();
    assert_eq!(rest.items.len(), 15);
    assert!(rest.items.iter().all(|t| !page.items.contains(t)));
    assert_eq!(store.search("track000123.flac", 0, 10).unwrap().total, 1);
    assert_eq!(
        store.search("100%", 0, 10).unwrap().total,
        0,
        "% is literal"
    );
    assert_eq!(
        store.search("", 0, 3000).unwrap().items.len(),
        1000,
        "capped"
    );
}

#[test]
fn lookups_by_id_path_and_text() {
    let mut store = store_with(30);
    let track = store
        .track_by_path(Path::new("/music/artist007/track000007.flac"))
        .unwrap()
        .unwrap();
    assert_eq!(store.track(track.id).unwrap().unwrap(), track);
    assert_eq!(track.tags.year, Some(2007));
    assert!(store.track(TrackId(987_654)).unwrap().is_none());
    let TrackMatch::Found(found) = store.find_track("artist 007 - SONG 7").unwrap() else {
        panic!("expected a match");
    };
    assert_eq!(found.id, track.id);
    // A second file with the same tags makes it ambiguous.
    let ScanUpdate::Embedded {
        file, tags, output, ..
    } = synthetic(7)
    else {
        unreachable!()
    };
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Embedded {
                path: "/music/copies/track7.flac".into(),
                file,
                tags,
                output,
            }],
        )
        .unwrap();
    let TrackMatch::Ambiguous(both) = store.find_track("Artist 007 - Song 7").unwrap() else {
        panic!("expected two");
    };
    assert_eq!(both.len(), 2);
    assert!(matches!(
        store.find_track("nobody - nothing").unwrap(),
        TrackMatch::NotFound
    ));
    assert!(store.find_track("   ").is_err());
    let embedding = store.embedding(track.id, MODEL).unwrap().unwrap();
    assert_eq!(embedding.embedding.len(), DIM);
    assert_eq!(embedding.duration_secs, 187.0);
}

#[test]
fn users_and_feedback() {
    let mut store = store_with(3);
    let ada = store.add_user(" ada ").unwrap();
    assert_eq!(store.add_user("ada").unwrap(), ada, "idempotent");
    let bob = store.add_user("bob").unwrap();
    assert_ne!(ada, bob);
    assert!(store.add_user("  ").is_err());
    assert_eq!(store.user_by_name("ada").unwrap().unwrap().id, ada);
    assert_eq!(store.users().unwrap().len(), 2);

    let (t1, t2) = (TrackId(1), TrackId(2));
    store.record_feedback(ada, t1, Rating::Like).unwrap();
    store.record_feedback(ada, t2, Rating::Like).unwrap();
    store.record_feedback(ada, t1, Rating::Dislike).unwrap();
    store.record_feedback(bob, t2, Rating::Dislike).unwrap();
    let ada_feedback = store.feedback(ada).unwrap();
    let latest: Vec<_> = ada_feedback.iter().map(|f| (f.track, f.rating)).collect();
    assert_eq!(latest, [(t1, Rating::Dislike), (t2, Rating::Like)]);
    assert_eq!(store.feedback(bob).unwrap().len(), 1);
    assert_eq!(store.stats().unwrap().feedback_events, 4);
    // Undoing a rating forgets every event of that track, for that user only.
    assert_eq!(store.clear_feedback(ada, t1).unwrap(), 2);
    assert_eq!(store.clear_feedback(ada, t1).unwrap(), 0);
    let latest: Vec<_> = store
        .feedback(ada)
        .unwrap()
        .iter()
        .map(|f| (f.track, f.rating))
        .collect();
    assert_eq!(latest, [(t2, Rating::Like)]);
    assert_eq!(store.feedback(bob).unwrap().len(), 1);
    store.record_feedback(ada, t1, Rating::Like).unwrap();
    assert_eq!(store.stats().unwrap().feedback_events, 3);

    let err = store
        .record_feedback(ada, TrackId(999), Rating::Like)
        .unwrap_err();
    assert!(matches!(err, CatalogError::UnknownTrack(999)), "{err}");
    let err = store
        .record_feedback(musicrec_catalog::UserId(42), t1, Rating::Like)
        .unwrap_err();
    assert!(matches!(err, CatalogError::UnknownUser(42)), "{err}");
}

#[test]
fn genre_centroids_are_recomputed_and_stored() {
    let mut store = store_with(40);
    assert!(store.genre_centroids(MODEL).unwrap().is_empty());
    let computed = store.recompute_genre_centroids(MODEL).unwrap();
    assert_eq!(computed.len(), GENRES.len());
    assert_eq!(store.genre_centroids(MODEL).unwrap(), computed);
    // Genre 0 = tracks 0, 4, ..., 36: mean index 18, so centroid[d] = 0.018 + d, centre track 18.
    let blues = &computed[0];
    assert_eq!((blues.genre.as_str(), blues.member_count), ("blues", 10));
    assert!(
        (blues.centroid[5] - 5.018).abs() < 1e-5,
        "{}",
        blues.centroid[5]
    );
    let centre = store.track(blues.centre_track.unwrap()).unwrap().unwrap();
    assert!(centre.path.ends_with("track000016.flac") || centre.path.ends_with("track000020.flac"));
}

#[test]
fn missing_tracks_leave_reads_and_can_be_purged() {
    let mut store = store_with(5);
    store
        .apply_scan_updates(MODEL, &[ScanUpdate::Missing { track: TrackId(2) }])
        .unwrap();
    assert_eq!(store.load_embeddings(MODEL).unwrap().len(), 4);
    assert_eq!(store.stats().unwrap().missing_tracks, 1);
    assert!(
        store
            .track(TrackId(2))
            .unwrap()
            .unwrap()
            .missing_since
            .is_some()
    );
    assert_eq!(store.purge_missing().unwrap(), 1);
    assert!(store.track(TrackId(2)).unwrap().is_none());
    assert!(store.embedding(TrackId(2), MODEL).unwrap().is_none());
}

#[test]
fn a_wrongly_shaped_embedding_is_refused_whole_batch() {
    let mut store = store_with(1);
    let ScanUpdate::Embedded {
        file,
        tags,
        mut output,
        ..
    } = synthetic(2)
    else {
        unreachable!()
    };
    output.embedding.pop();
    let bad = ScanUpdate::Embedded {
        path: "/music/bad.flac".into(),
        file,
        tags,
        output,
    };
    let err = store
        .apply_scan_updates(MODEL, &[synthetic(3), bad])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("embedding size 68 but produced 67"),
        "{err}"
    );
    assert_eq!(
        store.stats().unwrap().tracks,
        1,
        "nothing of the batch was written"
    );
    assert!(matches!(
        store.load_embeddings("no-such-model").unwrap_err(),
        CatalogError::UnknownModel(_)
    ));
}

/// `synthetic(i)` stored again at the same path with the same file, its vectors changed: what a
/// re-embedding (a retrained model under the same id, a fixed decoder) writes.
fn re_embedded(i: usize) -> ScanUpdate {
    let ScanUpdate::Embedded {
        path,
        file,
        tags,
        mut output,
    } = synthetic(i)
    else {
        unreachable!()
    };
    output.embedding.iter_mut().for_each(|v| *v = -*v);
    ScanUpdate::Embedded {
        path,
        file,
        tags,
        output,
    }
}

#[test]
fn the_revision_changes_with_every_write_to_tracks_or_embeddings_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let empty = store.revision().unwrap();
    store.register_model(MODEL, &model_info()).unwrap();
    assert_eq!(
        store.revision().unwrap(),
        empty,
        "a model alone has no rows"
    );
    let updates: Vec<_> = (0..3).map(synthetic).collect();
    store.apply_scan_updates(MODEL, &updates).unwrap();
    let r0 = store.revision().unwrap();
    assert_ne!(r0, empty);
    assert_eq!(store.revision().unwrap(), r0, "stable without writes");

    // A re-embedding that leaves every count (and the genre of every track) as it was.
    let stats = store.stats().unwrap();
    store.apply_scan_updates(MODEL, &[re_embedded(1)]).unwrap();
    assert_eq!(store.stats().unwrap(), stats, "the counts did not change");
    let r1 = store.revision().unwrap();
    assert_ne!(r1, r0, "but the revision did");

    // Another process (connection) sees the same revision, and its writes show here.
    let mut other = SqliteStore::open(&path).unwrap();
    assert_eq!(other.revision().unwrap(), r1);
    other.apply_scan_updates(MODEL, &[synthetic(1)]).unwrap();
    let r2 = store.revision().unwrap();
    assert_ne!(r2, r1);
    drop(other);

    // Users, feedback, centroids and failures do not touch the index.
    let ada = store.add_user("ada").unwrap();
    store
        .record_feedback(ada, TrackId(1), Rating::Like)
        .unwrap();
    store.recompute_genre_centroids(MODEL).unwrap();
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Failed {
                path: "/music/broken.flac".into(),
                size_bytes: Some(1),
                mtime_ns: Some(1),
                reason: "undecodable".into(),
                stale_track: None,
            }],
        )
        .unwrap();
    assert_eq!(store.revision().unwrap(), r2);

    // Missing, refreshed, moved, purged: each is a change.
    let mut seen = vec![r2];
    let mut step = |store: &mut SqliteStore, what: &str| {
        let now = store.revision().unwrap();
        assert!(!seen.contains(&now), "{what} changed the revision");
        seen.push(now);
    };
    store
        .apply_scan_updates(MODEL, &[ScanUpdate::Missing { track: TrackId(3) }])
        .unwrap();
    step(&mut store, "missing");
    let third = store.track(TrackId(3)).unwrap().unwrap();
    let facts = FileFacts {
        content_hash: third.content_hash,
        size_bytes: 5,
        mtime_ns: 6,
    };
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Refreshed {
                track: third.id,
                file: facts,
            }],
        )
        .unwrap();
    step(&mut store, "refreshed");
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Moved {
                track: third.id,
                path: "/music/elsewhere.flac".into(),
                file: facts,
                tags: third.tags.clone(),
            }],
        )
        .unwrap();
    step(&mut store, "moved");
    store
        .apply_scan_updates(MODEL, &[ScanUpdate::Missing { track: TrackId(2) }])
        .unwrap();
    step(&mut store, "missing again");
    assert_eq!(store.purge_missing().unwrap(), 1);
    step(&mut store, "purge");

    // A refused batch writes nothing, the revision included.
    let before = store.revision().unwrap();
    let mut bad = synthetic(9);
    if let ScanUpdate::Embedded { output, .. } = &mut bad {
        output.embedding.pop();
    }
    assert!(
        store
            .apply_scan_updates(MODEL, &[synthetic(8), bad])
            .is_err()
    );
    assert_eq!(store.revision().unwrap(), before);
    drop(store);
    assert_eq!(
        SqliteStore::open(&path).unwrap().revision().unwrap(),
        before
    );
}

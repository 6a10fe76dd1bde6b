//! The PostgreSQL store against the CatalogStore contract: the scenarios of the SQLite store's
//! tests (crates/catalog/tests/store.rs) on a private PostgreSQL server, plus refusing foreign
//! databases, migrations, bulk import and the refresh version.

use std::path::{Path, PathBuf};
use std::time::Instant;

use musicrec_catalog::{
    CatalogError, CatalogStore, FileFacts, ModelInfo, Rating, ScanUpdate, TrackEmbedding, TrackId,
    TrackMatch, TrackTags,
};
use musicrec_catalog_pg::{PostgresStore, known_schema_version, redact_url};
use musicrec_testkit::pg::PgServer;

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
fn ten_thousand_tracks_load_exactly() {
    let n = 10_000;
    let start = Instant::now();
    let Some(store) = store_with("tenk", n) else {
        return;
    };
    let inserted = start.elapsed();
    let start = Instant::now();
    let set = store.load_embeddings(MODEL).unwrap();
    eprintln!(
        "10k tracks, dim {DIM}: insert {inserted:?}, load {:?}",
        start.elapsed()
    );
    assert_eq!(set.len(), n);
    assert_eq!(set.embeddings.len(), n * DIM);
    for row in [0, 1234, n - 1] {
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
fn the_revision_grows_with_every_change_to_the_index() {
    let Some(mut store) = store_with("revision", 3) else {
        return;
    };
    let r0 = store.revision().unwrap();
    assert!(r0 >= 1, "the inserts counted");
    // A re-embedding that leaves every count (and every track's genre) unchanged.
    let stats = store.stats().unwrap();
    let ScanUpdate::Embedded {
        path,
        file,
        tags,
        mut output,
    } = synthetic(1)
    else {
        unreachable!()
    };
    output.embedding.iter_mut().for_each(|v| *v = -*v);
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Embedded {
                path,
                file,
                tags,
                output,
            }],
        )
        .unwrap();
    assert_eq!(store.stats().unwrap(), stats, "the counts did not change");
    let re_embedded = store.revision().unwrap();
    assert!(re_embedded > r0, "but the revision did");
    // Another connection (a server on another machine) sees the same revision.
    let url = store.label().to_owned();
    assert_eq!(
        PostgresStore::connect(&url).unwrap().revision().unwrap(),
        re_embedded
    );
    let r0 = re_embedded;
    store.apply_scan_updates(MODEL, &[synthetic(3)]).unwrap();
    let r1 = store.revision().unwrap();
    assert!(r1 > r0);
    store
        .apply_scan_updates(MODEL, &[ScanUpdate::Missing { track: TrackId(1) }])
        .unwrap();
    let r2 = store.revision().unwrap();
    assert!(r2 > r1, "a track flagged missing leaves the index: reload");
    assert_eq!(store.revision().unwrap(), r2, "stable without writes");
    store.add_user("ada").unwrap();
    assert_eq!(
        store.revision().unwrap(),
        r2,
        "users do not touch the index"
    );
    assert_eq!(store.purge_missing().unwrap(), 1);
    let r3 = store.revision().unwrap();
    assert!(r3 > r2);
    store.import_new_tracks(MODEL, &[synthetic(10)]).unwrap();
    assert!(store.revision().unwrap() > r3);
    // A failed batch leaves it alone.
    let before = store.revision().unwrap();
    let mut bad = synthetic(11);
    if let ScanUpdate::Embedded { output, .. } = &mut bad {
        output.embedding.pop();
    }
    assert!(store.apply_scan_updates(MODEL, &[bad]).is_err());
    assert_eq!(store.revision().unwrap(), before);
}

#[test]
fn lookups_by_id_path_and_text() {
    let Some(mut store) = store_with("lookups", 30) else {
        return;
    };
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
    let Some(mut store) = store_with("users", 3) else {
        return;
    };
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
    let latest: Vec<_> = store
        .feedback(ada)
        .unwrap()
        .iter()
        .map(|f| (f.track, f.rating))
        .collect();
    assert_eq!(latest, [(t1, Rating::Dislike), (t2, Rating::Like)]);
    assert_eq!(store.feedback(bob).unwrap().len(), 1);
    assert_eq!(store.all_feedback().unwrap().len(), 3);
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
    let Some(mut store) = store_with("centroids", 40) else {
        return;
    };
    assert!(store.genre_centroids(MODEL).unwrap().is_empty());
    let computed = store.recompute_genre_centroids(MODEL).unwrap();
    assert_eq!(computed.len(), GENRES.len());
    assert_eq!(store.genre_centroids(MODEL).unwrap(), computed);
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
    let Some(mut store) = store_with("missing", 5) else {
        return;
    };
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
    let Some(mut store) = store_with("shape", 1) else {
        return;
    };
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
    // A model registered again with another shape is refused.
    let mut other = model_info();
    other.embedding_dim = 3;
    assert!(matches!(
        store.register_model(MODEL, &other).unwrap_err(),
        CatalogError::ModelMismatch { .. }
    ));
}

#[test]
fn moves_refreshes_failures_and_content_changes_follow_the_sqlite_semantics() {
    let Some(mut store) = store_with("updates", 3) else {
        return;
    };
    let other = "other-model";
    store.register_model(other, &model_info()).unwrap();
    store.apply_scan_updates(other, &[synthetic(0)]).unwrap();
    let first = store.track(TrackId(1)).unwrap().unwrap();
    // Moved: same row, new path.
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Moved {
                track: first.id,
                path: "/music/moved.flac".into(),
                file: FileFacts {
                    content_hash: first.content_hash,
                    size_bytes: first.size_bytes,
                    mtime_ns: 5,
                },
                tags: first.tags.clone(),
            }],
        )
        .unwrap();
    let moved = store.track(first.id).unwrap().unwrap();
    assert_eq!(moved.path, PathBuf::from("/music/moved.flac"));
    assert!(store.embedding(first.id, other).unwrap().is_some());
    // Content changed at the same path: the other model's vector is dropped.
    let ScanUpdate::Embedded { tags, output, .. } = synthetic(0) else {
        unreachable!()
    };
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Embedded {
                path: "/music/moved.flac".into(),
                file: FileFacts {
                    content_hash: blake3::hash(b"new content"),
                    size_bytes: 7,
                    mtime_ns: 6,
                },
                tags,
                output,
            }],
        )
        .unwrap();
    assert!(store.embedding(first.id, other).unwrap().is_none());
    assert!(store.embedding(first.id, MODEL).unwrap().is_some());
    // A failure of a stored track flags it missing; the scan index and report show it.
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Failed {
                path: "/music/artist002/track000002.flac".into(),
                size_bytes: Some(1),
                mtime_ns: Some(2),
                reason: "undecodable".into(),
                stale_track: Some(TrackId(3)),
            }],
        )
        .unwrap();
    assert!(
        store
            .track(TrackId(3))
            .unwrap()
            .unwrap()
            .missing_since
            .is_some()
    );
    let failures = store.failed().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].reason, "undecodable");
    let index = store.scan_index(MODEL).unwrap();
    assert_eq!(index.failures.len(), 1);
    assert_eq!(index.tracks.len(), 3);
    assert!(index.tracks.iter().all(|t| t.has_embedding));
    // Refreshed: back from missing.
    let third = store.track(TrackId(3)).unwrap().unwrap();
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Refreshed {
                track: third.id,
                file: FileFacts {
                    content_hash: third.content_hash,
                    size_bytes: 9,
                    mtime_ns: 10,
                },
            }],
        )
        .unwrap();
    let third = store.track(TrackId(3)).unwrap().unwrap();
    assert!(third.missing_since.is_none());
    assert_eq!((third.size_bytes, third.mtime_ns), (9, 10));
    assert_eq!(store.model_ids().unwrap(), [other, MODEL]);
}

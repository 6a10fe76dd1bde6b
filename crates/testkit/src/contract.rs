//! The contract every [`CatalogStore`] backend keeps, written once and run by each backend's
//! tests: SQLite always (crates/catalog-sqlite/tests/contract.rs), PostgreSQL where the test
//! harness starts a private server (crates/catalog-pg/tests/contract.rs).
//!
//! A backend's test file expands [`catalog_contract_tests!`](crate::catalog_contract_tests) with
//! a function that makes a fresh, empty catalog and returns its [`Open`]er (or `None` to skip,
//! as without PostgreSQL outside CI). Each scenario here is a plain function over that opener:
//! calling it again opens the same catalog again (another connection, another process's view),
//! which is how reopening and concurrent writers are checked.
//!
//! What only one backend has stays in that backend's tests: refusing foreign files or databases,
//! migrations, PostgreSQL's queue, workers and bulk import.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use crate::synthetic as small;
use musicrec_catalog::{
    CatalogError, CatalogStore, DECOY_ORIGIN, FileFacts, ModelInfo, NewStudy, Rating, ScanUpdate,
    SessionItem, TrackEmbedding, TrackId, TrackMatch, TrackTags, UpstreamSong, UpstreamSync,
};

/// Opens the catalog under test (again): every call is a new connection to the same catalog.
pub type Open = Arc<dyn Fn() -> Box<dyn CatalogStore> + Send + Sync>;

/// Expands to one `#[test]` per contract scenario, each on a fresh catalog from `$fresh`
/// (`fn() -> Option<Open>`; `None` skips).
#[macro_export]
macro_rules! catalog_contract_tests {
    ($fresh:expr) => {
        $crate::catalog_contract_tests!(@each $fresh;
            ten_thousand_tracks_load_exactly,
            lookups_by_id_path_and_text,
            users_and_feedback,
            genre_centroids_are_recomputed_and_stored,
            missing_tracks_leave_reads_and_can_be_purged,
            a_wrongly_shaped_embedding_is_refused_whole_batch,
            moves_refreshes_failures_and_content_changes,
            the_revision_changes_with_every_write_to_tracks_or_embeddings_and_only_then,
            studies_sessions_and_rounds_round_trip_and_survive_purge_and_reopen,
            bad_input_is_refused_and_nothing_recorded_is_lost,
            simulated_studies_take_only_simulated_sessions,
            all_feedback_lists_every_users_latest_ratings,
            concurrent_writers_never_give_a_participant_two_sessions_or_a_name_two_studies,
            upstream_songs_sync_in_place_per_server_and_leave_the_revision_alone,
            a_truncated_track_keeps_its_warning_until_it_is_read_whole
        );
    };
    (@each $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                if let Some(open) = ($fresh)() {
                    $crate::contract::$name(&open);
                }
            }
        )*
    };
}

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
            warning: None,
        },
    }
}

/// The catalog with the synthetic model and tracks `0..n`.
fn store_with(open: &Open, n: usize) -> Box<dyn CatalogStore> {
    let mut store = open();
    store.register_model(MODEL, &model_info()).unwrap();
    let updates: Vec<_> = (0..n).map(synthetic).collect();
    for chunk in updates.chunks(2000) {
        store.apply_scan_updates(MODEL, chunk).unwrap();
    }
    store
}

/// 10 000 tracks stored and loaded back exactly; stats and paged search over them.
pub fn ten_thousand_tracks_load_exactly(open: &Open) {
    let n = 10_000;
    let start = Instant::now();
    let store = store_with(open, n);
    let inserted = start.elapsed();
    let start = Instant::now();
    let set = store.load_embeddings(MODEL).unwrap();
    let loaded = start.elapsed();
    // Timings are reported, not asserted (the benchmarks measure speed).
    eprintln!("10k tracks, dim {DIM}: insert {inserted:?}, load {loaded:?}");
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

/// Lookups by id, path, "artist - title" and text.
pub fn lookups_by_id_path_and_text(open: &Open) {
    let mut store = store_with(open, 30);
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

/// Users (trimmed, idempotent) and feedback (the latest rating counts; an undo forgets a track's).
pub fn users_and_feedback(open: &Open) {
    let mut store = store_with(open, 3);
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

/// Genre centroids recomputed from the embeddings and stored.
pub fn genre_centroids_are_recomputed_and_stored(open: &Open) {
    let mut store = store_with(open, 40);
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

/// Tracks flagged missing leave the reads and can be purged with their embeddings.
pub fn missing_tracks_leave_reads_and_can_be_purged(open: &Open) {
    let mut store = store_with(open, 5);
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

/// A batch with one wrongly shaped output is refused whole.
pub fn a_wrongly_shaped_embedding_is_refused_whole_batch(open: &Open) {
    let mut store = store_with(open, 1);
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

/// Moves keep the row, changed content drops other models' vectors, failures of stored tracks
/// flag them missing, refreshes bring them back.
pub fn moves_refreshes_failures_and_content_changes(open: &Open) {
    let mut store = store_with(open, 3);
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

/// The change revision a server polls: it moves with every committed change of tracks or
/// embeddings (a re-embedding that leaves every count alone included), seen by every
/// connection, and only then.
pub fn the_revision_changes_with_every_write_to_tracks_or_embeddings_and_only_then(open: &Open) {
    let mut store = open();
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
    assert!(r0 > empty, "the inserts counted");
    assert_eq!(store.revision().unwrap(), r0, "stable without writes");

    // A re-embedding that leaves every count (and the genre of every track) as it was.
    let stats = store.stats().unwrap();
    store.apply_scan_updates(MODEL, &[re_embedded(1)]).unwrap();
    assert_eq!(store.stats().unwrap(), stats, "the counts did not change");
    let r1 = store.revision().unwrap();
    assert_ne!(r1, r0, "but the revision did");

    // Another process (connection) sees the same revision, and its writes show here.
    let mut other = open();
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
    let mut step = |store: &mut Box<dyn CatalogStore>, what: &str| {
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
    assert_eq!(open().revision().unwrap(), before);
}

// ---- listening experiments ----

/// The experiment scenarios' catalog: the small synthetic model ([`crate::synthetic`]) and its
/// tracks `0..tracks` (`/music/t000.flac`, ...).
fn catalog(open: &Open, tracks: usize) -> Box<dyn CatalogStore> {
    let mut store = open();
    store
        .register_model(small::MODEL, &small::model_info())
        .unwrap();
    let updates: Vec<_> = (0..tracks).map(|i| small::track(i, 1.0)).collect();
    store.apply_scan_updates(small::MODEL, &updates).unwrap();
    store
}

fn new_study(name: &str) -> NewStudy {
    NewStudy {
        name: name.into(),
        methods: vec!["similarity".into(), "genre".into()],
        k: 2,
        decoys: 1,
        simulated: false,
    }
}

fn item(store: &dyn CatalogStore, i: usize, origins: &[&str]) -> SessionItem {
    let t = store
        .track_by_path(&PathBuf::from(format!("/music/t{i:03}.flac")))
        .unwrap()
        .unwrap();
    SessionItem {
        track: t.id,
        path: t.path,
        origins: origins.iter().map(|o| (*o).to_owned()).collect(),
    }
}

/// Studies, sessions with hidden origins and ratings per round round-trip, and survive a purge
/// of missing tracks and a reopen.
pub fn studies_sessions_and_rounds_round_trip_and_survive_purge_and_reopen(open: &Open) {
    let mut store = catalog(open, 6);
    let study = store
        .experiments_mut()
        .unwrap()
        .create_study(&new_study("s1"))
        .unwrap();
    assert_eq!(study.methods, ["similarity", "genre"]);
    assert!(!study.simulated);

    let items = vec![
        item(&*store, 1, &["genre"]),
        item(&*store, 2, &["similarity", "genre"]),
        item(&*store, 3, &[DECOY_ORIGIN]),
        item(&*store, 4, &["similarity"]),
    ];
    let seeds = [item(&*store, 0, &["x"]).track];
    let ex = store.experiments_mut().unwrap();
    let session = ex
        .create_session(study.id, "ann", &seeds, &items, false)
        .unwrap();
    assert_eq!(session.items, items, "order and origins kept");
    assert_eq!(session.seeds, seeds);
    ex.record_response(session.id, items[0].track, 1, Rating::Like)
        .unwrap();
    ex.record_response(session.id, items[1].track, 1, Rating::Dislike)
        .unwrap();
    // Changed mind in round 1 (latest counts), and a follow-up round.
    ex.record_response(session.id, items[1].track, 1, Rating::Like)
        .unwrap();
    ex.record_response(session.id, items[1].track, 2, Rating::Dislike)
        .unwrap();
    let responses = ex.responses(study.id).unwrap();
    assert_eq!(responses.len(), 3);
    let r1: Vec<_> = responses.iter().filter(|r| r.round == 1).collect();
    assert!(r1.iter().all(|r| r.rating == Rating::Like));
    assert_eq!(
        responses.iter().find(|r| r.round == 2).unwrap().rating,
        Rating::Dislike
    );

    // A purge of missing tracks keeps the study's items and answers.
    store
        .apply_scan_updates(
            small::MODEL,
            &[ScanUpdate::Missing {
                track: items[3].track,
            }],
        )
        .unwrap();
    assert_eq!(store.purge_missing().unwrap(), 1);
    drop(store);
    let store = open();
    let ex = store.experiments().unwrap();
    let again = ex.session(session.id).unwrap().unwrap();
    assert_eq!(again.items, items);
    assert_eq!(ex.responses(study.id).unwrap().len(), 3);
    assert_eq!(
        ex.session_of(study.id, " ann ").unwrap().unwrap().id,
        session.id
    );
    assert_eq!(ex.studies().unwrap().len(), 1);
}

/// Bad study definitions, duplicate sessions, foreign ratings are refused, one-line messages,
/// with nothing recorded before lost.
pub fn bad_input_is_refused_and_nothing_recorded_is_lost(open: &Open) {
    let mut store = catalog(open, 6);
    let items = vec![
        item(&*store, 1, &["similarity"]),
        item(&*store, 2, &["genre"]),
    ];
    let outside = item(&*store, 5, &["x"]).track;
    let ex = store.experiments_mut().unwrap();
    let study = ex.create_study(&new_study("s")).unwrap();
    let message = |err: CatalogError| {
        let m = err.to_string();
        assert!(!m.contains('\n'), "{m}");
        m
    };

    // Study definitions.
    let m = message(ex.create_study(&new_study("s")).unwrap_err());
    assert!(m.contains("already exists"), "{m}");
    let mut one_method = new_study("t");
    one_method.methods.truncate(1);
    assert!(message(ex.create_study(&one_method).unwrap_err()).contains("at least two"));
    let mut twice = new_study("t");
    twice.methods[1] = "similarity".into();
    assert!(message(ex.create_study(&twice).unwrap_err()).contains("twice"));
    let mut zero_k = new_study("t");
    zero_k.k = 0;
    assert!(ex.create_study(&zero_k).is_err());

    let session = ex
        .create_session(study.id, "bob", &[], &items, false)
        .unwrap();
    ex.record_response(session.id, items[0].track, 1, Rating::Like)
        .unwrap();

    // A second session for the same participant.
    let m = message(
        ex.create_session(study.id, "bob", &[], &items, false)
            .unwrap_err(),
    );
    assert!(m.contains("already has session"), "{m}");
    // A rating of a track that is not in the session.
    let m = message(
        ex.record_response(session.id, outside, 1, Rating::Like)
            .unwrap_err(),
    );
    assert!(m.contains("not in session"), "{m}");
    // Unknown session, round 0, a track listed twice, an unknown track.
    assert!(
        ex.record_response(
            musicrec_catalog::SessionId(999),
            items[0].track,
            1,
            Rating::Like
        )
        .is_err()
    );
    assert!(
        ex.record_response(session.id, items[0].track, 0, Rating::Like)
            .is_err()
    );
    let dup = vec![items[0].clone(), items[0].clone()];
    assert!(
        message(
            ex.create_session(study.id, "cy", &[], &dup, false)
                .unwrap_err()
        )
        .contains("twice")
    );
    let ghost = vec![SessionItem {
        track: TrackId(12345),
        path: "/nowhere.flac".into(),
        origins: vec!["genre".into()],
    }];
    assert!(
        ex.create_session(study.id, "cy", &[], &ghost, false)
            .is_err()
    );
    // A simulated session in a real study, and marking a study with real people simulated.
    assert!(
        ex.create_session(study.id, "sim", &[], &items, true)
            .is_err()
    );
    assert!(message(ex.mark_study_simulated(study.id).unwrap_err()).contains("real participants"));

    // Everything recorded before is intact.
    assert_eq!(ex.sessions(study.id).unwrap().len(), 1);
    let responses = ex.responses(study.id).unwrap();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].rating, Rating::Like);
    assert!(!ex.study(study.id).unwrap().unwrap().simulated);
}

/// A simulated study takes only simulated sessions.
pub fn simulated_studies_take_only_simulated_sessions(open: &Open) {
    let mut store = catalog(open, 3);
    let items = vec![item(&*store, 1, &["similarity"])];
    let ex = store.experiments_mut().unwrap();
    let study = ex.create_study(&new_study("sim")).unwrap();
    ex.mark_study_simulated(study.id).unwrap();
    assert!(ex.study_by_name("sim").unwrap().unwrap().simulated);
    let s = ex
        .create_session(study.id, "v1", &[], &items, true)
        .unwrap();
    assert!(s.simulated);
    let err = ex
        .create_session(study.id, "person", &[], &items, false)
        .unwrap_err();
    assert!(err.to_string().contains("simulated"), "{err}");
}

/// all_feedback lists every user's latest ratings.
pub fn all_feedback_lists_every_users_latest_ratings(open: &Open) {
    let mut store = catalog(open, 3);
    let (a, b) = (store.add_user("a").unwrap(), store.add_user("b").unwrap());
    let t = |i| item(&*store, i, &["x"]).track;
    let (t0, t1) = (t(0), t(1));
    store.record_feedback(a, t0, Rating::Like).unwrap();
    store.record_feedback(a, t0, Rating::Dislike).unwrap();
    store.record_feedback(b, t1, Rating::Like).unwrap();
    let all = store.all_feedback().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].user, all[0].rating), (a, Rating::Dislike));
    assert_eq!((all[1].user, all[1].track), (b, t1));
}

/// Many connections creating sessions of one study at once: one session per participant, one
/// study per name.
pub fn concurrent_writers_never_give_a_participant_two_sessions_or_a_name_two_studies(open: &Open) {
    let mut store = catalog(open, 4);
    let items = vec![
        item(&*store, 1, &["similarity"]),
        item(&*store, 2, &["genre"]),
    ];
    let study = store
        .experiments_mut()
        .unwrap()
        .create_study(&new_study("shared"))
        .unwrap();
    const WRITERS: usize = 6;
    let barrier = Arc::new(Barrier::new(WRITERS));
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (open, barrier, items) = (open.clone(), barrier.clone(), items.clone());
            std::thread::spawn(move || {
                let mut store = open();
                let ex = store.experiments_mut().unwrap();
                barrier.wait();
                let session = ex
                    .create_session(study.id, "same-person", &[], &items, false)
                    .map(|s| s.id)
                    .map_err(|e| e.to_string());
                let name = ex
                    .create_study(&new_study("raced"))
                    .map(|s| s.id)
                    .map_err(|e| e.to_string());
                // Every writer also gets a session of its own.
                ex.create_session(study.id, &format!("p{w}"), &[], &items, false)
                    .unwrap();
                (session, name)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let won: Vec<_> = results
        .iter()
        .filter_map(|(s, _)| s.as_ref().ok())
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for (session, name) in &results {
        if let Err(e) = session {
            assert!(e.contains("already has session"), "{e}");
        }
        if let Err(e) = name {
            assert!(e.contains("already exists"), "{e}");
        }
    }
    let names_won = results.iter().filter(|(_, n)| n.is_ok()).count();
    assert_eq!(names_won, 1, "{results:?}");
    let ex = store.experiments().unwrap();
    let sessions = ex.sessions(study.id).unwrap();
    assert_eq!(sessions.len(), WRITERS + 1);
    assert_eq!(
        sessions
            .iter()
            .filter(|s| s.participant == "same-person")
            .map(|s| &s.id)
            .collect::<Vec<_>>(),
        won
    );
    assert_eq!(ex.studies().unwrap().len(), 2);
}

fn upstream_song(
    id: &str,
    track: Option<i64>,
    matched_by: Option<&str>,
    title: &str,
) -> UpstreamSong {
    UpstreamSong {
        upstream_id: id.to_owned(),
        track: track.map(TrackId),
        matched_by: matched_by.map(str::to_owned),
        song_json: format!(r#"{{"id":"{id}","title":"{title}"}}"#),
    }
}

/// A Subsonic server's songs are stored per server and synced in place: a renamed song keeps
/// its row, a song gone upstream goes, nothing is duplicated, a bad list changes nothing, and
/// the rows survive reopening. Syncing is not a change of tracks: the revision stays.
pub fn upstream_songs_sync_in_place_per_server_and_leave_the_revision_alone(open: &Open) {
    let mut store = store_with(open, 3);
    let ids: Vec<i64> = store
        .search("", 0, 10)
        .unwrap()
        .items
        .iter()
        .map(|t| t.id.0)
        .collect();
    let revision = store.revision().unwrap();
    let (a, b) = ("http://music.local:4533 alice", "http://other:4040 bob");
    let first = vec![
        upstream_song("s1", Some(ids[0]), Some("path"), "One"),
        upstream_song("s2", None, None, "Two"),
        upstream_song("s3", Some(ids[1]), Some("tags"), "Three"),
    ];
    let upstream = store
        .upstream_mut()
        .expect("this backend keeps upstream songs");
    let sync = upstream.sync_upstream_songs(a, &first).unwrap();
    assert_eq!(
        sync,
        UpstreamSync {
            added: 3,
            ..UpstreamSync::default()
        }
    );
    upstream
        .sync_upstream_songs(
            b,
            &[upstream_song("s1", Some(ids[2]), Some("path"), "Else")],
        )
        .unwrap();
    // A list with an id twice is refused whole.
    let twice = [
        upstream_song("s9", None, None, "x"),
        upstream_song("s9", None, None, "y"),
    ];
    assert!(matches!(
        upstream.sync_upstream_songs(a, &twice),
        Err(CatalogError::Invalid(_))
    ));
    drop(store);

    let mut store = open();
    assert_eq!(store.upstream().unwrap().upstream_songs(a).unwrap(), first);
    // s1 unchanged, s2 now matched, s3 renamed upstream, s3's old row not duplicated, s4 new,
    // and a song gone upstream (none here besides) removed.
    let second = vec![
        upstream_song("s1", Some(ids[0]), Some("path"), "One"),
        upstream_song("s2", Some(ids[2]), Some("tags"), "Two"),
        upstream_song("s3", Some(ids[1]), Some("tags"), "Three (remastered)"),
        upstream_song("s4", None, None, "Four"),
    ];
    let sync = store
        .upstream_mut()
        .unwrap()
        .sync_upstream_songs(a, &second)
        .unwrap();
    assert_eq!(
        sync,
        UpstreamSync {
            added: 1,
            updated: 2,
            removed: 0,
            unchanged: 1
        }
    );
    let sync = store
        .upstream_mut()
        .unwrap()
        .sync_upstream_songs(a, &second[1..])
        .unwrap();
    assert_eq!(sync.removed, 1);
    assert_eq!(sync.unchanged, 3);
    let stored = store.upstream().unwrap().upstream_songs(a).unwrap();
    assert_eq!(stored, second[1..]);
    // The other server's songs are its own.
    let other = store.upstream().unwrap().upstream_songs(b).unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].track, Some(TrackId(ids[2])));
    assert_eq!(store.revision().unwrap(), revision);
}

/// A track embedded from a truncated file keeps the scan's warning (listed by `warned`, shown
/// by `scan --failed`); re-embedded whole, the warning is gone; a missing track is not listed.
pub fn a_truncated_track_keeps_its_warning_until_it_is_read_whole(open: &Open) {
    let mut store = store_with(open, 3);
    assert!(store.warned().unwrap().is_empty());
    let warning = "truncated: decoded 100 of the 200 frames the header declares";
    let ScanUpdate::Embedded {
        path,
        file,
        tags,
        mut output,
    } = synthetic(1)
    else {
        unreachable!()
    };
    output.warning = Some(warning.to_owned());
    let truncated = ScanUpdate::Embedded {
        path: path.clone(),
        file,
        tags,
        output,
    };
    store.apply_scan_updates(MODEL, &[truncated]).unwrap();
    let warned = store.warned().unwrap();
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0].path, path);
    assert_eq!(warned[0].warning.as_deref(), Some(warning));
    let track = store.track_by_path(&path).unwrap().unwrap();
    assert_eq!(track.warning.as_deref(), Some(warning));
    assert!(
        store.failed().unwrap().is_empty(),
        "a warning is not a failure"
    );
    assert_eq!(store.load_embeddings(MODEL).unwrap().len(), 3);

    store.apply_scan_updates(MODEL, &[synthetic(1)]).unwrap();
    assert!(store.warned().unwrap().is_empty());
    assert_eq!(store.track_by_path(&path).unwrap().unwrap().warning, None);
}

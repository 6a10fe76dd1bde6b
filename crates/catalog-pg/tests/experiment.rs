//! Listening-experiment storage in PostgreSQL: the scenarios of the SQLite store's tests
//! (crates/catalog/tests/experiment.rs) on a private server — studies, one session per
//! participant with hidden origins, ratings per round, bad input refused with nothing already
//! recorded lost (across a purge of missing tracks and a reconnect) — plus what only a shared
//! database has to survive: many connections creating sessions of one study at once.

use std::path::PathBuf;
use std::sync::{Arc, Barrier};

use musicrec_catalog::{
    CatalogError, CatalogStore, DECOY_ORIGIN, FileFacts, ModelInfo, NewStudy, Rating, ScanUpdate,
    SessionId, SessionItem, TrackEmbedding, TrackId, TrackTags,
};
use musicrec_catalog_pg::PostgresStore;
use musicrec_testkit::pg::PgServer;

const MODEL: &str = "m";

fn track(i: usize) -> ScanUpdate {
    let path = PathBuf::from(format!("/music/t{i:03}.flac"));
    ScanUpdate::Embedded {
        file: FileFacts {
            content_hash: blake3::hash(path.to_str().unwrap().as_bytes()),
            size_bytes: 1000 + i as u64,
            mtime_ns: i as i64,
        },
        path,
        tags: TrackTags::default(),
        output: TrackEmbedding {
            embedding: vec![i as f32, 1.0],
            genre_probs: vec![0.5, 0.5],
            duration_secs: 30.0,
        },
    }
}

/// A fresh database with `tracks` tracks; `None` (skip) without PostgreSQL outside CI.
fn catalog(prefix: &str, tracks: usize) -> Option<(String, PostgresStore)> {
    let url = PgServer::shared()?.new_database(prefix);
    let mut store = PostgresStore::connect(&url).unwrap();
    store
        .register_model(
            MODEL,
            &ModelInfo {
                genres: vec!["a".into(), "b".into()],
                embedding_dim: 2,
                config: serde_json::json!({}),
            },
        )
        .unwrap();
    let updates: Vec<_> = (0..tracks).map(track).collect();
    store.apply_scan_updates(MODEL, &updates).unwrap();
    Some((url, store))
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

fn item(store: &PostgresStore, i: usize, origins: &[&str]) -> SessionItem {
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

#[test]
fn studies_sessions_and_rounds_round_trip_and_survive_purge_and_reconnect() {
    let Some((url, mut store)) = catalog("exp_roundtrip", 6) else {
        return;
    };
    let study = store
        .experiments_mut()
        .unwrap()
        .create_study(&new_study(" s1 "))
        .unwrap();
    assert_eq!(study.name, "s1", "trimmed");
    assert_eq!(study.methods, ["similarity", "genre"]);
    assert_eq!((study.k, study.decoys), (2, 1));
    assert!(!study.simulated);

    let items = vec![
        item(&store, 1, &["genre"]),
        item(&store, 2, &["similarity", "genre"]),
        item(&store, 3, &[DECOY_ORIGIN]),
        item(&store, 4, &["similarity"]),
    ];
    let seeds = [item(&store, 0, &["x"]).track];
    let ex = store.experiments_mut().unwrap();
    let session = ex
        .create_session(study.id, "ann", &seeds, &items, false)
        .unwrap();
    assert_eq!(session.items, items, "order and origins kept");
    assert_eq!(session.seeds, seeds);
    assert_eq!(session.participant, "ann");
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
    assert_eq!(r1.len(), 2);
    assert!(r1.iter().all(|r| r.rating == Rating::Like));
    assert_eq!(
        responses.iter().find(|r| r.round == 2).unwrap().rating,
        Rating::Dislike
    );

    // A purge of missing tracks keeps the study's items and answers.
    store
        .apply_scan_updates(
            MODEL,
            &[ScanUpdate::Missing {
                track: items[3].track,
            }],
        )
        .unwrap();
    assert_eq!(store.purge_missing().unwrap(), 1);
    drop(store);
    let store = PostgresStore::connect(&url).unwrap();
    let ex = store.experiments().unwrap();
    let again = ex.session(session.id).unwrap().unwrap();
    assert_eq!(again, session);
    assert_eq!(ex.responses(study.id).unwrap(), responses);
    assert_eq!(
        ex.session_of(study.id, " ann ").unwrap().unwrap().id,
        session.id
    );
    assert_eq!(ex.sessions(study.id).unwrap(), [session]);
    assert_eq!(ex.studies().unwrap(), std::slice::from_ref(&study));
    assert_eq!(ex.study_by_name("s1").unwrap(), Some(study.clone()));
    assert_eq!(ex.study(study.id).unwrap(), Some(study));
    assert!(ex.study_by_name("nope").unwrap().is_none());
}

#[test]
fn bad_input_is_refused_and_nothing_recorded_is_lost() {
    let Some((_, mut store)) = catalog("exp_bad", 6) else {
        return;
    };
    let items = vec![
        item(&store, 1, &["similarity"]),
        item(&store, 2, &["genre"]),
    ];
    let outside = item(&store, 5, &["x"]).track;
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
    assert!(message(ex.create_study(&zero_k).unwrap_err()).contains("k must be"));
    assert_eq!(
        ex.studies().unwrap().len(),
        1,
        "no refused study was stored"
    );

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
    // Unknown session, round 0, an unknown study, a track listed twice, an unknown track, an
    // item without origin, an empty list, an empty participant name.
    let m = message(
        ex.record_response(SessionId(999), items[0].track, 1, Rating::Like)
            .unwrap_err(),
    );
    assert!(m.contains("no session with id 999"), "{m}");
    let m = message(
        ex.record_response(session.id, items[0].track, 0, Rating::Like)
            .unwrap_err(),
    );
    assert!(m.contains("rounds count from 1"), "{m}");
    let m = message(
        ex.create_session(musicrec_catalog::StudyId(777), "cy", &[], &items, false)
            .unwrap_err(),
    );
    assert!(m.contains("no study with id 777"), "{m}");
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
    assert!(matches!(
        ex.create_session(study.id, "cy", &[], &ghost, false)
            .unwrap_err(),
        CatalogError::UnknownTrack(12345)
    ));
    let mut no_origin = items.clone();
    no_origin[1].origins.clear();
    assert!(
        message(
            ex.create_session(study.id, "cy", &[], &no_origin, false)
                .unwrap_err()
        )
        .contains("no recorded origin")
    );
    assert!(
        message(
            ex.create_session(study.id, "cy", &[], &[], false)
                .unwrap_err()
        )
        .contains("at least one item")
    );
    assert!(
        message(
            ex.create_session(study.id, "  ", &[], &items, false)
                .unwrap_err()
        )
        .contains("empty participant")
    );
    // A simulated session in a real study, and marking a study with real people simulated.
    let m = message(
        ex.create_session(study.id, "sim", &[], &items, true)
            .unwrap_err(),
    );
    assert!(m.contains("not marked simulated"), "{m}");
    assert!(message(ex.mark_study_simulated(study.id).unwrap_err()).contains("real participants"));
    assert!(
        message(
            ex.mark_study_simulated(musicrec_catalog::StudyId(777))
                .unwrap_err()
        )
        .contains("no study")
    );

    // Everything recorded before is intact, and no refused session left a row behind.
    assert_eq!(ex.sessions(study.id).unwrap(), [session]);
    assert!(ex.session_of(study.id, "cy").unwrap().is_none());
    let responses = ex.responses(study.id).unwrap();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].rating, Rating::Like);
    assert!(!ex.study(study.id).unwrap().unwrap().simulated);
}

#[test]
fn simulated_studies_take_only_simulated_sessions() {
    let Some((_, mut store)) = catalog("exp_sim", 3) else {
        return;
    };
    let items = vec![item(&store, 1, &["similarity"])];
    let ex = store.experiments_mut().unwrap();
    let study = ex.create_study(&new_study("sim")).unwrap();
    ex.mark_study_simulated(study.id).unwrap();
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
    assert_eq!(ex.sessions(study.id).unwrap().len(), 1);
}

#[test]
fn concurrent_writers_never_give_a_participant_two_sessions_or_a_name_two_studies() {
    let Some((url, mut store)) = catalog("exp_race", 4) else {
        return;
    };
    let items = vec![
        item(&store, 1, &["similarity"]),
        item(&store, 2, &["genre"]),
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
            let (url, barrier, items) = (url.clone(), barrier.clone(), items.clone());
            std::thread::spawn(move || {
                let mut store = PostgresStore::connect(&url).unwrap();
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

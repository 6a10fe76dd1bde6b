//! Listening-experiment storage in SQLite: the v2 migration, studies, one session per
//! participant with hidden origins, ratings per round, and bad input refused with nothing
//! already recorded lost (including across a purge of missing tracks and a reopen).

use std::path::PathBuf;

use musicrec_catalog::{
    CatalogError, CatalogStore, DECOY_ORIGIN, FileFacts, ModelInfo, NewStudy, Rating, ScanUpdate,
    SessionItem, SqliteStore, TrackEmbedding, TrackId, TrackTags,
};

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

fn catalog(path: &std::path::Path, tracks: usize) -> SqliteStore {
    let mut store = SqliteStore::open(path).unwrap();
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

fn item(store: &SqliteStore, i: usize, origins: &[&str]) -> SessionItem {
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
fn studies_sessions_and_rounds_round_trip_and_survive_purge_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.db");
    let mut store = catalog(&db, 6);
    assert_eq!(store.schema_version().unwrap(), 3);
    let study = store
        .experiments_mut()
        .unwrap()
        .create_study(&new_study("s1"))
        .unwrap();
    assert_eq!(study.methods, ["similarity", "genre"]);
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
            MODEL,
            &[ScanUpdate::Missing {
                track: items[3].track,
            }],
        )
        .unwrap();
    assert_eq!(store.purge_missing().unwrap(), 1);
    drop(store);
    let store = SqliteStore::open(&db).unwrap();
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

#[test]
fn bad_input_is_refused_and_nothing_recorded_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = catalog(&dir.path().join("c.db"), 6);
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

#[test]
fn simulated_studies_take_only_simulated_sessions() {
    let mut store = catalog(&tempfile::tempdir().unwrap().path().join("c.db"), 3);
    let items = vec![item(&store, 1, &["similarity"])];
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

#[test]
fn all_feedback_lists_every_users_latest_ratings() {
    let mut store = catalog(&tempfile::tempdir().unwrap().path().join("c.db"), 3);
    let (a, b) = (store.add_user("a").unwrap(), store.add_user("b").unwrap());
    let t = |i| item(&store, i, &["x"]).track;
    let (t0, t1) = (t(0), t(1));
    store.record_feedback(a, t0, Rating::Like).unwrap();
    store.record_feedback(a, t0, Rating::Dislike).unwrap();
    store.record_feedback(b, t1, Rating::Like).unwrap();
    let all = store.all_feedback().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].user, all[0].rating), (a, Rating::Dislike));
    assert_eq!((all[1].user, all[1].track), (b, t1));
}

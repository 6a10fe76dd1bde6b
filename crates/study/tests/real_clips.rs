//! Listening experiments and collaborative filtering on real clips: the 100 GTZAN-mini clips
//! embedded without a model (frame statistics), stored in a real SQLite catalog.

use musicrec_catalog::{CatalogStore, NewStudy, TrackId};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_recommend::index_from_embedding_set;
use musicrec_study::experiment::participant_shuffle_seed;
use musicrec_study::interactions::{
    InteractionSimSpec, read_interactions_csv, resolve_in_catalog, simulate_interactions,
};
use musicrec_study::simulate::{ListenerSpec, simulate_study};
use musicrec_study::{CompareOptions, analyze_study, compare_on_interactions, plan_session};
use musicrec_testkit::scanned::{MODEL, gtzan_mini_catalog};

fn open(path: &std::path::Path) -> SqliteStore {
    SqliteStore::open(path).unwrap()
}

#[test]
fn a_session_hides_both_methods_among_decoys_and_a_simulated_study_is_analysed() {
    let Some((dir, mut store)) = gtzan_mini_catalog(open) else {
        return;
    };
    let set = store.load_embeddings(MODEL).unwrap();
    let index = index_from_embedding_set(&set).unwrap();
    let ex = store.experiments_mut().unwrap();
    let study = ex
        .create_study(&NewStudy {
            name: "paper".into(),
            methods: vec!["similarity".into(), "genre".into()],
            k: 5,
            decoys: 10,
            simulated: false,
        })
        .unwrap();
    let seeds: Vec<TrackId> = set.tracks[..5].iter().map(|t| t.id).collect();
    let shuffle = participant_shuffle_seed("paper", "ann");
    let items = plan_session(&study, &set, &index, &seeds, shuffle).unwrap();
    assert_eq!(
        plan_session(&study, &set, &index, &seeds, shuffle).unwrap(),
        items,
        "seeded"
    );
    let count = |origin: &str| {
        items
            .iter()
            .filter(|i| i.origins.iter().any(|o| o == origin))
            .count()
    };
    assert_eq!(
        (count("similarity"), count("genre"), count("decoy")),
        (5, 5, 10)
    );
    let both = items.iter().filter(|i| i.origins.len() == 2).count();
    assert_eq!(
        items.len(),
        20 - both,
        "an item both methods recommend is listed once"
    );
    assert!(items.iter().all(|i| !seeds.contains(&i.track)));
    // Shuffled: the decoys are not all at the end.
    assert!(items[..10].iter().any(|i| i.is_decoy()), "{items:?}");

    // A real session for ann, then a simulation into another study.
    let session = ex
        .create_session(study.id, "ann", &seeds, &items, false)
        .unwrap();
    assert!(
        ex.create_session(study.id, "ann", &seeds, &items, false)
            .is_err()
    );
    assert!(
        ex.mark_study_simulated(study.id).is_err(),
        "ann is a real participant"
    );
    assert_eq!(ex.sessions(study.id).unwrap(), vec![session]);

    let sim = ex
        .create_study(&NewStudy {
            name: "sim".into(),
            methods: vec!["similarity".into(), "genre".into()],
            k: 5,
            decoys: 10,
            simulated: false,
        })
        .unwrap();
    let spec = ListenerSpec::default();
    let summary = simulate_study(ex, &sim, &set, &index, &spec).unwrap();
    assert!(summary.simulated);
    assert_eq!(summary.listeners.len(), 30);
    let sim = ex.study(sim.id).unwrap().unwrap();
    assert!(sim.simulated);
    let sessions = ex.sessions(sim.id).unwrap();
    assert!(sessions.iter().all(|s| s.simulated));
    let analysis = analyze_study(&sim, &sessions, &ex.responses(sim.id).unwrap(), 1).unwrap();
    assert_eq!(analysis.participants.len(), 30);
    assert!(analysis.simulated);
    let decoy = analysis.summaries.last().unwrap();
    assert_eq!(decoy.name, "decoy");
    // Listeners like their seeds' genre; both methods find more of it than random decoys do.
    for method in &analysis.summaries[..2] {
        assert!(
            method.mean_like_rate > decoy.mean_like_rate,
            "{} {} vs decoy {}",
            method.name,
            method.mean_like_rate,
            decoy.mean_like_rate
        );
    }
    let files = analysis.write_report(&dir.path().join("report")).unwrap();
    let md = std::fs::read_to_string(&files.markdown).unwrap();
    assert!(
        md.contains("(simulated)") && md.contains("SIMULATED"),
        "{md}"
    );
    let json = std::fs::read_to_string(&files.json).unwrap();
    assert!(json.contains("\"simulated\": true"));
    let png = std::fs::read(&files.plot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // A second simulation adds listeners after the first ones.
    let more = ListenerSpec {
        listeners: 2,
        ..spec
    };
    let again = simulate_study(ex, &sim, &set, &index, &more).unwrap();
    assert_eq!(again.listeners[0].name, "sim-031");
}

#[test]
fn cf_and_hybrid_beat_random_on_simulated_listeners_over_real_clips() {
    let Some((dir, store)) = gtzan_mini_catalog(open) else {
        return;
    };
    let set = store.load_embeddings(MODEL).unwrap();
    let index = index_from_embedding_set(&set).unwrap();
    let spec = InteractionSimSpec {
        users: 60,
        likes_per_user: 10,
        group_size: 12,
        ..InteractionSimSpec::default()
    };
    let data = simulate_interactions(&index, &spec).unwrap();
    let report = compare_on_interactions(&index, &data, &CompareOptions::default()).unwrap();
    eprintln!("{}", report.to_markdown());
    assert!(report.simulated);
    assert!(report.data.contains("simulated"));
    assert!(report.to_markdown().contains("SIMULATED"));
    assert_eq!(report.users_evaluated, 60);
    let random = report.method("random").unwrap().recall_at_k;
    for name in ["cf", "hybrid"] {
        let m = report.method(name).unwrap();
        assert!(
            m.recall_at_k > 1.5 * random,
            "{name}: {} vs random {random}",
            m.recall_at_k
        );
        assert!(m.ndcg_at_k > report.method("random").unwrap().ndcg_at_k);
    }

    // The same likes as a real log naming tracks by path (plus one the catalog lacks).
    let log = dir.path().join("log.csv");
    let mut csv = String::from("user,track,like,timestamp\n");
    for i in &data.interactions {
        let row = set.row_of(TrackId(i.track)).unwrap();
        csv.push_str(&format!(
            "{},{},{},{}\n",
            i.user,
            set.tracks[row].path.display(),
            if i.liked { "like" } else { "dislike" },
            i.timestamp.unwrap()
        ));
    }
    csv.push_str("x,/elsewhere/song.mp3,like,1\n");
    std::fs::write(&log, csv).unwrap();
    let logged = read_interactions_csv(&log, &mut |t| resolve_in_catalog(&store, t)).unwrap();
    assert_eq!(logged.interactions, data.interactions);
    let from_log = compare_on_interactions(&index, &logged, &CompareOptions::default()).unwrap();
    assert!(!from_log.simulated && from_log.data.contains("real interaction log"));
    assert_eq!(from_log.methods, report.methods, "same likes, same scores");
}

//! The listening-experiment analysis of fixed response tables against scipy (`ttest_rel` with
//! its confidence interval, Cohen's d_z, `wilcoxon`): golden values from
//! scripts/golden/experiment.py in tests/golden/experiment.json.

use std::path::PathBuf;

use musicrec_catalog::{
    ExperimentResponse, Rating, Session, SessionId, SessionItem, Study, StudyId, TrackId,
};
use musicrec_study::analyze_study;
use serde_json::Value;

fn golden() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/experiment.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(actual: f64, expected: &Value, what: &str) {
    let expected = expected.as_f64().unwrap();
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: {actual} vs scipy {expected}"
    );
}

/// The study, sessions and round-1 responses of one golden case.
fn rebuild(
    case: &Value,
    k: usize,
    decoys: usize,
) -> (Study, Vec<Session>, Vec<ExperimentResponse>) {
    let study = Study {
        id: StudyId(1),
        name: case["name"].as_str().unwrap().to_owned(),
        methods: vec!["similarity".into(), "genre".into()],
        k,
        decoys,
        simulated: false,
        created_at: 0,
    };
    let (mut sessions, mut responses) = (Vec::new(), Vec::new());
    for (s, p) in case["participants"].as_array().unwrap().iter().enumerate() {
        let id = SessionId(s as i64 + 1);
        let mut items = Vec::new();
        for (i, item) in p["items"].as_array().unwrap().iter().enumerate() {
            let track = TrackId((s * 100 + i) as i64);
            items.push(SessionItem {
                track,
                path: format!("/t/{}.wav", track.0).into(),
                origins: item["origins"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o.as_str().unwrap().to_owned())
                    .collect(),
            });
            let rating = if item["liked"].as_bool().unwrap() {
                Rating::Like
            } else {
                Rating::Dislike
            };
            // A changed mind: the earlier opposite answer must not count.
            responses.push(ExperimentResponse {
                session: id,
                track,
                round: 1,
                rating: if rating == Rating::Like {
                    Rating::Dislike
                } else {
                    Rating::Like
                },
                created_at: 0,
            });
            responses.push(ExperimentResponse {
                session: id,
                track,
                round: 1,
                rating,
                created_at: 1,
            });
            // A second round that the round-1 analysis must ignore.
            responses.push(ExperimentResponse {
                session: id,
                track,
                round: 2,
                rating: Rating::Like,
                created_at: 2,
            });
        }
        sessions.push(Session {
            id,
            study: study.id,
            participant: p["participant"].as_str().unwrap().to_owned(),
            seeds: vec![],
            items,
            simulated: false,
            created_at: 0,
        });
    }
    (study, sessions, responses)
}

#[test]
fn analysis_matches_scipy_on_fixed_tables() {
    let g = golden();
    let (k, decoys) = (
        g["k"].as_u64().unwrap() as usize,
        g["decoys"].as_u64().unwrap() as usize,
    );
    for case in g["cases"].as_array().unwrap() {
        let (study, sessions, responses) = rebuild(case, k, decoys);
        let analysis = analyze_study(&study, &sessions, &responses, 1).unwrap();
        let want = &case["scipy"];
        let name = case["name"].as_str().unwrap();
        assert_eq!(analysis.participants.len(), sessions.len(), "{name}");
        for (p, participant) in analysis.participants.iter().enumerate() {
            for (m, key) in ["rates_similarity", "rates_genre"].iter().enumerate() {
                close(
                    participant.methods[m].like_rate().unwrap(),
                    &want[key][p],
                    &format!("{name} {key}[{p}]"),
                );
            }
            close(
                participant.decoys.like_rate().unwrap(),
                &want["rates_decoy"][p],
                &format!("{name} decoy[{p}]"),
            );
        }
        let c = &analysis.comparisons[0];
        assert_eq!(
            (c.method_a.as_str(), c.method_b.as_str()),
            ("similarity", "genre")
        );
        let t = c.t_test.as_ref().expect("t-test defined");
        close(t.t, &want["t"], "t");
        close(t.df, &want["df"], "df");
        close(t.p_value, &want["p"], "p");
        close(
            t.mean_difference,
            &want["mean_difference"],
            "mean difference",
        );
        close(t.ci_low, &want["ci_low"], "ci low");
        close(t.ci_high, &want["ci_high"], "ci high");
        close(t.cohens_dz, &want["cohens_dz"], "d_z");
        let w = c.wilcoxon.as_ref().expect("wilcoxon defined");
        close(w.statistic, &want["wilcoxon_statistic"], "W");
        close(w.p_value, &want["wilcoxon_p"], "wilcoxon p");

        let md = analysis.to_markdown();
        assert!(md.contains(&format!("t = {:.3}", t.t)), "{md}");
        assert!(md.contains("decoy (floor)"), "{md}");
        assert!(
            !md.contains("simulated"),
            "a real study does not say simulated: {md}"
        );
    }
}

#[test]
fn fewer_than_two_participants_or_round_zero_is_a_clear_error() {
    let g = golden();
    let (study, sessions, responses) = rebuild(&g["cases"][0], 5, 4);
    let err = analyze_study(&study, &sessions[..1], &responses, 1).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("at least two"), "{message}");
    assert!(!message.contains('\n'));
    // Round 3 has no answers at all: every participant is left out, with the reason.
    let err = analyze_study(&study, &sessions, &responses, 3).unwrap_err();
    assert!(err.to_string().contains("round 3"), "{err}");
    assert!(analyze_study(&study, &sessions, &responses, 0).is_err());
}

#[test]
fn participants_who_rated_nothing_of_a_method_are_left_out_and_listed() {
    let g = golden();
    let (study, sessions, mut responses) = rebuild(&g["cases"][1], 5, 4);
    // p00 answers only decoys.
    let p00 = &sessions[0];
    responses.retain(|r| {
        r.session != p00.id || p00.items.iter().any(|i| i.track == r.track && i.is_decoy())
    });
    let analysis = analyze_study(&study, &sessions, &responses, 1).unwrap();
    assert_eq!(analysis.participants.len(), sessions.len() - 1);
    assert_eq!(analysis.excluded.len(), 1);
    assert_eq!(analysis.excluded[0].0, "p00");
    assert!(analysis.to_markdown().contains("Left out: p00"));
}

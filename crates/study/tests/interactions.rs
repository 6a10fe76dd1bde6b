//! Content vs collaborative filtering vs hybrid on a synthetic catalogue: the comparison beats
//! random and says it ran on simulated listeners, a real CSV log is read and named as such, plays
//! teach CF what likes alone do not, and bad logs are refused.

use musicrec_recommend::cf::{CfModel, CfParams, Interaction, Play, play_value};
use musicrec_recommend::synthetic::{SyntheticCatalog, SyntheticSpec};
use musicrec_study::interactions::{
    InteractionSimSpec, read_interactions_csv, simulate_interactions,
};
use musicrec_study::{CompareOptions, InteractionComparison, compare_on_interactions};

fn catalogue() -> SyntheticCatalog {
    SyntheticCatalog::generate(&SyntheticSpec::sized(400, 16, 6))
}

#[test]
fn hybrid_and_cf_beat_random_and_the_report_says_simulated() {
    let index = catalogue().index().unwrap();
    let data = simulate_interactions(&index, &InteractionSimSpec::default()).unwrap();
    let report = compare_on_interactions(&index, &data, &CompareOptions::default()).unwrap();
    assert!(report.simulated);
    let md = report.to_markdown();
    assert!(
        md.contains("SIMULATED") && md.contains("simulated listeners"),
        "{md}"
    );
    let score = |m: &str| report.method(m).unwrap().recall_at_k;
    let random = score("random");
    assert!(random > 0.0 && random < 0.1, "{random}");
    for m in ["content", "cf", "hybrid"] {
        assert!(
            score(m) > 2.0 * random,
            "{m}: {} vs random {random}\n{md}",
            score(m)
        );
    }
    // Half the tastes are invisible to audio: the hybrid must not lose to content alone.
    assert!(score("hybrid") >= score("content"), "{md}");
    // Same seeds, same numbers.
    let again = compare_on_interactions(&index, &data, &CompareOptions::default()).unwrap();
    assert_eq!(again, report);
}

#[test]
fn a_real_log_is_read_resolved_and_named() {
    let index = catalogue().index().unwrap();
    let sim = simulate_interactions(&index, &InteractionSimSpec::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    let mut csv = String::from("user,track,like,timestamp\n");
    for i in &sim.interactions {
        csv.push_str(&format!(
            "{},/music/{}.flac,{},{}\n",
            i.user,
            i.track,
            if i.liked { "1" } else { "-1" },
            i.timestamp.unwrap()
        ));
    }
    csv.push_str("someone,/music/unknown.flac,1,5\n");
    std::fs::write(&path, csv).unwrap();
    let mut resolve = |text: &str| {
        text.strip_prefix("/music/")?
            .strip_suffix(".flac")?
            .parse::<i64>()
            .ok()
            .filter(|id| (0..400).contains(id))
    };
    let data = read_interactions_csv(&path, &mut resolve).unwrap();
    assert_eq!(data.interactions, sim.interactions);
    let report = compare_on_interactions(&index, &data, &CompareOptions::default()).unwrap();
    assert!(!report.simulated);
    assert!(
        report.data.contains("real interaction log"),
        "{}",
        report.data
    );
    assert!(
        report
            .data
            .contains("1 rows with tracks not in the catalog")
    );
    assert!(!report.to_markdown().contains("SIMULATED"));

    for (body, needle) in [
        ("user,track\nu,1\n", "header"),
        ("user,track,like\nu,/music/1.flac,maybe\n", "line 2"),
        (
            "user,track,like,timestamp\nu,/music/1.flac,1,yesterday\n",
            "timestamp",
        ),
        ("user,track,like\n,/music/1.flac,1\n", "empty user"),
        ("user,track,plays\nu,/music/1.flac,many\n", "plays"),
        ("user,track,like,plays\nu,/music/1.flac,,0\n", "neither"),
    ] {
        std::fs::write(&path, body).unwrap();
        let err = read_interactions_csv(&path, &mut resolve)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle) && !err.contains('\n'), "{err}");
    }
    // Nobody with two likes: nothing to hold out.
    std::fs::write(&path, "user,track,like\nu,/music/1.flac,1\n").unwrap();
    let data = read_interactions_csv(&path, &mut resolve).unwrap();
    let err = compare_on_interactions(&index, &data, &CompareOptions::default()).unwrap_err();
    assert!(err.to_string().contains("two or more likes"), "{err}");
}

/// Half of every listener's likes are known only as play counts (a listening log, not ratings):
/// a model that learns from plays ranks the held-out likes better than one that drops them, a
/// play-only log is read as plays, and plays of a disliked track teach nothing.
#[test]
fn plays_teach_collaborative_filtering_what_likes_alone_do_not() {
    let index = catalogue().index().unwrap();
    let sim = simulate_interactions(&index, &InteractionSimSpec::default()).unwrap();
    let (mut with_plays, mut without) = (sim.clone(), sim.clone());
    with_plays.interactions.clear();
    without.interactions.clear();
    let mut per_user = std::collections::HashMap::<String, usize>::new();
    for i in &sim.interactions {
        let n = per_user.entry(i.user.clone()).or_default();
        *n += 1;
        // Every second like of a user becomes plays only; dislikes stay as they are.
        if i.liked && (*n).is_multiple_of(2) {
            with_plays.plays.push(Play {
                user: i.user.clone(),
                track: i.track,
                count: 6,
            });
        } else {
            with_plays.interactions.push(i.clone());
            without.interactions.push(i.clone());
        }
    }
    let options = CompareOptions::default();
    let a = compare_on_interactions(&index, &with_plays, &options).unwrap();
    let b = compare_on_interactions(&index, &without, &options).unwrap();
    assert_eq!(
        (a.held_out_likes, b.held_out_likes),
        (b.held_out_likes, a.held_out_likes)
    );
    assert!(a.train_plays > 0 && b.train_plays == 0);
    let cf = |r: &InteractionComparison| r.method("cf").unwrap().recall_at_k;
    assert!(
        cf(&a) > cf(&b),
        "plays must help CF: {} with vs {} without\n{}\n{}",
        cf(&a),
        cf(&b),
        a.to_markdown(),
        b.to_markdown()
    );

    // A listening log: user,track,plays. One row per play event counts like one row with the sum.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plays.csv");
    std::fs::write(
        &path,
        "user,track,plays\nu,/music/1.flac,2\nu,/music/1.flac,1\nu,/music/2.flac,3\n",
    )
    .unwrap();
    let mut resolve = |text: &str| {
        text.strip_prefix("/music/")?
            .strip_suffix(".flac")?
            .parse::<i64>()
            .ok()
    };
    let log = read_interactions_csv(&path, &mut resolve).unwrap();
    assert!(log.interactions.is_empty());
    assert_eq!(log.plays.len(), 3);
    let summed = CfModel::fit_with_plays(&[], &log.plays, &CfParams::default()).unwrap();
    let single = [
        Play {
            user: "u".into(),
            track: 1,
            count: 3,
        },
        Play {
            user: "u".into(),
            track: 2,
            count: 3,
        },
    ];
    let once = CfModel::fit_with_plays(&[], &single, &CfParams::default()).unwrap();
    assert_eq!(summed.score("u", 1), once.score("u", 1));
    assert!((play_value(15) - 1.0).abs() < 1e-6 && play_value(1) > 0.0);

    // Plays of a track the user disliked are dropped from the fit.
    let dislike = Interaction {
        user: "v".into(),
        track: 7,
        liked: false,
        timestamp: None,
    };
    let plays = [Play {
        user: "v".into(),
        track: 7,
        count: 9,
    }];
    assert!(CfModel::fit_with_plays(&[dislike], &plays, &CfParams::default()).is_none());
}

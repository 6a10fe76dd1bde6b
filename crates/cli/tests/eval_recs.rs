//! `musicrec eval-recs` through the binary on real clips: a tiny CRNN trained on the train split of
//! three GTZAN-mini genres is evaluated on the held-out test split (every metric, method 2's
//! weights, the MusiCNN backbone's embedding, the MFCC baseline, random), and a model evaluated on
//! tracks it trained on is refused.

use std::path::Path;
use std::process::Output;

use musicrec_testkit::data::shared_data;

mod common;
use common::{command, ok_stdout, text};

const GENRES: [&str; 3] = ["classical", "metal", "reggae"];

fn musicrec<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    // The backbone feature cache goes to a folder of the test run, not the user's cache.
    let cache =
        std::env::temp_dir().join(format!("musicrec-eval-recs-test-{}", std::process::id()));
    command()
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("run musicrec")
}

/// `path,label,split` over clips 0..10 of each genre, split by `split_of(id)`.
fn write_manifest(path: &Path, data: &Path, split_of: impl Fn(usize) -> &'static str) {
    let mut csv = String::from("path,label,split\n");
    for genre in GENRES {
        for id in 0..10 {
            let clip = data
                .join("gtzan-mini")
                .join(genre)
                .join(format!("{genre}.{id:05}.wav"));
            csv.push_str(&format!("{},{genre},{}\n", clip.display(), split_of(id)));
        }
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn eval_recs_reports_every_row_on_unseen_tracks_and_refuses_seen_ones() {
    let Some(data) = shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("data.csv");
    // 5 train, 1 validation, 4 test per genre.
    write_manifest(&manifest, &data, |id| match id {
        0..5 => "train",
        5 => "validation",
        _ => "test",
    });
    let cache = dir.path().join("cache");
    let model = dir.path().join("model");
    ok_stdout(
        musicrec(&[
            "dataset".as_ref(),
            "prepare".as_ref(),
            manifest.as_os_str(),
            "--cache".as_ref(),
            cache.as_os_str(),
        ]),
        "dataset prepare",
    );
    ok_stdout(
        musicrec(&[
            "train".as_ref(),
            "--data".as_ref(),
            manifest.as_os_str(),
            "--cache".as_ref(),
            cache.as_os_str(),
            "--out".as_ref(),
            model.as_os_str(),
            "--epochs".as_ref(),
            "2".as_ref(),
            "--width-scale".as_ref(),
            "0.25".as_ref(),
        ]),
        "train",
    );

    let out = dir.path().join("eval");
    let stdout = ok_stdout(
        musicrec(&[
            "eval-recs".as_ref(),
            "--data".as_ref(),
            manifest.as_os_str(),
            "--model".as_ref(),
            model.as_os_str(),
            "-k".as_ref(),
            "3".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        "eval-recs",
    );
    assert!(stdout.contains("its test split is unseen"), "{stdout}");
    assert!(stdout.contains("no artist data"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval-recs.json")).unwrap())
            .unwrap();
    assert_eq!(report["tracks"], 12);
    assert_eq!(report["seen"], false);
    let rows = report["rows"].as_array().unwrap();
    let find = |embedding: &str, method: &str, metric: &str| -> f64 {
        rows.iter()
            .find(|r| r["embedding"] == embedding && r["method"] == method && r["metric"] == metric)
            .unwrap_or_else(|| panic!("no row {embedding} / {method} / {metric}: {rows:?}"))
            ["precision"]
            .as_f64()
            .unwrap()
    };
    for metric in ["cosine", "euclidean", "pnorm:1"] {
        for method in ["method 1", "method 2 (w=0.1)", "method 2 (w=0.9)"] {
            let p = find("learned", method, metric);
            assert!((0.0..=1.0).contains(&p), "{method} {metric}: {p}");
        }
        // Precision@3 over 12 tracks is a multiple of 1/36.
        for embedding in ["mfcc", "musicnn-msd"] {
            let p = find(embedding, "method 1", metric);
            assert!(((p * 36.0) - (p * 36.0).round()).abs() < 1e-9, "{p}");
        }
    }
    // Each test track has 3 same-genre tracks among the 11 others.
    let expected = find("random", "expected", "-");
    assert!((expected - 3.0 / 11.0).abs() < 1e-9, "{expected}");
    // Classical, metal and reggae differ in timbre: 20 MFCCs find that well above chance.
    assert!(
        find("mfcc", "method 1", "cosine") > expected + 0.15,
        "{stdout}"
    );
    // MusiCNN's embedding, never trained on GTZAN, tells them apart too.
    assert!(
        find("musicnn-msd", "method 1", "cosine") > expected + 0.3,
        "{stdout}"
    );
    // The built-in genre head trained on some of these clips: no method 2 row for MusiCNN.
    assert!(
        rows.iter().all(|r| r["embedding"] != "musicnn-msd + head"),
        "{stdout}"
    );
    // Five-seed queries: seeds from the 6 train/validation clips per genre.
    let five = report["five_seed_rows"].as_array().unwrap();
    assert_eq!(five.len(), 8, "{five:?}");
    assert!(five.iter().all(|r| r["queries"] == 60));
    assert!(
        std::fs::read_to_string(out.join("eval-recs.md"))
            .unwrap()
            .contains("| mfcc |")
    );

    // The training split of the same manifest was seen: refused, one line, unless --allow-seen.
    let refused = musicrec(&[
        "eval-recs".as_ref(),
        "--data".as_ref(),
        manifest.as_os_str(),
        "--model".as_ref(),
        model.as_os_str(),
        "--split".as_ref(),
        "train".as_ref(),
    ]);
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(
        err.contains("was trained on 15 of the 15 evaluated tracks"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // Another manifest that puts training clips into its test split: found by the recorded
    // training manifest, refused; with --allow-seen, measured and marked.
    let other = dir.path().join("other.csv");
    write_manifest(&other, &data, |id| if id < 2 { "test" } else { "train" });
    let refused = musicrec(&[
        "eval-recs".as_ref(),
        "--data".as_ref(),
        other.as_os_str(),
        "--model".as_ref(),
        model.as_os_str(),
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("was trained on 6 of the 6 evaluated tracks"),
        "{}",
        text(&refused.stderr)
    );
    let marked = ok_stdout(
        musicrec(&[
            "eval-recs".as_ref(),
            "--data".as_ref(),
            other.as_os_str(),
            "--model".as_ref(),
            model.as_os_str(),
            "--allow-seen".as_ref(),
            "--backbone".as_ref(),
            "none".as_ref(),
            "-k".as_ref(),
            "1".as_ref(),
        ]),
        "eval-recs --allow-seen",
    );
    assert!(marked.contains("| learned SEEN | method 1 |"), "{marked}");
}

/// `eval-recs --interactions`: listeners in a log like the clips of one genre each (a few only as
/// play counts); on a catalog of real clips scanned with the built-in CNN, content similarity
/// finds the held-out likes far above the exact random baseline, the report names the log, and
/// `simulated` says SIMULATED. A missing log and a log without usable columns are refused.
#[test]
fn eval_recs_on_interactions_names_its_data_and_content_beats_random() {
    let Some(data) = shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    for genre in GENRES {
        let to = lib.join(genre);
        std::fs::create_dir_all(&to).unwrap();
        for id in 0..10 {
            let name = format!("{genre}.{id:05}.wav");
            std::fs::copy(
                data.join("gtzan-mini").join(genre).join(&name),
                to.join(&name),
            )
            .unwrap();
        }
    }
    let db = dir.path().join("lib.db");
    ok_stdout(
        musicrec(&[
            "scan".as_ref(),
            lib.as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
            // The catalog, not the embedding, is under test here: the cheap CNN.
            "--model".as_ref(),
            "cnn".as_ref(),
        ]),
        "scan",
    );
    // 4 listeners per genre; each likes 6 of its genre's 10 clips (timestamped: the latest two are
    // held out) and has played two more of them (plays only).
    let lib = lib.canonicalize().unwrap();
    let mut log = String::from("user,track,like,plays,timestamp\n");
    for (g, genre) in GENRES.iter().enumerate() {
        for u in 0..4 {
            let user = format!("{genre}-fan-{u}");
            for step in 0..8 {
                let id = (u * 3 + step) % 10;
                let path = lib.join(genre).join(format!("{genre}.{id:05}.wav"));
                let (like, plays) = if step < 6 { ("1", "") } else { ("", "4") };
                log.push_str(&format!(
                    "{user},{},{like},{plays},{}\n",
                    path.display(),
                    g * 100 + step
                ));
            }
        }
    }
    log.push_str("someone,/no/such/file.wav,1,,1\n");
    let log_path = dir.path().join("log.csv");
    std::fs::write(&log_path, log).unwrap();
    let out = dir.path().join("report");
    let stdout = ok_stdout(
        musicrec(&[
            "eval-recs".as_ref(),
            "--interactions".as_ref(),
            log_path.as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
            "-k".as_ref(),
            "5".as_ref(),
            "--holdout".as_ref(),
            "0.34".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        "eval-recs --interactions",
    );
    assert!(stdout.contains("real interaction log"), "{stdout}");
    assert!(
        stdout.contains("1 rows with tracks not in the catalog"),
        "{stdout}"
    );
    assert!(!stdout.contains("SIMULATED"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval-interactions.json")).unwrap())
            .unwrap();
    let comparison = &report["comparison"];
    assert_eq!(comparison["users_evaluated"], 12, "{comparison}");
    assert_eq!(comparison["held_out_likes"], 24, "{comparison}");
    assert_eq!(comparison["train_plays"], 24, "{comparison}");
    let recall = |m: &str| -> f64 {
        comparison["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["method"] == m)
            .unwrap()["recall_at_k"]
            .as_f64()
            .unwrap()
    };
    // Each listener's 2 held-out likes are among 30 - 4 - 2 = 24 candidates: random gets 5/24.
    assert!((recall("random") - 5.0 / 24.0).abs() < 1e-9, "{stdout}");
    assert!(recall("content") > 2.0 * recall("random"), "{stdout}");
    for m in ["cf", "hybrid"] {
        assert!((0.0..=1.0).contains(&recall(m)), "{m}: {stdout}");
    }

    let simulated = ok_stdout(
        musicrec(&[
            "eval-recs".as_ref(),
            "--interactions".as_ref(),
            "simulated".as_ref(),
            "--listeners".as_ref(),
            "20".as_ref(),
            "--db".as_ref(),
            db.as_os_str(),
        ]),
        "eval-recs --interactions simulated",
    );
    assert!(simulated.contains("SIMULATED"), "{simulated}");
    assert!(
        simulated.contains("simulated listeners (20 users"),
        "{simulated}"
    );

    for (arg, needle) in [
        (dir.path().join("missing.csv"), "no such file"),
        (dir.path().join("bad.csv"), "like and/or plays"),
    ] {
        std::fs::write(dir.path().join("bad.csv"), "user,track\nu,1\n").unwrap();
        let failed = musicrec(&[
            "eval-recs".as_ref(),
            "--interactions".as_ref(),
            arg.as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
        ]);
        assert!(!failed.status.success());
        let err = text(&failed.stderr);
        assert!(err.contains(needle), "{err}");
    }
}

/// On clips that neither the built-in CNN nor the built-in genre head trained on (the test split
/// of their manifest), MusiCNN gets a method 2 row: its embedding plus the head's genres.
#[test]
fn musicnn_with_the_built_in_head_gets_a_method_2_row_on_unseen_clips() {
    let Some(data) = shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let built_in = include_str!("../../../models/default/data.csv");
    let mut csv = String::from("path,label,split\n");
    for line in built_in.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (label, split) = (fields[1], fields[4]);
        if split == "test" && GENRES.contains(&label) {
            let name = Path::new(fields[0]).file_name().unwrap().to_str().unwrap();
            let clip = data.join("gtzan-mini").join(label).join(name);
            csv.push_str(&format!("{},{label},test\n", clip.display()));
        }
    }
    let manifest = dir.path().join("unseen.csv");
    std::fs::write(&manifest, csv).unwrap();
    let out = dir.path().join("eval");
    let stdout = ok_stdout(
        musicrec(&[
            "eval-recs".as_ref(),
            "--data".as_ref(),
            manifest.as_os_str(),
            "-k".as_ref(),
            "3".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        "eval-recs",
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval-recs.json")).unwrap())
            .unwrap();
    assert_eq!(report["seen"], false, "{stdout}");
    let rows = report["rows"].as_array().unwrap();
    let tracks = report["tracks"].as_u64().unwrap() as f64;
    assert!(tracks >= 9.0, "{stdout}");
    for metric in ["cosine", "euclidean", "pnorm:1"] {
        let head = rows
            .iter()
            .find(|r| r["embedding"] == "musicnn-msd + head" && r["metric"] == metric)
            .unwrap_or_else(|| panic!("no head row for {metric}: {stdout}"));
        assert_eq!(head["method"], "method 2 (w=0.2, default)");
        let p = head["precision"].as_f64().unwrap();
        // Precision@3 over the tracks is a multiple of 1 / (3 x tracks), and far above chance.
        let scaled = p * 3.0 * tracks;
        assert!((scaled - scaled.round()).abs() < 1e-6, "{p}");
        assert!(p > 0.6, "{metric}: {p}\n{stdout}");
    }
}

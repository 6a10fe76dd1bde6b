//! The built-in model end to end through the binary on real clips: `quickstart` on a GTZAN-mini
//! folder (scan, five random seeds, both methods, a rerun that is incremental and picks the same
//! seeds), and `scan` / `predict` / `recommend` without `--model`.

use musicrec_testkit::data::shared_data;

mod common;
use common::{musicrec, ok_stdout};

#[test]
fn quickstart_scans_with_the_built_in_model_and_recommends_with_both_methods() {
    let Some(data) = shared_data() else {
        return;
    };
    let folder = data.join("gtzan-mini").join("reggae");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.db");
    let run = || {
        musicrec(&[
            "quickstart".as_ref(),
            folder.as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
            "--random-seed".as_ref(),
            "3".as_ref(),
            "-k".as_ref(),
            "3".as_ref(),
        ])
    };
    let first = ok_stdout(run(), "quickstart");
    assert!(first.contains("10 files: 10 added"), "{first}");
    assert!(
        first.contains("with musicnn-msd + the built-in genre head (musicnn-msd-"),
        "{first}"
    );
    assert!(
        first.contains("5 seed songs picked at random (--random-seed 3 picks them again)"),
        "{first}"
    );
    assert!(
        first.contains("== method 1") && first.contains("== method 2"),
        "{first}"
    );
    assert!(first.contains("musicrec serve --db"), "{first}");
    // Five seed lines, then three ranked songs under each method.
    let seeds: Vec<&str> = first
        .lines()
        .skip_while(|l| !l.contains("seed songs picked"))
        .skip(1)
        .take_while(|l| l.starts_with("   "))
        .collect();
    assert_eq!(seeds.len(), 5, "{first}");
    let ranked = first
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            ["1  ", "2  ", "3  "].iter().any(|p| t.starts_with(p)) && l.contains("reggae.")
        })
        .count();
    assert_eq!(ranked, 6, "{first}");
    // No seed comes back as a recommendation.
    for seed in &seeds {
        let path = seed
            .split_whitespace()
            .find(|w| w.ends_with(".wav"))
            .unwrap();
        assert_eq!(
            first.matches(path).count(),
            1,
            "{path} recommended back\n{first}"
        );
    }

    let second = ok_stdout(run(), "quickstart again");
    assert!(
        second.contains("10 files: 0 added, 0 updated, 0 moved, 10 unchanged"),
        "{second}"
    );
    let seeds_again: Vec<&str> = second
        .lines()
        .skip_while(|l| !l.contains("seed songs picked"))
        .skip(1)
        .take_while(|l| l.starts_with("   "))
        .collect();
    assert_eq!(
        seeds, seeds_again,
        "the same --random-seed picks the same seeds"
    );
}

#[test]
fn scan_predict_and_recommend_default_to_the_built_in_model() {
    let Some(data) = shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.db");
    let folder = data.join("gtzan-mini").join("classical");
    let scan = ok_stdout(
        musicrec(&[
            "scan".as_ref(),
            folder.as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
        ]),
        "scan without --model",
    );
    assert!(scan.contains("10 files: 10 added"), "{scan}");
    assert!(scan.contains("model musicnn-msd-"), "{scan}");

    let clip = folder.join("classical.00000.wav");
    let predict = ok_stdout(
        musicrec(&[
            "predict".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            clip.as_os_str(),
        ]),
        "predict without --model",
    );
    let json: serde_json::Value = serde_json::from_str(&predict).unwrap();
    let probabilities = json[0]["probabilities"].as_object().unwrap();
    assert_eq!(probabilities.len(), 10, "GTZAN's ten genres");
    // The built-in head learned GTZAN's genres: its first classical clip is classical.
    assert_eq!(json[0]["top_genre"], "classical", "{predict}");

    let recommend = ok_stdout(
        musicrec(&[
            "recommend".as_ref(),
            "--db".as_ref(),
            db.as_os_str(),
            "--seed".as_ref(),
            clip.as_os_str(),
            "-k".as_ref(),
            "3".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
        ]),
        "recommend without --model",
    );
    let json: serde_json::Value = serde_json::from_str(&recommend).unwrap();
    assert_eq!(json["recommendations"].as_array().unwrap().len(), 3);
}

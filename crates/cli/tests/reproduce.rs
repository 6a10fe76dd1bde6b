//! `musicrec reproduce` through the real binary on three GTZAN-mini genres (a folder, so the
//! manifest is built here): killed while training, rerun to completion (training resumes from its
//! checkpoint; the MusiCNN head trained beside them), then rerun again (every stage reused, no
//! model file rewritten); the report is one self-contained HTML page with the table and inline
//! plots; changed settings are refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use musicrec_testkit::data::shared_data;

mod common;
use common::{BIN, ok, text};

/// The CI-sized settings: three genres, split 4:2:4, two epochs of eighth-width models on
/// 128-frame windows.
fn reproduce_args(data: &Path, out: &Path, epochs: &str) -> Vec<String> {
    [
        "reproduce",
        "--data",
        data.join("gtzan-mini").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--genres",
        "classical,metal,reggae",
        "--split-ratio",
        "4:2:4",
        "--epochs",
        epochs,
        "--width",
        "0.125",
        "--frames",
        "128",
        "--batch",
        "8",
        "--bootstrap",
        "100",
        "--seed-sets",
        "2",
        "--noise",
        "10",
        "--seed",
        "2",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn killed_reproduce_resumes_then_reuses_every_stage_and_reports() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("paper");
    let args = reproduce_args(&data, &out, "3");

    // Killed (SIGKILL) as soon as the CNN's first checkpoint is complete.
    let mut child = Command::new(BIN)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let latest = out.join("models/cnn/checkpoint/latest");
    let started = Instant::now();
    while !latest.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "reproduce ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint after 300 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(out.join("state/features.json").is_file());
    assert!(!out.join("state/train-cnn.json").exists());

    let resumed = ok(
        Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
        "resumed reproduce",
    );
    let stderr = text(&resumed.stderr);
    for line in [
        "[manifest] reused",
        "[features] reused",
        "[train-cnn] running",
        "resuming",
    ] {
        assert!(stderr.contains(line), "'{line}' not in:\n{stderr}");
    }
    let stamp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("state/train-cnn.json")).unwrap())
            .unwrap();
    assert!(
        stamp["detail"]["resumed_after_epoch"].as_u64().unwrap() >= 1,
        "{stamp}"
    );
    let stdout = text(&resumed.stdout);
    assert!(
        stdout.contains("| clean |") && stdout.contains("| noise 10 dB SNR |"),
        "{stdout}"
    );

    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for needle in [
        "<table",
        "cnn P",
        "crnn AUC",
        "musicnn-head AUC",
        "frozen MusiCNN backbone",
        "data:image/png;base64,",
        "small data",
        "Significance",
        "Robustness",
        "method 1: similarity",
        "method 2: similarity + genre",
        "Seed set 2",
        "gtzan-mini",
    ] {
        assert!(report.contains(needle), "report.html lacks {needle}");
    }
    // Self-contained: every image is inline, and nothing is loaded from elsewhere.
    let sources: Vec<&str> = report.split("src=\"").skip(1).collect();
    assert!(!sources.is_empty());
    assert!(
        sources
            .iter()
            .all(|s| s.starts_with("data:image/png;base64,")),
        "report.html links a file instead of inlining it"
    );
    assert!(!report.contains("href=\"http") && !report.contains("<script"));
    assert_eq!(report.matches("<h1>").count(), 1, "one title");
    assert!(report.contains("Significant at 0.05"), "the verdict column");
    for stage in [
        "manifest",
        "features",
        "train-cnn",
        "train-crnn",
        "train-musicnn-head",
        "eval",
        "catalog",
        "recommend",
    ] {
        assert!(
            out.join(format!("state/{stage}.json")).is_file(),
            "no stamp for {stage}"
        );
    }

    // Everything finished: a rerun reuses every stage and rewrites no model or stamp.
    let head = out.join("models/musicnn-head/weights.safetensors");
    let watched: Vec<PathBuf> = ["cnn", "crnn"]
        .iter()
        .flat_map(|m| {
            let dir = out.join("models").join(m);
            [
                dir.join("weights.safetensors"),
                dir.join("checkpoint/latest"),
                dir.join("MODEL.md"),
            ]
        })
        .chain(
            [
                "state/train-cnn.json",
                "state/train-musicnn-head.json",
                "state/eval.json",
                "catalog/catalog.db",
            ]
            .map(|p| out.join(p)),
        )
        .chain([head])
        .collect();
    let before: Vec<(SystemTime, Vec<u8>)> = watched
        .iter()
        .map(|p| (modified(p), std::fs::read(p).unwrap()))
        .collect();
    let again = ok(
        Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
        "third reproduce",
    );
    let stderr = text(&again.stderr);
    for stage in [
        "manifest",
        "features",
        "train-cnn",
        "train-crnn",
        "train-musicnn-head",
        "eval",
        "catalog",
        "recommend",
    ] {
        assert!(
            stderr.contains(&format!("[{stage}] reused")),
            "{stage} not reused:\n{stderr}"
        );
    }
    assert!(!stderr.contains("running"), "{stderr}");
    for (path, (time, bytes)) in watched.iter().zip(&before) {
        assert_eq!(modified(path), *time, "{} was rewritten", path.display());
        assert_eq!(
            &std::fs::read(path).unwrap(),
            bytes,
            "{} changed",
            path.display()
        );
    }
    assert!(
        std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("reused")
    );

    // Other settings for the same folder are refused before any work.
    let changed = Command::new(BIN)
        .args(reproduce_args(&data, &out, "4"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!changed.status.success());
    let stderr = text(&changed.stderr);
    assert!(
        stderr.lines().filter(|l| l.starts_with("error:")).count() == 1
            && stderr.contains("epochs: 3 before, 4 now"),
        "{stderr}"
    );
}

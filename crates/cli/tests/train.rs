//! `musicrec dataset gtzan -> dataset prepare -> train (killed, then resumed) -> predict` end to end
//! through the real binary on GTZAN-mini clips, and one-line errors for bad input.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use musicrec_testkit::data::shared_data;

mod common;
use common::{BIN, assert_ok, musicrec, one_line_error, s, text};

#[test]
fn gtzan_to_prediction_with_a_killed_and_resumed_training() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("gtzan.csv");
    let cache = tmp.path().join("cache");
    let model = tmp.path().join("model");
    let gtzan = data.join("gtzan-mini");

    assert_ok(
        &musicrec(&[
            "dataset",
            "gtzan",
            s(&gtzan),
            "--out",
            s(&manifest),
            "--genres",
            "classical,metal",
            "--split-ratio",
            "6:2:2",
            "--seed",
            "1",
            "--no-screen",
        ]),
        "musicrec",
    );
    assert_ok(
        &musicrec(&[
            "dataset",
            "prepare",
            s(&manifest),
            "--cache",
            s(&cache),
            "--preset",
            "choi",
        ]),
        "musicrec",
    );

    let train_args = |epochs: &str| -> Vec<String> {
        [
            "train",
            "--data",
            s(&manifest),
            "--cache",
            s(&cache),
            "--arch",
            "cnn",
            "--out",
            s(&model),
            "--epochs",
            epochs,
            "--patience",
            "50",
            "--width-scale",
            "0.125",
            "--frames",
            "128",
            "--train-hop",
            "128",
            "--batch",
            "8",
            "--seed",
            "5",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };

    // Killed (SIGKILL) as soon as the first checkpoint is complete.
    let mut child = Command::new(BIN)
        .args(train_args("50"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let latest = model.join("checkpoint/latest");
    let started = Instant::now();
    while !latest.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "training ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint after 300 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !model.join("MODEL.md").exists(),
        "the killed run finished anyway"
    );

    // The same command again is refused; with --resume it continues to 3 epochs.
    one_line_error(
        &musicrec(
            &train_args("3")
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
        &["--resume"],
    );
    let mut resume = train_args("3");
    resume.push("--resume".into());
    let resumed = musicrec(&resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert_ok(&resumed, "musicrec");
    let stderr = text(&resumed.stderr);
    assert!(
        stderr.contains("resuming") && stderr.contains("after epoch"),
        "{stderr}"
    );
    assert!(stderr.contains("epoch 3/3: train loss"), "{stderr}");
    assert!(
        text(&resumed.stdout).contains("3 epochs"),
        "{}",
        text(&resumed.stdout)
    );

    let metrics = std::fs::read_to_string(model.join("metrics.csv")).unwrap();
    let epochs: Vec<&str> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(epochs, ["1", "2", "3"], "{metrics}");
    for file in [
        "weights.safetensors",
        "config.json",
        "loss.png",
        "accuracy.png",
    ] {
        assert!(model.join(file).is_file(), "{file} missing");
    }
    let card = std::fs::read_to_string(model.join("MODEL.md")).unwrap();
    assert!(
        card.contains("--resume") && card.contains("train --data"),
        "command line missing: {card}"
    );
    assert!(
        card.contains("| classical | 6 | 2 | 2 |") && card.contains("test loss"),
        "{card}"
    );

    // Predict: two real clips and a missing file (reported, the others still predicted).
    let classical = gtzan.join("classical/classical.00009.wav");
    let metal = gtzan.join("metal/metal.00009.wav");
    let missing = tmp.path().join("missing.wav");
    let out = musicrec(&[
        "predict",
        "--model",
        s(&model),
        "--format",
        "json",
        s(&classical),
        s(&metal),
        s(&missing),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("missing.wav"),
        "{}",
        text(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, file) in rows.iter().zip([&classical, &metal]) {
        assert_eq!(row["path"], s(file));
        let top = row["top_genre"].as_str().unwrap();
        let p = &row["probabilities"];
        let (pc, pm) = (
            p["classical"].as_f64().unwrap(),
            p["metal"].as_f64().unwrap(),
        );
        assert!(
            (0.0..=1.0).contains(&pc) && (0.0..=1.0).contains(&pm),
            "{row}"
        );
        assert_eq!(top, if pc >= pm { "classical" } else { "metal" }, "{row}");
        assert!(row["windows"].as_u64().unwrap() >= 5, "{row}");
    }

    let table = musicrec(&["predict", "--model", s(&model), s(&classical)]);
    assert_ok(&table, "musicrec");
    let stdout = text(&table.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].contains("classical") && lines[0].contains("metal"),
        "{stdout}"
    );
    assert!(lines[1].ends_with(s(&classical)), "{stdout}");
}

#[test]
fn bad_input_is_one_clear_line() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("m.csv");
    let mut csv = String::from("path,label,split\n");
    for (genre, split) in [
        ("jazz", "train"),
        ("rock", "train"),
        ("jazz", "validation"),
        ("rock", "validation"),
    ] {
        let id = if split == "train" { 0 } else { 1 };
        csv.push_str(&format!(
            "{},{genre},{split}\n",
            data.join(format!("gtzan-mini/{genre}/{genre}.{id:05}.wav"))
                .display()
        ));
    }
    std::fs::write(&manifest, csv).unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("model");
    let base = [
        "train",
        "--data",
        s(&manifest),
        "--cache",
        s(&cache),
        "--out",
        s(&out),
    ];

    let mut args = base.to_vec();
    args.extend(["--preset", "librosa"]);
    one_line_error(
        &musicrec(&args),
        &[
            "4 of 4 clips have no log-mel for preset librosa",
            &format!("musicrec dataset prepare {} --cache", manifest.display()),
            "--preset librosa",
        ],
    );
    #[cfg(not(feature = "gpu"))]
    {
        let mut args = base.to_vec();
        args.extend(["--device", "cuda"]);
        one_line_error(&musicrec(&args), &["without GPU support", "--features gpu"]);
    }
    let mut args = base.to_vec();
    args.extend(["--width-scale", "0"]);
    one_line_error(&musicrec(&args), &["--width-scale"]);
    assert!(!out.join("config.json").exists());

    one_line_error(
        &musicrec(&["predict", "--model", s(&out), s(&manifest)]),
        &["no such directory"],
    );
    std::fs::create_dir_all(&out).unwrap();
    one_line_error(
        &musicrec(&["predict", "--model", s(&out), s(&manifest)]),
        &["not a musicrec model directory"],
    );
}

//! `musicrec eval` through the real binary: two tiny models (a CNN and a CRNN trained for a few
//! seconds on two GTZAN-mini genres) compared clean and under noise; every number in
//! `metrics.json` recomputed by hand from `predictions.csv`; clear errors and warnings for models
//! that cannot be compared and for test tracks the models were trained on.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use musicrec_eval::predictions::PredictionTable;
use musicrec_testkit::data::shared_data;
use serde_json::Value;

mod common;
use common::{musicrec, ok, one_line_error, s, text};

const GENRES: [&str; 2] = ["classical", "metal"];

/// Two genres x 10 clips split 4/2/4, its cache, and a CNN and a CRNN trained on it.
struct Fixture {
    manifest: PathBuf,
    cache: PathBuf,
    cnn: PathBuf,
    crnn: PathBuf,
    dir: tempfile::TempDir,
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let data = shared_data()?;
            let dir = tempfile::tempdir().unwrap();
            let manifest = dir.path().join("manifest.csv");
            let mut csv = String::from("path,label,split\n");
            for genre in GENRES {
                for id in 0..10 {
                    let split = match id {
                        0..4 => "train",
                        4..6 => "validation",
                        _ => "test",
                    };
                    let path = data
                        .join("gtzan-mini")
                        .join(genre)
                        .join(format!("{genre}.{id:05}.wav"));
                    csv.push_str(&format!("{},{genre},{split}\n", path.display()));
                }
            }
            std::fs::write(&manifest, csv).unwrap();
            let cache = dir.path().join("cache");
            ok(
                musicrec(&[
                    "dataset",
                    "prepare",
                    s(&manifest),
                    "--cache",
                    s(&cache),
                    "--preset",
                    "choi",
                ]),
                "dataset prepare",
            );
            let train = |arch: &str| {
                let out = dir.path().join(arch);
                ok(
                    musicrec(&[
                        "train",
                        "--data",
                        s(&manifest),
                        "--cache",
                        s(&cache),
                        "--arch",
                        arch,
                        "--out",
                        s(&out),
                        "--epochs",
                        "2",
                        "--width-scale",
                        "0.125",
                        "--frames",
                        "128",
                        "--train-hop",
                        "128",
                        "--batch",
                        "8",
                        "--seed",
                        "3",
                    ]),
                    "train",
                );
                out
            };
            let (cnn, crnn) = (train("cnn"), train("crnn"));
            Some(Fixture {
                manifest,
                cache,
                cnn,
                crnn,
                dir,
            })
        })
        .as_ref()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// AUC as the Mann-Whitney statistic: P(score of a positive > score of a negative), ties 1/2.
fn mann_whitney_auc(scores: &[f32], positive: &[bool]) -> Option<f64> {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (&si, _) in scores.iter().zip(positive).filter(|(_, p)| **p) {
        for (&sj, _) in scores.iter().zip(positive).filter(|(_, p)| !**p) {
            pairs += 1.0;
            wins += if si > sj {
                1.0
            } else if si == sj {
                0.5
            } else {
                0.0
            };
        }
    }
    (pairs > 0.0).then(|| wins / pairs)
}

fn close(a: f64, b: &Value, what: &str) {
    let b = b
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {b} is not a number"));
    assert!(
        (a - b).abs() < 1e-9,
        "{what}: recomputed {a}, metrics.json {b}"
    );
}

#[test]
fn two_models_compared_clean_and_with_noise_and_every_number_recomputes() {
    let Some(f) = fixture() else { return };
    let out = f.dir.path().join("eval");
    let run = ok(
        musicrec(&[
            "eval",
            "--model",
            s(&f.cnn),
            "--model",
            s(&f.crnn),
            "--data",
            s(&f.manifest),
            "--cache",
            s(&f.cache),
            "--out",
            s(&out),
            "--bootstrap",
            "200",
            "--seed",
            "1",
            "--noise",
            "0",
            "--codec",
            "mp3:32k",
        ]),
        "eval",
    );
    let stdout = text(&run.stdout);
    assert!(stdout.contains("noise 0 dB SNR"), "{stdout}");

    for file in [
        "metrics.json",
        "predictions.csv",
        "metrics.md",
        "metrics.html",
        "report.html",
        "roc_classical.png",
        "roc_metal.png",
        "f1_bars.png",
        "auc_bars.png",
        "confusion_cnn.png",
        "confusion_crnn.png",
        "robustness.md",
        "conditions/noise_0db/predictions.csv",
        "conditions/noise_0db/metrics.json",
        "conditions/noise_0db/f1_bars.png",
        "conditions/mp3_32k/predictions.csv",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let metrics = read_json(&out.join("metrics.json"));
    let genres: Vec<String> = GENRES.map(String::from).to_vec();
    assert_eq!(metrics["genres"], serde_json::json!(genres));
    let table = PredictionTable::read(&out.join("predictions.csv"), &genres).unwrap();
    assert_eq!(table.paths.len(), 8);
    assert_eq!(
        table
            .models
            .iter()
            .map(|m| m.0.as_str())
            .collect::<Vec<_>>(),
        ["cnn", "crnn"]
    );
    assert_eq!(metrics["data"]["n_tracks"], 8);

    for (m, (name, rows)) in table.models.iter().enumerate() {
        let model = &metrics["models"][m];
        assert_eq!(model["model"], name.as_str());
        let argmax: Vec<usize> = rows
            .iter()
            .map(|r| (1..r.len()).fold(0, |b, k| if r[k] > r[b] { k } else { b }))
            .collect();
        let correct = argmax
            .iter()
            .zip(&table.y_true)
            .filter(|(a, b)| a == b)
            .count();
        close(correct as f64 / 8.0, &model["accuracy"], "accuracy");
        let mut confusion = vec![vec![0u64; 2]; 2];
        for (&truth, &pred) in table.y_true.iter().zip(&argmax) {
            confusion[truth][pred] += 1;
        }
        assert_eq!(model["confusion_matrix"], serde_json::json!(confusion));
        let mut f1s = Vec::new();
        for (g, genre) in genres.iter().enumerate() {
            let r = &model["genres"][g];
            assert_eq!(r["genre"], genre.as_str());
            let positive: Vec<bool> = table.y_true.iter().map(|&y| y == g).collect();
            let predicted: Vec<bool> = rows.iter().map(|row| f64::from(row[g]) >= 0.5).collect();
            let tp = positive
                .iter()
                .zip(&predicted)
                .filter(|(a, b)| **a && **b)
                .count() as f64;
            let n_pred = predicted.iter().filter(|&&p| p).count() as f64;
            let n_pos = positive.iter().filter(|&&p| p).count() as f64;
            assert_eq!(r["support"].as_f64().unwrap(), n_pos);
            let precision = if n_pred > 0.0 { tp / n_pred } else { 0.0 };
            let recall = tp / n_pos;
            let f1 = if n_pos + n_pred > 0.0 {
                2.0 * tp / (n_pos + n_pred)
            } else {
                0.0
            };
            close(
                precision,
                &r["precision"],
                &format!("{name} {genre} precision"),
            );
            close(recall, &r["recall"], &format!("{name} {genre} recall"));
            close(f1, &r["f1"], &format!("{name} {genre} f1"));
            f1s.push(f1);
            let scores: Vec<f32> = rows.iter().map(|row| row[g]).collect();
            let auc = mann_whitney_auc(&scores, &positive).unwrap();
            close(auc, &r["auc"], &format!("{name} {genre} auc"));
            let ci = &r["f1_ci"];
            assert!(ci["low"].as_f64().unwrap() <= ci["high"].as_f64().unwrap());
        }
        close(
            (f1s[0] + f1s[1]) / 2.0,
            &model["macro_avg"]["f1"],
            "macro f1",
        );
        assert!(model["micro_avg"]["f1"].is_number());
    }
    let comparison = &metrics["comparisons"][0];
    assert_eq!(comparison["model_a"], "cnn");
    assert_eq!(comparison["model_b"], "crnn");
    assert!(comparison["accuracy"]["exact_p_value"].as_f64().unwrap() <= 1.0);
    assert_eq!(comparison["genres"].as_array().unwrap().len(), 2);
    for source in metrics["model_dirs"].as_array().unwrap() {
        let check = source["leakage_check"].as_str().unwrap();
        assert!(check.starts_with("ok:"), "{check}");
    }

    // The noise condition: its own report, different scores, a row in the robustness summary.
    let noisy = &metrics["conditions"][0];
    assert_eq!(noisy["condition"]["kind"], "noise");
    assert_eq!(noisy["condition"]["snr_db"], 0.0);
    for m in 0..2 {
        assert!(noisy["report"]["models"][m]["accuracy"].is_number());
        assert!(noisy["report"]["models"][m]["macro_avg"]["auc"].is_number());
    }
    let noisy_table =
        PredictionTable::read(&out.join("conditions/noise_0db/predictions.csv"), &genres).unwrap();
    assert_eq!(noisy_table.paths, table.paths);
    assert_ne!(noisy_table.models, table.models, "noise changed no score");
    let codec = &metrics["conditions"][1];
    assert_eq!(codec["condition"]["kind"], "codec");
    assert_eq!(codec["label"], "mp3 32k");
    let robustness = metrics["robustness"].as_array().unwrap();
    assert_eq!(robustness.len(), 3);
    assert_eq!(robustness[1]["condition"], "noise 0 dB SNR");
    assert!(robustness[1]["models"][1]["macro_auc"].is_number());

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert!(html.contains("Significance") && html.contains("Robustness"));
    let md = std::fs::read_to_string(out.join("metrics.md")).unwrap();
    assert!(
        md.contains("| classical |") && md.contains("Significant at 0.05"),
        "{md}"
    );

    // Same seed, same noise: a second run gives byte-identical predictions.
    let again = f.dir.path().join("eval-again");
    ok(
        musicrec(&[
            "eval",
            "--model",
            s(&f.cnn),
            "--model",
            s(&f.crnn),
            "--data",
            s(&f.manifest),
            "--out",
            s(&again),
            "--bootstrap",
            "0",
            "--seed",
            "1",
            "--noise",
            "0",
        ]),
        "eval without cache",
    );
    for file in ["predictions.csv", "conditions/noise_0db/predictions.csv"] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(again.join(file)).unwrap(),
            "{file}: cached and recomputed features, or the seeded noise, differ"
        );
    }
}

#[test]
fn models_with_other_genres_and_manifests_without_tests_are_refused() {
    let Some(f) = fixture() else { return };
    let renamed = f.dir.path().join("renamed");
    std::fs::create_dir_all(&renamed).unwrap();
    for file in ["config.json", "weights.safetensors"] {
        std::fs::copy(f.cnn.join(file), renamed.join(file)).unwrap();
    }
    let config = std::fs::read_to_string(renamed.join("config.json")).unwrap();
    std::fs::write(
        renamed.join("config.json"),
        config.replace("\"metal\"", "\"rock\""),
    )
    .unwrap();
    let out = f.dir.path().join("refused");
    one_line_error(
        &musicrec(&[
            "eval",
            "--model",
            s(&f.cnn),
            "--model",
            s(&renamed),
            "--data",
            s(&f.manifest),
            "--out",
            s(&out),
        ]),
        &["models predict different genres"],
    );
    let no_test = f.dir.path().join("no-test.csv");
    let text_manifest = std::fs::read_to_string(&f.manifest).unwrap();
    std::fs::write(&no_test, text_manifest.replace(",test\n", ",validation\n")).unwrap();
    one_line_error(
        &musicrec(&[
            "eval",
            "--model",
            s(&f.cnn),
            "--data",
            s(&no_test),
            "--out",
            s(&out),
        ]),
        &["has no test tracks"],
    );
    one_line_error(
        &musicrec(&[
            "eval",
            "--model",
            s(&f.cnn),
            "--data",
            s(&f.manifest),
            "--out",
            s(&out),
            "--codec",
            "wma:64k",
        ]),
        &["FORMAT:BITRATE"],
    );
}

#[test]
fn test_tracks_the_model_was_trained_on_are_reported() {
    let Some(f) = fixture() else { return };
    // Another manifest that calls every clip a test clip, training clips included.
    let leaky = f.dir.path().join("all-test.csv");
    let manifest = std::fs::read_to_string(&f.manifest).unwrap();
    let rewritten: String = manifest
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                format!("{line}\n")
            } else {
                let (rest, _) = line.rsplit_once(',').unwrap();
                format!("{rest},test\n")
            }
        })
        .collect();
    std::fs::write(&leaky, rewritten).unwrap();
    let out = f.dir.path().join("leaky");
    let run = ok(
        musicrec(&[
            "eval",
            "--model",
            s(&f.cnn),
            "--data",
            s(&leaky),
            "--cache",
            s(&f.cache),
            "--out",
            s(&out),
            "--bootstrap",
            "0",
        ]),
        "eval on training tracks",
    );
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains(
            "warning: model cnn: 12 of the 20 evaluated tracks were in the train/validation split"
        ),
        "{stderr}"
    );
    let metrics = read_json(&out.join("metrics.json"));
    assert_eq!(metrics["warnings"].as_array().unwrap().len(), 1);
    assert!(
        std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("optimistic")
    );
}

/// The built-in models' test split (`models/default/data.csv`, which both the CNN and the MusiCNN
/// genre head trained around), with this machine's paths.
fn built_in_test_split(data: &Path, path: &Path) {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default/data.csv"),
    )
    .unwrap();
    let mut csv = String::from("path,label,split\n");
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields[4] == "test" {
            let file = Path::new(fields[0]).file_name().unwrap();
            let clip = data.join("gtzan-mini").join(fields[1]).join(file);
            csv.push_str(&format!("{},{},test\n", clip.display(), fields[1]));
        }
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn the_default_model_beats_the_old_cnn_on_clips_neither_saw() {
    let Some(data) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("test-split.csv");
    built_in_test_split(&data, &manifest);
    let out = dir.path().join("eval");
    let run = ok(
        musicrec(&[
            "eval",
            "--model",
            "musicnn",
            "--model",
            "cnn",
            "--data",
            s(&manifest),
            "--out",
            s(&out),
            "--bootstrap",
            "0",
        ]),
        "eval of the built-in models",
    );
    let stderr = text(&run.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");
    let metrics = read_json(&out.join("metrics.json"));
    assert_eq!(metrics["data"]["n_tracks"], 40);
    // Both built-in models know their training manifest (compiled in) and that none of these
    // clips was in it.
    for source in metrics["model_dirs"].as_array().unwrap() {
        let check = source["leakage_check"].as_str().unwrap();
        assert!(
            check.starts_with("ok: none of the evaluated tracks"),
            "{check}"
        );
    }
    let accuracy = |m: usize| metrics["models"][m]["accuracy"].as_f64().unwrap();
    assert_eq!(metrics["models"][0]["model"], "musicnn");
    assert_eq!(metrics["models"][1]["model"], "cnn");
    // Measured when the head was trained: 0.825 and 0.750 (models/musicnn-genre/MODEL.md).
    assert!(
        accuracy(0) > accuracy(1) && accuracy(0) >= 0.8,
        "MusiCNN + head {} vs the CNN {}",
        accuracy(0),
        accuracy(1)
    );
}

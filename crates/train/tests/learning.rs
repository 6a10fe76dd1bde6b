//! The CNN and the CRNN, trained briefly on real GTZAN-mini clips (4 genres, small widths, CPU),
//! learn: training loss falls well below its start and track-level validation accuracy is far
//! above chance (25%). The control: the same CNN run with training labels scrambled across
//! genres must fail that accuracy check. Then the trained model directory is used end to end:
//! reload, predict a real file, embed, wrong features and wrong versions rejected.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::{GENRES, choi_cache, clip, six_four, training_lock, write_manifest};
use musicrec_datasets::FeatureCache;
use musicrec_features::MelConfig;
use musicrec_testkit::data::shared_data;
use musicrec_train::{Arch, ModelDir, TrainConfig, TrainReport, WindowLength, train};

const EPOCHS: usize = 12;
/// 13 of 16 validation tracks; chance is 4 of 16, and scrambled labels stay far below.
const MIN_VAL_ACC: f64 = 0.8;

fn quick_config(arch: Arch, manifest: &Path, cache: &Path, out: &Path) -> TrainConfig {
    let mut config = TrainConfig::new(manifest, cache, out);
    config.arch = arch;
    config.width_scale = 0.25;
    // 2 s windows for the CRNN (its time pools multiply to 96: no padding), 2.7 s (the least it
    // takes) for the CNN; the CRNN's convolutions pool time more slowly and cost more per frame.
    let frames = match arch {
        Arch::Crnn => 96,
        Arch::Cnn => 128,
    };
    config.window = WindowLength::Frames(frames);
    config.train_hop_frames = Some(match arch {
        Arch::Crnn => 96,
        Arch::Cnn => 64,
    });
    config.epochs = EPOCHS;
    config.patience = EPOCHS;
    config.batch_size = 16;
    config.learning_rate = 3e-3;
    config.seed = 7;
    config
}

/// Trains `arch` on the 6/4 split of [`GENRES`]; `scramble` gives each training clip the label of
/// another genre (two clips of each other genre per label: classes stay balanced, only the link
/// between sound and label is gone).
fn run(arch: Arch, scramble: bool, root: &Path) -> Option<TrainReport> {
    let data = shared_data()?;
    std::fs::create_dir_all(root).unwrap();
    let manifest = root.join("data.csv");
    if scramble {
        let mut csv = String::from("path,label,split\n");
        for (g, genre) in GENRES.iter().enumerate() {
            for id in 0..10 {
                let (label, split) = if id < 6 {
                    (GENRES[(g + 1 + id % 3) % GENRES.len()], "train")
                } else {
                    (*genre, "validation")
                };
                csv.push_str(&format!(
                    "{},{label},{split}\n",
                    clip(&data, genre, id).display()
                ));
            }
        }
        std::fs::write(&manifest, csv).unwrap();
    } else {
        write_manifest(&manifest, &data, &GENRES, six_four);
    }
    let cache = choi_cache(&data);
    let _lock = training_lock();
    Some(train(&quick_config(arch, &manifest, cache, &root.join("model"))).unwrap())
}

fn assert_learned(name: &str, report: &TrainReport) {
    let first = report.history.first().unwrap().train_loss;
    let last = report.history.last().unwrap().train_loss;
    let best = report.best().unwrap();
    eprintln!(
        "{name}: train loss {first:.4} -> {last:.4}, best epoch {} val loss {:.4} val acc {:.3} (window {:.3})",
        best.epoch, best.val_loss, best.val_acc, best.val_window_acc
    );
    assert!(
        last < 0.5 * first,
        "{name}: train loss only went from {first} to {last}"
    );
    assert!(
        best.val_acc >= MIN_VAL_ACC,
        "{name}: validation accuracy {} below {MIN_VAL_ACC}",
        best.val_acc
    );
}

/// The CNN run shared by the learning check and the model-directory tests.
fn trained_cnn() -> Option<&'static (tempfile::TempDir, TrainReport)> {
    static RUN: OnceLock<Option<(tempfile::TempDir, TrainReport)>> = OnceLock::new();
    RUN.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let report = run(Arch::Cnn, false, root.path())?;
        Some((root, report))
    })
    .as_ref()
}

#[test]
fn cnn_learns_genres_and_scrambled_labels_do_not() {
    let Some((_, report)) = trained_cnn() else {
        return;
    };
    assert_learned("cnn", report);

    let root = tempfile::tempdir().unwrap();
    let control = run(Arch::Cnn, true, root.path()).unwrap();
    let best_acc = control
        .history
        .iter()
        .map(|m| m.val_acc)
        .fold(0.0, f64::max);
    eprintln!("cnn, scrambled labels: best val acc {best_acc:.3}");
    assert!(
        best_acc < MIN_VAL_ACC,
        "scrambled labels reached validation accuracy {best_acc}: the check cannot tell learning from luck"
    );
}

#[test]
fn crnn_learns_genres() {
    let root = tempfile::tempdir().unwrap();
    let Some(report) = run(Arch::Crnn, false, root.path()) else {
        return;
    };
    assert_learned("crnn", &report);
}

#[test]
fn model_dir_round_trip_predicts_real_files() {
    let Some((root, report)) = trained_cnn() else {
        return;
    };
    let data = shared_data().unwrap();
    let dir = root.path().join("model");
    for file in [
        "weights.safetensors",
        "config.json",
        "metrics.csv",
        "loss.png",
        "accuracy.png",
        "MODEL.md",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let rows = musicrec_train::metrics::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    assert_eq!(
        rows, report.history,
        "metrics.csv holds every epoch as trained"
    );
    let card = std::fs::read_to_string(dir.join("MODEL.md")).unwrap();
    assert!(card.contains("| classical | 6 | 4 | 0 |"), "{card}");
    assert!(
        card.contains(&format!("{:.4}", report.best().unwrap().val_loss)),
        "{card}"
    );

    let model = ModelDir::load(&dir).unwrap();
    assert_eq!(model.genres(), GENRES);
    assert_eq!(model.config().window_frames, 128);

    // A validation clip of the model's best-recognised kind: the whole pipeline (decode at 12 kHz,
    // log-mel, windows, average) from a file gives the same numbers as from the cached log-mel.
    let file = clip(&data, "metal", 8);
    let prediction = model.predict_file(&file).unwrap();
    assert_eq!(prediction.probabilities.len(), 4);
    assert!(
        prediction
            .probabilities
            .iter()
            .all(|p| (0.0..=1.0).contains(p))
    );
    let cached = FeatureCache::open(choi_cache(&data))
        .unwrap()
        .get(&file, &MelConfig::choi())
        .unwrap();
    assert_eq!(prediction.windows, cached.n_frames.div_ceil(128));
    let from_cache = model.predict_log_mel(&cached).unwrap();
    for (a, b) in prediction.probabilities.iter().zip(&from_cache) {
        assert!(
            (a - b).abs() < 1e-4,
            "file {:?} vs cache {from_cache:?}",
            prediction.probabilities
        );
    }

    let embedding = model.embed_file(&file).unwrap();
    assert_eq!(embedding.len(), model.config().model.embedding_dim());
    assert!(embedding.iter().all(|v| v.is_finite()) && embedding.iter().any(|v| *v != 0.0));
    // A different genre's clip embeds elsewhere.
    let other = model.embed_file(clip(&data, "classical", 8)).unwrap();
    assert_ne!(embedding, other);
}

#[test]
fn model_dir_rejects_other_features_and_versions() {
    let Some((root, _)) = trained_cnn() else {
        return;
    };
    let dir = root.path().join("model");
    let model = ModelDir::load(&dir).unwrap();
    model.check_mel(&MelConfig::choi()).unwrap();
    let err = model
        .check_mel(&MelConfig::librosa())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model expects preset choi (sr 12000, 96 mels")
            && err.contains("but got preset librosa (sr 22050, 128 mels"),
        "{err}"
    );
    let wrong = musicrec_features::LogMel {
        n_mels: 128,
        n_frames: 200,
        data: vec![0.0; 128 * 200],
    };
    let err = model.predict_log_mel(&wrong).unwrap_err().to_string();
    assert!(err.contains("128 mel bins"), "{err}");

    // The same directory as written by a future musicrec with another model format.
    let copy = tempfile::tempdir().unwrap();
    for file in ["config.json", "weights.safetensors"] {
        std::fs::copy(dir.join(file), copy.path().join(file)).unwrap();
    }
    let config_path = copy.path().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["format_version"] = 99.into();
    config["musicrec_version"] = "9.9.9".into();
    std::fs::write(&config_path, config.to_string()).unwrap();
    let err = ModelDir::load(copy.path()).unwrap_err().to_string();
    assert!(
        err.contains("musicrec 9.9.9 (model format 99)") && err.contains("retrain"),
        "{err}"
    );

    std::fs::remove_file(&config_path).unwrap();
    let err = ModelDir::load(copy.path()).unwrap_err().to_string();
    assert!(err.contains("not a musicrec model directory"), "{err}");
}

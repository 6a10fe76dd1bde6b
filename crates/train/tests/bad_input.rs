//! Bad input stops training before any work, with a one-line reason that says what to do:
//! one genre, no validation split, a cache holding other features, bad options, cuda without
//! GPU support.

mod common;

use std::path::Path;

use common::{GENRES, clip, write_manifest};
use musicrec_datasets::{ContentHash, FeatureCache};
use musicrec_features::{LogMel, MelConfig};
use musicrec_testkit::data::shared_data;
use musicrec_train::{DeviceKind, TrainConfig, WindowLength, train};

fn config(manifest: &Path, cache: &Path, out: &Path) -> TrainConfig {
    let mut config = TrainConfig::new(manifest, cache, out);
    config.width_scale = 0.125;
    config.epochs = 1;
    config
}

fn error(config: &TrainConfig) -> String {
    let err = train(config).unwrap_err().to_string();
    assert!(!err.contains('\n'), "not one line: {err}");
    assert!(!config.out.join("weights.safetensors").exists());
    err
}

#[test]
fn data_that_cannot_train_a_classifier_is_refused() {
    let Some(data) = shared_data() else { return };
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let out = root.path().join("model");
    let manifest = root.path().join("data.csv");

    write_manifest(&manifest, &data, &["jazz"], |id| {
        Some(if id < 7 { "train" } else { "validation" })
    });
    let err = error(&config(&manifest, &cache, &out));
    assert!(err.contains("only one genre ('jazz')"), "{err}");

    write_manifest(&manifest, &data, &GENRES[..2], |id| {
        Some(if id < 8 { "train" } else { "test" })
    });
    let err = error(&config(&manifest, &cache, &out));
    assert!(
        err.contains("no validation clips") && err.contains("--split-ratio"),
        "{err}"
    );

    write_manifest(&manifest, &data, &GENRES[..2], |_| None);
    let err = error(&config(&manifest, &cache, &out));
    assert!(err.contains("no split column values"), "{err}");

    let mut csv = String::from("path,label,split\n");
    csv.push_str(&format!("{},a,train\n", clip(&data, "jazz", 0).display()));
    csv.push_str(&format!(
        "{},b,validation\n",
        clip(&data, "rock", 0).display()
    ));
    std::fs::write(&manifest, csv).unwrap();
    let err = error(&config(&manifest, &cache, &out));
    assert!(err.contains("genre 'b' has no training clip"), "{err}");
}

#[test]
fn a_cache_of_other_features_names_the_prepare_command() {
    let Some(data) = shared_data() else { return };
    let root = tempfile::tempdir().unwrap();
    let cache_dir = root.path().join("cache");
    let manifest = root.path().join("data.csv");
    write_manifest(&manifest, &data, &GENRES[..2], |id| match id {
        0 | 1 => Some("train"),
        2 => Some("validation"),
        _ => None,
    });
    // Entries exist, but for the librosa preset (placeholder log-mels: only their keys matter).
    let cache = FeatureCache::open(&cache_dir).unwrap();
    let placeholder = LogMel {
        n_mels: 128,
        n_frames: 4,
        data: vec![-50.0; 512],
    };
    for genre in &GENRES[..2] {
        for id in 0..3 {
            let hash = ContentHash::of_file(&clip(&data, genre, id)).unwrap();
            cache
                .insert(&hash, &MelConfig::librosa(), &placeholder)
                .unwrap();
        }
    }
    let err = error(&config(&manifest, &cache_dir, &root.path().join("model")));
    assert!(
        err.contains("6 of 6 clips have no log-mel for preset choi (sr 12000, 96 mels")
            && err.contains("other parameters: preset librosa")
            && err.contains(&format!(
                "musicrec dataset prepare {} --cache",
                manifest.display()
            ))
            && err.contains("--preset choi"),
        "{err}"
    );
}

/// A change to a valid config that makes it invalid.
type Edit = Box<dyn Fn(&mut TrainConfig)>;

#[test]
fn bad_options_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let (m, c, o) = (
        root.path().join("m.csv"),
        root.path().join("c"),
        root.path().join("o"),
    );
    let cases: [(&str, Edit); 7] = [
        ("--epochs", Box::new(|c| c.epochs = 0)),
        ("--batch", Box::new(|c| c.batch_size = 0)),
        ("--lr", Box::new(|c| c.learning_rate = -1.0)),
        ("--patience", Box::new(|c| c.patience = 0)),
        (
            "unknown preset 'mfcc'",
            Box::new(|c| c.preset = "mfcc".into()),
        ),
        ("--frames", Box::new(|c| c.window = WindowLength::Frames(0))),
        (
            "--window-secs",
            Box::new(|c| c.window = WindowLength::Secs(f64::NAN)),
        ),
    ];
    for (expected, edit) in cases {
        let mut config = config(&m, &c, &o);
        edit(&mut config);
        let err = error(&config);
        assert!(err.contains(expected), "{expected}: {err}");
    }
    assert!(musicrec_train::Arch::Cnn.model_config(2, 96, 0.0).is_err());
    assert!("tpu".parse::<DeviceKind>().is_err());
}

#[cfg(not(feature = "gpu"))]
#[test]
fn cuda_without_gpu_support_says_how_to_get_it() {
    let err = DeviceKind::Cuda.device().unwrap_err().to_string();
    assert!(
        err.contains("without GPU support") && err.contains("--features gpu"),
        "{err}"
    );
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn wgpu_without_wgpu_support_says_how_to_get_it() {
    assert_eq!("wgpu".parse::<DeviceKind>().unwrap(), DeviceKind::Wgpu);
    let err = DeviceKind::Wgpu.device().unwrap_err().to_string();
    assert!(
        err.contains("without wgpu support") && err.contains("--features wgpu"),
        "{err}"
    );
}

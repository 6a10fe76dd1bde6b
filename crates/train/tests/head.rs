//! Genre heads on a backbone, on real clips: features computed once and then read from the
//! cache, band-limited copies, cross-validation, the head directory, and a head refusing another
//! backbone. The built-in CNN (`models/default/`) stands in for the backbone here: it is cheap,
//! and everything under test is the same for MusiCNN (`tests/musicnn_backbone.rs` runs that one).

use std::path::{Path, PathBuf};

use musicrec_datasets::{Entry, Manifest, Split};
use musicrec_testkit::data::shared_data;
use musicrec_train::head::{FitOptions, HEAD_CARD_FILE, HEAD_CONFIG_FILE};
use musicrec_train::{
    Analysis, Backbone, Head, HeadTrainConfig, ModelDir, ModelDirBackbone, Variant, train_head,
};

fn cnn_backbone(id: &str) -> ModelDirBackbone {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default");
    ModelDirBackbone::new(ModelDir::load(&dir).unwrap(), id.to_string())
}

/// Four genres far apart in sound, five clips each: three train, two test.
fn manifest(data: &Path, out: &Path) -> PathBuf {
    let mut entries = Vec::new();
    for genre in ["classical", "metal", "hiphop", "jazz"] {
        for id in 0..5 {
            let mut e = Entry::new(
                data.join(format!("gtzan-mini/{genre}/{genre}.{id:05}.wav")),
                genre,
            );
            e.split = Some(if id < 3 { Split::Train } else { Split::Test });
            entries.push(e);
        }
    }
    let path = out.join("data.csv");
    Manifest { entries }.write(&path).unwrap();
    path
}

#[test]
fn a_head_trains_on_cached_features_and_refuses_another_backbone() {
    let Some(data) = shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let manifest = manifest(&data, tmp.path());
    let backbone = cnn_backbone("cnn-test");
    let config = HeadTrainConfig {
        manifest: manifest.clone(),
        out: tmp.path().join("head"),
        cache: tmp.path().join("cache"),
        splits: Some(vec![Split::Train]),
        variants: vec![Variant::Original, Variant::BandLimited(2000)],
        analysis: Analysis::default(),
        fit: FitOptions::default(),
        cv_folds: 3,
        command_line: Some("test".into()),
        progress: false,
    };
    let report = train_head(&config, &backbone).unwrap();
    // 12 training clips and 8 test clips, two variants each, all computed the first time.
    assert_eq!((report.computed, report.cached), (40, 0));
    let training = &report.config.training;
    assert_eq!((training.clips, training.examples), (12, 24));
    assert_eq!(
        report.config.genres,
        ["classical", "hiphop", "jazz", "metal"]
    );
    assert_eq!(
        training.cross_validation.len(),
        2,
        "with and without augmentation"
    );
    let test = training.test.as_ref().expect("the test split was left out");
    assert_eq!(test.clips, 8);
    // Four genres: chance is 0.25; the CNN's embedding separates these four well.
    let original = test.accuracy[0];
    assert_eq!(original.0, Variant::Original);
    assert!(original.1 >= 0.6, "{test:?}");
    for file in [HEAD_CONFIG_FILE, "weights.safetensors", HEAD_CARD_FILE] {
        assert!(config.out.join(file).is_file(), "{file}");
    }
    let card = std::fs::read_to_string(config.out.join(HEAD_CARD_FILE)).unwrap();
    assert!(
        card.contains("Cross-validation (3 folds") && card.contains("band:2000"),
        "{card}"
    );

    // A second run reads every feature from the cache and fits the same head.
    let again = train_head(&config, &backbone).unwrap();
    assert_eq!((again.computed, again.cached), (0, 40));
    assert_eq!(again.config.feature_mean, report.config.feature_mean);

    // The head predicts from an embedding of its backbone...
    let head = Head::load(&config.out).unwrap();
    head.check_backbone(&backbone).unwrap();
    let audio = musicrec_audio::load(
        data.join("gtzan-mini/classical/classical.00004.wav"),
        Some(backbone.sample_rate()),
    )
    .unwrap();
    let features = backbone.features(&audio.samples, Analysis::Full).unwrap();
    let probs = head.probabilities(&features.embedding).unwrap();
    assert_eq!(probs.len(), 4);
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    // ...and refuses another backbone with a message naming both.
    let other = cnn_backbone("cnn-other");
    let err = head.check_backbone(&other).unwrap_err().to_string();
    assert!(
        err.contains("cnn-test") && err.contains("cnn-other") && err.contains("trained on"),
        "{err}"
    );
    // A model directory is not a head.
    let err = Head::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a genre head"), "{err}");
}

#[test]
fn band_limited_copies_change_the_features() {
    let Some(data) = shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let backbone = cnn_backbone("cnn-test");
    let cache = musicrec_train::FeatureCache::new(tmp.path());
    let clip = data.join("gtzan-mini/metal/metal.00000.wav");
    let variants = [Variant::Original, Variant::BandLimited(1500)];
    let features = cache
        .features(&clip, &variants, &backbone, Analysis::Bounded(2))
        .unwrap();
    assert_eq!(features[0].0.patches, 2);
    let distance: f32 = features[0]
        .0
        .embedding
        .iter()
        .zip(&features[1].0.embedding)
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    assert!(
        distance > 1e-3,
        "a 1.5 kHz band limit changes what the CNN hears"
    );
    // A file that is not audio is an error naming it.
    let bad = tmp.path().join("bad.wav");
    std::fs::write(&bad, b"not audio").unwrap();
    let err = cache
        .features(&bad, &variants, &backbone, Analysis::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.wav"), "{err}");
}

//! GTZAN loader, screening and splits on the real gtzan-mini tree (100 clips, 15-30 s).

mod common;

use std::collections::{BTreeMap, HashSet};

use indicatif::ProgressBar;
use musicrec_datasets::gtzan::load_gtzan;
use musicrec_datasets::{BuildOptions, DropReason, ScreenConfig, Split, build};

#[test]
fn loads_all_hundred_clips_with_genres_from_folders() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let loaded = load_gtzan(&shared.join("gtzan-mini")).unwrap();
    assert_eq!(loaded.entries.len(), 100);
    assert!(loaded.dropped.is_empty());
    let labels = loaded.labels_present();
    assert_eq!(labels.len(), 10);
    assert!(labels.contains(&"hiphop".to_string()));
    let e = loaded
        .entries
        .iter()
        .find(|e| e.track_id.as_deref() == Some("jazz.00003"))
        .unwrap();
    assert_eq!(e.label, "jazz");
    assert!(e.path.is_absolute() && e.path.ends_with("jazz/jazz.00003.wav"));
}

#[test]
fn screening_measures_durations_and_split_is_exact_per_genre() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let loaded = load_gtzan(&shared.join("gtzan-mini")).unwrap();
    let opts = BuildOptions {
        seed: 7,
        ..BuildOptions::default()
    };
    let built = build(loaded.clone(), &opts, &ProgressBar::hidden()).unwrap();
    assert_eq!(built.manifest.entries.len(), 100, "{:?}", built.dropped);
    for e in &built.manifest.entries {
        let d = e.duration_secs.unwrap();
        let is_original = e.track_id.as_deref().unwrap().ends_with(".00000");
        if is_original {
            assert!((d - 30.0).abs() < 0.7, "{}: {d}", e.path.display());
        } else {
            assert!((14.9..=20.1).contains(&d), "{}: {d}", e.path.display());
        }
    }
    // 10 clips per genre at 8:1:1 -> exactly 8/1/1.
    let mut per_genre: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for e in &built.manifest.entries {
        let k = match e.split.unwrap() {
            Split::Train => 0,
            Split::Validation => 1,
            Split::Test => 2,
        };
        per_genre.entry(&e.label).or_default()[k] += 1;
    }
    assert!(per_genre.values().all(|c| *c == [8, 1, 1]), "{per_genre:?}");

    // A stricter minimum keeps only the 30 s originals.
    let strict = BuildOptions {
        screen: Some(ScreenConfig {
            min_duration_secs: 25.0,
            ..ScreenConfig::default()
        }),
        ..opts
    };
    let built = build(loaded, &strict, &ProgressBar::hidden()).unwrap();
    assert_eq!(built.manifest.entries.len(), 10);
    assert_eq!(built.dropped.len(), 90);
    assert!(
        built
            .dropped
            .iter()
            .all(|d| d.reason == DropReason::TooShort && d.detail.contains("shorter"))
    );
}

#[test]
fn capped_choice_is_seeded_and_screened() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let loaded = load_gtzan(&shared.join("gtzan-mini")).unwrap();
    let opts = BuildOptions {
        genres: Some(vec!["Blues".into(), "hiphop".into(), "jazz".into()]),
        per_genre: Some(4),
        seed: 11,
        ..BuildOptions::default()
    };
    let a = build(loaded.clone(), &opts, &ProgressBar::hidden()).unwrap();
    let b = build(loaded.clone(), &opts, &ProgressBar::hidden()).unwrap();
    assert_eq!(a.manifest, b.manifest);
    assert_eq!(a.manifest.entries.len(), 12);
    assert_eq!(a.manifest.labels(), ["blues", "hiphop", "jazz"]);
    let reasons: HashSet<_> = a.dropped.iter().map(|d| d.reason).collect();
    assert_eq!(
        reasons,
        HashSet::from([DropReason::GenreNotSelected, DropReason::OverCap])
    );
    assert_eq!(a.dropped.len(), 70 + 3 * 6);
    let other = build(
        loaded,
        &BuildOptions { seed: 12, ..opts },
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert_ne!(a.manifest, other.manifest);
}

#[test]
fn empty_or_wrong_trees_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_gtzan(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no GTZAN clips"), "{err}");
    std::fs::create_dir(dir.path().join("blues")).unwrap();
    std::fs::write(dir.path().join("blues/readme.txt"), "x").unwrap();
    let err = load_gtzan(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no GTZAN clips"), "{err}");
    let err = load_gtzan(&dir.path().join("nope"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a folder"), "{err}");
}

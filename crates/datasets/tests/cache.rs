//! Feature cache: prepare fills it once, lookups by path or hash return what the features stage
//! computes, renamed files hit, other parameters miss, corrupt files are reported and skipped.

mod common;

use std::path::PathBuf;

use indicatif::ProgressBar;
use musicrec_datasets::window::{WindowConfig, windows};
use musicrec_datasets::{ContentHash, DatasetError, FeatureCache, prepare};
use musicrec_features::{MelConfig, MelExtractor};

fn clips(shared: &std::path::Path) -> Vec<PathBuf> {
    [
        "blues/blues.00001.wav",
        "jazz/jazz.00002.wav",
        "rock/rock.00003.wav",
    ]
    .iter()
    .map(|p| shared.join("gtzan-mini").join(p))
    .collect()
}

#[test]
fn prepare_then_get_matches_direct_computation_and_resumes() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::open(dir.path().join("cache")).unwrap();
    let cfg = MelConfig::choi();
    let mut paths = clips(&shared);
    // A corrupt "audio" file and a missing one: reported, the rest goes on.
    let corrupt = dir.path().join("corrupt.wav");
    std::fs::write(&corrupt, b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk").unwrap();
    paths.push(corrupt.clone());
    paths.push(dir.path().join("missing.wav"));

    let report = prepare(&paths, &cache, &cfg, &ProgressBar::hidden()).unwrap();
    assert_eq!((report.total, report.computed, report.cached), (5, 3, 0));
    let failed: Vec<_> = report.failed.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(failed, [corrupt.clone(), dir.path().join("missing.wav")]);
    assert!(
        report.failed[0].1.contains("cannot decode"),
        "{:?}",
        report.failed
    );
    assert!(
        report.failed[1].1.contains("cannot read"),
        "{:?}",
        report.failed
    );

    // What the cache returns is exactly what the features stage computes.
    let extractor = MelExtractor::new(&cfg).unwrap();
    let audio = musicrec_audio::load(&paths[0], Some(cfg.sample_rate)).unwrap();
    let direct = extractor.log_mel(&audio.samples);
    let by_path = cache.get(&paths[0], &cfg).unwrap();
    assert_eq!(by_path.n_mels, 96);
    assert_eq!(by_path.n_frames, direct.n_frames);
    assert_eq!(by_path.data, direct.data);
    let hash = ContentHash::of_file(&paths[0]).unwrap();
    assert_eq!(cache.get(hash, &cfg).unwrap().data, direct.data);

    // A copy under another name is the same content: a hit.
    let renamed = dir.path().join("renamed.wav");
    std::fs::copy(&paths[0], &renamed).unwrap();
    assert_eq!(cache.get(&renamed, &cfg).unwrap().data, direct.data);

    // Other parameters: a miss, never the stale entry.
    let other = MelConfig {
        n_mels: 64,
        ..cfg.clone()
    };
    assert!(matches!(
        cache.get(&paths[0], &other),
        Err(DatasetError::NotCached(_))
    ));
    assert!(cache.try_get(&paths[0], &other).unwrap().is_none());

    // Rerun: nothing recomputed, no staging left.
    let again = prepare(&paths[..3], &cache, &cfg, &ProgressBar::hidden()).unwrap();
    assert_eq!((again.computed, again.cached), (0, 3));
    let files = common::files_under(cache.root());
    assert_eq!(files.len(), 3 + 1, "3 entries + config.json: {files:?}");
    assert!(
        files
            .iter()
            .all(|f| !f.to_string_lossy().contains(".partial"))
    );

    // Windows of a cached clip: a 15-20 s clip at 12 kHz / hop 256 cut into 3 s windows.
    let frames = musicrec_datasets::window::frames_for_secs(3.0, cfg.sample_rate, cfg.hop_length);
    let ws = windows(&by_path, &WindowConfig::new(frames));
    assert!(ws.len() >= 5, "{} windows", ws.len());
    assert!(
        ws.iter()
            .all(|w| w.n_frames == frames && w.data.len() == 96 * frames)
    );
}

#[test]
fn corrupt_cache_entry_is_an_error_not_a_panic() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::open(dir.path()).unwrap();
    let cfg = MelConfig::choi();
    let clip = &clips(&shared)[0];
    let hash = ContentHash::of_file(clip).unwrap();
    let entry = cache.entry_path(&hash, &cfg);
    std::fs::create_dir_all(entry.parent().unwrap()).unwrap();
    std::fs::write(&entry, b"\x93NUMPY garbage").unwrap();
    let err = cache.get(clip, &cfg).unwrap_err();
    assert!(matches!(err, DatasetError::Features(_)), "{err}");
}

#[test]
fn same_content_under_many_names_is_stored_once_without_races() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::open(dir.path().join("cache")).unwrap();
    let cfg = MelConfig::choi();
    let paths: Vec<PathBuf> = (0..6)
        .map(|i| {
            let p = dir.path().join(format!("copy{i}.wav"));
            std::fs::copy(&clips(&shared)[1], &p).unwrap();
            p
        })
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    let report = pool
        .install(|| prepare(&paths, &cache, &cfg, &ProgressBar::hidden()))
        .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.computed + report.cached, 6);
    let files = common::files_under(cache.root());
    assert_eq!(files.len(), 2, "one entry + config.json: {files:?}");
}

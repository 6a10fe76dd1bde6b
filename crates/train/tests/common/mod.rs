//! Shared test fixtures: the real GTZAN-mini clips, small manifests over them, and one feature
//! cache per test binary (computed once, `choi` preset).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use indicatif::ProgressBar;
use musicrec_datasets::FeatureCache;
use musicrec_features::MelConfig;

/// The GTZAN-mini file of `genre` number `id`.
pub fn clip(data: &Path, genre: &str, id: usize) -> PathBuf {
    data.join("gtzan-mini")
        .join(genre)
        .join(format!("{genre}.{id:05}.wav"))
}

/// Writes a manifest `path,label,split` of `genres` with clip ids assigned by `split_of(id)`.
pub fn write_manifest(
    path: &Path,
    data: &Path,
    genres: &[&str],
    split_of: impl Fn(usize) -> Option<&'static str>,
) {
    let mut csv = String::from("path,label,split\n");
    for genre in genres {
        for id in 0..10 {
            if let Some(split) = split_of(id) {
                csv.push_str(&format!(
                    "{},{genre},{split}\n",
                    clip(data, genre, id).display()
                ));
            }
        }
    }
    std::fs::write(path, csv).unwrap();
}

/// The genres the learning tests use: four that are told apart by timbre and rhythm.
pub const GENRES: [&str; 4] = ["classical", "hiphop", "metal", "reggae"];

/// Clips 0-5 of each genre train, 6-9 validate (24 / 16 clips).
pub fn six_four(id: usize) -> Option<&'static str> {
    Some(if id < 6 { "train" } else { "validation" })
}

/// A feature cache with the `choi` log-mel of every clip of [`GENRES`], computed once per test
/// binary (about 2 s on two cores).
pub fn choi_cache(data: &Path) -> &'static Path {
    static CACHE: OnceLock<tempfile::TempDir> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let cache = FeatureCache::open(dir.path()).unwrap();
            let paths: Vec<PathBuf> = GENRES
                .iter()
                .flat_map(|g| (0..10).map(move |id| clip(data, g, id)))
                .collect();
            let report = musicrec_datasets::prepare(
                &paths,
                &cache,
                &MelConfig::choi(),
                &ProgressBar::hidden(),
            )
            .unwrap();
            assert!(report.failed.is_empty(), "{:?}", report.failed);
            dir
        })
        .path()
}

/// Burn's CPU backend has one global random generator: training runs in one process take turns,
/// so each run's dropout draws are its own and resumed runs can be compared bit for bit.
pub fn training_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

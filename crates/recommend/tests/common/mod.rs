//! Shared test helpers: a catalog of the 100 GTZAN-mini clips embedded with the no-model
//! frame-statistics embedder (built once per test binary; every test works on its own copy).
#![allow(dead_code)]

pub mod embedder;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use musicrec_catalog::{ScanOptions, SqliteStore, scan};

pub const MODEL: &str = "frame-stats";

/// `gtzan-mini` from the shared data, or `None` (with a message) outside CI when it is missing.
/// Under `CI=true` a missing folder fails the test.
pub fn gtzan_mini() -> Option<PathBuf> {
    let base = std::env::var_os("MUSICREC_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let dir = base.join("gtzan-mini");
    if dir.join("blues/blues.00000.wav").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("shared test data missing under CI: {}", dir.display());
    }
    eprintln!("skipping: shared test data not found at {}", dir.display());
    None
}

/// A private copy of the scanned GTZAN-mini catalog (`None` when the data is missing outside CI).
pub fn real_catalog() -> Option<(tempfile::TempDir, SqliteStore)> {
    static BUILT: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let gtzan = gtzan_mini()?;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("catalog.db");
        let mut store = SqliteStore::open(&db).unwrap();
        let embedder = embedder::FrameStatsEmbedder::new(MODEL, std::time::Duration::ZERO);
        let report = scan(
            &mut store,
            &[gtzan],
            &embedder,
            &ScanOptions::default(),
            &indicatif::ProgressBar::hidden(),
        )
        .unwrap();
        assert_eq!(report.failed, 0, "{report:?}");
        drop(store);
        Some((dir, db))
    });
    let (_, db) = built.as_ref()?;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("catalog.db");
    std::fs::copy(db, &copy).unwrap();
    Some((dir, SqliteStore::open(&copy).unwrap()))
}

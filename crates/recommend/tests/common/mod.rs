//! Shared test helpers: a catalog of the 100 GTZAN-mini clips embedded with the no-model
//! frame-statistics embedder (built once per test binary; every test works on its own copy).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use musicrec_catalog::{ScanOptions, scan};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_testkit::data::gtzan_mini;
use musicrec_testkit::embedder::FrameStatsEmbedder;

pub const MODEL: &str = "frame-stats";

/// A private copy of the scanned GTZAN-mini catalog (`None` when the data is missing outside CI).
pub fn real_catalog() -> Option<(tempfile::TempDir, SqliteStore)> {
    static BUILT: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let gtzan = gtzan_mini()?;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("catalog.db");
        let mut store = SqliteStore::open(&db).unwrap();
        let embedder = FrameStatsEmbedder::new(MODEL, std::time::Duration::ZERO);
        let report = scan(
            &mut store,
            &[gtzan],
            &embedder,
            // One thread: track ids follow the file order, so the simulated listeners (seeded,
            // over track ids) are the same on every run.
            &ScanOptions {
                jobs: 1,
                ..ScanOptions::default()
            },
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

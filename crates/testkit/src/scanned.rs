//! A catalog of the 100 GTZAN-mini clips embedded with the no-model [`FrameStatsEmbedder`]
//! (scanned once per test binary; every test works on its own copy of the catalog file).
//!
//! [`FrameStatsEmbedder`]: crate::embedder::FrameStatsEmbedder

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use musicrec_catalog::{CatalogStore, ScanOptions, scan};

use crate::data::gtzan_mini;
use crate::embedder::FrameStatsEmbedder;

/// The model name the clips' embeddings are stored under.
pub const MODEL: &str = "frame-stats";

/// A private copy of the scanned GTZAN-mini catalog, a file store that `open` opens (SQLite);
/// `None` when the data is missing outside CI. The first call of a test binary scans.
pub fn gtzan_mini_catalog<S: CatalogStore>(open: fn(&Path) -> S) -> Option<(tempfile::TempDir, S)> {
    static BUILT: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let gtzan = gtzan_mini()?;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("catalog.db");
        let mut store = open(&db);
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
    Some((dir, open(&copy)))
}

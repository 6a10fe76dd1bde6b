//! The data set commands' steps that go beyond one call: write a built data set (manifest and
//! dropped report side by side), fill the feature cache from a manifest, and read a manifest's
//! statistics with its dropped report.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use musicrec_features::MelConfig;

use crate::error::{DatasetError, Result};
use crate::report::{read_report, report_path, write_report};
use crate::{Built, DatasetStats, FeatureCache, Manifest, PrepareReport};

/// Writes the dropped report of `built` next to `out` (`<stem>.dropped.csv`), then the manifest
/// to `out`, both atomically; returns the report's path. A data set with no clip left out of
/// `candidates` is an error naming the report (which is written all the same).
pub fn write_built(built: &Built, candidates: usize, out: &Path) -> Result<PathBuf> {
    let report = report_path(out);
    write_report(&report, &built.dropped)?;
    if built.manifest.entries.is_empty() {
        return Err(DatasetError::Empty(format!(
            "no clip left out of {candidates} candidates; {} dropped tracks and their reasons are in {}",
            built.dropped.len(),
            report.display()
        )));
    }
    built.manifest.write(out)?;
    Ok(report)
}

/// What [`prepare_manifest`] did.
pub struct Prepared {
    pub report: PrepareReport,
    /// The cache's folder for the preset.
    pub config_dir: PathBuf,
}

/// Computes the log-mel (`preset`) of every clip of the manifest at `manifest` into the feature
/// cache at `cache` (see [`crate::prepare`]), on the current rayon pool.
pub fn prepare_manifest(
    manifest: &Path,
    cache: &Path,
    preset: &str,
    progress: &ProgressBar,
) -> Result<Prepared> {
    let manifest = Manifest::read(manifest)?;
    let cfg = MelConfig::from_preset(preset)
        .ok_or_else(|| DatasetError::InvalidOption(format!("unknown preset '{preset}'")))?;
    let cache = FeatureCache::open(cache)?;
    let paths: Vec<PathBuf> = manifest.entries.iter().map(|e| e.path.clone()).collect();
    let report = crate::prepare(&paths, &cache, &cfg, progress)?;
    Ok(Prepared {
        report,
        config_dir: cache.config_dir(&cfg),
    })
}

/// The statistics of the manifest at `manifest`, with the dropped tracks of the report at
/// `dropped` (default: `<stem>.dropped.csv` next to the manifest, when that file exists).
pub fn read_stats(manifest: &Path, dropped: Option<&Path>) -> Result<DatasetStats> {
    let report = dropped.map_or_else(|| report_path(manifest), Path::to_path_buf);
    let manifest = Manifest::read(manifest)?;
    let dropped = if report.is_file() {
        Some(read_report(&report)?)
    } else {
        None
    };
    Ok(DatasetStats::new(&manifest, dropped.as_deref()))
}

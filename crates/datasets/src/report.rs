//! The dropped-tracks report: every track a loader or screening rejected, with a reason code and a
//! human-readable detail, written as CSV next to the manifest (`data.csv` -> `data.dropped.csv`).

use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
pub use crate::entry::{DropReason, DroppedTrack};
use crate::error::{DatasetError, Result};

/// `data.csv` -> `data.dropped.csv`, in the same folder.
pub fn report_path(manifest: &Path) -> PathBuf {
    let stem = manifest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "manifest".into());
    manifest.with_file_name(format!("{stem}.dropped.csv"))
}

const COLUMNS: [&str; 5] = ["path", "label", "track_id", "reason", "detail"];

/// Writes the report atomically (always, even when empty, so a stale report never survives a rerun).
pub fn write_report(path: &Path, dropped: &[DroppedTrack]) -> Result<()> {
    write_atomic(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(COLUMNS)?;
        for d in dropped {
            w.write_record([
                d.path.to_string_lossy().as_ref(),
                d.label.as_deref().unwrap_or(""),
                d.track_id.as_deref().unwrap_or(""),
                d.reason.as_str(),
                d.detail.as_str(),
            ])?;
        }
        w.flush()
    })
}

/// Reads a report written by [`write_report`].
pub fn read_report(path: &Path) -> Result<Vec<DroppedTrack>> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| crate::error::csv_error(path, e))?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| DatasetError::format(path, e.to_string()))?;
        let field = |k: usize| record.get(k).unwrap_or("").to_string();
        let opt = |k: usize| Some(field(k)).filter(|s| !s.is_empty());
        let reason = field(3)
            .parse()
            .map_err(|e: String| DatasetError::format(path, format!("row {}: {e}", i + 2)))?;
        out.push(DroppedTrack {
            path: PathBuf::from(field(0)),
            label: opt(1),
            track_id: opt(2),
            reason,
            detail: field(4),
        });
    }
    Ok(out)
}

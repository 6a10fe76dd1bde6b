//! The manifest: one CSV format for every source, `path,label[,artist,title,split,track_id,duration]`.
//!
//! Only `path` and `label` are required, so a user can write one by hand; other columns may be absent or
//! empty, and unknown extra columns are ignored. Column names are case-insensitive. Relative paths are
//! resolved against the manifest's own folder. When written, paths under the manifest's folder are
//! stored relative to it (the folder can be moved as a whole), others absolute; the write is atomic.
//!
//! `split` is `train`, `validation` or `test` (`training`, `val`, `valid` are read too); `duration` is
//! the decoded clip length in seconds, filled in by screening.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::atomic::write_atomic;
pub use crate::entry::Entry;
use crate::entry::{DropReason, DroppedTrack, Split};
use crate::error::{DatasetError, Result};

/// The columns written, in order.
pub const COLUMNS: [&str; 7] = [
    "path", "label", "artist", "title", "split", "track_id", "duration",
];

/// A data set: the entries of a manifest file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    pub entries: Vec<Entry>,
}

/// A row as it appears in the CSV, before validation.
#[derive(Debug, Deserialize)]
struct Row {
    path: Option<String>,
    label: Option<String>,
    #[serde(default)]
    artist: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    split: Option<String>,
    #[serde(default)]
    track_id: Option<String>,
    #[serde(default)]
    duration: Option<String>,
}

impl Manifest {
    /// Reads a manifest strictly: any malformed row is an error naming its line.
    pub fn read(path: &Path) -> Result<Self> {
        let (entries, dropped) = read_rows(path)?;
        if let Some(bad) = dropped.first() {
            return Err(DatasetError::format(path, bad.detail.clone()));
        }
        Ok(Self { entries })
    }

    /// Writes the manifest atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        let base = manifest_dir(path);
        write_atomic(path, |out| {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(COLUMNS)?;
            for e in &self.entries {
                let duration = e
                    .duration_secs
                    .map(|d| format!("{d:.3}"))
                    .unwrap_or_default();
                w.write_record([
                    display_path(&e.path, &base).as_str(),
                    e.label.as_str(),
                    e.artist.as_deref().unwrap_or(""),
                    e.title.as_deref().unwrap_or(""),
                    e.split.map(Split::as_str).unwrap_or(""),
                    e.track_id.as_deref().unwrap_or(""),
                    duration.as_str(),
                ])?;
            }
            w.flush()
        })
    }

    /// Distinct labels, sorted.
    pub fn labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self.entries.iter().map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        labels
    }

    /// The entries of one split.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.split == Some(split))
    }
}

/// Reads a (possibly hand-written) manifest leniently: good rows become entries, malformed ones
/// (missing path or label, unreadable split or duration, duplicate path) become dropped tracks with their
/// line number. Only an unreadable file or a missing `path`/`label` column is an error.
pub fn load_lenient(path: &Path) -> Result<(Vec<Entry>, Vec<DroppedTrack>)> {
    read_rows(path)
}

fn read_rows(path: &Path) -> Result<(Vec<Entry>, Vec<DroppedTrack>)> {
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let headers = reader
        .headers()
        .map_err(|e| DatasetError::format(path, format!("cannot read the header row: {e}")))?
        .clone();
    let lower: csv::StringRecord = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    for required in ["path", "label"] {
        if !lower.iter().any(|h| h == required) {
            return Err(DatasetError::format(
                path,
                format!(
                    "missing required column '{required}' (columns: {}); a manifest needs at least path,label",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            ));
        }
    }
    reader.set_headers(lower.clone());

    let base = manifest_dir(path);
    let mut entries = Vec::new();
    let mut dropped = Vec::new();
    let mut seen = HashSet::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // The csv reader cannot resynchronise after a broken quote: stop here, keep what we have.
                dropped.push(DroppedTrack::malformed(
                    format!("{}:{line}", path.display()),
                    format!("unreadable CSV from line {line} on: {e}"),
                ));
                break;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let where_ = format!("{}:{line}", path.display());
        let row: Row = match record.deserialize(Some(&lower)) {
            Ok(row) => row,
            Err(e) => {
                dropped.push(DroppedTrack::malformed(where_, format!("line {line}: {e}")));
                continue;
            }
        };
        match row_to_entry(row, &base) {
            Ok(entry) => {
                if !seen.insert(entry.path.clone()) {
                    dropped.push(DroppedTrack {
                        detail: format!("line {line}: the same file is listed earlier"),
                        ..DroppedTrack::of(&entry, DropReason::Duplicate)
                    });
                } else {
                    entries.push(entry);
                }
            }
            Err(msg) => dropped.push(DroppedTrack::malformed(
                where_,
                format!("line {line}: {msg}"),
            )),
        }
    }
    Ok((entries, dropped))
}

fn row_to_entry(row: Row, base: &Path) -> std::result::Result<Entry, String> {
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let path = non_empty(row.path).ok_or("empty path")?;
    let label = non_empty(row.label).ok_or("empty label")?;
    let split = match non_empty(row.split) {
        None => None,
        Some(s) => Some(s.parse::<Split>()?),
    };
    let duration_secs = match non_empty(row.duration) {
        None => None,
        Some(d) => Some(
            d.parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && *d >= 0.0)
                .ok_or_else(|| format!("duration '{d}' is not a number of seconds"))?,
        ),
    };
    let path = PathBuf::from(path);
    let path = if path.is_absolute() {
        path
    } else {
        base.join(path)
    };
    Ok(Entry {
        path,
        label,
        artist: non_empty(row.artist),
        title: non_empty(row.title),
        split,
        track_id: non_empty(row.track_id),
        duration_secs,
    })
}

/// The folder a manifest's relative paths are relative to, made absolute.
fn manifest_dir(manifest: &Path) -> PathBuf {
    let dir = match manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    absolute(&dir)
}

/// `path` made absolute against the current directory (without touching the file system).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn display_path(path: &Path, base: &Path) -> String {
    let abs = absolute(path);
    match abs.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
        _ => abs.to_string_lossy().into_owned(),
    }
}

//! The dropped-tracks report: every track a loader or screening rejected, with a reason code and a
//! human-readable detail, written as CSV next to the manifest (`data.csv` -> `data.dropped.csv`).

use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::error::{DatasetError, Result};
use crate::manifest::Entry;

/// Why a track was left out. The `as_str` codes are the `reason` column of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// A row of the source could not be parsed.
    MalformedRow,
    /// The track has no genre at all.
    NoGenre,
    /// The track's genres belong to more than one top-level genre.
    MultiGenre,
    /// The audio file named by the source does not exist.
    MissingAudio,
    /// The audio file exists but does not decode.
    DecodeError,
    /// Shorter than the minimum duration.
    TooShort,
    /// RMS level below the silence threshold.
    Silent,
    /// The genre was not among those asked for.
    GenreNotSelected,
    /// Beyond the per-genre cap (not chosen by the seeded draw).
    OverCap,
    /// `--split keep`/`fma` but the source gives this track no split.
    NoSplit,
    /// A file in a GTZAN tree whose name is not `<genre>.NNNNN.<ext>`, or a file outside any label folder.
    BadFileName,
    /// The same file listed twice.
    Duplicate,
}

impl DropReason {
    pub const ALL: [DropReason; 12] = [
        Self::MalformedRow,
        Self::NoGenre,
        Self::MultiGenre,
        Self::MissingAudio,
        Self::DecodeError,
        Self::TooShort,
        Self::Silent,
        Self::GenreNotSelected,
        Self::OverCap,
        Self::NoSplit,
        Self::BadFileName,
        Self::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedRow => "malformed_row",
            Self::NoGenre => "no_genre",
            Self::MultiGenre => "multi_genre",
            Self::MissingAudio => "missing_audio",
            Self::DecodeError => "decode_error",
            Self::TooShort => "too_short",
            Self::Silent => "silent",
            Self::GenreNotSelected => "genre_not_selected",
            Self::OverCap => "over_cap",
            Self::NoSplit => "no_split",
            Self::BadFileName => "bad_file_name",
            Self::Duplicate => "duplicate",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DropReason {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown drop reason '{s}'"))
    }
}

/// One rejected track.
#[derive(Clone, Debug, PartialEq)]
pub struct DroppedTrack {
    /// The audio file, or for a malformed row `file:line` of the source.
    pub path: PathBuf,
    pub label: Option<String>,
    pub track_id: Option<String>,
    pub reason: DropReason,
    /// One line saying exactly what was wrong (decoder message, measured duration, genres found...).
    pub detail: String,
}

impl DroppedTrack {
    /// `entry` dropped for `reason`, with an empty detail.
    pub fn of(entry: &Entry, reason: DropReason) -> Self {
        Self {
            path: entry.path.clone(),
            label: Some(entry.label.clone()),
            track_id: entry.track_id.clone(),
            reason,
            detail: String::new(),
        }
    }

    /// `entry` dropped for `reason` because of `detail`.
    pub fn with_detail(entry: &Entry, reason: DropReason, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            ..Self::of(entry, reason)
        }
    }

    /// A source row that could not be parsed, located by `location` (`file:line`).
    pub fn malformed(location: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Self {
            path: location.into(),
            label: None,
            track_id: None,
            reason: DropReason::MalformedRow,
            detail: detail.into(),
        }
    }
}

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
    let mut reader = csv::Reader::from_path(path).map_err(|e| crate::fma::csv_error(path, e))?;
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

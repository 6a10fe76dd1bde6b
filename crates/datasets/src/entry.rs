//! The records the stages pass along: a clip of a data set ([`Entry`]) and the part of the data it
//! belongs to ([`Split`]), a rejected track ([`DroppedTrack`]) and why ([`DropReason`]). Plain
//! data at the bottom of the crate, so that the manifest, the splits, the loaders and the report
//! all import it and none of them imports another for its types.

use std::path::PathBuf;

/// One clip of a data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Audio file; absolute once read from a manifest or produced by a loader.
    pub path: PathBuf,
    /// Class label (genre).
    pub label: String,
    pub artist: Option<String>,
    pub title: Option<String>,
    /// Train / validation / test, once assigned.
    pub split: Option<Split>,
    /// The source's own id (FMA track id, GTZAN `blues.00042`).
    pub track_id: Option<String>,
    /// Decoded length in seconds, when screening measured it.
    pub duration_secs: Option<f64>,
}

impl Entry {
    /// An entry with only a path and a label.
    pub fn new(path: impl Into<PathBuf>, label: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            label: label.into(),
            artist: None,
            title: None,
            split: None,
            track_id: None,
            duration_secs: None,
        }
    }
}

/// Which part of the data a clip belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The manifest spelling: `train`, `validation`, `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// A list of splits as options give it: `all` (`None`: every split) or comma-separated names.
    pub fn parse_list(list: &str) -> Result<Option<Vec<Split>>, String> {
        match list {
            "all" => Ok(None),
            list => list
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map(Some),
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Split {
    type Err = String;
    /// Accepts the manifest names and the FMA's (`training`), plus `val`/`valid`; case-insensitive.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" | "training" => Ok(Split::Train),
            "validation" | "val" | "valid" => Ok(Split::Validation),
            "test" | "testing" => Ok(Split::Test),
            other => Err(format!(
                "split '{other}' is not one of train, validation, test"
            )),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::Split;

    #[test]
    fn split_lists_parse() {
        assert_eq!(Split::parse_list("all").unwrap(), None);
        assert_eq!(
            Split::parse_list("train,val").unwrap(),
            Some(vec![Split::Train, Split::Validation])
        );
        assert!(Split::parse_list("train,dev").unwrap_err().contains("dev"));
    }
}

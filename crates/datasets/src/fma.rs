//! The Free Music Archive: `tracks.csv`, `genres.csv` and audio at `<audio_dir>/NNN/NNNNNN.mp3`.
//!
//! `tracks.csv` has two header rows (column group, then field: `track,genres_all`, `set,split`, ...), a
//! third row starting with `track_id`, then one row per track; fields may hold quoted commas and newlines,
//! genre lists look like `[21, 811]`, many fields are empty. Columns are found by name, not position.
//!
//! A track's label is its single top-level genre, derived from `track,genres_all` (falling back to
//! `track,genres`, then `track,genre_top`) through `genres.csv`'s `top_level` column: tracks whose genres
//! span two or more top-level genres are dropped (`multi_genre`), as are tracks with none (`no_genre`),
//! rows that do not parse (`malformed_row`) and tracks whose mp3 is missing (`missing_audio`). Tracks
//! outside the chosen subset are not candidates at all and are not listed in the report.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::build::Loaded;
use crate::entry::{DropReason, DroppedTrack, Entry, Split};
use crate::error::{DatasetError, Result, csv_error};
use crate::manifest::absolute;

/// One row of `genres.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct FmaGenre {
    pub id: u32,
    /// Parent genre id, 0 for a top-level genre.
    pub parent: u32,
    pub title: String,
    /// Id of the root of this genre's tree.
    pub top_level: u32,
}

/// The FMA genre table.
#[derive(Clone, Debug, Default)]
pub struct FmaGenres {
    by_id: BTreeMap<u32, FmaGenre>,
}

impl FmaGenres {
    /// Reads `genres.csv` (`genre_id,#tracks,parent,title,top_level`, columns found by name).
    pub fn read(path: &Path) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(|e| csv_error(path, e))?;
        let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
        let col = |name: &str| {
            headers.iter().position(|h| h.trim() == name).ok_or_else(|| {
                DatasetError::format(
                    path,
                    format!("not an FMA genres.csv: no '{name}' column (expected genre_id,#tracks,parent,title,top_level)"),
                )
            })
        };
        let (c_id, c_parent, c_title, c_top) = (
            col("genre_id")?,
            col("parent")?,
            col("title")?,
            col("top_level")?,
        );
        let mut by_id = BTreeMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            let num = |c: usize, what: &str| {
                record
                    .get(c)
                    .unwrap_or("")
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| {
                        DatasetError::format(
                            path,
                            format!(
                                "line {line}: {what} '{}' is not a number",
                                record.get(c).unwrap_or("")
                            ),
                        )
                    })
            };
            let genre = FmaGenre {
                id: num(c_id, "genre_id")?,
                parent: num(c_parent, "parent")?,
                title: record.get(c_title).unwrap_or("").trim().to_string(),
                top_level: num(c_top, "top_level")?,
            };
            by_id.insert(genre.id, genre);
        }
        if by_id.is_empty() {
            return Err(DatasetError::format(path, "genres.csv lists no genre"));
        }
        Ok(Self { by_id })
    }

    pub fn get(&self, id: u32) -> Option<&FmaGenre> {
        self.by_id.get(&id)
    }

    /// Titles of the top-level genres (`top_level == genre_id`), sorted.
    pub fn top_level_titles(&self) -> Vec<String> {
        let mut titles: Vec<String> = self
            .by_id
            .values()
            .filter(|g| g.top_level == g.id)
            .map(|g| g.title.clone())
            .collect();
        titles.sort();
        titles
    }

    fn id_of_title(&self, title: &str) -> Option<u32> {
        self.by_id.values().find(|g| g.title == title).map(|g| g.id)
    }
}

/// FMA subsets; they nest: small ⊂ medium ⊂ large ⊂ full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FmaSubset {
    Small,
    Medium,
    Large,
    Full,
}

impl FmaSubset {
    /// Whether a track whose `set,subset` is `track` belongs to `self` (empty = only in full).
    pub fn contains(self, track: Option<FmaSubset>) -> bool {
        match track {
            Some(t) => t <= self,
            None => self == FmaSubset::Full,
        }
    }
}

impl std::str::FromStr for FmaSubset {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "small" => Ok(Self::Small),
            "medium" => Ok(Self::Medium),
            "large" => Ok(Self::Large),
            "full" => Ok(Self::Full),
            other => Err(format!(
                "FMA subset '{other}' is not one of small, medium, large, full"
            )),
        }
    }
}

/// One track of `tracks.csv`, the fields this stage uses.
#[derive(Clone, Debug, PartialEq)]
pub struct FmaTrack {
    pub id: u32,
    pub genre_top: Option<String>,
    pub genres: Vec<u32>,
    pub genres_all: Vec<u32>,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub split: Option<Split>,
    pub subset: Option<FmaSubset>,
    /// Line of the row in `tracks.csv` (for messages).
    pub line: u64,
}

/// `<audio_dir>/NNN/NNNNNN.mp3` for track `id` (zero-padded to 6 digits, the first 3 name the folder).
pub fn audio_path(audio_dir: &Path, id: u32) -> PathBuf {
    let name = format!("{id:06}");
    audio_dir.join(&name[..3]).join(format!("{name}.mp3"))
}

/// Parses a genre list as written in `tracks.csv`: `[21, 811]`, `[]`, or empty.
pub fn parse_id_list(field: &str) -> std::result::Result<Vec<u32>, String> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(Vec::new());
    }
    let inner = field
        .strip_prefix('[')
        .and_then(|f| f.strip_suffix(']'))
        .ok_or_else(|| format!("genre list '{field}' is not of the form [1, 2]"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u32>()
                .map_err(|_| format!("genre list '{field}' holds '{s}', not a genre id"))
        })
        .collect()
}

/// Reads `tracks.csv`. Rows that do not parse become `malformed_row` drops naming their line; a file
/// that is not in the FMA layout at all is an error.
pub fn read_tracks(path: &Path) -> Result<(Vec<FmaTrack>, Vec<DroppedTrack>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let mut records = reader.records();
    let mut header_row = |what: &str| -> Result<csv::StringRecord> {
        match records.next() {
            Some(r) => r.map_err(|e| csv_error(path, e)),
            None => Err(DatasetError::format(
                path,
                format!("not an FMA tracks.csv: the file ends before its {what}"),
            )),
        }
    };
    let groups = header_row("first header row")?;
    let fields = header_row("second header row")?;
    let id_row = header_row("track_id row")?;
    if id_row.get(0).map(str::trim) != Some("track_id") {
        return Err(DatasetError::format(
            path,
            "not an FMA tracks.csv: the third row should start with 'track_id' (two header rows, then track_id)",
        ));
    }
    let columns: HashMap<String, usize> = groups
        .iter()
        .zip(fields.iter())
        .enumerate()
        .map(|(i, (g, f))| (format!("{}.{}", g.trim(), f.trim()), i))
        .collect();
    let col = |name: &str| columns.get(name).copied();
    let c_genres_all = col("track.genres_all");
    let c_genres = col("track.genres");
    let c_genre_top = col("track.genre_top");
    if c_genres_all.is_none() && c_genres.is_none() && c_genre_top.is_none() {
        return Err(DatasetError::format(
            path,
            "not an FMA tracks.csv: no track,genres_all / track,genres / track,genre_top column",
        ));
    }
    let (c_title, c_artist, c_split, c_subset) = (
        col("track.title"),
        col("artist.name"),
        col("set.split"),
        col("set.subset"),
    );
    let n_columns = groups.len();

    let mut tracks = Vec::new();
    let mut dropped = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                // A broken quote makes the rest of the file unreadable; keep what came before.
                dropped.push(DroppedTrack::malformed(
                    path,
                    format!("unreadable CSV, rest of the file skipped: {e}"),
                ));
                break;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let location = PathBuf::from(format!("{}:{line}", path.display()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        match parse_track(
            &record,
            n_columns,
            line,
            c_genres_all,
            c_genres,
            c_genre_top,
            c_title,
            c_artist,
            c_split,
            c_subset,
        ) {
            Ok(track) => tracks.push(track),
            Err(msg) => {
                let mut d = DroppedTrack::malformed(location, format!("line {line}: {msg}"));
                d.track_id = record
                    .get(0)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
                dropped.push(d);
            }
        }
    }
    Ok((tracks, dropped))
}

#[allow(clippy::too_many_arguments)]
fn parse_track(
    record: &csv::StringRecord,
    n_columns: usize,
    line: u64,
    c_genres_all: Option<usize>,
    c_genres: Option<usize>,
    c_genre_top: Option<usize>,
    c_title: Option<usize>,
    c_artist: Option<usize>,
    c_split: Option<usize>,
    c_subset: Option<usize>,
) -> std::result::Result<FmaTrack, String> {
    if record.len() != n_columns {
        return Err(format!(
            "row has {} fields, the header has {n_columns}",
            record.len()
        ));
    }
    let get = |c: Option<usize>| {
        c.and_then(|c| record.get(c))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let id_field = record.get(0).unwrap_or("").trim();
    let id = id_field
        .parse::<u32>()
        .map_err(|_| format!("track_id '{id_field}' is not a number"))?;
    let list = |c: Option<usize>| {
        get(c)
            .map(parse_id_list)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    Ok(FmaTrack {
        id,
        genre_top: get(c_genre_top).map(str::to_string),
        genres: list(c_genres)?,
        genres_all: list(c_genres_all)?,
        title: get(c_title).map(str::to_string),
        artist: get(c_artist).map(str::to_string),
        split: get(c_split).map(str::parse::<Split>).transpose()?,
        subset: get(c_subset).map(str::parse::<FmaSubset>).transpose()?,
        line,
    })
}

/// The single top-level genre of `track`, or why it has none.
pub fn top_level_genre(
    track: &FmaTrack,
    genres: &FmaGenres,
) -> std::result::Result<u32, (DropReason, String)> {
    let (ids, column) = if !track.genres_all.is_empty() {
        (track.genres_all.clone(), "genres_all")
    } else if !track.genres.is_empty() {
        (track.genres.clone(), "genres")
    } else if let Some(top) = &track.genre_top {
        let id = genres.id_of_title(top).ok_or_else(|| {
            (
                DropReason::MalformedRow,
                format!("genre_top '{top}' is not a genre title in genres.csv"),
            )
        })?;
        (vec![id], "genre_top")
    } else {
        return Err((
            DropReason::NoGenre,
            "no genres_all, genres or genre_top".into(),
        ));
    };
    let mut tops = BTreeSet::new();
    for id in &ids {
        let genre = genres.get(*id).ok_or_else(|| {
            (
                DropReason::MalformedRow,
                format!("genre id {id} (in {column}) is not in genres.csv"),
            )
        })?;
        tops.insert(genre.top_level);
    }
    match tops.len() {
        1 => Ok(*tops.first().expect("one element")),
        _ => {
            let names: Vec<String> = tops
                .iter()
                .map(|t| {
                    genres
                        .get(*t)
                        .map_or_else(|| t.to_string(), |g| g.title.clone())
                })
                .collect();
            Err((
                DropReason::MultiGenre,
                format!(
                    "{column} {ids:?} spans top-level genres {}",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Where an FMA copy lives and which subset to take.
#[derive(Clone, Debug)]
pub struct FmaSource {
    pub tracks_csv: PathBuf,
    pub genres_csv: PathBuf,
    pub audio_dir: PathBuf,
    pub subset: FmaSubset,
}

/// Loads the FMA: the tracks of `subset` with exactly one top-level genre and an existing mp3. Labels are
/// top-level genre titles as in genres.csv (`Hip-Hop`, `Classical`, ...); `known_labels` lists all 16.
pub fn load_fma(source: &FmaSource) -> Result<Loaded> {
    let genres = FmaGenres::read(&source.genres_csv)?;
    let (tracks, malformed) = read_tracks(&source.tracks_csv)?;
    if !source.audio_dir.is_dir() {
        return Err(DatasetError::InvalidOption(format!(
            "FMA audio folder {} does not exist",
            source.audio_dir.display()
        )));
    }
    let audio_dir = absolute(&source.audio_dir);
    let mut loaded = Loaded {
        dropped: malformed,
        known_labels: genres.top_level_titles(),
        ..Loaded::default()
    };
    let mut outside_subset = 0usize;
    for track in tracks {
        if !source.subset.contains(track.subset) {
            outside_subset += 1;
            continue;
        }
        let mut entry = Entry::new(audio_path(&audio_dir, track.id), String::new());
        entry.track_id = Some(track.id.to_string());
        entry.artist = track.artist.clone();
        entry.title = track.title.clone();
        entry.split = track.split;
        match top_level_genre(&track, &genres) {
            Ok(top) => {
                entry.label = genres.get(top).map(|g| g.title.clone()).unwrap_or_default();
            }
            Err((reason, detail)) => {
                let mut d = DroppedTrack::with_detail(&entry, reason, detail);
                d.label = track.genre_top.clone();
                loaded.dropped.push(d);
                continue;
            }
        }
        if !entry.path.is_file() {
            loaded.dropped.push(DroppedTrack::with_detail(
                &entry,
                DropReason::MissingAudio,
                format!(
                    "track {} is in tracks.csv but its mp3 does not exist",
                    track.id
                ),
            ));
            continue;
        }
        loaded.entries.push(entry);
    }
    tracing::info!(
        kept = loaded.entries.len(),
        dropped = loaded.dropped.len(),
        outside_subset,
        "read FMA tracks"
    );
    if loaded.entries.is_empty() {
        return Err(DatasetError::Empty(format!(
            "no usable FMA track in {} for subset {:?} ({} rows dropped, {outside_subset} outside the subset)",
            source.tracks_csv.display(),
            source.subset,
            loaded.dropped.len()
        )));
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists() {
        assert_eq!(parse_id_list("[21, 811]"), Ok(vec![21, 811]));
        assert_eq!(parse_id_list("[]"), Ok(vec![]));
        assert_eq!(parse_id_list(""), Ok(vec![]));
        assert_eq!(parse_id_list(" [5] "), Ok(vec![5]));
        assert!(parse_id_list("21, 811").is_err());
        assert!(parse_id_list("[21, x]").is_err());
    }

    #[test]
    fn audio_paths_and_subsets() {
        assert_eq!(audio_path(Path::new("a"), 2), Path::new("a/000/000002.mp3"));
        assert_eq!(
            audio_path(Path::new("a"), 155066),
            Path::new("a/155/155066.mp3")
        );
        assert!(FmaSubset::Medium.contains(Some(FmaSubset::Small)));
        assert!(!FmaSubset::Small.contains(Some(FmaSubset::Medium)));
        assert!(FmaSubset::Full.contains(None));
        assert!(!FmaSubset::Large.contains(None));
    }
}

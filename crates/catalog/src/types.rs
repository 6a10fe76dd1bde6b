//! Plain data types shared by the store trait, the SQLite backend and the scan.
//!
//! Times are Unix milliseconds (`i64`); file modification times are Unix nanoseconds, so that
//! "unchanged" means exactly the value the file system reports.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A track's row id in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TrackId(pub i64);

/// A user's row id in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub i64);

impl std::fmt::Display for TrackId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What the catalog stores about a model (its id is stored beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Genre names, in the order of the model's genre probabilities.
    pub genres: Vec<String>,
    /// Length of every embedding the model produces.
    pub embedding_dim: usize,
    /// The model's configuration (architecture, feature settings), kept for provenance.
    pub config: serde_json::Value,
}

/// One track's model output, as a [`crate::TrackEmbedder`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackEmbedding {
    /// The track's embedding (for musicrec models: the mean over several windows).
    pub embedding: Vec<f32>,
    /// Probability per genre, in [`ModelInfo::genres`] order.
    pub genre_probs: Vec<f32>,
    /// Decoded length of the track in seconds.
    pub duration_secs: f64,
    /// Why the embedding may not describe the whole file (a truncated file analysed as far as it
    /// could be read); `None` for a file read whole. Kept with the track for `scan --failed`.
    pub warning: Option<String>,
}

/// Tags read from the file (all optional; blank values are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackTags {
    /// Artist.
    pub artist: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Album.
    pub album: Option<String>,
    /// The genre written in the file's tag (not the model's prediction).
    pub genre: Option<String>,
    /// Release or recording year.
    pub year: Option<i32>,
}

/// A track row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    /// Row id.
    pub id: TrackId,
    /// Absolute (canonical) path of the file.
    pub path: PathBuf,
    /// blake3 of the file's bytes.
    #[serde(serialize_with = "serialize_hash")]
    pub content_hash: blake3::Hash,
    /// File size in bytes when it was last scanned.
    pub size_bytes: u64,
    /// File modification time when it was last scanned (Unix nanoseconds).
    pub mtime_ns: i64,
    /// Decoded duration in seconds (`None` until a model has embedded the track).
    pub duration_secs: Option<f64>,
    /// Tags.
    pub tags: TrackTags,
    /// When the track was first added (Unix ms).
    pub added_at: i64,
    /// When the row last changed (Unix ms).
    pub updated_at: i64,
    /// When a scan last found the file gone (Unix ms); `None` while it exists.
    pub missing_since: Option<i64>,
    /// What the last scan noticed about the file although it embedded it (it was truncated and
    /// only its readable part was analysed); `None` when it was read whole.
    pub warning: Option<String>,
}

fn serialize_hash<S: serde::Serializer>(hash: &blake3::Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(hash.to_hex().as_str())
}

impl Track {
    /// "Artist - Title" when both tags exist, else the file name.
    pub fn display_name(&self) -> String {
        match (&self.tags.artist, &self.tags.title) {
            (Some(artist), Some(title)) => format!("{artist} - {title}"),
            _ => self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.path.display().to_string()),
        }
    }
}

/// The few track fields recommendation needs beside the vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSummary {
    /// Row id.
    pub id: TrackId,
    /// Absolute path.
    pub path: PathBuf,
    /// Artist tag.
    pub artist: Option<String>,
    /// Title tag.
    pub title: Option<String>,
    /// blake3 of the file.
    pub content_hash: blake3::Hash,
}

/// Every present track's embedding and genre probabilities for one model, as flat row-major
/// matrices (row `i` belongs to `tracks[i]`), ordered by track id.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingSet {
    /// The model these vectors come from.
    pub model_id: String,
    /// Its genres and dimension.
    pub model: ModelInfo,
    /// One entry per row.
    pub tracks: Vec<TrackSummary>,
    /// `tracks.len() x model.embedding_dim` values.
    pub embeddings: Vec<f32>,
    /// `tracks.len() x model.genres.len()` values.
    pub genre_probs: Vec<f32>,
}

impl EmbeddingSet {
    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// Whether no track has an embedding for this model.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// Embedding of row `row`.
    pub fn embedding(&self, row: usize) -> &[f32] {
        let dim = self.model.embedding_dim;
        &self.embeddings[row * dim..(row + 1) * dim]
    }

    /// Genre probabilities of row `row`.
    pub fn genre_probs(&self, row: usize) -> &[f32] {
        let n = self.model.genres.len();
        &self.genre_probs[row * n..(row + 1) * n]
    }

    /// Index of the most probable genre of row `row` (`None` for a model without genres).
    pub fn top_genre(&self, row: usize) -> Option<usize> {
        argmax(self.genre_probs(row))
    }

    /// Row of the track with this id.
    pub fn row_of(&self, id: TrackId) -> Option<usize> {
        // Rows are ordered by id (see `load_embeddings`).
        self.tracks.binary_search_by_key(&id, |t| t.id).ok()
    }
}

/// Index of the largest value (first one on ties); `None` for an empty slice.
pub(crate) fn argmax(values: &[f32]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &v)| match best {
            Some((_, b)) if b >= v || v.is_nan() => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

/// Mean embedding of the tracks whose most probable genre is `genre`, and the track nearest to
/// it: the "one song as the centre point of each genre".
#[derive(Debug, Clone, PartialEq)]
pub struct GenreCentroid {
    /// Index into [`ModelInfo::genres`].
    pub genre_index: usize,
    /// The genre's name.
    pub genre: String,
    /// Mean embedding of the members.
    pub centroid: Vec<f32>,
    /// How many tracks have this genre as their most probable one.
    pub member_count: usize,
    /// The member nearest (Euclidean) to the centroid.
    pub centre_track: Option<TrackId>,
}

/// Result of [`crate::CatalogStore::find_track`].
#[derive(Debug, Clone, PartialEq)]
pub enum TrackMatch {
    /// Exactly one track matches.
    Found(Box<Track>),
    /// Several tracks match (exactly, or approximately with none named as typed): the caller
    /// should ask.
    Ambiguous(Vec<Track>),
    /// Nothing matches.
    NotFound,
}

/// One page of a longer result.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Number of items over all pages.
    pub total: u64,
    /// Index of `items[0]` in the full result.
    pub offset: u64,
    /// The items of this page.
    pub items: Vec<T>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: UserId,
    /// Unique name.
    pub name: String,
    /// Creation time (Unix ms).
    pub created_at: i64,
}

/// A like or a dislike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rating {
    /// Thumbs up (stored as +1).
    Like,
    /// Thumbs down (stored as -1).
    Dislike,
}

impl Rating {
    /// The stored value: +1 or -1.
    pub fn as_i64(self) -> i64 {
        match self {
            Rating::Like => 1,
            Rating::Dislike => -1,
        }
    }

    /// Inverse of [`Rating::as_i64`].
    pub fn from_i64(value: i64) -> Option<Self> {
        match value {
            1 => Some(Rating::Like),
            -1 => Some(Rating::Dislike),
            _ => None,
        }
    }
}

/// A user's latest opinion of a track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// Who.
    pub user: UserId,
    /// Which track.
    pub track: TrackId,
    /// Like or dislike.
    pub rating: Rating,
    /// When (Unix ms).
    pub created_at: i64,
}

/// A file a scan could not embed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanFailure {
    /// The file.
    pub path: PathBuf,
    /// The model it was being embedded with.
    pub model_id: String,
    /// One-line reason.
    pub reason: String,
    /// When (Unix ms).
    pub failed_at: i64,
}

/// Track count of one genre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GenreCount {
    /// Genre name.
    pub genre: String,
    /// Tracks whose most probable genre it is.
    pub tracks: u64,
}

/// Per-model numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelStats {
    /// Model id.
    pub model_id: String,
    /// Embedding length.
    pub embedding_dim: usize,
    /// Present tracks with an embedding from this model.
    pub embedded_tracks: u64,
    /// Present tracks by most probable genre, in the model's genre order.
    pub per_genre: Vec<GenreCount>,
}

/// Catalog-wide numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogStats {
    /// Tracks whose file exists (as of the last scan).
    pub tracks: u64,
    /// Tracks flagged missing.
    pub missing_tracks: u64,
    /// Recorded scan failures.
    pub failures: u64,
    /// Users.
    pub users: u64,
    /// Feedback events (every like/dislike ever recorded).
    pub feedback_events: u64,
    /// One entry per registered model.
    pub models: Vec<ModelStats>,
}

/// Path of a file as text; the catalog stores paths as UTF-8.
pub(crate) fn path_text(path: &std::path::Path) -> Option<&str> {
    path.to_str()
}

#[cfg(test)]
mod tests {
    use super::argmax;

    #[test]
    fn argmax_takes_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[]), None);
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), Some(1));
        assert_eq!(argmax(&[f32::NAN, 0.3, 0.5]), Some(2));
    }
}

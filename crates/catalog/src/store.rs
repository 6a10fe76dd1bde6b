//! The storage seam: everything the scan, recommendation and the web page need from a catalog.
//!
//! Writes from a scan go through [`CatalogStore::apply_scan_updates`] as self-contained,
//! idempotent [`ScanUpdate`]s keyed by path and track id, each batch in one transaction. That is
//! what makes a scan resumable here and what lets a later PostgreSQL backend run many scanning
//! workers on one job queue: a worker that claimed a file produces one `ScanUpdate`, and
//! applying it twice, or after a crash, leaves the same rows.

use std::path::{Path, PathBuf};

use crate::{
    CatalogStats, EmbeddingSet, ExperimentStore, Feedback, GenreCentroid, ModelInfo, Page, Rating,
    Result, ScanFailure, Track, TrackEmbedding, TrackId, TrackMatch, TrackTags, User, UserId,
};

/// What the file system says about a file, recorded with each track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    /// blake3 of the bytes.
    pub content_hash: blake3::Hash,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Modification time (Unix nanoseconds).
    pub mtime_ns: i64,
}

/// A stored track as the scan sees it when deciding what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedTrack {
    /// Row id.
    pub id: TrackId,
    /// Stored path.
    pub path: PathBuf,
    /// Stored size, mtime and hash.
    pub file: FileFacts,
    /// Whether the last scan found it gone.
    pub missing: bool,
    /// Whether the scanning model has an embedding for it.
    pub has_embedding: bool,
}

/// A recorded failure as the scan sees it (to skip files that failed before and did not change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFailure {
    /// The file.
    pub path: PathBuf,
    /// Size when it failed.
    pub size_bytes: u64,
    /// Modification time when it failed.
    pub mtime_ns: i64,
}

/// Everything a scan needs to know about the catalog for one model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanIndex {
    /// All tracks (present and missing).
    pub tracks: Vec<IndexedTrack>,
    /// Failures recorded for this model.
    pub failures: Vec<IndexedFailure>,
}

/// One scan result, applied atomically with the rest of its batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanUpdate {
    /// A new or changed file with its model output: inserts the track, or updates the row with
    /// this path (dropping other models' embeddings when the content changed), stores the
    /// embedding and clears any failure recorded for the path.
    Embedded {
        /// Absolute path.
        path: PathBuf,
        /// Size, mtime, hash.
        file: FileFacts,
        /// Tags.
        tags: TrackTags,
        /// The model output.
        output: TrackEmbedding,
    },
    /// A known track found under a new path with the same content: the row (and its
    /// embeddings, feedback) keeps its id and gets the new path.
    Moved {
        /// The existing row.
        track: TrackId,
        /// The new path.
        path: PathBuf,
        /// Size, mtime, hash at the new path.
        file: FileFacts,
        /// Tags at the new path.
        tags: TrackTags,
    },
    /// Same content at the same path with new file facts (touched, or back after being
    /// missing): only size/mtime are refreshed and the missing flag cleared.
    Refreshed {
        /// The existing row.
        track: TrackId,
        /// Current size, mtime, hash.
        file: FileFacts,
    },
    /// The file could not be embedded. When `stale_track` is set (a stored track whose file
    /// changed and now fails), that track is flagged missing so that its old embedding is not
    /// recommended.
    Failed {
        /// The file.
        path: PathBuf,
        /// Size and mtime at failure, if the file could be stat-ed.
        size_bytes: Option<u64>,
        /// Modification time at failure.
        mtime_ns: Option<i64>,
        /// One-line reason.
        reason: String,
        /// The stored track at this path, if any.
        stale_track: Option<TrackId>,
    },
    /// The file is gone: the track is flagged missing (kept with its embeddings and feedback,
    /// so that it comes back intact if the file reappears, e.g. a drive is mounted again).
    Missing {
        /// The row.
        track: TrackId,
    },
}

/// A musicrec catalog. Reads take `&self`, writes `&mut self`; implementations are `Send` so a
/// store can be handed to the thread that writes.
pub trait CatalogStore: Send {
    // ---- models ----

    /// Registers `model_id`, or checks that an existing registration has the same genres and
    /// embedding size (the config is refreshed). A mismatch is [`crate::CatalogError::ModelMismatch`].
    fn register_model(&mut self, model_id: &str, info: &ModelInfo) -> Result<()>;
    /// The model's stored info.
    fn model(&self, model_id: &str) -> Result<Option<ModelInfo>>;
    /// Ids of all registered models, sorted.
    fn model_ids(&self) -> Result<Vec<String>>;

    // ---- scan seam ----

    /// Tracks and failures as a scan with `model_id` needs them.
    fn scan_index(&self, model_id: &str) -> Result<ScanIndex>;
    /// Applies `updates` for `model_id` in one transaction.
    fn apply_scan_updates(&mut self, model_id: &str, updates: &[ScanUpdate]) -> Result<()>;

    // ---- tracks ----

    /// The track with this id (present or missing).
    fn track(&self, id: TrackId) -> Result<Option<Track>>;
    /// The track stored under exactly this path.
    fn track_by_path(&self, path: &Path) -> Result<Option<Track>>;
    /// Present tracks whose artist and title tags equal these, ignoring case and surrounding
    /// spaces.
    fn tracks_by_artist_title(&self, artist: &str, title: &str) -> Result<Vec<Track>>;
    /// Present tracks whose title tag equals `title`, ignoring case.
    fn tracks_by_title(&self, title: &str) -> Result<Vec<Track>>;
    /// Present tracks whose artist, title, album or path contains `text` (case-insensitive),
    /// ordered by artist, title, path; `limit` is capped at 1000.
    fn search(&self, text: &str, offset: u64, limit: u64) -> Result<Page<Track>>;
    /// Forgets tracks flagged missing, with their embeddings and feedback; returns how many.
    fn purge_missing(&mut self) -> Result<u64>;

    // ---- embeddings ----

    /// Every present track's embedding and genre probabilities for `model_id`, in one pass.
    fn load_embeddings(&self, model_id: &str) -> Result<EmbeddingSet>;
    /// One track's stored output for `model_id`.
    fn embedding(&self, track: TrackId, model_id: &str) -> Result<Option<TrackEmbedding>>;
    /// Replaces the stored genre centroids of `model_id`.
    fn store_genre_centroids(&mut self, model_id: &str, centroids: &[GenreCentroid]) -> Result<()>;
    /// Stored genre centroids of `model_id`, by genre index (empty until computed).
    fn genre_centroids(&self, model_id: &str) -> Result<Vec<GenreCentroid>>;

    // ---- users and feedback ----

    /// Creates the user `name` (trimmed, non-empty), or returns the existing one's id.
    fn add_user(&mut self, name: &str) -> Result<UserId>;
    /// The user with this exact name.
    fn user_by_name(&self, name: &str) -> Result<Option<User>>;
    /// All users, by id.
    fn users(&self) -> Result<Vec<User>>;
    /// Records a like/dislike (an event; the latest one per track counts).
    fn record_feedback(&mut self, user: UserId, track: TrackId, rating: Rating) -> Result<()>;
    /// The user's latest rating of each track they rated, by track id.
    fn feedback(&self, user: UserId) -> Result<Vec<Feedback>>;
    /// Forgets the user's ratings of `track` (an undone like or dislike); returns how many
    /// recorded events were removed (0: the track was not rated).
    fn clear_feedback(&mut self, user: UserId, track: TrackId) -> Result<u64>;

    // ---- reports ----

    /// Recorded scan failures, by path.
    fn failed(&self) -> Result<Vec<ScanFailure>>;
    /// Present tracks embedded with a warning (truncated files analysed as far as they could be
    /// read), by path.
    fn warned(&self) -> Result<Vec<Track>>;
    /// Counts: tracks, missing, failures, users, feedback, per model and genre.
    fn stats(&self) -> Result<CatalogStats>;

    // ---- refresh ----

    /// The catalog's change revision: a number that changes with every committed insert,
    /// update or delete of tracks or embeddings (any model), and only with writes. A server
    /// that built its in-memory index at revision `r` reloads when this answers anything else
    /// (a re-embedding that leaves every count unchanged included). Cheap: one row read, never
    /// a pass over the tracks. Read it *before* loading the embeddings: a change committed in
    /// between then shows at the next poll instead of being missed.
    fn revision(&self) -> Result<u64>;

    // ---- provided ----

    /// Every user's latest rating of each track they rated, by user then track (the users x
    /// tracks matrix collaborative filtering learns from).
    fn all_feedback(&self) -> Result<Vec<Feedback>> {
        let mut all = Vec::new();
        for user in self.users()? {
            all.extend(self.feedback(user.id)?);
        }
        Ok(all)
    }

    /// The listening-experiment tables, when this backend has them (`None` by default).
    fn experiments(&self) -> Option<&dyn ExperimentStore> {
        None
    }

    /// The listening-experiment tables for writing, when this backend has them.
    fn experiments_mut(&mut self) -> Option<&mut dyn ExperimentStore> {
        None
    }

    /// The songs of the Subsonic servers this catalog is the companion of, when this backend
    /// keeps them.
    fn upstream(&self) -> Option<&dyn crate::UpstreamStore> {
        None
    }

    /// The upstream songs for writing, when this backend keeps them.
    fn upstream_mut(&mut self) -> Option<&mut dyn crate::UpstreamStore> {
        None
    }

    /// Recomputes and stores the genre centroids of `model_id` from its current embeddings.
    fn recompute_genre_centroids(&mut self, model_id: &str) -> Result<Vec<GenreCentroid>> {
        let set = self.load_embeddings(model_id)?;
        let centroids = crate::compute_genre_centroids(&set);
        self.store_genre_centroids(model_id, &centroids)?;
        Ok(centroids)
    }

    /// Resolves what a user typed: a stored path, "artist - title" (every " - " is tried as the
    /// separator), or a title. Several exact matches are [`TrackMatch::Ambiguous`]; without an
    /// exact match, the text search decides: one hit is the answer, and so is the one hit whose
    /// file name (with or without extension) is the query, ignoring case, since untagged files are
    /// known by their names; otherwise up to 20 hits are offered as candidates.
    fn find_track(&self, query: &str) -> Result<TrackMatch> {
        let query = query.trim();
        if query.is_empty() {
            return Err(crate::CatalogError::Invalid("empty track query".into()));
        }
        if let Some(track) = self.track_by_path(Path::new(query))? {
            return Ok(TrackMatch::Found(Box::new(track)));
        }
        let mut exact: Vec<Track> = Vec::new();
        for (split, _) in query.match_indices(" - ") {
            let (artist, title) = (&query[..split], &query[split + 3..]);
            for track in self.tracks_by_artist_title(artist, title)? {
                if !exact.iter().any(|t| t.id == track.id) {
                    exact.push(track);
                }
            }
        }
        if exact.is_empty() {
            exact = self.tracks_by_title(query)?;
        }
        match exact.len() {
            1 => return Ok(TrackMatch::Found(Box::new(exact.remove(0)))),
            n if n > 1 => return Ok(TrackMatch::Ambiguous(exact)),
            _ => {}
        }
        // Approximate: the whole query, then the title part of "artist - title".
        let mut candidates = self.search(query, 0, 20)?.items;
        if candidates.is_empty()
            && let Some((_, title)) = query.rsplit_once(" - ")
        {
            candidates = self.search(title, 0, 20)?.items;
        }
        if candidates.len() > 1 {
            let folded = query.to_lowercase();
            let named = |track: &Track| {
                [track.path.file_name(), track.path.file_stem()]
                    .into_iter()
                    .flatten()
                    .any(|name| name.to_string_lossy().to_lowercase() == folded)
            };
            let mut by_name = candidates.iter().filter(|t| named(t));
            if let (Some(track), None) = (by_name.next(), by_name.next()) {
                return Ok(TrackMatch::Found(Box::new(track.clone())));
            }
        }
        Ok(match candidates.len() {
            0 => TrackMatch::NotFound,
            1 => TrackMatch::Found(Box::new(candidates.remove(0))),
            _ => TrackMatch::Ambiguous(candidates),
        })
    }
}

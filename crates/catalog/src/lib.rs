//! `catalog` stage: the store of a user's music library and the scan that fills it.
//!
//! - [`CatalogStore`]: the storage seam (tracks, models, embeddings, genre probabilities, genre
//!   centroids, users, feedback, scan failures), with its types and a database-neutral
//!   [`CatalogError`]. The backends are sibling crates: musicrec-catalog-sqlite (one SQLite
//!   file) and musicrec-catalog-pg (PostgreSQL, shared by many machines).
//!   [`CatalogStore::revision`] tells a server cheaply that its in-memory index is stale.
//! - [`sql`]: the SQL both backends run, written once over a small connection seam; a backend
//!   implements [`sql::SqlStore`] and gets [`CatalogStore`], [`ExperimentStore`] and
//!   [`UpstreamStore`].
//! - [`scan()`]: walks music folders and embeds every audio file with a [`TrackEmbedder`], in
//!   parallel, incrementally (unchanged files are not decoded, moved files keep their embedding,
//!   deleted ones are flagged missing) and resumably (results are committed track by track by a
//!   single writer, so a killed scan loses at most the tracks in flight); its throughput
//!   ([`ScanMeter`], through a [`Metered`] embedder) and its summary ([`ScanReport::summary`]).
//! - Read APIs for recommendation: [`CatalogStore::load_embeddings`] (one query into a flat
//!   matrix), lookups by id, path and "artist - title" ([`CatalogStore::find_track`]), paged
//!   text search, [`CatalogStore::stats`].
//! - [`ExperimentStore`]: listening experiments (studies, sessions with hidden origins, ratings
//!   per round), a separate trait that a backend offers through [`CatalogStore::experiments`].
//! - [`UpstreamStore`]: the songs of a Subsonic server musicrec is the companion of and the
//!   catalog track each one is, synced in place ([`CatalogStore::upstream`]).
//!
//! The catalog knows nothing about models: embedders are anything implementing
//! [`TrackEmbedder`], identified by a model id string. This crate imports no database driver
//! and no backend: they import it.

mod blob;
mod centroids;
mod error;
mod experiment;
mod meter;
pub mod scan;
pub mod sql;
mod store;
mod tags;
mod types;
mod upstream;

pub use blob::{decode_f32_le, encode_f32_le};
pub use centroids::compute_genre_centroids;
pub use error::{CatalogError, one_line};
pub use experiment::{
    DECOY_ORIGIN, ExperimentResponse, ExperimentStore, NewStudy, Session, SessionId, SessionItem,
    Study, StudyId, validate_new_study,
};
pub use meter::{Metered, ScanMeter};
pub use scan::{
    AUDIO_EXTENSIONS, ScanOptions, ScanReport, TrackEmbedder, scan, skipped_failed_clause,
};
pub use store::{CatalogStore, FileFacts, IndexedFailure, IndexedTrack, ScanIndex, ScanUpdate};
pub use tags::read_tags;
pub use types::{
    CatalogStats, EmbeddingSet, Feedback, GenreCentroid, GenreCount, ModelInfo, ModelStats, Page,
    Rating, ScanFailure, Track, TrackEmbedding, TrackId, TrackMatch, TrackSummary, TrackTags, User,
    UserId,
};
pub use upstream::{UpstreamSong, UpstreamStore, UpstreamSync};

/// Marks a musicrec catalog: SQLite's `PRAGMA application_id`, and the row of PostgreSQL's
/// `musicrec_catalog` table. The bytes "MREC".
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"MREC");

/// Result alias for catalog operations.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

//! `catalog` stage: the store of a user's music library and the scan that fills it.
//!
//! - [`CatalogStore`]: the storage seam (tracks, models, embeddings, genre probabilities, genre
//!   centroids, users, feedback, scan failures). [`SqliteStore`] implements it on one SQLite file
//!   (WAL, versioned migrations, refuses files that are not musicrec catalogs); the PostgreSQL
//!   backend (musicrec-catalog-pg) implements the same trait. [`CatalogStore::revision`] tells a
//!   server cheaply that its in-memory index is stale.
//! - [`scan()`]: walks music folders and embeds every audio file with a [`TrackEmbedder`], in
//!   parallel, incrementally (unchanged files are not decoded, moved files keep their embedding,
//!   deleted ones are flagged missing) and resumably (results are committed track by track by a
//!   single writer, so a killed scan loses at most the tracks in flight).
//! - Read APIs for recommendation: [`CatalogStore::load_embeddings`] (one query into a flat
//!   matrix), lookups by id, path and "artist - title" ([`CatalogStore::find_track`]), paged
//!   text search, [`CatalogStore::stats`].
//! - [`ExperimentStore`]: listening experiments (studies, sessions with hidden origins, ratings
//!   per round), a separate trait that a backend offers through [`CatalogStore::experiments`].
//!
//! The catalog knows nothing about models: embedders are anything implementing
//! [`TrackEmbedder`], identified by a model id string.

mod blob;
mod centroids;
mod error;
mod experiment;
mod paths;
pub mod scan;
mod sqlite;
mod store;
mod tags;
mod types;

pub use blob::{decode_f32_le, encode_f32_le};
pub use centroids::compute_genre_centroids;
pub use error::CatalogError;
pub use experiment::{
    DECOY_ORIGIN, ExperimentResponse, ExperimentStore, NewStudy, Session, SessionId, SessionItem,
    Study, StudyId, validate_new_study,
};
pub use paths::default_catalog_path;
pub use scan::{AUDIO_EXTENSIONS, ScanOptions, ScanReport, TrackEmbedder, scan};
pub use sqlite::{APPLICATION_ID, SqliteStore};
pub use store::{CatalogStore, FileFacts, IndexedFailure, IndexedTrack, ScanIndex, ScanUpdate};
pub use tags::read_tags;
pub use types::{
    CatalogStats, EmbeddingSet, Feedback, GenreCentroid, GenreCount, ModelInfo, ModelStats, Page,
    Rating, ScanFailure, Track, TrackEmbedding, TrackId, TrackMatch, TrackSummary, TrackTags, User,
    UserId,
};

/// Result alias for catalog operations.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

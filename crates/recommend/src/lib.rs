//! musicrec's `recommend` stage: similarity search over track embeddings (the CRNN's vector before
//! its classification layer, any width), the paper's two recommendation methods (similarity, and
//! similarity plus genre information), Rocchio feedback re-ranking, de-duplication and artist
//! variety, mixes picked for variety ([`EmbeddingIndex::mix`]), song paths that move steadily
//! from one song to another ([`EmbeddingIndex::path`]), and offline quality metrics (genre
//! precision@k); a user's likes and dislikes as feedback ([`feedback_for_index`]), listening
//! experiments ([`experiment`], [`simulate`]) and collaborative filtering with a content hybrid
//! ([`cf`]).
//!
//! Works on plain in-memory data: track ids are `i64`, embeddings `f32` row-major. Start with
//! [`EmbeddingIndex::new`], then [`EmbeddingIndex::recommend`] or [`EmbeddingIndex::search`].
//! Scores are "higher = more similar" for every [`Metric`]. See README.md beside this crate for the
//! benchmark and the measurements behind the defaults.

pub mod cf;
mod error;
pub mod experiment;
mod feedback;
mod from_catalog;
mod index;
mod kernels;
mod metric;
mod mix;
pub mod offline;
mod path;
mod recommend;
mod search;
pub mod simulate;
pub mod synthetic;

pub use cf::{
    CfModel, CfParams, CompareOptions, InteractionComparison, InteractionData, InteractionSource,
    Play, compare_on_interactions,
};
pub use error::{RecommendError, Result};
pub use experiment::{ExperimentError, StudyAnalysis, StudyMethod, analyze_study, plan_session};
pub use feedback::feedback_for_index;
pub use from_catalog::index_from_embedding_set;
pub use index::{CentroidKind, EmbeddingIndex, TrackMeta};
pub use metric::Metric;
pub use mix::DEFAULT_VARIETY;
pub use path::{MAX_PATH_LEN, PathStep, SongPath};
pub use recommend::{
    Feedback, GenreBlend, MAX_SEEDS, Method, RecommendRequest, Recommendations, Rocchio,
    SeedCombination,
};
pub use search::{
    AUTO_QUANTIZE_MIN_ROWS, DEFAULT_RESCORE_CANDIDATES, Hit, SearchMode, SearchResult,
};

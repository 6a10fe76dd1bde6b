//! musicrec's `recommend` stage, the search core: similarity search over track embeddings (the
//! CRNN's vector before its classification layer, any width), the paper's two recommendation
//! methods (similarity, and similarity plus genre information), Rocchio feedback re-ranking,
//! de-duplication and artist variety, mixes picked for variety ([`EmbeddingIndex::mix`]), song
//! paths that move steadily from one song to another ([`EmbeddingIndex::path`]), a user's likes
//! and dislikes as feedback ([`feedback_for_index`]), and collaborative filtering with a content
//! hybrid ([`cf`]: the model fitted and ranked with for recommendations).
//!
//! Works on plain in-memory data: track ids are `i64`, embeddings `f32` row-major. Start with
//! [`EmbeddingIndex::new`], then [`EmbeddingIndex::recommend`] or [`EmbeddingIndex::search`].
//! Scores are "higher = more similar" for every [`Metric`]. See README.md beside this crate for the
//! benchmark and the measurements behind the defaults.
//!
//! Sits above `catalog`; it must not import `eval`, `plot` or the model stages: measuring the
//! recommendations (listening experiments, offline comparisons, simulated listeners) is
//! `musicrec-study`'s, above this crate.

pub mod cf;
mod error;
mod feedback;
mod from_catalog;
mod index;
mod kernels;
mod metric;
mod mix;
mod path;
mod recommend;
mod search;
pub mod synthetic;

pub use cf::{CfError, CfModel, CfParams, Play};
pub use error::{RecommendError, Result};
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

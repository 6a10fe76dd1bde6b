//! The recommend stage's error type: every bad input (unknown ids, shape mismatches, NaN, bad
//! parameters) is reported as one of these, never as a panic.

/// Why a search, recommendation or evaluation could not be carried out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecommendError {
    #[error("the embedding index is empty: nothing to search")]
    EmptyIndex,
    #[error("embedding dimension must be at least 1")]
    ZeroDimension,
    #[error("{what}: expected {expected} values, got {actual}")]
    ShapeMismatch {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error(
        "dimension mismatch: the index holds {index}-dimensional embeddings, the query has {query}"
    )]
    DimensionMismatch { index: usize, query: usize },
    #[error(
        "embedding of track {id} has a non-finite value (NaN or infinity) at position {position}"
    )]
    NonFiniteEmbedding { id: i64, position: usize },
    #[error("genre probabilities of track {id} must be finite and within [0, 1], got {value}")]
    BadGenreProbability { id: i64, value: f32 },
    #[error("the query vector has a non-finite value (NaN or infinity) at position {position}")]
    NonFiniteQuery { position: usize },
    #[error("track id {0} appears more than once in the index")]
    DuplicateId(i64),
    #[error("unknown track id {0}: not in the index")]
    UnknownTrack(i64),
    #[error("no seed tracks given: a recommendation needs at least one seed")]
    NoSeeds,
    #[error("unknown metric {0:?}: expected cosine, euclidean or pnorm:P with P > 0")]
    UnknownMetric(String),
    #[error("pnorm exponent must be a finite number > 0, got {0}")]
    BadPNorm(f32),
    #[error("the seeds' combined cosine query is the zero vector: cosine similarity is undefined")]
    ZeroQuery,
    #[error("this needs genre probabilities, but the index was built without them")]
    NoGenres,
    #[error("invalid parameter {name} = {value}: {reason}")]
    BadParameter {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// Result alias of the recommend stage.
pub type Result<T> = std::result::Result<T, RecommendError>;

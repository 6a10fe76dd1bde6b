//! Recommendation method dispatch: the request's `method` names a [`MethodName`], and
//! [`run`] turns a validated request into ranked tracks. Methods 1 and 2 of the paper
//! (`similarity`, `genre`) run on the embedding index; `cf` and `hybrid` are reserved names for
//! the collaborative-filtering stage, answered "not available in this build" until it is wired
//! in here (one new match arm each).

use musicrec_recommend::{
    Feedback, GenreBlend, Method, Metric, RecommendRequest, Recommendations, Rocchio,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::LoadedIndex;

/// At most this many seeds per request (the page lets people pick five).
pub const MAX_SEEDS: usize = 5;
/// At most this many recommendations per request.
pub const MAX_K: usize = 100;

/// A recommendation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MethodName {
    /// Method 1: similarity of the embeddings.
    #[default]
    Similarity,
    /// Method 2: similarity plus genre probabilities.
    Genre,
    /// Collaborative filtering over users' feedback (not in this build yet).
    Cf,
    /// Blend of content and collaborative filtering (not in this build yet).
    Hybrid,
}

impl MethodName {
    pub fn as_str(self) -> &'static str {
        match self {
            MethodName::Similarity => "similarity",
            MethodName::Genre => "genre",
            MethodName::Cf => "cf",
            MethodName::Hybrid => "hybrid",
        }
    }
}

/// A checked request: seeds exist in the index, `k` and the metric are valid.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub seeds: Vec<i64>,
    pub k: usize,
    pub method: MethodName,
    pub metric: Metric,
    pub max_per_artist: Option<usize>,
}

impl ValidRequest {
    /// Checks the request's values against the limits and the loaded index.
    pub fn check(
        index: &LoadedIndex,
        seeds: &[i64],
        k: usize,
        method: MethodName,
        metric: &str,
        max_per_artist: Option<usize>,
    ) -> Result<Self, ApiError> {
        if seeds.is_empty() {
            return Err(ApiError::bad_request(
                "`seeds` is empty: give 1 to 5 track ids",
            ));
        }
        if seeds.len() > MAX_SEEDS {
            return Err(ApiError::bad_request(format!(
                "{} seeds given: at most {MAX_SEEDS}",
                seeds.len()
            )));
        }
        if k == 0 || k > MAX_K {
            return Err(ApiError::bad_request(format!(
                "k = {k}: must be between 1 and {MAX_K}"
            )));
        }
        if max_per_artist == Some(0) {
            return Err(ApiError::bad_request("max_per_artist must be at least 1"));
        }
        let metric: Metric = metric
            .parse()
            .map_err(|e: musicrec_recommend::RecommendError| {
                ApiError::bad_request(e.to_string())
            })?;
        let mut unique = Vec::with_capacity(seeds.len());
        for &id in seeds {
            if index.row_of(musicrec_catalog::TrackId(id)).is_none() {
                return Err(ApiError::not_found(format!(
                    "seed {id} is not a track with an embedding from model {}",
                    index.model_id
                )));
            }
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        Ok(Self {
            seeds: unique,
            k,
            method,
            metric,
            max_per_artist,
        })
    }
}

/// A user's likes and dislikes, as track ids present in the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFeedback {
    pub liked: Vec<i64>,
    pub disliked: Vec<i64>,
}

/// Ranks tracks for `request` with its method; the user's feedback moves the query (Rocchio,
/// SMART weights) and disliked tracks never come back.
pub fn run(
    index: &LoadedIndex,
    request: &ValidRequest,
    feedback: &UserFeedback,
) -> Result<Recommendations, ApiError> {
    let method = match request.method {
        MethodName::Similarity => Method::Similarity,
        MethodName::Genre => {
            if !index.index.has_genres() {
                return Err(ApiError::bad_request(format!(
                    "method genre needs genre probabilities, and model {} has no genres",
                    index.model_id
                )));
            }
            Method::SimilarityAndGenre(GenreBlend::default())
        }
        MethodName::Cf | MethodName::Hybrid => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "method_not_available",
                format!(
                    "method {} not available in this build (available: similarity, genre)",
                    request.method.as_str()
                ),
            ));
        }
    };
    let mut query = RecommendRequest::new(request.seeds.clone(), request.k);
    query.metric = request.metric;
    query.method = method;
    query.max_per_artist = request.max_per_artist;
    query.feedback = Feedback {
        liked: feedback.liked.clone(),
        disliked: feedback.disliked.clone(),
        rocchio: Rocchio::default(),
    };
    Ok(index.index.recommend(&query)?)
}

//! Recommendation method dispatch: the request's `method` names a [`MethodName`], and
//! [`run`] turns a validated request into ranked tracks. Methods 1 and 2 of the paper
//! (`similarity`, `genre`) run on the embedding index; `cf` (collaborative filtering over every
//! user's likes) and `hybrid` (CF blended with content similarity) rank for a user with
//! `musicrec_recommend::cf::rank_for_user`, as `musicrec recommend --method cf|hybrid` does:
//! the seeds and the user's likes anchor the content score, seeds, likes and dislikes never come
//! back, and a track or user the CF model does not know (cold start) gets the content score alone
//! in `hybrid`.

use musicrec_recommend::cf::{CfModel, DEFAULT_HYBRID_WEIGHT, Ranker, rank_for_user};
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
    /// Collaborative filtering over every user's likes (needs `user`).
    Cf,
    /// `w * cf + (1 - w) * content similarity`; content alone for tracks and users nobody's
    /// likes describe yet (needs `user`).
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

    /// Whether the method ranks for a user from everyone's feedback.
    pub fn is_collaborative(self) -> bool {
        matches!(self, MethodName::Cf | MethodName::Hybrid)
    }

    /// Every method, as `GET /api/stats` lists them.
    pub const ALL: [MethodName; 4] = [
        MethodName::Similarity,
        MethodName::Genre,
        MethodName::Cf,
        MethodName::Hybrid,
    ];
}

/// A checked request: seeds exist in the index, `k` and the metric are valid.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub seeds: Vec<i64>,
    pub k: usize,
    pub method: MethodName,
    pub metric: Metric,
    pub max_per_artist: Option<usize>,
    /// CF weight of `hybrid` (the content score gets `1 - w`).
    pub hybrid_weight: f32,
}

impl ValidRequest {
    /// Checks the request's values against the limits and the loaded index. `cf` and `hybrid`
    /// may come without seeds (the user's likes anchor them) but only with the cosine metric
    /// (their content score is the mean cosine similarity).
    pub fn check(
        index: &LoadedIndex,
        seeds: &[i64],
        k: usize,
        method: MethodName,
        metric: &str,
        max_per_artist: Option<usize>,
    ) -> Result<Self, ApiError> {
        if seeds.is_empty() && !method.is_collaborative() {
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
        if method.is_collaborative() && metric != Metric::Cosine {
            return Err(ApiError::bad_request(format!(
                "method {} scores content by cosine similarity: metric {metric} is not available with it",
                method.as_str()
            )));
        }
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
            hybrid_weight: DEFAULT_HYBRID_WEIGHT,
        })
    }

    /// Sets the hybrid's CF weight (only `hybrid` takes one; within [0, 1]).
    pub fn with_hybrid_weight(mut self, weight: Option<f32>) -> Result<Self, ApiError> {
        let Some(weight) = weight else {
            return Ok(self);
        };
        if self.method != MethodName::Hybrid {
            return Err(ApiError::bad_request(format!(
                "hybrid_weight is only used by method hybrid, not {}",
                self.method.as_str()
            )));
        }
        if !(0.0..=1.0).contains(&weight) {
            return Err(ApiError::bad_request(format!(
                "hybrid_weight = {weight}: must be within [0, 1]"
            )));
        }
        self.hybrid_weight = weight;
        Ok(self)
    }
}

/// Who `cf` and `hybrid` rank for, and the CF model fitted on everyone's likes (`None` while
/// nobody has liked anything).
#[derive(Debug, Clone, Copy)]
pub struct Collaborative<'a> {
    pub user: &'a str,
    pub model: Option<&'a CfModel>,
}

/// A user's likes and dislikes, as track ids present in the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFeedback {
    pub liked: Vec<i64>,
    pub disliked: Vec<i64>,
}

/// Ranks tracks for `request` with its method; the user's feedback moves the query (Rocchio,
/// SMART weights) or anchors the CF ranking, and disliked tracks never come back. `cf` and
/// `hybrid` need `collaborative`.
pub fn run(
    index: &LoadedIndex,
    request: &ValidRequest,
    feedback: &UserFeedback,
    collaborative: Option<Collaborative<'_>>,
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
            let Some(collaborative) = collaborative else {
                return Err(ApiError::bad_request(format!(
                    "method {} recommends for a listener: give `user`",
                    request.method.as_str()
                )));
            };
            return run_collaborative(index, request, feedback, collaborative);
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

/// `cf` and `hybrid`: the seeds and the user's likes anchor the content score; seeds, likes and
/// dislikes are excluded. With `max_per_artist` the whole ranking is taken and capped in order.
fn run_collaborative(
    index: &LoadedIndex,
    request: &ValidRequest,
    feedback: &UserFeedback,
    collaborative: Collaborative<'_>,
) -> Result<Recommendations, ApiError> {
    let ranker = match request.method {
        MethodName::Cf => Ranker::Cf,
        _ => Ranker::Hybrid {
            weight: request.hybrid_weight,
        },
    };
    if ranker == Ranker::Cf
        && !collaborative
            .model
            .is_some_and(|m| m.knows_user(collaborative.user))
    {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "cold_start",
            format!(
                "user {:?} has no likes collaborative filtering has learned from yet: like some \
                 songs, or use method hybrid (content similarity until then)",
                collaborative.user
            ),
        ));
    }
    let mut anchors = request.seeds.clone();
    for &id in &feedback.liked {
        if !anchors.contains(&id) {
            anchors.push(id);
        }
    }
    if anchors.is_empty() && ranker != Ranker::Cf {
        return Err(ApiError::bad_request(format!(
            "user {:?} has liked nothing yet and no seeds were given: method hybrid needs \
             seeds or likes to start from",
            collaborative.user
        )));
    }
    let mut exclude = anchors.clone();
    exclude.extend(&feedback.disliked);
    let fetch = if request.max_per_artist.is_some() {
        index.index.len()
    } else {
        request.k
    };
    let hits = rank_for_user(
        &index.index,
        collaborative.model,
        collaborative.user,
        &anchors,
        &exclude,
        ranker,
        fetch,
    )?;
    // The same cap as similarity's: per artist, or per folder for untagged files.
    let tracks = match request.max_per_artist {
        None => hits,
        Some(cap) => index.index.cap_per_artist(&hits, request.k, cap),
    };
    Ok(Recommendations {
        fewer_than_requested: tracks.len() < request.k,
        tracks,
        requested: request.k,
    })
}

//! The one recommendation service both front ends call: a [`RecommendQuery`] (seeds as catalog
//! ids, `k`, method, metric, artist cap, hybrid weight) and, for a listener, their feedback and
//! the collaborative-filtering model, in; ranked tracks out. Methods 1 and 2 of the paper
//! (`similarity`, `genre`) rank on the embedding index with the listener's likes and dislikes as
//! Rocchio feedback; `cf` and `hybrid` rank with `musicrec_recommend::cf::rank_for_user`, the
//! seeds and the listener's likes anchoring the content score. Seeds, likes and dislikes never
//! come back. The same query gives the same answer whichever front end asked.

use std::str::FromStr;

use musicrec_catalog::{CatalogStore, Feedback as Rated, Rating, TrackId};
use musicrec_recommend::cf::{
    CfModel, CfParams, DEFAULT_HYBRID_WEIGHT, Ranker, interactions_from_catalog, rank_for_user,
};
use musicrec_recommend::{
    Feedback, GenreBlend, Hit, MAX_SEEDS, Method, Metric, RecommendRequest, Rocchio,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};
use crate::lookup::ModelIndex;

/// A recommendation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecommendMethod {
    /// Method 1: similarity of the embeddings.
    #[default]
    Similarity,
    /// Method 2: similarity plus genre probabilities.
    Genre,
    /// Collaborative filtering over every user's likes (needs a user).
    Cf,
    /// `w * cf + (1 - w) * content similarity`; content alone for tracks and users nobody's
    /// likes describe yet (needs a user).
    Hybrid,
}

impl RecommendMethod {
    /// Every method.
    pub const ALL: [RecommendMethod; 4] = [
        RecommendMethod::Similarity,
        RecommendMethod::Genre,
        RecommendMethod::Cf,
        RecommendMethod::Hybrid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecommendMethod::Similarity => "similarity",
            RecommendMethod::Genre => "genre",
            RecommendMethod::Cf => "cf",
            RecommendMethod::Hybrid => "hybrid",
        }
    }

    /// Whether the method ranks for a user from everyone's feedback.
    pub fn is_collaborative(self) -> bool {
        matches!(self, RecommendMethod::Cf | RecommendMethod::Hybrid)
    }
}

impl FromStr for RecommendMethod {
    type Err = AppError;

    fn from_str(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "unknown method {text:?}: similarity, genre, cf or hybrid"
                ))
            })
    }
}

/// What to recommend. Seeds are catalog track ids (front ends resolve what users type first).
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendQuery {
    pub seeds: Vec<i64>,
    pub k: usize,
    pub method: RecommendMethod,
    pub metric: Metric,
    /// At most this many tracks by one artist (untagged files count by folder).
    pub max_per_artist: Option<usize>,
    /// CF weight of `hybrid` (content gets `1 - w`); only `hybrid` takes one.
    pub hybrid_weight: Option<f32>,
}

impl RecommendQuery {
    /// Method 1, cosine, no cap.
    pub fn new(seeds: Vec<i64>, k: usize) -> Self {
        Self {
            seeds,
            k,
            method: RecommendMethod::default(),
            metric: Metric::Cosine,
            max_per_artist: None,
            hybrid_weight: None,
        }
    }
}

/// A listener's likes and dislikes, as track ids the served model has embedded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFeedback {
    pub liked: Vec<i64>,
    pub disliked: Vec<i64>,
    /// Rated tracks the model has not embedded (they cannot move the query).
    pub skipped: usize,
}

impl UserFeedback {
    /// The latest ratings of a user, kept when `model` has embedded the track.
    pub fn of(ratings: &[Rated], model: &ModelIndex) -> Self {
        let mut feedback = UserFeedback::default();
        for rating in ratings {
            if model.row_of(rating.track).is_none() {
                feedback.skipped += 1;
                continue;
            }
            match rating.rating {
                Rating::Like => feedback.liked.push(rating.track.0),
                Rating::Dislike => feedback.disliked.push(rating.track.0),
            }
        }
        feedback
    }

    /// `name`'s feedback in `store` (none for a name nobody has used yet).
    pub fn load(store: &dyn CatalogStore, name: &str, model: &ModelIndex) -> Result<Self> {
        let ratings = match store.user_by_name(name.trim())? {
            Some(user) => store.feedback(user.id)?,
            None => Vec::new(),
        };
        Ok(Self::of(&ratings, model))
    }
}

/// The collaborative-filtering model fitted on every user's latest likes in `store` (`None`
/// while nobody has liked anything).
pub fn fit_cf(store: &dyn CatalogStore) -> Result<Option<CfModel>> {
    let interactions = interactions_from_catalog(store)?;
    Ok(CfModel::fit(&interactions, &CfParams::default()))
}

/// Whom the recommendations are for.
#[derive(Debug, Clone, Copy)]
pub struct Listener<'a> {
    pub name: &'a str,
    pub feedback: &'a UserFeedback,
    /// The CF model (`cf` and `hybrid` only; `None`: nobody has liked anything yet).
    pub cf: Option<&'a CfModel>,
}

/// Ranked tracks, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommended {
    /// The seeds used: the query's without repeats, or the listener's likes when the query had
    /// none.
    pub seeds: Vec<i64>,
    pub tracks: Vec<Hit>,
    pub requested: usize,
    /// True when fewer than `k` tracks qualified (small catalog, exclusions, artist cap).
    pub fewer_than_requested: bool,
    /// How the scores were made, in words ("cosine", "hybrid 0.50 x CF + 0.50 x content", ...).
    pub scoring: String,
    /// The CF weight `hybrid` used.
    pub hybrid_weight: Option<f32>,
}

/// Ranks tracks for `query` (see the module docs).
pub fn recommend(
    model: &ModelIndex,
    query: &RecommendQuery,
    listener: Option<Listener<'_>>,
) -> Result<Recommended> {
    let invalid = |message: String| Err(AppError::Invalid(message));
    if query.k == 0 {
        return invalid("k must be at least 1".into());
    }
    if query.seeds.len() > MAX_SEEDS {
        return invalid(format!(
            "{} seeds given: at most {MAX_SEEDS}",
            query.seeds.len()
        ));
    }
    if query.max_per_artist == Some(0) {
        return invalid("max_per_artist must be at least 1".into());
    }
    let method = query.method;
    if method.is_collaborative() && query.metric != Metric::Cosine {
        return invalid(format!(
            "method {} scores content by cosine similarity: metric {} is not available with it",
            method.as_str(),
            query.metric
        ));
    }
    let hybrid_weight = match (method, query.hybrid_weight) {
        (RecommendMethod::Hybrid, None) => Some(DEFAULT_HYBRID_WEIGHT),
        (RecommendMethod::Hybrid, Some(w)) if (0.0..=1.0).contains(&w) => Some(w),
        (RecommendMethod::Hybrid, Some(w)) => {
            return invalid(format!("hybrid weight {w}: must be within [0, 1]"));
        }
        (_, Some(_)) => {
            return invalid(format!(
                "a hybrid weight is only used by method hybrid, not {}",
                method.as_str()
            ));
        }
        (_, None) => None,
    };
    let mut seeds = Vec::with_capacity(query.seeds.len());
    for &id in &query.seeds {
        if model.row_of(TrackId(id)).is_none() {
            return Err(AppError::NotFound(format!(
                "seed {id} is not a track with an embedding from model {}",
                model.model_id
            )));
        }
        if !seeds.contains(&id) {
            seeds.push(id);
        }
    }
    if method.is_collaborative() {
        let Some(listener) = listener else {
            return invalid(format!(
                "method {} recommends for a listener: name a user",
                method.as_str()
            ));
        };
        let weight = hybrid_weight.unwrap_or(DEFAULT_HYBRID_WEIGHT);
        return collaborative(model, query, seeds, listener, weight);
    }

    let feedback = listener.map(|l| l.feedback.clone()).unwrap_or_default();
    if seeds.is_empty() {
        match listener {
            Some(l) if !l.feedback.liked.is_empty() => seeds = l.feedback.liked.clone(),
            Some(l) => {
                return invalid(format!(
                    "user {} has liked nothing yet: give seed songs, or like some songs first",
                    l.name
                ));
            }
            None => return invalid("no seeds: give 1 to 5 seed songs".into()),
        }
    }
    let mut scoring = query.metric.to_string();
    if let Some(l) = listener
        && (!feedback.liked.is_empty() || !feedback.disliked.is_empty())
    {
        let r = Rocchio::default();
        scoring.push_str(&format!(
            "; with {}'s likes: seeds + {} x liked - {} x disliked, may exceed 1",
            l.name, r.liked_weight, r.disliked_weight
        ));
    }
    let mut request = RecommendRequest::new(seeds.clone(), query.k);
    request.metric = query.metric;
    request.max_per_artist = query.max_per_artist;
    request.feedback = Feedback {
        liked: feedback.liked,
        disliked: feedback.disliked,
        rocchio: Rocchio::default(),
    };
    if method == RecommendMethod::Genre {
        if !model.index.has_genres() {
            return invalid(format!(
                "method genre needs genre probabilities, and model {} has no genres",
                model.model_id
            ));
        }
        request.method = Method::SimilarityAndGenre(GenreBlend::default());
    }
    let result = model.index.recommend(&request)?;
    Ok(Recommended {
        seeds,
        tracks: result.tracks,
        requested: result.requested,
        fewer_than_requested: result.fewer_than_requested,
        scoring,
        hybrid_weight: None,
    })
}

/// `cf` and `hybrid`: the seeds and the listener's likes anchor the content score; seeds, likes
/// and dislikes are excluded. With an artist cap the whole ranking is taken and capped in order.
fn collaborative(
    model: &ModelIndex,
    query: &RecommendQuery,
    seeds: Vec<i64>,
    listener: Listener<'_>,
    weight: f32,
) -> Result<Recommended> {
    let (ranker, scoring) = match query.method {
        RecommendMethod::Cf => (Ranker::Cf, "collaborative filtering".to_owned()),
        _ => (
            Ranker::Hybrid { weight },
            format!("hybrid {weight:.2} x CF + {:.2} x content", 1.0 - weight),
        ),
    };
    if ranker == Ranker::Cf && !listener.cf.is_some_and(|m| m.knows_user(listener.name)) {
        return Err(AppError::ColdStart(format!(
            "user {:?} has no likes collaborative filtering has learned from yet: like some \
             songs, or use method hybrid (content similarity until then)",
            listener.name
        )));
    }
    let mut anchors = seeds.clone();
    for &id in &listener.feedback.liked {
        if !anchors.contains(&id) {
            anchors.push(id);
        }
    }
    if anchors.is_empty() && ranker != Ranker::Cf {
        return Err(AppError::Invalid(format!(
            "user {:?} has liked nothing yet and no seeds were given: method hybrid needs \
             seeds or likes to start from",
            listener.name
        )));
    }
    let mut exclude = anchors.clone();
    exclude.extend(&listener.feedback.disliked);
    let fetch = if query.max_per_artist.is_some() {
        model.index.len()
    } else {
        query.k
    };
    let hits = rank_for_user(
        &model.index,
        listener.cf,
        listener.name,
        &anchors,
        &exclude,
        ranker,
        fetch,
    )?;
    // The same cap as similarity's: per artist, or per folder for untagged files.
    let tracks = match query.max_per_artist {
        None => hits,
        Some(cap) => model.index.cap_per_artist(&hits, query.k, cap),
    };
    Ok(Recommended {
        seeds,
        fewer_than_requested: tracks.len() < query.k,
        tracks,
        requested: query.k,
        scoring,
        hybrid_weight: (query.method == RecommendMethod::Hybrid).then_some(weight),
    })
}

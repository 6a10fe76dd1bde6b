//! Collaborative filtering and the content + CF hybrid, as recommendations use them.
//!
//! - [`CfModel`]: implicit-feedback matrix factorisation over users x tracks with `discorec`
//!   (Hu, Koren & Volinsky's confidence-weighted ALS, solved with conjugate gradient; seeded).
//!   Likes and plays are the positive interactions (a like weighs 1, plays `PLAY_WEIGHT *
//!   log2(1 + plays)` on top: many plays of a track say as much as a like); dislikes are explicit
//!   negatives, which implicit ALS has no place for, so they (and any plays of a disliked track)
//!   are left out of the fit and excluded from the user's results instead.
//! - [`rank_for_user`]: content-only (mean cosine similarity to the anchor tracks, i.e. method 1),
//!   CF-only, or the hybrid `w * cf + (1 - w) * content`, each score min-max scaled over the
//!   candidates; a track nobody has rated (cold start: the CF model has no factors for it) gets
//!   its content score alone, so new music still reaches users.
//!
//! Their offline comparison on held-out likes (real logs or simulated listeners) is
//! `musicrec-study`'s `interactions` module.

use std::collections::{HashMap, HashSet};

use musicrec_catalog::{CatalogError, CatalogStore, Rating};
use serde::Serialize;

use crate::kernels;
use crate::{EmbeddingIndex, Hit, RecommendError};

/// Why collaborative filtering could not answer; every message is one line.
#[derive(Debug, thiserror::Error)]
pub enum CfError {
    /// The catalog refused or failed.
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    /// The index refused (an unknown track, an empty index).
    #[error("{0}")]
    Recommend(#[from] RecommendError),
    /// The request does not make sense for this user (no anchors, unknown to CF, a bad weight).
    #[error("{0}")]
    Invalid(String),
}

/// Result alias of this module.
pub type CfResult<T> = std::result::Result<T, CfError>;

/// Weight of the CF score in the hybrid (the content score gets `1 - w`). Equal weights: with both
/// scores scaled to [0, 1] neither dominates; `musicrec_study::interactions::compare_on_interactions`
/// reports how it does.
pub const DEFAULT_HYBRID_WEIGHT: f32 = 0.5;

/// One user's opinion of one track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interaction {
    /// User name.
    pub user: String,
    /// Track id (the catalog's, or the index's for synthetic data).
    pub track: i64,
    /// Like (true) or dislike (false).
    pub liked: bool,
    /// When (any increasing unit, e.g. Unix seconds), if known.
    pub timestamp: Option<i64>,
}

/// How often a user played a track: an implicit positive, weaker than a like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Play {
    /// User name.
    pub user: String,
    /// Track id (the catalog's, or the index's for synthetic data).
    pub track: i64,
    /// Number of plays (at least 1).
    pub count: u32,
}

/// Preference value of `plays` plays in the implicit fit, on the scale where a like is 1:
/// `PLAY_WEIGHT * log2(1 + plays)`, so one play is a quarter of a like and 15 plays equal one.
/// The logarithm keeps a track on repeat from drowning out everything else a user did.
pub const PLAY_WEIGHT: f32 = 0.25;

/// The implicit-feedback value of `plays` plays (see [`PLAY_WEIGHT`]).
pub fn play_value(plays: u32) -> f32 {
    PLAY_WEIGHT * (1.0 + plays as f32).log2()
}

/// Every user's latest like/dislike in the catalog, as interactions.
pub fn interactions_from_catalog(store: &dyn CatalogStore) -> CfResult<Vec<Interaction>> {
    let mut out = Vec::new();
    for user in store.users()? {
        for f in store.feedback(user.id)? {
            out.push(Interaction {
                user: user.name.clone(),
                track: f.track.0,
                liked: f.rating == Rating::Like,
                timestamp: Some(f.created_at),
            });
        }
    }
    Ok(out)
}

/// Matrix-factorisation settings (discorec's implicit defaults, plus a fixed seed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CfParams {
    /// Latent factors.
    pub factors: u32,
    /// ALS sweeps.
    pub iterations: u32,
    /// Confidence of an observed like: `1 + alpha`.
    pub alpha: f32,
    /// L2 regularisation.
    pub regularization: f32,
    /// Seed of the factor initialisation.
    pub seed: u64,
}

impl Default for CfParams {
    fn default() -> Self {
        Self {
            factors: 8,
            iterations: 20,
            alpha: 40.0,
            regularization: 0.01,
            seed: 42,
        }
    }
}

/// A fitted implicit-feedback model.
pub struct CfModel {
    recommender: discorec::Recommender<String, i64>,
}

impl std::fmt::Debug for CfModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfModel")
            .field("users", &self.recommender.user_ids().len())
            .field("tracks", &self.recommender.item_ids().len())
            .finish()
    }
}

impl CfModel {
    /// Fits on the likes among `interactions` (dislikes are not implicit positives; see the module
    /// docs). `None` when there is no like at all.
    pub fn fit(interactions: &[Interaction], params: &CfParams) -> Option<Self> {
        Self::fit_with_plays(interactions, &[], params)
    }

    /// Fits on the likes among `interactions` and on `plays` (see [`play_value`]); plays of a
    /// track the user disliked are ignored. `None` when there is no positive interaction at all.
    pub fn fit_with_plays(
        interactions: &[Interaction],
        plays: &[Play],
        params: &CfParams,
    ) -> Option<Self> {
        let disliked: HashSet<(&str, i64)> = interactions
            .iter()
            .filter(|i| !i.liked)
            .map(|i| (i.user.as_str(), i.track))
            .collect();
        let mut values: HashMap<(&str, i64), f32> = HashMap::new();
        for i in interactions.iter().filter(|i| i.liked) {
            values.insert((i.user.as_str(), i.track), 1.0);
        }
        // Counts first, then the logarithm: a log with one row per play event weighs the same
        // as one row with the total.
        let mut counts: HashMap<(&str, i64), u32> = HashMap::new();
        for p in plays {
            let key = (p.user.as_str(), p.track);
            if !disliked.contains(&key) {
                let count = counts.entry(key).or_insert(0);
                *count = count.saturating_add(p.count);
            }
        }
        for (key, count) in counts.into_iter().filter(|(_, c)| *c > 0) {
            *values.entry(key).or_insert(0.0) += play_value(count);
        }
        let mut likes: Vec<(String, i64, f32)> = values
            .into_iter()
            .map(|((user, track), value)| (user.to_owned(), track, value))
            .collect();
        if likes.is_empty() {
            return None;
        }
        // A fixed order: the fit is seeded, and its result must not depend on hash order.
        likes.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let recommender = discorec::RecommenderBuilder::new()
            .factors(params.factors.max(1))
            .iterations(params.iterations)
            .alpha(params.alpha)
            .regularization(params.regularization)
            .seed(params.seed)
            .fit_implicit(&likes);
        Some(Self { recommender })
    }

    /// Whether the user has likes in the fit.
    pub fn knows_user(&self, user: &str) -> bool {
        self.recommender.user_factors(&user.to_owned()).is_some()
    }

    /// Whether someone liked the track (it has factors).
    pub fn knows_track(&self, track: i64) -> bool {
        self.recommender.item_factors(&track).is_some()
    }

    /// The predicted preference, `None` for an unknown user or a track nobody liked.
    pub fn score(&self, user: &str, track: i64) -> Option<f32> {
        let u = self.recommender.user_factors(&user.to_owned())?;
        let t = self.recommender.item_factors(&track)?;
        Some(kernels::dot(u, t))
    }

    /// Users and tracks in the fit.
    pub fn size(&self) -> (usize, usize) {
        (
            self.recommender.user_ids().len(),
            self.recommender.item_ids().len(),
        )
    }
}

/// How [`rank_for_user`] scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ranker {
    /// Mean cosine similarity to the anchor tracks (method 1).
    Content,
    /// The CF model's preference; tracks nobody liked are never returned.
    Cf,
    /// `weight * cf + (1 - weight) * content` on min-max scaled scores; content alone for
    /// tracks the CF model does not know, and for users it does not know.
    Hybrid {
        /// CF weight in [0, 1].
        weight: f32,
    },
}

/// Scales `values` to [0, 1] (all equal: all 0.5).
fn min_max(values: &mut [f32]) {
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    for v in values.iter_mut() {
        *v = if hi > lo { (*v - lo) / (hi - lo) } else { 0.5 };
    }
}

/// The best `k` tracks for `user`: `anchors` (seeds and/or liked tracks) drive the content score,
/// `cf` the CF score; `exclude` (seeds, liked, disliked) and their duplicates never come back.
pub fn rank_for_user(
    index: &EmbeddingIndex,
    cf: Option<&CfModel>,
    user: &str,
    anchors: &[i64],
    exclude: &[i64],
    ranker: Ranker,
    k: usize,
) -> CfResult<Vec<Hit>> {
    if index.is_empty() {
        return Err(RecommendError::EmptyIndex.into());
    }
    let cf_user = cf.filter(|m| m.knows_user(user));
    let needs_content = !matches!(ranker, Ranker::Cf);
    if needs_content && anchors.is_empty() {
        return Err(CfError::Invalid(format!(
            "user {user:?} has no liked tracks and no seeds: content similarity has nothing to start from"
        )));
    }
    if matches!(ranker, Ranker::Cf) && cf_user.is_none() {
        return Err(CfError::Invalid(format!(
            "user {user:?} has no likes the collaborative-filtering model learned from"
        )));
    }
    if let Ranker::Hybrid { weight } = ranker
        && !(0.0..=1.0).contains(&weight)
    {
        return Err(CfError::Invalid(format!(
            "hybrid weight must be within [0, 1], got {weight}"
        )));
    }
    let mut excluded: HashSet<u32> = HashSet::new();
    for &id in exclude.iter().chain(anchors) {
        excluded.extend(index.duplicate_rows(index.row(id)?));
    }
    let candidates: Vec<u32> = (0..index.len() as u32)
        .filter(|r| !excluded.contains(r))
        .collect();

    // Content: x/|x| . mean(a/|a|), the mean cosine similarity to the anchors.
    let mut content = vec![0f32; candidates.len()];
    if needs_content {
        let mut query = vec![0f32; index.dim];
        for &id in anchors {
            let row = index.row(id)?;
            let inv = index.inv_norms[row as usize] / anchors.len() as f32;
            for (q, x) in query.iter_mut().zip(index.row_vector(row)) {
                *q += x * inv;
            }
        }
        for (c, &row) in content.iter_mut().zip(&candidates) {
            *c = kernels::dot(index.row_vector(row), &query) * index.inv_norms[row as usize];
        }
        min_max(&mut content);
    }
    let user_factors = cf_user.and_then(|m| {
        m.recommender
            .user_factors(&user.to_owned())
            .map(|factors| (m, factors))
    });
    let cf_scores: Vec<Option<f32>> = candidates
        .iter()
        .map(|&row| {
            let (model, factors) = user_factors?;
            let item = model.recommender.item_factors(&index.ids[row as usize])?;
            Some(kernels::dot(factors, item))
        })
        .collect();
    let mut known: Vec<f32> = cf_scores.iter().flatten().copied().collect();
    min_max(&mut known);
    let mut known = known.into_iter();
    let cf_scaled: Vec<Option<f32>> = cf_scores
        .iter()
        .map(|s| s.and_then(|_| known.next()))
        .collect();

    let mut scored: Vec<(f32, u32)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, &row)| {
            let score = match ranker {
                Ranker::Content => Some(content[i]),
                Ranker::Cf => cf_scaled[i],
                Ranker::Hybrid { weight } => Some(match cf_scaled[i] {
                    Some(cf) => weight * cf + (1.0 - weight) * content[i],
                    None => content[i],
                }),
            };
            score.map(|s| (s, row))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok(scored
        .into_iter()
        .take(k)
        .map(|(score, row)| Hit {
            id: index.ids[row as usize],
            score,
        })
        .collect())
}

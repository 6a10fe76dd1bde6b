//! The paper's two recommendation methods over an [`EmbeddingIndex`], with Rocchio feedback,
//! de-duplication and an optional cap on tracks per artist (or per folder for untagged files).
//!
//! A request's score for a candidate track `x` is a weighted sum over three groups of tracks, the
//! seeds (weight `a`), the liked (`b`) and the disliked (`-c`) (Rocchio in score space; under cosine
//! it is exactly Rocchio on the query vector, `q' = a q + b mean(liked) - c mean(disliked)`):
//!
//! * method 1, [`Method::Similarity`]: `S(x, group)`, the group's [`SeedCombination`];
//! * method 2, [`Method::SimilarityAndGenre`]:
//!   `(1 - w) * [(1 - beta) * S(x, group) + beta * C(x, group)] + w * cos(p_x, mean p_group)`, where
//!   `p` are genre probabilities (all of them, not the argmax, so one misclassified seed only shifts
//!   the mean) and `C` is the similarity to the genre centre points weighted by the group's mean
//!   genre probabilities (the paper's "one song as the centre point of each genre").
//!
//! Never returned: the seeds, liked and disliked tracks themselves, and duplicates of them (same
//! content hash, or same artist and title ignoring case); among the results, a second copy of the
//! same song is skipped too.

use std::collections::HashSet;

use crate::error::{RecommendError, Result};
use crate::index::{CentroidKind, EmbeddingIndex};
use crate::kernels;
use crate::metric::Metric;
use crate::search::{Candidate, Hit, Scorer, SearchMode};

/// How several seeds make one ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeedCombination {
    /// Mean of the similarities to each seed. Under cosine this is the similarity to the mean of the
    /// unit-length seeds, so every seed counts the same whatever its norm. The default: it matched
    /// or beat [`SeedCombination::Centroid`] in every setting of `examples/tune_defaults.rs`.
    #[default]
    MeanSimilarity,
    /// Similarity to the mean of the raw seed embeddings (seeds with larger norms weigh more under
    /// cosine; under euclidean it is the distance to the centroid).
    Centroid,
}

/// Method 2's blend of similarity and genre information.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenreBlend {
    /// `w` in [0, 1]: weight of the genre affinity `cos(p_x, mean seed probabilities)`.
    pub genre_weight: f32,
    /// `beta` in [0, 1]: share of the similarity part that goes to the genre centre points.
    pub centroid_weight: f32,
    /// How the genre centre points are computed.
    pub centroids: CentroidKind,
}

impl Default for GenreBlend {
    /// Measured with `examples/tune_defaults.rs` (synthetic catalogues, 10-30% label noise; table in
    /// the crate README): `w = 0.2` was best or within 0.002 of the best precision@10 in all four
    /// settings and never more than 0.001 below method 1, while `w >= 0.5` lost "sounds alike" precision and `w = 1`
    /// collapsed; any genre-centre share (`beta` 0.25 or 0.5) lowered precision, so `beta = 0`.
    /// On real embeddings (`musicrec eval-recs`, k = 5, the 40 unseen test clips of the GTZAN-mini
    /// 5:1:4 split): with the built-in CNN, genre precision@5 rose from 0.365 (method 1) to 0.405
    /// at `w = 0.2`; with the CRNN trained the same way, `w = 0.2` tied method 1 (0.445), the best
    /// of the weights tried. A small set: re-measure on FMA when a model is trained on it.
    fn default() -> Self {
        Self {
            genre_weight: 0.2,
            centroid_weight: 0.0,
            centroids: CentroidKind::ProbabilityWeighted,
        }
    }
}

/// The most seed songs one request may name, in the CLI and the JSON API alike (the web page
/// lets people pick five). A user's likes are not seeds and are not counted.
pub const MAX_SEEDS: usize = 5;

/// Which of the paper's two methods ranks the tracks.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Method {
    /// Method 1: similarity to the seeds only.
    #[default]
    Similarity,
    /// Method 2: similarity plus genre information (needs genre probabilities in the index).
    SimilarityAndGenre(GenreBlend),
}

/// Rocchio weights: score = `a * S(seeds) + b * S(liked) - c * S(disliked)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rocchio {
    pub query_weight: f32,
    pub liked_weight: f32,
    pub disliked_weight: f32,
}

impl Default for Rocchio {
    /// The SMART defaults (Salton & Buckley 1990; Manning et al., *Introduction to Information
    /// Retrieval*, 9.1.1): a = 1, b = 0.75, c = 0.15, negative feedback weighing little because
    /// a disliked track says less about what is wanted than a liked one.
    fn default() -> Self {
        Self {
            query_weight: 1.0,
            liked_weight: 0.75,
            disliked_weight: 0.15,
        }
    }
}

/// User feedback on earlier recommendations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Feedback {
    pub liked: Vec<i64>,
    pub disliked: Vec<i64>,
    pub rocchio: Rocchio,
}

/// A recommendation request. `RecommendRequest::new(seeds, k)` gives the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendRequest {
    pub seeds: Vec<i64>,
    pub k: usize,
    pub metric: Metric,
    pub method: Method,
    pub combination: SeedCombination,
    pub feedback: Feedback,
    /// At most this many tracks by one artist in the results. Tracks without an artist tag count
    /// by folder (one untagged album is one "artist"); tracks with neither are not limited.
    pub max_per_artist: Option<usize>,
    pub search: SearchMode,
}

impl RecommendRequest {
    /// Method 1, cosine, mean of per-seed similarities, no feedback, no artist cap, automatic search.
    pub fn new(seeds: Vec<i64>, k: usize) -> Self {
        Self {
            seeds,
            k,
            metric: Metric::Cosine,
            method: Method::default(),
            combination: SeedCombination::default(),
            feedback: Feedback::default(),
            max_per_artist: None,
            search: SearchMode::Auto,
        }
    }
}

/// Recommended tracks, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendations {
    pub tracks: Vec<Hit>,
    pub requested: usize,
    /// True when fewer than `requested` tracks could be returned (small catalogue, exclusions,
    /// artist cap): all that qualified are returned.
    pub fewer_than_requested: bool,
}

fn check_unit_interval(name: &'static str, value: f32) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(RecommendError::BadParameter {
            name,
            value: value.to_string(),
            reason: "must be within [0, 1]",
        })
    }
}

fn check_weight(name: &'static str, value: f32) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(RecommendError::BadParameter {
            name,
            value: value.to_string(),
            reason: "must be finite and >= 0",
        })
    }
}

/// Collects `weight * sim(x, anchor)` terms and the genre query, then folds them into a [`Scorer`].
struct ScorerBuilder {
    metric: Metric,
    anchors: Vec<(f32, Vec<f32>)>,
    genre_query: Option<Vec<f32>>,
}

impl ScorerBuilder {
    fn add_anchor(&mut self, weight: f32, vector: Vec<f32>) {
        if weight != 0.0 {
            self.anchors.push((weight, vector));
        }
    }

    fn add_genre(&mut self, weight: f32, target: &[f32]) {
        let norm = kernels::dot(target, target).sqrt();
        if weight == 0.0 || norm == 0.0 {
            return;
        }
        let gq = self
            .genre_query
            .get_or_insert_with(|| vec![0.0; target.len()]);
        for (q, t) in gq.iter_mut().zip(target) {
            *q += weight * t / norm;
        }
    }

    fn build(self, dim: usize) -> Result<Scorer> {
        match self.metric {
            Metric::Cosine => {
                let mut query = vec![0.0f32; dim];
                for (weight, v) in &self.anchors {
                    let norm = kernels::dot(v, v).sqrt();
                    if norm > 0.0 {
                        for (q, x) in query.iter_mut().zip(v) {
                            *q += weight * x / norm;
                        }
                    }
                }
                let genre_zero = self
                    .genre_query
                    .as_ref()
                    .is_none_or(|g| g.iter().all(|x| *x == 0.0));
                if query.iter().all(|x| *x == 0.0) && genre_zero {
                    return Err(RecommendError::ZeroQuery);
                }
                Ok(Scorer::Cosine {
                    query,
                    genre_query: self.genre_query,
                })
            }
            metric => Ok(Scorer::Distance {
                metric,
                anchors: self.anchors,
                genre_query: self.genre_query,
            }),
        }
    }
}

fn mean_of(rows: &[u32], width: usize, get: impl Fn(u32) -> Vec<f64>) -> Vec<f32> {
    let mut sum = vec![0.0f64; width];
    for &r in rows {
        for (s, x) in sum.iter_mut().zip(get(r)) {
            *s += x;
        }
    }
    sum.iter().map(|s| (s / rows.len() as f64) as f32).collect()
}

impl EmbeddingIndex {
    /// Recommends `request.k` tracks for the seeds (see the module docs for the scoring).
    pub fn recommend(&self, request: &RecommendRequest) -> Result<Recommendations> {
        let metric = request.metric.validate()?;
        if self.is_empty() {
            return Err(RecommendError::EmptyIndex);
        }
        if request.seeds.is_empty() {
            return Err(RecommendError::NoSeeds);
        }
        let rows_of = |ids: &[i64]| {
            ids.iter()
                .map(|&id| self.row(id))
                .collect::<Result<Vec<u32>>>()
        };
        let seeds = rows_of(&request.seeds)?;
        let liked = rows_of(&request.feedback.liked)?;
        let disliked = rows_of(&request.feedback.disliked)?;
        let r = request.feedback.rocchio;
        check_weight("rocchio query weight", r.query_weight)?;
        check_weight("rocchio liked weight", r.liked_weight)?;
        check_weight("rocchio disliked weight", r.disliked_weight)?;
        if let Some(0) = request.max_per_artist {
            return Err(RecommendError::BadParameter {
                name: "max_per_artist",
                value: "0".into(),
                reason: "must be at least 1",
            });
        }

        let (emb_weight, genre_weight, centroid_weight, centroids) = match request.method {
            Method::Similarity => (1.0, 0.0, 0.0, None),
            Method::SimilarityAndGenre(b) => {
                check_unit_interval("genre weight", b.genre_weight)?;
                check_unit_interval("centroid weight", b.centroid_weight)?;
                let centroids = self.genre_centroids(b.centroids)?;
                (
                    1.0 - b.genre_weight,
                    b.genre_weight,
                    b.centroid_weight,
                    Some(centroids),
                )
            }
        };

        let mut builder = ScorerBuilder {
            metric,
            anchors: Vec::new(),
            genre_query: None,
        };
        for (group_weight, rows) in [
            (r.query_weight, &seeds),
            (r.liked_weight, &liked),
            (-r.disliked_weight, &disliked),
        ] {
            if rows.is_empty() || group_weight == 0.0 {
                continue;
            }
            let sim_weight = group_weight * emb_weight * (1.0 - centroid_weight);
            match request.combination {
                SeedCombination::MeanSimilarity => {
                    for &row in rows.iter() {
                        builder.add_anchor(
                            sim_weight / rows.len() as f32,
                            self.row_vector(row).to_vec(),
                        );
                    }
                }
                SeedCombination::Centroid => {
                    let centroid = mean_of(rows, self.dim, |r| {
                        self.row_vector(r).iter().map(|&x| x as f64).collect()
                    });
                    builder.add_anchor(sim_weight, centroid);
                }
            }
            if let Some(centroids) = centroids {
                let gt = self.genres.as_ref().ok_or(RecommendError::NoGenres)?;
                let mean_probs = mean_of(rows, gt.names.len(), |r| {
                    self.row_genre_probs(r)
                        .unwrap_or_default()
                        .iter()
                        .map(|&x| x as f64)
                        .collect()
                });
                builder.add_genre(group_weight * genre_weight, &mean_probs);
                let total: f32 = mean_probs
                    .iter()
                    .zip(centroids)
                    .filter(|(_, c)| c.is_some())
                    .map(|(p, _)| p)
                    .sum();
                if total > 0.0 {
                    let centre_weight = group_weight * emb_weight * centroid_weight;
                    for (p, c) in mean_probs.iter().zip(centroids) {
                        if let Some(c) = c {
                            builder.add_anchor(centre_weight * p / total, c.clone());
                        }
                    }
                }
            }
        }
        let scorer = builder.build(self.dim)?;

        // Seeds, feedback tracks and their duplicates never come back.
        let mut excluded: Vec<u32> = seeds
            .iter()
            .chain(&liked)
            .chain(&disliked)
            .flat_map(|&row| self.duplicate_rows(row))
            .collect();
        excluded.sort_unstable();
        excluded.dedup();
        let is_excluded = |row: u32| excluded.binary_search(&row).is_ok();
        let available = self.len() - excluded.len();

        let k = request.k;
        let filtering = request.max_per_artist.is_some() || self.has_meta();
        if !filtering {
            let hits = self.top_k_rows(&scorer, k, &is_excluded, request.search)?;
            let result = self.to_result(hits, k, available);
            return Ok(Recommendations {
                fewer_than_requested: result.fewer_than_requested,
                tracks: result.hits,
                requested: k,
            });
        }
        // The artist cap and duplicates among the results depend on what was picked before, so fetch
        // more than k and pick greedily, fetching 4x more while too few qualify.
        let mut fetch = k.saturating_mul(4).max(k + 16);
        loop {
            let ranked = self.top_k_rows(&scorer, fetch, &is_excluded, request.search)?;
            let exhausted = ranked.len() < fetch;
            let picked = self.pick_varied(&ranked, k, request.max_per_artist);
            if picked.len() == k || exhausted {
                return Ok(Recommendations {
                    fewer_than_requested: picked.len() < k,
                    tracks: picked
                        .into_iter()
                        .map(|c| Hit {
                            id: self.ids[c.row as usize],
                            score: c.score,
                        })
                        .collect(),
                    requested: k,
                });
            }
            fetch = fetch.saturating_mul(4);
        }
    }

    /// Greedy pick in rank order: skips a track whose song is already picked and an artist at the cap.
    fn pick_varied(
        &self,
        ranked: &[Candidate],
        k: usize,
        max_per_artist: Option<usize>,
    ) -> Vec<Candidate> {
        let mut picked = Vec::with_capacity(k);
        let mut taken_rows: HashSet<u32> = HashSet::new();
        let mut per_artist: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        for c in ranked {
            if picked.len() == k {
                break;
            }
            if taken_rows.contains(&c.row) {
                continue;
            }
            if let (Some(cap), Some(artist)) = (max_per_artist, self.artist_key(c.row)) {
                let count = per_artist.entry(artist).or_default();
                if *count >= cap {
                    continue;
                }
                *count += 1;
            }
            taken_rows.extend(self.duplicate_rows(c.row));
            picked.push(*c);
        }
        picked
    }
}

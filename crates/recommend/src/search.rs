//! Top-k similarity search: a brute-force scan over all rows (exact f32, or an int8 first pass whose
//! best candidates are re-scored exactly), split over rayon's threads, with one small heap per task
//! and an exclusion set applied inside the scan.
//!
//! Every scorer here is a sum of similarities to "anchor" vectors plus a genre-affinity term. Under
//! cosine, all of that is one dot product per row: `x/|x| . q + p/|p| . g`, which is what makes the
//! int8 first pass possible for both recommendation methods.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use crate::error::{RecommendError, Result};
use crate::index::EmbeddingIndex;
use crate::kernels::{self, BLOCK_ROWS};
use crate::metric::{Metric, distance_to_score};

/// Rows scored per kernel call (a multiple of the int8 block height): large enough that the kernel
/// dispatch is free, small enough that the score buffer stays in L1.
const TILE_ROWS: usize = 1024;
const _: () = assert!(
    TILE_ROWS.is_multiple_of(BLOCK_ROWS),
    "int8 tiles must hold whole blocks"
);
/// Tiles per rayon task: about 64k rows, so a 1M-row scan makes ~16 tasks for two threads.
const TILES_PER_TASK: usize = 64;

/// From this many rows on, [`SearchMode::Auto`] uses the int8 first pass (cosine only). Below it an
/// exact f32 scan is already under a millisecond (see the crate docs' benchmark).
pub const AUTO_QUANTIZE_MIN_ROWS: usize = 50_000;
/// Candidates the int8 pass hands to exact re-scoring in [`SearchMode::Auto`] (at least `k`; 8 x k
/// when that is larger). 128 gave recall@5 = 1.0 on the clustered 1M benchmark (see the README table).
pub const DEFAULT_RESCORE_CANDIDATES: usize = 128;

/// How the scan is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchMode {
    /// Exact below [`AUTO_QUANTIZE_MIN_ROWS`] rows or for distance metrics; int8 + exact re-scoring
    /// of [`DEFAULT_RESCORE_CANDIDATES`] above it under cosine.
    #[default]
    Auto,
    /// Exact f32 scan of every row.
    Exact,
    /// int8 scan for the best `candidates` rows, then exact re-scoring (cosine only; distance metrics
    /// fall back to the exact scan). Scores returned are always the exact ones.
    Quantized { candidates: usize },
}

/// One result: a track and its score (higher = more similar; see [`Metric`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub id: i64,
    pub score: f32,
}

/// The outcome of a top-k search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// Best first; ties broken by row order (the order tracks were added).
    pub hits: Vec<Hit>,
    /// The `k` that was asked for.
    pub requested: usize,
    /// True when the index (after exclusions) held fewer than `k` tracks: all of them are returned.
    pub fewer_than_requested: bool,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub(crate) score: f32,
    pub(crate) row: u32,
}

impl Candidate {
    /// Total order "better first": higher score, then lower row.
    fn better_cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.row.cmp(&other.row))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.better_cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    /// Worse is greater, so the max-heap's top is the worst kept candidate.
    fn cmp(&self, other: &Self) -> Ordering {
        self.better_cmp(other)
    }
}

/// The `k` best candidates seen so far.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Candidate>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    /// Score a new candidate must reach to be considered (ties are settled by row in `push`).
    #[inline]
    fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap.peek().map_or(f32::NEG_INFINITY, |c| c.score)
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, c: Candidate) {
        if self.heap.len() < self.k {
            self.heap.push(c);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && c < *worst
        {
            *worst = c;
        }
    }

    fn merge(mut self, other: TopK) -> TopK {
        for c in other.heap {
            self.push(c);
        }
        self
    }

    /// Best first.
    pub(crate) fn into_sorted(self) -> Vec<Candidate> {
        self.heap.into_sorted_vec()
    }
}

/// What a row is scored against: `sum_j weight_j * sim(x, anchor_j) + p/|p| . genre_query`.
#[derive(Debug, Clone)]
pub(crate) enum Scorer {
    /// Cosine: the anchors are folded into one query, `sum_j weight_j * anchor_j / |anchor_j|`.
    Cosine {
        query: Vec<f32>,
        genre_query: Option<Vec<f32>>,
    },
    /// Distance metrics: each anchor scored as `1 / (1 + d)`.
    Distance {
        metric: Metric,
        anchors: Vec<(f32, Vec<f32>)>,
        genre_query: Option<Vec<f32>>,
    },
}

impl Scorer {
    fn genre_query(&self) -> Option<&[f32]> {
        match self {
            Scorer::Cosine { genre_query, .. } | Scorer::Distance { genre_query, .. } => {
                genre_query.as_deref()
            }
        }
    }

    /// Exact scores of rows `start..start + out.len()`; `scratch` is at least as long as `out`.
    pub(crate) fn score_rows(
        &self,
        index: &EmbeddingIndex,
        start: usize,
        out: &mut [f32],
        scratch: &mut [f32],
    ) {
        let (dim, len) = (index.dim, out.len());
        let rows = &index.vectors[start * dim..(start + len) * dim];
        let scratch = &mut scratch[..len];
        match self {
            Scorer::Cosine { query, .. } => {
                kernels::dot_rows(rows, dim, query, out);
                for (o, inv) in out.iter_mut().zip(&index.inv_norms[start..start + len]) {
                    *o *= inv;
                }
            }
            Scorer::Distance {
                metric, anchors, ..
            } => {
                out.fill(0.0);
                for (weight, anchor) in anchors {
                    match *metric {
                        Metric::Euclidean | Metric::PNorm(2.0) => {
                            kernels::squared_distance_rows(rows, dim, anchor, scratch);
                            scratch.iter_mut().for_each(|d| *d = d.sqrt());
                        }
                        Metric::PNorm(1.0) => kernels::manhattan_rows(rows, dim, anchor, scratch),
                        Metric::PNorm(p) => {
                            kernels::minkowski_rows(rows, dim, anchor, p, scratch);
                            scratch.iter_mut().for_each(|d| *d = d.powf(1.0 / p));
                        }
                        Metric::Cosine => unreachable!("cosine uses Scorer::Cosine"),
                    }
                    for (o, d) in out.iter_mut().zip(scratch.iter()) {
                        *o += weight * distance_to_score(*d);
                    }
                }
            }
        }
        if let (Some(gq), Some(gt)) = (self.genre_query(), &index.genres) {
            let g = gt.names.len();
            kernels::dot_rows(&gt.unit_probs[start * g..(start + len) * g], g, gq, scratch);
            for (o, a) in out.iter_mut().zip(scratch.iter()) {
                *o += a;
            }
        }
    }

    /// The int8 query `[query, genre_query]` matching the quantised row layout.
    fn quantized_query(&self, index: &EmbeddingIndex) -> Option<Vec<f32>> {
        let Scorer::Cosine { query, genre_query } = self else {
            return None;
        };
        let mut q = query.clone();
        if let Some(gt) = &index.genres {
            match genre_query {
                Some(gq) => q.extend_from_slice(gq),
                None => q.extend(std::iter::repeat_n(0.0, gt.names.len())),
            }
        }
        Some(q)
    }
}

/// Scans rows `0..n_rows` tile by tile in parallel; `score_tile(start, out, scratch)` fills the scores
/// of rows `start..start + out.len()`. Rows at or past `valid_rows` (int8 padding) are never kept.
fn parallel_top_k<F>(
    n_rows: usize,
    valid_rows: usize,
    k: usize,
    excluded: &(dyn Fn(u32) -> bool + Sync),
    score_tile: F,
) -> TopK
where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync,
{
    let n_tiles = n_rows.div_ceil(TILE_ROWS);
    (0..n_tiles)
        .into_par_iter()
        .with_min_len(TILES_PER_TASK)
        .fold(
            || {
                (
                    TopK::new(k),
                    vec![0.0f32; TILE_ROWS],
                    vec![0.0f32; TILE_ROWS],
                )
            },
            |(mut top, mut scores, mut scratch), tile| {
                let start = tile * TILE_ROWS;
                let len = TILE_ROWS.min(n_rows - start);
                score_tile(start, &mut scores[..len], &mut scratch);
                let mut threshold = top.threshold();
                for (i, &s) in scores[..len].iter().enumerate() {
                    // `>=`: an equal score may still win on row order; `push` decides.
                    if s >= threshold {
                        let row = (start + i) as u32;
                        if (row as usize) < valid_rows && !excluded(row) {
                            top.push(Candidate { score: s, row });
                            threshold = top.threshold();
                        }
                    }
                }
                (top, scores, scratch)
            },
        )
        .map(|(top, _, _)| top)
        .reduce(|| TopK::new(k), TopK::merge)
}

impl EmbeddingIndex {
    /// The `k` best rows under `scorer`, best first, with exact scores.
    pub(crate) fn top_k_rows(
        &self,
        scorer: &Scorer,
        k: usize,
        excluded: &(dyn Fn(u32) -> bool + Sync),
        mode: SearchMode,
    ) -> Result<Vec<Candidate>> {
        if self.is_empty() {
            return Err(RecommendError::EmptyIndex);
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        let candidates = match mode {
            SearchMode::Exact => None,
            SearchMode::Auto => (self.len() >= AUTO_QUANTIZE_MIN_ROWS)
                .then_some(DEFAULT_RESCORE_CANDIDATES.max(8 * k)),
            SearchMode::Quantized { candidates } => Some(candidates.max(k)),
        };
        let quantized_query = candidates.and_then(|_| scorer.quantized_query(self));
        let (Some(candidates), Some(query)) = (candidates, quantized_query) else {
            let top = parallel_top_k(
                self.len(),
                self.len(),
                k,
                excluded,
                |start, out, scratch| scorer.score_rows(self, start, out, scratch),
            );
            return Ok(top.into_sorted());
        };
        let q = self.quantized();
        let width = q.width;
        let query = kernels::I16Query::new(&query, width);
        let padded_rows = q.scales.len();
        let first_pass = parallel_top_k(
            padded_rows,
            self.len(),
            candidates,
            excluded,
            |start, out, _| {
                let blocks = &q.blocks[start * width..(start + out.len()) * width];
                kernels::int8_blocks(blocks, &query, &q.scales[start..start + out.len()], out);
            },
        );
        let mut exact = TopK::new(k);
        let (mut score, mut scratch) = ([0.0f32], [0.0f32]);
        for c in first_pass.into_sorted() {
            scorer.score_rows(self, c.row as usize, &mut score, &mut scratch);
            exact.push(Candidate {
                score: score[0],
                row: c.row,
            });
        }
        Ok(exact.into_sorted())
    }

    /// The `k` tracks most similar to a query embedding, excluding the tracks in `exclude`.
    /// Asking for more tracks than exist returns all of them with `fewer_than_requested` set.
    pub fn search(
        &self,
        query: &[f32],
        metric: Metric,
        k: usize,
        exclude: &[i64],
        mode: SearchMode,
    ) -> Result<SearchResult> {
        let metric = metric.validate()?;
        if self.is_empty() {
            return Err(RecommendError::EmptyIndex);
        }
        check_query(self.dim, query)?;
        let mut excluded_rows = exclude
            .iter()
            .map(|&id| self.row(id))
            .collect::<Result<Vec<u32>>>()?;
        excluded_rows.sort_unstable();
        excluded_rows.dedup();
        let scorer = match metric {
            Metric::Cosine => {
                let norm = kernels::dot(query, query).sqrt();
                if norm == 0.0 {
                    return Err(RecommendError::ZeroQuery);
                }
                Scorer::Cosine {
                    query: query.iter().map(|x| x / norm).collect(),
                    genre_query: None,
                }
            }
            m => Scorer::Distance {
                metric: m,
                anchors: vec![(1.0, query.to_vec())],
                genre_query: None,
            },
        };
        let available = self.len() - excluded_rows.len();
        let hits = self.top_k_rows(
            &scorer,
            k,
            &|row| excluded_rows.binary_search(&row).is_ok(),
            mode,
        )?;
        Ok(self.to_result(hits, k, available))
    }

    /// The `k` rows nearest to row `row` by `metric` (exact search, best first), leaving out the
    /// rows `excluded` says; a zero row is cosine 0 to everything. For leave-one-out evaluations
    /// that rank every track of an index against the others.
    pub fn nearest_rows(
        &self,
        row: u32,
        metric: Metric,
        k: usize,
        excluded: &(dyn Fn(u32) -> bool + Sync),
    ) -> Result<Vec<u32>> {
        let vector = self.row_vector(row);
        let scorer = match metric {
            Metric::Cosine => {
                let inv = self.inv_norms[row as usize];
                Scorer::Cosine {
                    query: vector.iter().map(|x| x * inv).collect(),
                    genre_query: None,
                }
            }
            m => Scorer::Distance {
                metric: m,
                anchors: vec![(1.0, vector.to_vec())],
                genre_query: None,
            },
        };
        let hits = self.top_k_rows(&scorer, k, excluded, SearchMode::Exact)?;
        Ok(hits.into_iter().map(|c| c.row).collect())
    }

    pub(crate) fn to_result(
        &self,
        hits: Vec<Candidate>,
        k: usize,
        available: usize,
    ) -> SearchResult {
        SearchResult {
            hits: hits
                .into_iter()
                .map(|c| Hit {
                    id: self.ids[c.row as usize],
                    score: c.score,
                })
                .collect(),
            requested: k,
            fewer_than_requested: available < k,
        }
    }
}

/// Checks that a query vector fits the index and holds only finite values.
pub(crate) fn check_query(dim: usize, query: &[f32]) -> Result<()> {
    if query.len() != dim {
        return Err(RecommendError::DimensionMismatch {
            index: dim,
            query: query.len(),
        });
    }
    if let Some(position) = query.iter().position(|x| !x.is_finite()) {
        return Err(RecommendError::NonFiniteQuery { position });
    }
    Ok(())
}

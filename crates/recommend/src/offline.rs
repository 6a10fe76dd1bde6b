//! Offline recommendation quality on a labelled test set, generic over any embedding matrix (CRNN,
//! CNN, MFCC statistics...) and any [`Metric`]: genre precision@k, its artist-filtered variant, and
//! the exact random baseline.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::error::{RecommendError, Result};
use crate::index::EmbeddingIndex;
use crate::metric::Metric;
use crate::search::{Scorer, SearchMode};

/// Genre precision@k of one embedding matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecisionAtK {
    pub k: usize,
    pub metric: Metric,
    /// Mean over queries of (neighbours sharing the query's genre) / (neighbours returned).
    pub precision: f64,
    /// Expected precision of k neighbours drawn uniformly from the same candidates, computed exactly:
    /// for each query it is (candidates of its genre) / (candidates), then averaged like `precision`.
    pub random_baseline: f64,
    /// Queries that had at least one candidate neighbour.
    pub queries: usize,
    /// Queries left out because no candidate was left (e.g. every other track is by the same artist).
    pub skipped_queries: usize,
    /// Whether neighbours by the query's own artist were excluded.
    pub artist_filtered: bool,
}

/// Each track in turn is a seed; its neighbours are the `k` most similar other tracks (by `metric`),
/// excluding tracks by the same artist when `artists` is given (an empty artist name counts as
/// unknown and filters nothing). `embeddings` is row-major `[genres.len()][dim]`.
/// With fewer than `k` candidates, precision is over the candidates there are.
pub fn genre_precision_at_k(
    embeddings: &[f32],
    dim: usize,
    genres: &[usize],
    artists: Option<&[String]>,
    k: usize,
    metric: Metric,
) -> Result<PrecisionAtK> {
    let metric = metric.validate()?;
    let n = genres.len();
    if n == 0 {
        return Err(RecommendError::EmptyIndex);
    }
    if k == 0 {
        return Err(RecommendError::BadParameter {
            name: "k",
            value: "0".into(),
            reason: "must be at least 1",
        });
    }
    if let Some(a) = artists
        && a.len() != n
    {
        return Err(RecommendError::ShapeMismatch {
            what: "artists (one per track)",
            expected: n,
            actual: a.len(),
        });
    }
    let index = EmbeddingIndex::new((0..n as i64).collect(), dim, embeddings.to_vec())?;

    // Artists as small integers; unknown artists get none.
    let mut artist_ids: HashMap<&str, u32> = HashMap::new();
    let artist_of: Vec<Option<u32>> = match artists {
        Some(a) => a
            .iter()
            .map(|name| {
                let name = name.trim();
                (!name.is_empty()).then(|| {
                    let next = artist_ids.len() as u32;
                    *artist_ids.entry(name).or_insert(next)
                })
            })
            .collect(),
        None => vec![None; n],
    };
    let mut genre_count: HashMap<usize, usize> = HashMap::new();
    let mut artist_count: HashMap<u32, usize> = HashMap::new();
    let mut artist_genre_count: HashMap<(u32, usize), usize> = HashMap::new();
    for (g, a) in genres.iter().zip(&artist_of) {
        *genre_count.entry(*g).or_default() += 1;
        if let Some(a) = a {
            *artist_count.entry(*a).or_default() += 1;
            *artist_genre_count.entry((*a, *g)).or_default() += 1;
        }
    }

    let per_query: Vec<Option<(f64, f64)>> = (0..n)
        .into_par_iter()
        .map(|i| -> Result<Option<(f64, f64)>> {
            let (genre, artist) = (genres[i], artist_of[i]);
            let (same_artist, same_artist_genre) = match artist {
                Some(a) => (artist_count[&a], artist_genre_count[&(a, genre)]),
                None => (1, 1), // only the query itself
            };
            let candidates = n - same_artist;
            if candidates == 0 {
                return Ok(None);
            }
            let same_genre_candidates = genre_count[&genre] - same_artist_genre;
            let scorer = match metric {
                Metric::Cosine => Scorer::Cosine {
                    query: query_unit(&index, i),
                    genre_query: None,
                },
                m => Scorer::Distance {
                    metric: m,
                    anchors: vec![(1.0, index.row_vector(i as u32).to_vec())],
                    genre_query: None,
                },
            };
            let excluded = |row: u32| {
                row as usize == i || (artist.is_some() && artist_of[row as usize] == artist)
            };
            let hits = index.top_k_rows(&scorer, k, &excluded, SearchMode::Exact)?;
            let relevant = hits
                .iter()
                .filter(|c| genres[c.row as usize] == genre)
                .count();
            Ok(Some((
                relevant as f64 / hits.len() as f64,
                same_genre_candidates as f64 / candidates as f64,
            )))
        })
        .collect::<Result<_>>()?;

    let answered: Vec<(f64, f64)> = per_query.iter().flatten().copied().collect();
    let queries = answered.len();
    let mean = |f: fn(&(f64, f64)) -> f64| {
        if queries == 0 {
            0.0
        } else {
            answered.iter().map(f).sum::<f64>() / queries as f64
        }
    };
    Ok(PrecisionAtK {
        k,
        metric,
        precision: mean(|x| x.0),
        random_baseline: mean(|x| x.1),
        queries,
        skipped_queries: n - queries,
        artist_filtered: artists.is_some(),
    })
}

/// The unit-length embedding of row `i` (zero stays zero: cosine 0 to everything).
fn query_unit(index: &EmbeddingIndex, i: usize) -> Vec<f32> {
    let inv = index.inv_norms[i];
    index.row_vector(i as u32).iter().map(|x| x * inv).collect()
}

//! Offline recommendation quality on a labelled test set, generic over any embedding matrix (CRNN,
//! CNN, MFCC statistics...) and any [`Metric`]: genre precision@k, its artist-filtered variant, and
//! the exact random baseline.
//!
//! [`genre_precision_at_k`] ranks plain nearest neighbours; [`request_precision_at_k`] runs a whole
//! [`RecommendRequest`] (method 2's genre blend, a seed combination) with each track as the seed;
//! [`seeded_precision_at_k`] judges multi-seed queries (five seeds of one genre) against a separate
//! candidate set.

use std::collections::HashMap;

use rayon::prelude::*;

use musicrec_recommend::{EmbeddingIndex, Metric, RecommendError, RecommendRequest, Result};

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

impl PrecisionAtK {
    /// The means over the queries that were answered (`Some((precision, random baseline))`).
    fn of(
        per_query: &[Option<(f64, f64)>],
        k: usize,
        metric: Metric,
        artist_filtered: bool,
    ) -> Self {
        let answered: Vec<(f64, f64)> = per_query.iter().flatten().copied().collect();
        let queries = answered.len();
        let mean = |f: fn(&(f64, f64)) -> f64| {
            if queries == 0 {
                0.0
            } else {
                answered.iter().map(f).sum::<f64>() / queries as f64
            }
        };
        Self {
            k,
            metric,
            precision: mean(|x| x.0),
            random_baseline: mean(|x| x.1),
            queries,
            skipped_queries: per_query.len() - queries,
            artist_filtered,
        }
    }
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
            let excluded = |row: u32| {
                row as usize == i || (artist.is_some() && artist_of[row as usize] == artist)
            };
            let hits = index.nearest_rows(i as u32, metric, k, &excluded)?;
            let relevant = hits
                .iter()
                .filter(|&&row| genres[row as usize] == genre)
                .count();
            Ok(Some((
                relevant as f64 / hits.len() as f64,
                same_genre_candidates as f64 / candidates as f64,
            )))
        })
        .collect::<Result<_>>()?;

    Ok(PrecisionAtK::of(&per_query, k, metric, artists.is_some()))
}

/// A labelled set of tracks for [`request_precision_at_k`] and [`seeded_precision_at_k`]: row `i`
/// is track `i`.
#[derive(Debug, Clone, Copy)]
pub struct LabelledTracks<'a> {
    pub dim: usize,
    /// Row-major `[n][dim]`.
    pub embeddings: &'a [f32],
    /// Genre index of each track (the ground truth).
    pub labels: &'a [usize],
    /// Genre names and the model's probabilities, row-major `[n][names.len()]` (method 2 needs them).
    pub genre_probs: Option<(&'a [String], &'a [f32])>,
    /// Artist of each track; an empty name counts as unknown. Same-artist tracks are never
    /// candidates for each other.
    pub artists: Option<&'a [String]>,
}

impl LabelledTracks<'_> {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn artist(&self, row: usize) -> Option<&str> {
        self.artists
            .map(|a| a[row].trim())
            .filter(|name| !name.is_empty())
    }

    /// An index over `rows` (ids `0..rows.len()` in that order), with genre probabilities when known.
    fn index_of(&self, rows: &[usize]) -> Result<EmbeddingIndex> {
        let mut vectors = Vec::with_capacity(rows.len() * self.dim);
        for &r in rows {
            vectors.extend_from_slice(&self.embeddings[r * self.dim..(r + 1) * self.dim]);
        }
        let index = EmbeddingIndex::new((0..rows.len() as i64).collect(), self.dim, vectors)?;
        match self.genre_probs {
            Some((names, probs)) => {
                let g = names.len();
                let mut p = Vec::with_capacity(rows.len() * g);
                for &r in rows {
                    p.extend_from_slice(&probs[r * g..(r + 1) * g]);
                }
                index.with_genres(names.to_vec(), p)
            }
            None => Ok(index),
        }
    }

    fn check(&self) -> Result<()> {
        let n = self.len();
        if n == 0 {
            return Err(RecommendError::EmptyIndex);
        }
        if self.embeddings.len() != n * self.dim {
            return Err(RecommendError::ShapeMismatch {
                what: "embedding matrix (tracks x dim)",
                expected: n * self.dim,
                actual: self.embeddings.len(),
            });
        }
        if let Some((names, probs)) = self.genre_probs
            && probs.len() != n * names.len()
        {
            return Err(RecommendError::ShapeMismatch {
                what: "genre probability matrix (tracks x genres)",
                expected: n * names.len(),
                actual: probs.len(),
            });
        }
        if let Some(a) = self.artists
            && a.len() != n
        {
            return Err(RecommendError::ShapeMismatch {
                what: "artists (one per track)",
                expected: n,
                actual: a.len(),
            });
        }
        Ok(())
    }
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(RecommendError::BadParameter {
            name: "k",
            value: "0".into(),
            reason: "must be at least 1",
        });
    }
    Ok(())
}

/// Leave-one-out genre precision@k of a recommendation request: each track in turn is the only
/// seed of `template` (its method, metric and combination; its seeds and k are replaced), the
/// candidates are the other tracks not by the seed's artist. With [`musicrec_recommend::Method::Similarity`]
/// this equals [`genre_precision_at_k`]; the random baseline is computed the same way.
pub fn request_precision_at_k(
    tracks: &LabelledTracks<'_>,
    k: usize,
    template: &RecommendRequest,
) -> Result<PrecisionAtK> {
    tracks.check()?;
    check_k(k)?;
    let metric = template.metric.validate()?;
    let n = tracks.len();
    let all: Vec<usize> = (0..n).collect();
    let index = tracks.index_of(&all)?;
    let per_query: Vec<Option<(f64, f64)>> = (0..n)
        .into_par_iter()
        .map(|i| -> Result<Option<(f64, f64)>> {
            let artist = tracks.artist(i);
            let same_artist = |j: usize| artist.is_some() && tracks.artist(j) == artist;
            let blocked = (0..n).filter(|&j| j != i && same_artist(j)).count();
            let candidates: Vec<usize> = (0..n).filter(|&j| j != i && !same_artist(j)).collect();
            if candidates.is_empty() {
                return Ok(None);
            }
            // Same-artist tracks cannot be excluded through the request, so fetch past them.
            let mut request = template.clone();
            request.seeds = vec![i as i64];
            request.k = k + blocked;
            let hits: Vec<usize> = index
                .recommend(&request)?
                .tracks
                .iter()
                .map(|h| h.id as usize)
                .filter(|&j| !same_artist(j))
                .take(k)
                .collect();
            let relevant = hits
                .iter()
                .filter(|&&j| tracks.labels[j] == tracks.labels[i])
                .count();
            let same_genre = candidates
                .iter()
                .filter(|&&j| tracks.labels[j] == tracks.labels[i])
                .count();
            Ok(Some((
                relevant as f64 / hits.len().max(1) as f64,
                same_genre as f64 / candidates.len() as f64,
            )))
        })
        .collect::<Result<_>>()?;
    Ok(PrecisionAtK::of(
        &per_query,
        k,
        metric,
        tracks.artists.is_some(),
    ))
}

/// A multi-seed query: rows of the seed set, and the genre its recommendations should share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedQuery {
    pub seeds: Vec<usize>,
    pub genre: usize,
}

/// Precision of multi-seed queries (mean over queries) and its random baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct SeededPrecision {
    pub k: usize,
    /// Mean over queries of (recommendations of the query's genre) / (recommendations).
    pub precision: f64,
    /// Expected precision of k candidates drawn at random: the share of the query's genre among
    /// the candidates it could get, averaged over queries.
    pub random_baseline: f64,
    pub queries: usize,
}

/// Genre precision@k of multi-seed queries: each query's seeds (rows of `seed_tracks`) ask
/// `template` (method, metric, seed combination) for `k` tracks among `candidates` (none by a
/// seed's artist); a recommendation is relevant when its label is the query's genre. Seeds may
/// come from another set than the candidates (e.g. five seeds from the training split, candidates
/// from the unseen test split).
pub fn seeded_precision_at_k(
    seed_tracks: &LabelledTracks<'_>,
    candidates: &LabelledTracks<'_>,
    queries: &[SeedQuery],
    k: usize,
    template: &RecommendRequest,
) -> Result<SeededPrecision> {
    seed_tracks.check()?;
    candidates.check()?;
    check_k(k)?;
    if seed_tracks.dim != candidates.dim
        || seed_tracks.genre_probs.map(|(n, _)| n) != candidates.genre_probs.map(|(n, _)| n)
    {
        return Err(RecommendError::BadParameter {
            name: "seed and candidate sets",
            value: format!("dims {} and {}", seed_tracks.dim, candidates.dim),
            reason: "must come from the same model (same dimension and genres)",
        });
    }
    if queries.is_empty() {
        return Err(RecommendError::NoSeeds);
    }
    let results: Vec<(f64, f64)> = queries
        .par_iter()
        .map(|query| -> Result<(f64, f64)> {
            if query.seeds.is_empty() {
                return Err(RecommendError::NoSeeds);
            }
            if let Some(&bad) = query.seeds.iter().find(|&&s| s >= seed_tracks.len()) {
                return Err(RecommendError::UnknownTrack(bad as i64));
            }
            let seed_artists: Vec<&str> = query
                .seeds
                .iter()
                .filter_map(|&s| seed_tracks.artist(s))
                .collect();
            let pool: Vec<usize> = (0..candidates.len())
                .filter(|&c| {
                    candidates
                        .artist(c)
                        .is_none_or(|a| !seed_artists.contains(&a))
                })
                .collect();
            // One index of the seeds then the pool: ids 0..seeds are the seeds.
            let s = query.seeds.len();
            let seeds_index = seed_tracks.index_of(&query.seeds)?;
            let pool_index = candidates.index_of(&pool)?;
            let index = concat(&seeds_index, &pool_index)?;
            let mut request = template.clone();
            request.seeds = (0..s as i64).collect();
            request.k = k;
            let hits = index.recommend(&request)?.tracks;
            let relevant = hits
                .iter()
                .filter(|h| candidates.labels[pool[h.id as usize - s]] == query.genre)
                .count();
            let same_genre = pool
                .iter()
                .filter(|&&c| candidates.labels[c] == query.genre)
                .count();
            Ok((
                relevant as f64 / hits.len().max(1) as f64,
                same_genre as f64 / pool.len().max(1) as f64,
            ))
        })
        .collect::<Result<_>>()?;
    let q = results.len() as f64;
    Ok(SeededPrecision {
        k,
        precision: results.iter().map(|r| r.0).sum::<f64>() / q,
        random_baseline: results.iter().map(|r| r.1).sum::<f64>() / q,
        queries: results.len(),
    })
}

/// `a` then `b` as one index (ids renumbered `0..a.len()+b.len()`), genre probabilities kept.
fn concat(a: &EmbeddingIndex, b: &EmbeddingIndex) -> Result<EmbeddingIndex> {
    let mut vectors = Vec::with_capacity((a.len() + b.len()) * a.dim());
    for (x, id) in [a, b]
        .iter()
        .flat_map(|x| x.ids().iter().map(move |id| (x, id)))
    {
        vectors.extend_from_slice(x.embedding(*id)?);
    }
    let n = a.len() + b.len();
    let index = EmbeddingIndex::new((0..n as i64).collect(), a.dim(), vectors)?;
    match (a.genre_names(), b.has_genres()) {
        (Some(names), true) => {
            let mut probs = Vec::with_capacity(n * names.len());
            for (x, id) in [a, b]
                .iter()
                .flat_map(|x| x.ids().iter().map(move |id| (x, id)))
            {
                probs.extend_from_slice(x.genre_probabilities(*id)?);
            }
            index.with_genres(names.to_vec(), probs)
        }
        _ => Ok(index),
    }
}

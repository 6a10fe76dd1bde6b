//! Song paths: a playlist that walks from one song to another, every step sounding more like the
//! end and less like the start than the step before (`findSonicPath`, `musicrec path`).
//!
//! Nearest-track-to-evenly-spaced-points (the obvious method) is not monotone: the track nearest a
//! point a third of the way can sound more like the start than the track chosen for the point
//! before it, or stray out of the region between the two songs (a metal → game music → metal
//! path). Here a step must lie between the two songs (more similar to each than they are to each
//! other) and move strictly both ways; among all such chains the longest (up to the asked length)
//! whose tracks lie nearest their points on the line is taken, by dynamic programming over each
//! point's nearest candidates.

use crate::error::{RecommendError, Result};
use crate::index::EmbeddingIndex;

/// Longest path [`EmbeddingIndex::path`] builds, both ends included: the dynamic programme is
/// quadratic in the candidates, which grow with the length.
pub const MAX_PATH_LEN: usize = 100;

/// Candidates kept per point on the line, before the chain is chosen.
const CANDIDATES_PER_POINT: usize = 24;

/// Similarities closer than this count as equal: a copy of the start or end song (same embedding)
/// is not a step, and a step must move by more than rounding.
const EPS: f32 = 1e-5;

/// One song of a path, with its cosine similarity to both ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathStep {
    pub id: i64,
    pub similarity_to_start: f32,
    pub similarity_to_end: f32,
}

/// A path from the start song to the end song, both included.
#[derive(Debug, Clone, PartialEq)]
pub struct SongPath {
    pub steps: Vec<PathStep>,
    /// The length asked for.
    pub requested: usize,
}

impl SongPath {
    /// True when the catalogue had too few songs between the two ends for the length asked.
    pub fn shortened(&self) -> bool {
        self.steps.len() < self.requested
    }
}

struct Candidate {
    row: u32,
    to_start: f32,
    to_end: f32,
}

impl EmbeddingIndex {
    /// A path of at most `count` songs (both ends included, 2..=[`MAX_PATH_LEN`]) from `start` to
    /// `end` under cosine similarity: each song is strictly more similar to `end` and strictly less
    /// similar to `start` than the one before, no song twice, none of `exclude`. Fewer songs when
    /// the catalogue has too few between the two (see [`SongPath::shortened`]).
    pub fn path(&self, start: i64, end: i64, count: usize, exclude: &[i64]) -> Result<SongPath> {
        if !(2..=MAX_PATH_LEN).contains(&count) {
            return Err(RecommendError::BadParameter {
                name: "count",
                value: count.to_string(),
                reason: "a path holds 2 to 100 songs, both ends included",
            });
        }
        if start == end {
            return Err(RecommendError::BadParameter {
                name: "end",
                value: end.to_string(),
                reason: "the path's end must be another song than its start",
            });
        }
        let a = self.unit(start)?;
        let b = self.unit(end)?;
        let between = dot(&a, &b);
        let step = |id: i64, to_start: f32, to_end: f32| PathStep {
            id,
            similarity_to_start: to_start,
            similarity_to_end: to_end,
        };
        let first = step(start, 1.0, between);
        let last = step(end, between, 1.0);

        let (excluded_start, excluded_end) = (self.row(start)?, self.row(end)?);
        let mut candidates = Vec::new();
        for row in 0..self.ids.len() as u32 {
            let inv = self.inv_norms[row as usize];
            if row == excluded_start
                || row == excluded_end
                || inv == 0.0
                || exclude.contains(&self.ids[row as usize])
            {
                continue;
            }
            let v = self.row_vector(row);
            let (to_start, to_end) = (dot(v, &a) * inv, dot(v, &b) * inv);
            if to_start < 1.0 - EPS
                && to_end < 1.0 - EPS
                && to_start > between + EPS
                && to_end > between + EPS
            {
                candidates.push(Candidate {
                    row,
                    to_start,
                    to_end,
                });
            }
        }

        let points = count - 2;
        let targets: Vec<Vec<f32>> = (1..=points)
            .map(|i| {
                let t = i as f32 / (points + 1) as f32;
                let mut q: Vec<f32> = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| (1.0 - t) * x + t * y)
                    .collect();
                let norm = dot(&q, &q).sqrt();
                // Halfway between opposite songs the point is zero: any candidate is as near.
                q.iter_mut()
                    .for_each(|x| *x = if norm > EPS { *x / norm } else { 0.0 });
                q
            })
            .collect();

        // Each point's nearest candidates; the chain is chosen among their union.
        let mut pool: Vec<usize> = Vec::new();
        for q in &targets {
            let mut near: Vec<(f32, usize)> = candidates
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    (
                        dot(self.row_vector(c.row), q) * self.inv_norms[c.row as usize],
                        i,
                    )
                })
                .collect();
            let keep = CANDIDATES_PER_POINT.min(near.len());
            if keep == 0 {
                break;
            }
            near.select_nth_unstable_by(keep - 1, |x, y| y.0.total_cmp(&x.0));
            pool.extend(near[..keep].iter().map(|&(_, i)| i));
        }
        pool.sort_unstable();
        pool.dedup();
        // In order of similarity to the end: a step can only follow one before it in this order.
        pool.sort_by(|&x, &y| candidates[x].to_end.total_cmp(&candidates[y].to_end));

        let chain = best_chain(&candidates, &pool, &targets, |c, q| {
            1.0 - dot(self.row_vector(c.row), q) * self.inv_norms[c.row as usize]
        });
        let mut steps = vec![first];
        steps.extend(chain.into_iter().map(|i| {
            let c = &candidates[i];
            step(self.ids[c.row as usize], c.to_start, c.to_end)
        }));
        steps.push(last);
        Ok(SongPath {
            steps,
            requested: count,
        })
    }

    /// The unit-length embedding of a track; an all-zero one has no direction.
    fn unit(&self, id: i64) -> Result<Vec<f32>> {
        let row = self.row(id)?;
        let inv = self.inv_norms[row as usize];
        if inv == 0.0 {
            return Err(RecommendError::ZeroQuery);
        }
        Ok(self.row_vector(row).iter().map(|x| x * inv).collect())
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    crate::kernels::dot(a, b)
}

/// The chain through `pool` (candidate indices, sorted by similarity to the end) that is
/// monotone in both similarities, takes at most one candidate per target point in order, and is
/// as long as possible, then as near its points as possible (sum of `cost`). Returns candidate
/// indices in path order.
fn best_chain(
    candidates: &[Candidate],
    pool: &[usize],
    targets: &[Vec<f32>],
    cost: impl Fn(&Candidate, &[f32]) -> f32,
) -> Vec<usize> {
    #[derive(Clone, Copy)]
    struct Best {
        len: u32,
        cost: f32,
        /// (point, pool position) of the step before; None for the first step.
        before: Option<(usize, usize)>,
    }
    let better = |x: &Best, y: &Best| x.len > y.len || (x.len == y.len && x.cost < y.cost);
    let n = pool.len();
    // ends[t][j]: best chain whose last step is pool[j] at point t.
    let mut ends: Vec<Vec<Option<Best>>> = vec![vec![None; n]; targets.len()];
    // upto[j]: best chain ending with pool[j] at any point before the current one, and which.
    let mut upto: Vec<Option<(Best, usize)>> = vec![None; n];
    for (t, q) in targets.iter().enumerate() {
        for j in 0..n {
            let c = &candidates[pool[j]];
            let own = cost(c, q);
            let mut best = Best {
                len: 1,
                cost: own,
                before: None,
            };
            for (k, prior) in upto.iter().enumerate().take(j) {
                let Some((prior, at)) = prior else { continue };
                let p = &candidates[pool[k]];
                if p.to_end < c.to_end && p.to_start > c.to_start {
                    let through = Best {
                        len: prior.len + 1,
                        cost: prior.cost + own,
                        before: Some((*at, k)),
                    };
                    if better(&through, &best) {
                        best = through;
                    }
                }
            }
            ends[t][j] = Some(best);
        }
        for j in 0..n {
            if let Some(e) = ends[t][j]
                && upto[j].is_none_or(|(u, _)| better(&e, &u))
            {
                upto[j] = Some((e, t));
            }
        }
    }
    let Some((mut at, mut j)) = (0..n)
        .filter_map(|j| upto[j].map(|(b, t)| (b, t, j)))
        .reduce(|x, y| if better(&y.0, &x.0) { y } else { x })
        .map(|(_, t, j)| (t, j))
    else {
        return Vec::new();
    };
    let mut chain = Vec::new();
    loop {
        chain.push(pool[j]);
        match ends[at][j].and_then(|b| b.before) {
            Some((t, k)) => (at, j) = (t, k),
            None => break,
        }
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tracks on a quarter circle from (1, 0, 0) to (0, 1, 0), plus decoys off it.
    fn arc_index() -> EmbeddingIndex {
        let mut ids = Vec::new();
        let mut vectors = Vec::new();
        for i in 0..=20 {
            let angle = std::f32::consts::FRAC_PI_2 * i as f32 / 20.0;
            ids.push(i);
            vectors.extend([angle.cos(), angle.sin(), 0.0]);
        }
        // Decoys: near the start but pointing away from the end, and far off the plane.
        ids.push(100);
        vectors.extend([1.0, -0.3, 0.0]);
        ids.push(101);
        vectors.extend([0.3, 0.3, 5.0]);
        EmbeddingIndex::new(ids, 3, vectors).unwrap()
    }

    fn assert_monotone(path: &SongPath) {
        for pair in path.steps.windows(2) {
            assert!(
                pair[1].similarity_to_end > pair[0].similarity_to_end,
                "{path:?}"
            );
            assert!(
                pair[1].similarity_to_start < pair[0].similarity_to_start,
                "{path:?}"
            );
        }
        let mut ids: Vec<i64> = path.steps.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), path.steps.len(), "a song twice: {path:?}");
    }

    #[test]
    fn steps_move_steadily_from_start_to_end() {
        let index = arc_index();
        let path = index.path(0, 20, 7, &[]).unwrap();
        assert_eq!(path.steps.len(), 7);
        assert_eq!(path.steps[0].id, 0);
        assert_eq!(path.steps[6].id, 20);
        assert!(!path.shortened());
        assert_monotone(&path);
        assert!(
            path.steps.iter().all(|s| s.id < 100),
            "decoy on the path: {path:?}"
        );
        // Evenly spread: the middle step sits near the middle of the arc.
        assert!((8..=12).contains(&path.steps[3].id), "{path:?}");
    }

    #[test]
    fn a_short_catalogue_gives_a_shorter_path_and_exclusions_hold() {
        let index = arc_index();
        let path = index.path(0, 20, 40, &[10]).unwrap();
        assert!(path.shortened());
        assert_eq!(path.steps.len(), 20, "every arc track but the excluded one");
        assert!(path.steps.iter().all(|s| s.id != 10));
        assert_monotone(&path);
        // Nothing between two neighbours: just the two ends.
        let path = index.path(4, 5, 10, &[]).unwrap();
        assert_eq!(path.steps.iter().map(|s| s.id).collect::<Vec<_>>(), [4, 5]);
    }

    #[test]
    fn bad_requests_are_errors() {
        let index = arc_index();
        assert!(index.path(0, 0, 5, &[]).is_err());
        assert!(index.path(0, 20, 1, &[]).is_err());
        assert!(index.path(0, 20, MAX_PATH_LEN + 1, &[]).is_err());
        assert!(matches!(
            index.path(0, 999, 5, &[]),
            Err(RecommendError::UnknownTrack(999))
        ));
    }
}

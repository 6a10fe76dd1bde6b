//! Mixes: a longer playlist like the seeds that does not repeat itself. The plain ranking of a
//! large catalogue puts near-copies side by side (one album, one session, one remaster), so a mix
//! of 30 songs reads like five songs six times. A mix re-ranks a wider candidate list by maximal
//! marginal relevance (Carbonell & Goldstein 1998): each next song is the one with the best
//! `(1 - variety) x relevance - variety x similarity to the songs already chosen`.

use crate::error::{RecommendError, Result};
use crate::index::EmbeddingIndex;
use crate::metric::Metric;
use crate::recommend::{RecommendRequest, Recommendations};

/// The default weight of variety in a mix.
pub const DEFAULT_VARIETY: f32 = 0.3;

/// How many candidates per song asked for a mix picks from.
const CANDIDATES_PER_SONG: usize = 4;

impl EmbeddingIndex {
    /// `request.k` songs like the seeds (every option of `request` holds: method, metric,
    /// feedback, artist cap, exclusions), picked for variety from the best `4 x k` by maximal
    /// marginal relevance. `variety` 0 is the plain ranking; 1 ignores relevance beyond the
    /// candidate list. Scores are the plain ranking's.
    pub fn mix(&self, request: &RecommendRequest, variety: f32) -> Result<Recommendations> {
        if !(0.0..=1.0).contains(&variety) {
            return Err(RecommendError::BadParameter {
                name: "variety",
                value: variety.to_string(),
                reason: "must be within [0, 1]",
            });
        }
        let mut wide = request.clone();
        wide.k = request
            .k
            .saturating_mul(CANDIDATES_PER_SONG)
            .min(self.len());
        let mut candidates = self.recommend(&wide)?;
        if variety == 0.0 || candidates.tracks.len() <= 1 {
            candidates.tracks.truncate(request.k);
            candidates.fewer_than_requested = candidates.tracks.len() < request.k;
            candidates.requested = request.k;
            return Ok(candidates);
        }
        // Relevance on the redundancy's scale: a cosine score is a cosine similarity already;
        // other metrics' scores (negated distances) are mapped to [0, 1].
        let (lo, hi) = candidates
            .tracks
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), h| {
                (lo.min(h.score), hi.max(h.score))
            });
        let cosine = request.metric == Metric::Cosine;
        let relevance = |score: f32| {
            if cosine {
                score
            } else if hi > lo {
                (score - lo) / (hi - lo)
            } else {
                1.0
            }
        };
        let unit: Vec<Vec<f32>> = candidates
            .tracks
            .iter()
            .map(|h| {
                let v = self.embedding(h.id)?;
                let norm = crate::kernels::dot(v, v).sqrt();
                Ok(v.iter()
                    .map(|x| if norm > 0.0 { x / norm } else { 0.0 })
                    .collect())
            })
            .collect::<Result<_>>()?;
        let mut closest_chosen = vec![f32::NEG_INFINITY; unit.len()];
        let mut taken = vec![false; unit.len()];
        let mut chosen = Vec::with_capacity(request.k);
        while chosen.len() < request.k {
            let next = (0..unit.len()).filter(|&i| !taken[i]).max_by(|&i, &j| {
                let value = |i: usize| {
                    let redundancy = if chosen.is_empty() {
                        0.0
                    } else {
                        closest_chosen[i]
                    };
                    (1.0 - variety) * relevance(candidates.tracks[i].score) - variety * redundancy
                };
                // Ties go to the better-ranked song.
                value(i).total_cmp(&value(j)).then(j.cmp(&i))
            });
            let Some(next) = next else { break };
            taken[next] = true;
            chosen.push(candidates.tracks[next]);
            for i in 0..unit.len() {
                let similarity = crate::kernels::dot(&unit[i], &unit[next]);
                closest_chosen[i] = closest_chosen[i].max(similarity);
            }
        }
        Ok(Recommendations {
            fewer_than_requested: chosen.len() < request.k,
            tracks: chosen,
            requested: request.k,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Track 1 is the seed; 2-4 are near-copies of one direction, 5-6 a little less relevant
    /// but different from them and from each other.
    fn index() -> EmbeddingIndex {
        let rows: [(i64, [f32; 3]); 6] = [
            (1, [1.0, 0.0, 0.0]),
            (2, [0.95, 0.31, 0.0]),
            (3, [0.95, 0.312, 0.0]),
            (4, [0.95, 0.314, 0.0]),
            (5, [0.9, -0.43, 0.0]),
            (6, [0.9, 0.0, 0.43]),
        ];
        EmbeddingIndex::new(
            rows.iter().map(|r| r.0).collect(),
            3,
            rows.iter().flat_map(|r| r.1).collect(),
        )
        .unwrap()
    }

    #[test]
    fn variety_spreads_the_mix_and_zero_variety_is_the_ranking() {
        let index = index();
        let request = RecommendRequest::new(vec![1], 3);
        let plain = index.recommend(&request).unwrap();
        let ids = |r: &Recommendations| r.tracks.iter().map(|h| h.id).collect::<Vec<_>>();
        assert_eq!(ids(&plain), [2, 3, 4]);
        assert_eq!(ids(&index.mix(&request, 0.0).unwrap()), [2, 3, 4]);
        let mixed = index.mix(&request, 0.5).unwrap();
        assert_eq!(mixed.tracks.len(), 3);
        assert_eq!(mixed.tracks[0].id, 2, "the best song still leads");
        let mut rest = ids(&mixed)[1..].to_vec();
        rest.sort_unstable();
        assert_eq!(rest, [5, 6], "the near-copies give way: {mixed:?}");
        assert!(index.mix(&request, 1.5).is_err());
    }

    #[test]
    fn a_mix_longer_than_the_catalogue_says_so() {
        let index = index();
        let mixed = index
            .mix(&RecommendRequest::new(vec![1], 10), DEFAULT_VARIETY)
            .unwrap();
        assert_eq!(mixed.tracks.len(), 5);
        assert!(mixed.fewer_than_requested);
    }
}

//! What to queue, knowing nothing of MPD: the shared recommendation service's ranking for the
//! seeds, without the songs to avoid, under an artist cap that counts the songs already waiting.

use std::collections::HashSet;

use musicrec_app::{AppError, Listener, ModelIndex, RecommendMethod, RecommendQuery};
use musicrec_recommend::{Hit, MAX_SEEDS};

/// What [`choose_tracks`] picks from: the model ranks every track by similarity to `seeds`.
#[derive(Debug, Clone)]
pub struct Choice<'a> {
    /// Catalog ids of up to [`MAX_SEEDS`] recent queue songs (each once).
    pub seeds: &'a [i64],
    /// Never picked: songs in the queue, played lately, refused by MPD.
    pub avoid: &'a HashSet<i64>,
    /// The songs waiting in the queue (the current one on): they count against the artist cap.
    pub waiting: &'a [i64],
    pub count: usize,
    /// `Similarity` or `Genre`.
    pub method: RecommendMethod,
    pub max_per_artist: Option<usize>,
    /// The listener whose dislikes steer the ranking away (and are never picked).
    pub listener: Option<Listener<'a>>,
}

/// Up to `choice.count` tracks to queue, best first: [`musicrec_app::recommend()`]'s ranking for
/// the seeds (and the listener's feedback), without the avoided tracks and those `queueable`
/// rejects, at most `max_per_artist` per artist counting the songs already waiting. Fewer when
/// the catalog runs out; none without seeds.
pub fn choose_tracks(
    model: &ModelIndex,
    choice: &Choice<'_>,
    mut queueable: impl FnMut(i64) -> bool,
) -> Result<Vec<Hit>, AppError> {
    if choice.count == 0 || choice.seeds.is_empty() {
        return Ok(Vec::new());
    }
    let index = &model.index;
    let waiting: HashSet<i64> = choice.waiting.iter().copied().collect();
    // Ask for enough to survive the filters; ask again for more when they took too many.
    let mut fetch = choice.count * 4 + choice.avoid.len() + waiting.len();
    loop {
        fetch = fetch.min(index.len());
        let mut query = RecommendQuery::new(choice.seeds.to_vec(), fetch);
        query.method = choice.method;
        let ranked = musicrec_app::recommend(model, &query, choice.listener)?.tracks;
        let exhausted = ranked.len() < fetch || fetch == index.len();
        let candidates: Vec<Hit> = ranked
            .into_iter()
            .filter(|hit| !choice.avoid.contains(&hit.id) && !waiting.contains(&hit.id))
            .filter(|hit| queueable(hit.id))
            .collect();
        let picks: Vec<Hit> = match choice.max_per_artist {
            Some(cap) => {
                // The waiting songs first, so that they fill their artists' shares.
                let mut all: Vec<Hit> = choice
                    .waiting
                    .iter()
                    .map(|&id| Hit {
                        id,
                        score: f32::INFINITY,
                    })
                    .collect();
                all.extend(candidates);
                index
                    .cap_per_artist(&all, all.len(), cap)
                    .into_iter()
                    .filter(|hit| !waiting.contains(&hit.id))
                    .take(choice.count)
                    .collect()
            }
            None => candidates.into_iter().take(choice.count).collect(),
        };
        if picks.len() == choice.count || exhausted {
            return Ok(picks);
        }
        fetch *= 2;
    }
}

/// The seeds for a queue: its last [`MAX_SEEDS`] distinct songs that are in the catalog, oldest first.
pub fn seeds_from_queue(queue: &[Option<i64>]) -> Vec<i64> {
    let mut seeds: Vec<i64> = Vec::new();
    for id in queue.iter().rev().flatten() {
        if seeds.len() == MAX_SEEDS {
            break;
        }
        if !seeds.contains(id) {
            seeds.push(*id);
        }
    }
    seeds.reverse();
    seeds
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use musicrec_app::UserFeedback;
    use musicrec_catalog::{EmbeddingSet, ModelInfo, TrackId, TrackSummary};

    use super::*;

    /// Six tracks on a line (embedding [1, x]): 1..=6 under /nonexistent/music, tracks 1-3 by
    /// artist "a" (folder a), 4-6 by "b" (folder b).
    pub(crate) fn set() -> EmbeddingSet {
        let ids: Vec<i64> = (1..=6).collect();
        EmbeddingSet {
            model_id: "test".into(),
            model: ModelInfo {
                genres: Vec::new(),
                embedding_dim: 2,
                config: serde_json::Value::Null,
            },
            tracks: ids
                .iter()
                .map(|&i| {
                    let artist = if i <= 3 { "a" } else { "b" };
                    TrackSummary {
                        id: TrackId(i),
                        path: PathBuf::from(format!("/nonexistent/music/{artist}/{i}.wav")),
                        artist: Some(artist.to_owned()),
                        title: Some(format!("song {i}")),
                        content_hash: blake3::hash(&i.to_le_bytes()),
                    }
                })
                .collect(),
            embeddings: ids.iter().flat_map(|&i| [1.0, i as f32 * 0.1]).collect(),
            genre_probs: Vec::new(),
        }
    }

    fn model() -> ModelIndex {
        ModelIndex::new("test".into(), set()).unwrap()
    }

    fn choice<'a>(seeds: &'a [i64], avoid: &'a HashSet<i64>, waiting: &'a [i64]) -> Choice<'a> {
        Choice {
            seeds,
            avoid,
            waiting,
            count: 2,
            method: RecommendMethod::Similarity,
            max_per_artist: None,
            listener: None,
        }
    }

    fn ids(hits: &[Hit]) -> Vec<i64> {
        hits.iter().map(|h| h.id).collect()
    }

    #[test]
    fn picks_the_nearest_songs_not_avoided_nor_waiting() {
        let model = model();
        let avoid: HashSet<i64> = [2].into();
        let picks = choose_tracks(&model, &choice(&[1], &avoid, &[1, 3]), |_| true).unwrap();
        assert_eq!(ids(&picks), [4, 5]);
    }

    #[test]
    fn the_artist_cap_counts_the_waiting_songs() {
        let model = model();
        let avoid = HashSet::new();
        let mut c = choice(&[3], &avoid, &[3]);
        c.max_per_artist = Some(2);
        c.count = 3;
        // The ranking is 4, 2, 5, 1, 6; 3 (artist a) waits, so a gets one more (2), b two.
        let picks = choose_tracks(&model, &c, |_| true).unwrap();
        assert_eq!(ids(&picks), [4, 2, 5]);
    }

    #[test]
    fn unqueueable_tracks_are_passed_over_and_the_catalog_may_run_out() {
        let model = model();
        let avoid = HashSet::new();
        let mut c = choice(&[1], &avoid, &[]);
        c.count = 10;
        let picks = choose_tracks(&model, &c, |id| id != 2).unwrap();
        assert_eq!(ids(&picks), [3, 4, 5, 6]);
        assert!(
            choose_tracks(&model, &choice(&[], &avoid, &[]), |_| true)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn disliked_songs_are_never_picked() {
        let model = model();
        let avoid = HashSet::new();
        let feedback = UserFeedback {
            disliked: vec![2],
            ..UserFeedback::default()
        };
        let mut c = choice(&[1], &avoid, &[]);
        c.listener = Some(Listener {
            name: "ann",
            feedback: &feedback,
            cf: None,
        });
        assert_eq!(ids(&choose_tracks(&model, &c, |_| true).unwrap()), [3, 4]);
    }

    #[test]
    fn seeds_are_the_last_five_known_distinct_songs() {
        let queue = [
            Some(1),
            Some(2),
            None,
            Some(3),
            Some(4),
            Some(3),
            Some(5),
            Some(6),
            None,
        ];
        assert_eq!(seeds_from_queue(&queue), [2, 4, 3, 5, 6]);
        assert_eq!(seeds_from_queue(&[None]), Vec::<i64>::new());
    }
}

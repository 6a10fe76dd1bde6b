//! Virtual listeners with known tastes that run a listening experiment end to end (seeds,
//! session through [`plan_session`], ratings through the store), so the whole flow and its
//! analysis can be exercised and their power checked before real people take part.
//!
//! A listener's taste is one genre (the model's most probable genre of a random anchor track);
//! their seeds are tracks of that genre. Each item of their list is liked with probability
//! `p_high` when its most probable genre is among their seeds' genres and `p_low` otherwise;
//! decoys follow the same rule. The study and every session are flagged simulated, and every
//! report of the study says so.

use musicrec_catalog::{EmbeddingSet, ExperimentStore, Rating, Study, TrackId};
use musicrec_recommend::EmbeddingIndex;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::experiment::{
    ExperimentError, ExperimentResult, participant_shuffle_seed, plan_session,
};

/// How the virtual listeners behave.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerSpec {
    /// How many listeners.
    pub listeners: usize,
    /// Seeds each listener picks (fewer when their genre has fewer tracks).
    pub seeds_per_listener: usize,
    /// Probability of liking an item of one of the seeds' genres.
    pub p_high: f64,
    /// Probability of liking any other item.
    pub p_low: f64,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for ListenerSpec {
    /// 30 listeners (the paper's participant count), 5 seeds each (as in the paper), 0.8 / 0.2.
    fn default() -> Self {
        Self {
            listeners: 30,
            seeds_per_listener: 5,
            p_high: 0.8,
            p_low: 0.2,
            seed: 1,
        }
    }
}

/// One virtual listener.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualListener {
    /// Participant name.
    pub name: String,
    /// The genre they like.
    pub genre: String,
    /// Their seeds.
    pub seeds: Vec<TrackId>,
}

/// What a simulation recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationSummary {
    /// Always true: printed so no output of a simulated study can be mistaken for people's.
    pub simulated: bool,
    /// Study name.
    pub study: String,
    /// The listeners, in order.
    pub listeners: Vec<VirtualListener>,
    /// Ratings recorded.
    pub responses: usize,
}

fn check_probability(name: &str, p: f64) -> ExperimentResult<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ExperimentError::Invalid(format!(
            "{name} must be within [0, 1], got {p}"
        )))
    }
}

/// Marks `study` simulated, then lets `spec.listeners` virtual listeners each choose seeds, get a
/// session and rate every item in round 1. Listener names continue after the study's existing
/// sessions, so a second run adds listeners instead of failing.
pub fn simulate_study(
    store: &mut dyn ExperimentStore,
    study: &Study,
    set: &EmbeddingSet,
    index: &EmbeddingIndex,
    spec: &ListenerSpec,
) -> ExperimentResult<SimulationSummary> {
    check_probability("p_high", spec.p_high)?;
    check_probability("p_low", spec.p_low)?;
    if spec.listeners == 0 || spec.seeds_per_listener == 0 {
        return Err(ExperimentError::Invalid(
            "a simulation needs at least one listener with at least one seed".into(),
        ));
    }
    if set.model.genres.is_empty() {
        return Err(ExperimentError::Invalid(format!(
            "virtual listeners like by genre, and model {} has no genres",
            set.model_id
        )));
    }
    if set.len() < 2 {
        return Err(ExperimentError::Invalid(
            "the catalog needs at least two embedded tracks to simulate a study".into(),
        ));
    }
    store.mark_study_simulated(study.id)?;
    let study = store
        .study(study.id)?
        .ok_or_else(|| ExperimentError::Invalid(format!("study {:?} vanished", study.name)))?;
    let first = store.sessions(study.id)?.len();
    let top_genre: Vec<Option<usize>> = (0..set.len()).map(|row| set.top_genre(row)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut listeners = Vec::with_capacity(spec.listeners);
    let mut responses = 0;
    for n in 0..spec.listeners {
        let name = format!("sim-{:03}", first + n + 1);
        let anchor = rng.random_range(0..set.len());
        let genre = top_genre[anchor];
        let mut same: Vec<usize> = (0..set.len()).filter(|&r| top_genre[r] == genre).collect();
        same.shuffle(&mut rng);
        // Keep at least one track out of the seeds so there is something to recommend.
        let take = spec.seeds_per_listener.min(set.len() - 1).min(same.len());
        let seeds: Vec<TrackId> = same[..take].iter().map(|&r| set.tracks[r].id).collect();
        let items = plan_session(
            &study,
            set,
            index,
            &seeds,
            participant_shuffle_seed(&study.name, &name),
        )?;
        let session = store.create_session(study.id, &name, &seeds, &items, true)?;
        for item in &session.items {
            let item_genre = set.row_of(item.track).and_then(|r| top_genre[r]);
            let p = if item_genre.is_some() && item_genre == genre {
                spec.p_high
            } else {
                spec.p_low
            };
            let rating = if rng.random_bool(p) {
                Rating::Like
            } else {
                Rating::Dislike
            };
            store.record_response(session.id, item.track, 1, rating)?;
            responses += 1;
        }
        listeners.push(VirtualListener {
            name,
            genre: genre.map_or("-".to_owned(), |g| set.model.genres[g].clone()),
            seeds,
        });
    }
    Ok(SimulationSummary {
        simulated: true,
        study: study.name.clone(),
        listeners,
        responses,
    })
}

//! The listening experiments, for every front end: define a study, make a participant's blind
//! session (every compared method's recommendations hidden among random decoys, shuffled with a
//! seed derived from the study and participant names, `musicrec_study::plan_session`), record
//! a like or dislike per item and round, analyse a round, and run a study with virtual listeners
//! (`musicrec_study::simulate`). Studies, sessions and answers live in the catalog's
//! `ExperimentStore`; the origin of an item is stored there and never returned here.

use musicrec_catalog::{
    CatalogError, CatalogStore, ExperimentStore, NewStudy, Rating, Session, SessionId, SessionItem,
    Study, TrackId,
};
use musicrec_study::experiment::participant_shuffle_seed;
use musicrec_study::simulate::{ListenerSpec, SimulationSummary, simulate_study};
use musicrec_study::{ExperimentError, StudyAnalysis, StudyMethod, analyze_study, plan_session};

use crate::error::AppError;
use crate::lookup::{ModelIndex, resolve_track};

/// Why an experiment request failed: refusals of their own kind (so that the server can answer
/// each with its code), else an [`AppError`].
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// The catalog backend stores no listening experiments.
    #[error("this catalog backend does not store listening experiments")]
    NoExperiments,
    /// One session per participant and study.
    #[error(
        "participant {participant:?} already has session {session} in study {study:?}; one session per participant"
    )]
    SessionExists {
        participant: String,
        session: SessionId,
        study: String,
    },
    /// A simulated study takes no real participants, nor its sessions real answers.
    #[error("{0}")]
    Simulated(String),
    /// Only a session's items can be rated.
    #[error("track {track} is not in session {session}: only the session's items can be rated")]
    NotInSession { track: TrackId, session: SessionId },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<CatalogError> for StudyError {
    fn from(err: CatalogError) -> Self {
        StudyError::App(err.into())
    }
}

impl From<ExperimentError> for StudyError {
    fn from(err: ExperimentError) -> Self {
        StudyError::App(err.into())
    }
}

/// Results of the experiment service.
pub type StudyResult<T> = std::result::Result<T, StudyError>;

/// The catalog's experiment store.
pub fn experiments(store: &dyn CatalogStore) -> StudyResult<&dyn ExperimentStore> {
    store.experiments().ok_or(StudyError::NoExperiments)
}

/// The catalog's experiment store, to write.
pub fn experiments_mut(store: &mut dyn CatalogStore) -> StudyResult<&mut dyn ExperimentStore> {
    store.experiments_mut().ok_or(StudyError::NoExperiments)
}

/// Creates a study (its methods checked and trimmed; a name already taken is refused).
pub fn new_study(store: &mut dyn CatalogStore, mut study: NewStudy) -> StudyResult<Study> {
    for method in &mut study.methods {
        StudyMethod::parse(method)?;
        *method = method.trim().to_owned();
    }
    Ok(experiments_mut(store)?.create_study(&study)?)
}

/// The study named `name`; not found, an error listing the studies there are.
pub fn study_named(store: &dyn CatalogStore, name: &str) -> StudyResult<Study> {
    let ex = experiments(store)?;
    if let Some(study) = ex.study_by_name(name)? {
        return Ok(study);
    }
    let known: Vec<String> = ex.studies()?.into_iter().map(|s| s.name).collect();
    Err(AppError::NotFound(format!(
        "no study named {:?}{}: create it with `musicrec experiment new --name {} --methods similarity,genre`",
        name.trim(),
        if known.is_empty() {
            String::new()
        } else {
            format!(" (studies: {})", known.join(", "))
        },
        name.trim()
    ))
    .into())
}

/// Whether `participant` (a trimmed name) may get a session in `study`: not in a simulated study,
/// and only one per study.
pub fn check_new_session(
    store: &dyn CatalogStore,
    study: &Study,
    participant: &str,
) -> StudyResult<()> {
    if study.simulated {
        return Err(StudyError::Simulated(format!(
            "study {:?} is simulated; real participants go into a study of their own",
            study.name
        )));
    }
    match experiments(store)?.session_of(study.id, participant)? {
        Some(existing) => Err(StudyError::SessionExists {
            participant: participant.trim().to_owned(),
            session: existing.id,
            study: study.name.clone(),
        }),
        None => Ok(()),
    }
}

/// The seeds of a session: tracks with an embedding from the model, without repeats.
pub fn session_seeds(model: &ModelIndex, seeds: &[TrackId]) -> StudyResult<Vec<TrackId>> {
    let mut kept: Vec<TrackId> = Vec::with_capacity(seeds.len());
    for &id in seeds {
        if model.row_of(id).is_none() {
            return Err(AppError::NotFound(format!(
                "seed {id} is not a track with an embedding from model {}",
                model.model_id
            ))
            .into());
        }
        if !kept.contains(&id) {
            kept.push(id);
        }
    }
    Ok(kept)
}

/// A participant's list: every method's recommendations among decoys, shuffled with `shuffle`,
/// by default the seed derived from the study and participant names.
pub fn plan(
    study: &Study,
    model: &ModelIndex,
    participant: &str,
    seeds: &[TrackId],
    shuffle: Option<u64>,
) -> StudyResult<Vec<SessionItem>> {
    let shuffle =
        shuffle.unwrap_or_else(|| participant_shuffle_seed(&study.name, participant.trim()));
    Ok(plan_session(
        study,
        &model.set,
        &model.index,
        seeds,
        shuffle,
    )?)
}

/// Stores a planned session (checked again: a concurrent request may have made one).
pub fn store_session(
    store: &mut dyn CatalogStore,
    study: &Study,
    participant: &str,
    seeds: &[TrackId],
    items: &[SessionItem],
) -> StudyResult<Session> {
    check_new_session(store, study, participant)?;
    Ok(experiments_mut(store)?.create_session(study.id, participant, seeds, items, false)?)
}

/// A participant's session made and stored in one go: [`check_new_session`], [`session_seeds`],
/// [`plan`], [`store_session`].
pub fn start_session(
    store: &mut dyn CatalogStore,
    model: &ModelIndex,
    study: &Study,
    participant: &str,
    seeds: &[TrackId],
    shuffle: Option<u64>,
) -> StudyResult<Session> {
    check_new_session(store, study, participant)?;
    let seeds = session_seeds(model, seeds)?;
    let items = plan(study, model, participant, &seeds, shuffle)?;
    store_session(store, study, participant, &seeds, &items)
}

/// The session with this id.
pub fn session(store: &dyn CatalogStore, id: SessionId) -> StudyResult<Session> {
    experiments(store)?
        .session(id)?
        .ok_or_else(|| AppError::NotFound(format!("no session with id {id}")).into())
}

/// An item of `session` as typed: its track id as the session lists it, else a track as
/// [`resolve_track`] finds it.
pub fn session_track(
    store: &dyn CatalogStore,
    session: &Session,
    typed: &str,
) -> StudyResult<TrackId> {
    let listed = typed
        .trim()
        .parse::<i64>()
        .ok()
        .map(TrackId)
        .filter(|id| session.items.iter().any(|i| i.track == *id));
    match listed {
        Some(id) => Ok(id),
        None => Ok(resolve_track(store, typed, "track")?.id),
    }
}

/// The participant's latest answer per item of `session` in `round`.
pub fn answers(
    store: &dyn CatalogStore,
    session: &Session,
    round: u32,
) -> StudyResult<Vec<(TrackId, Rating)>> {
    Ok(experiments(store)?
        .responses(session.study)?
        .into_iter()
        .filter(|r| r.session == session.id && r.round == round)
        .map(|r| (r.track, r.rating))
        .collect())
}

/// A checked listening round: from 1 (2 for a follow-up days later), 1 when not given.
pub fn check_round(round: Option<u32>) -> StudyResult<u32> {
    match round.unwrap_or(1) {
        0 => Err(AppError::Invalid(
            "round 0: rounds count from 1 (2 for a follow-up days later)".into(),
        )
        .into()),
        r => Ok(r),
    }
}

/// A recorded answer and the participant's progress in its round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub session: Session,
    /// Items rated in this round so far.
    pub rated: usize,
    /// Whether every item is now rated in this round.
    pub complete: bool,
}

/// Records a participant's like or dislike of an item of their session in `round`.
pub fn respond(
    store: &mut dyn CatalogStore,
    id: SessionId,
    track: TrackId,
    round: u32,
    rating: Rating,
) -> StudyResult<Answered> {
    let round = check_round(Some(round))?;
    let session = session(store, id)?;
    if session.simulated {
        return Err(StudyError::Simulated(format!(
            "session {id} was made by a virtual listener; it takes no real answers"
        )));
    }
    if !session.items.iter().any(|item| item.track == track) {
        return Err(StudyError::NotInSession { track, session: id });
    }
    experiments_mut(store)?.record_response(id, track, round, rating)?;
    let answered = answers(store, &session, round)?;
    let rated = session
        .items
        .iter()
        .filter(|item| answered.iter().any(|(t, _)| *t == item.track))
        .count();
    Ok(Answered {
        complete: rated == session.items.len(),
        rated,
        session,
    })
}

/// Likes per method against the decoy floor in `round` of the study named `name`, with the
/// paired tests.
pub fn analyze(store: &dyn CatalogStore, name: &str, round: u32) -> StudyResult<StudyAnalysis> {
    let study = study_named(store, name)?;
    let ex = experiments(store)?;
    Ok(analyze_study(
        &study,
        &ex.sessions(study.id)?,
        &ex.responses(study.id)?,
        round,
    )?)
}

/// Runs the study named `name` with virtual listeners of known taste (it is marked simulated;
/// refused when real people already took part).
pub fn simulate(
    store: &mut dyn CatalogStore,
    name: &str,
    model: &ModelIndex,
    spec: &ListenerSpec,
) -> StudyResult<SimulationSummary> {
    let study = study_named(store, name)?;
    Ok(simulate_study(
        experiments_mut(store)?,
        &study,
        &model.set,
        &model.index,
        spec,
    )?)
}

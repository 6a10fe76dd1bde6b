//! Listening-experiment storage: studies, one session per participant (the shuffled list they
//! rate, with the hidden origin of every item), and their like/dislike answers per round.
//!
//! Kept out of [`crate::CatalogStore`] so that another backend can implement the catalog without
//! it: a store that has experiment tables hands them out through
//! [`crate::CatalogStore::experiments`] / [`crate::CatalogStore::experiments_mut`] (provided
//! methods answering `None` unless the backend overrides them).
//!
//! Nothing here decides *what* a session holds (that is the recommend stage); this module only
//! stores it, refusing what would corrupt a study: a second session for the same participant, a
//! rating of a track that is not in the session, a real session in a simulated study.

use std::path::PathBuf;

use serde::Serialize;

use crate::{Rating, Result, TrackId};

/// A study's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StudyId(pub i64);

/// A session's row id (what `experiment respond --session S` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SessionId(pub i64);

impl std::fmt::Display for StudyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The origin label of a decoy item (a random track, recommended by no method).
pub const DECOY_ORIGIN: &str = "decoy";

/// What `experiment new` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStudy {
    /// Unique name (trimmed, non-empty).
    pub name: String,
    /// The compared methods, in order (at least two, distinct, none named "decoy").
    pub methods: Vec<String>,
    /// Recommendations per method in each session.
    pub k: usize,
    /// Random decoy tracks mixed into each session.
    pub decoys: usize,
    /// Whether the study is run by virtual listeners.
    pub simulated: bool,
}

/// A stored study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Study {
    /// Row id.
    pub id: StudyId,
    /// Unique name.
    pub name: String,
    /// Compared methods, in order.
    pub methods: Vec<String>,
    /// Recommendations per method.
    pub k: usize,
    /// Decoys per session.
    pub decoys: usize,
    /// Whether virtual listeners run it (every output then says "simulated").
    pub simulated: bool,
    /// Creation time (Unix ms).
    pub created_at: i64,
}

/// One item of a session's list, in the order it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionItem {
    /// The track.
    pub track: TrackId,
    /// Its path when the session was made (kept even if the track is later purged).
    pub path: PathBuf,
    /// Which methods recommended it (several when they agree), or [`DECOY_ORIGIN`]. Never shown
    /// to the participant.
    pub origins: Vec<String>,
}

impl SessionItem {
    /// Whether the item is a decoy.
    pub fn is_decoy(&self) -> bool {
        self.origins.iter().any(|o| o == DECOY_ORIGIN)
    }
}

/// A participant's session: the seeds they chose and the shuffled list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// Row id.
    pub id: SessionId,
    /// The study.
    pub study: StudyId,
    /// Participant name (unique within the study).
    pub participant: String,
    /// The participant's seed tracks.
    pub seeds: Vec<TrackId>,
    /// The list in display order.
    pub items: Vec<SessionItem>,
    /// Whether a virtual listener made it.
    pub simulated: bool,
    /// Creation time (Unix ms).
    pub created_at: i64,
}

/// A participant's latest rating of one item in one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExperimentResponse {
    /// The session.
    pub session: SessionId,
    /// The rated track (an item of the session).
    pub track: TrackId,
    /// 1 for the first listening, 2 for a follow-up days later, ...
    pub round: u32,
    /// Like or dislike.
    pub rating: Rating,
    /// When (Unix ms).
    pub created_at: i64,
}

/// Storage of listening experiments. Every write is one transaction: a refused write leaves
/// everything recorded before it as it was.
pub trait ExperimentStore {
    /// Creates a study; a name already taken is an error.
    fn create_study(&mut self, study: &NewStudy) -> Result<Study>;
    /// The study with this name.
    fn study_by_name(&self, name: &str) -> Result<Option<Study>>;
    /// The study with this id.
    fn study(&self, id: StudyId) -> Result<Option<Study>>;
    /// All studies, by id.
    fn studies(&self) -> Result<Vec<Study>>;
    /// Flags a study as run by virtual listeners; refused when it already has a real session.
    fn mark_study_simulated(&mut self, id: StudyId) -> Result<()>;
    /// Stores a participant's session. Refused: an unknown study, a participant who already has
    /// a session in it, an empty list, a track listed twice, a real session in a simulated study.
    fn create_session(
        &mut self,
        study: StudyId,
        participant: &str,
        seeds: &[TrackId],
        items: &[SessionItem],
        simulated: bool,
    ) -> Result<Session>;
    /// The session with this id.
    fn session(&self, id: SessionId) -> Result<Option<Session>>;
    /// The participant's session in a study.
    fn session_of(&self, study: StudyId, participant: &str) -> Result<Option<Session>>;
    /// All sessions of a study, by id.
    fn sessions(&self, study: StudyId) -> Result<Vec<Session>>;
    /// Records a rating (an event; the latest per session, track and round counts). Refused: an
    /// unknown session, a track that is not one of the session's items, round 0.
    fn record_response(
        &mut self,
        session: SessionId,
        track: TrackId,
        round: u32,
        rating: Rating,
    ) -> Result<()>;
    /// The latest rating per session, track and round of every session of a study.
    fn responses(&self, study: StudyId) -> Result<Vec<ExperimentResponse>>;
}

/// Checks a new study's fields (shared by every backend).
pub fn validate_new_study(study: &NewStudy) -> Result<()> {
    let invalid = |m: String| Err(crate::CatalogError::Invalid(m));
    if study.name.trim().is_empty() {
        return invalid("empty study name".into());
    }
    if study.methods.len() < 2 {
        return invalid(format!(
            "a study compares at least two methods, got {}",
            study.methods.len()
        ));
    }
    for (i, m) in study.methods.iter().enumerate() {
        if m.trim().is_empty() || m == DECOY_ORIGIN || m.contains(',') {
            return invalid(format!("method name {m:?} is not allowed"));
        }
        if study.methods[..i].contains(m) {
            return invalid(format!("method {m:?} is listed twice"));
        }
    }
    if study.k == 0 {
        return invalid("k must be at least 1".into());
    }
    Ok(())
}

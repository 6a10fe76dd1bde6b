//! The blind listening experiment for participants (the same flow as `musicrec experiment
//! session` / `respond`, over HTTP): list the studies, make a participant's session from the
//! seeds they chose, show its shuffled list, record a like or dislike per item and round.
//!
//! The workflow is `musicrec_app::experiment`'s, as for the CLI: what a session holds is decided
//! by `musicrec_study::plan_session` (every compared method's recommendations hidden among
//! random decoys, shuffled with a seed derived from the study and participant names) and stored
//! by the catalog's `ExperimentStore`. The origin of an
//! item (which method recommended it, or "decoy") is stored and never leaves the server: items
//! are shown with title, artist, album, file name and duration only, no genre and no score, in the
//! stored (shuffled) order. Studies are created with `musicrec experiment new`; a simulated study
//! takes no real participants.

use std::path::Path;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use musicrec_app::experiment::{self as study, StudyError};
use musicrec_catalog::{CatalogStore, Rating, Session, SessionId, Study, StudyId, TrackId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::check_name;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::state::AppState;
use musicrec_recommend::MAX_SEEDS;

/// The experiment service's refusals, each with its own code.
impl From<StudyError> for ApiError {
    fn from(err: StudyError) -> Self {
        let message = err.to_string();
        match err {
            StudyError::NoExperiments => ApiError::conflict("no_experiments", message),
            StudyError::SessionExists { session, .. } => ApiError::conflict(
                "session_exists",
                format!("{message} (GET /api/sessions/{session} shows it)"),
            ),
            StudyError::Simulated(_) => ApiError::conflict("study_simulated", message),
            StudyError::NotInSession { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "not_in_session", message)
            }
            StudyError::App(e) => e.into(),
        }
    }
}

fn rating_name(rating: Rating) -> &'static str {
    match rating {
        Rating::Like => "like",
        Rating::Dislike => "dislike",
    }
}

// ---- studies ----

/// A study as participants see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudyOut {
    pub id: i64,
    pub name: String,
    /// The compared methods (which item came from which is never shown).
    pub methods: Vec<String>,
    /// Recommendations per method in each session.
    pub k: usize,
    /// Random tracks mixed into each session.
    pub decoys: usize,
    /// Run by virtual listeners: takes no real participants.
    pub simulated: bool,
    /// Creation time (Unix ms).
    pub created_at: i64,
}

impl From<&Study> for StudyOut {
    fn from(study: &Study) -> Self {
        Self {
            id: study.id.0,
            name: study.name.clone(),
            methods: study.methods.clone(),
            k: study.k,
            decoys: study.decoys,
            simulated: study.simulated,
            created_at: study.created_at,
        }
    }
}

/// `GET /api/experiments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudyList {
    /// Whether this catalog backend stores listening experiments at all.
    pub available: bool,
    /// Every study, by id (create one with `musicrec experiment new`).
    pub studies: Vec<StudyOut>,
}

/// The listening-experiment studies.
#[utoipa::path(get, path = "/api/experiments", tag = "experiment",
    responses((status = 200, description = "Every study, by id", body = StudyList)))]
pub async fn list_studies(State(app): State<AppState>) -> Result<Json<StudyList>, ApiError> {
    app.with_store(|store| {
        Ok(Json(match store.experiments() {
            None => StudyList {
                available: false,
                studies: Vec::new(),
            },
            Some(ex) => StudyList {
                available: true,
                studies: ex.studies()?.iter().map(StudyOut::from).collect(),
            },
        }))
    })
    .await
}

// ---- sessions ----

/// A track of a session, without anything that hints at its origin (no genre, no score).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BlindTrack {
    /// Catalog track id (what a response names).
    pub id: i64,
    /// Title tag, or the file name.
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    /// File name (the folder is not shown).
    pub file_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
}

impl BlindTrack {
    /// From the catalog's row, or from the path stored with the session when the track is gone.
    fn load(store: &dyn CatalogStore, id: TrackId, stored_path: &Path) -> Result<Self, ApiError> {
        let name = |path: &Path| {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Ok(match store.track(id)? {
            Some(track) => {
                let file_name = name(&track.path);
                Self {
                    id: id.0,
                    title: track
                        .tags
                        .title
                        .clone()
                        .unwrap_or_else(|| file_name.clone()),
                    artist: track.tags.artist.clone(),
                    album: track.tags.album.clone(),
                    file_name,
                    duration_secs: track.duration_secs,
                }
            }
            None => {
                let file_name = name(stored_path);
                Self {
                    id: id.0,
                    title: file_name.clone(),
                    artist: None,
                    album: None,
                    file_name,
                    duration_secs: None,
                }
            }
        })
    }
}

/// One item of a session's list, in display order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlindItem {
    /// 1-based place in the list.
    pub position: usize,
    #[serde(flatten)]
    pub track: BlindTrack,
    /// The participant's latest answer in this round (`like` or `dislike`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<&'static str>,
}

/// A participant's session: the shuffled list to listen to and rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    /// Session id (responses are recorded under it).
    pub id: i64,
    pub study_id: i64,
    pub study: String,
    pub participant: String,
    /// The songs the participant chose.
    pub seeds: Vec<BlindTrack>,
    /// The round the ratings below belong to.
    pub round: u32,
    /// The list, shuffled once when the session was made (always shown in this order).
    pub items: Vec<BlindItem>,
    /// Items rated in this round.
    pub rated: usize,
    /// Whether every item is rated in this round.
    pub complete: bool,
    /// Creation time (Unix ms).
    pub created_at: i64,
}

fn session_out(
    store: &dyn CatalogStore,
    session: &Session,
    round: u32,
) -> Result<SessionOut, ApiError> {
    let study = study::experiments(store)?
        .study(session.study)?
        .ok_or_else(|| ApiError::internal(format!("study of session {} vanished", session.id)))?;
    let answers = study::answers(store, session, round)?;
    let items = session
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            Ok(BlindItem {
                position: i + 1,
                track: BlindTrack::load(store, item.track, &item.path)?,
                rating: answers
                    .iter()
                    .find(|(t, _)| *t == item.track)
                    .map(|(_, r)| rating_name(*r)),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let seeds = session
        .seeds
        .iter()
        .map(|&id| BlindTrack::load(store, id, Path::new("")))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let rated = items.iter().filter(|i| i.rating.is_some()).count();
    Ok(SessionOut {
        id: session.id.0,
        study_id: study.id.0,
        study: study.name,
        participant: session.participant.clone(),
        seeds,
        round,
        complete: rated == items.len(),
        rated,
        items,
        created_at: session.created_at,
    })
}

/// Body of `POST /api/experiments/{study}/sessions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSessionBody {
    /// Participant name (one session per participant and study).
    pub participant: String,
    /// 1 to 5 songs the participant chose (catalog ids of embedded tracks).
    pub seeds: Vec<i64>,
}

fn study_not_found(id: i64) -> ApiError {
    ApiError::not_found(format!(
        "no study with id {id} (GET /api/experiments lists them; create one with `musicrec experiment new`)"
    ))
}

/// Make a participant's blind session: every compared method's recommendations for the seeds,
/// hidden among random decoys and shuffled.
#[utoipa::path(post, path = "/api/experiments/{study}/sessions", tag = "experiment",
    params(("study" = i64, Path, description = "Study id")),
    request_body = NewSessionBody,
    responses((status = 201, description = "The new session (items shuffled, origins not shown)", body = SessionOut),
              (status = 400, description = "Malformed body, bad participant name, no or too many seeds", body = ErrorBody),
              (status = 404, description = "No such study, or a seed is not an embedded track", body = ErrorBody),
              (status = 409, description = "The participant already has a session in this study, the study is simulated, or the catalog has no embedded tracks", body = ErrorBody)))]
pub async fn create_session(
    State(app): State<AppState>,
    ApiPath(study_id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewSessionBody>,
) -> Result<(StatusCode, Json<SessionOut>), ApiError> {
    let participant = check_name(&body.participant, "participant")?;
    if body.seeds.is_empty() {
        return Err(ApiError::bad_request(format!(
            "`seeds` is empty: give 1 to {MAX_SEEDS} track ids"
        )));
    }
    if body.seeds.len() > MAX_SEEDS {
        return Err(ApiError::bad_request(format!(
            "{} seeds given: at most {MAX_SEEDS}",
            body.seeds.len()
        )));
    }
    let who = participant.clone();
    let study = app
        .with_store(move |store| {
            let study = study::experiments(store)?
                .study(StudyId(study_id))?
                .ok_or_else(|| study_not_found(study_id))?;
            study::check_new_session(store, &study, &who)?;
            Ok(study)
        })
        .await?;
    let index = app.require_index()?;
    let seeds: Vec<TrackId> = body.seeds.iter().map(|&id| TrackId(id)).collect();
    let seeds = study::session_seeds(&index, &seeds)?;
    let (plan_study, plan_seeds, who) = (study.clone(), seeds.clone(), participant.clone());
    let items = app
        .compute(move || study::plan(&plan_study, &index, &who, &plan_seeds, None))
        .await??;
    let out = app
        .with_store(move |store| {
            // Checked again under the store's lock: a concurrent request may have made it.
            let session = study::store_session(store, &study, &participant, &seeds, &items)?;
            tracing::info!(study = %study.name, session = %session.id, items = session.items.len(), "experiment session created");
            session_out(store, &session, 1)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Query of `GET /api/sessions/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoundQuery {
    /// The round whose ratings to show (default 1).
    pub round: Option<u32>,
}

fn find_session(store: &dyn CatalogStore, id: i64) -> Result<Session, ApiError> {
    Ok(study::session(store, SessionId(id))?)
}

/// A session's shuffled list, with the participant's ratings in a round.
#[utoipa::path(get, path = "/api/sessions/{id}", tag = "experiment",
    params(("id" = i64, Path, description = "Session id"), RoundQuery),
    responses((status = 200, description = "The session (origins not shown)", body = SessionOut),
              (status = 400, description = "Bad id or round", body = ErrorBody),
              (status = 404, description = "No such session", body = ErrorBody)))]
pub async fn get_session(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<RoundQuery>,
) -> Result<Json<SessionOut>, ApiError> {
    let round = study::check_round(query.round)?;
    app.with_store(move |store| {
        let session = find_session(store, id)?;
        session_out(store, &session, round).map(Json)
    })
    .await
}

/// Body of `POST /api/sessions/{id}/responses`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    /// An item of the session (its track id).
    pub track: i64,
    /// true = like, false = dislike. The latest answer per item and round counts; earlier ones
    /// stay recorded.
    pub like: bool,
    /// Listening round, from 1 (2 for a follow-up days later).
    #[serde(default)]
    #[schema(default = 1, minimum = 1)]
    pub round: Option<u32>,
}

/// The recorded answer and the participant's progress in that round.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseRecorded {
    pub session: i64,
    pub track: i64,
    pub round: u32,
    /// `like` or `dislike`.
    pub rating: &'static str,
    /// Items rated in this round so far.
    pub rated: usize,
    /// Items in the session.
    pub items: usize,
    /// Whether every item is now rated in this round.
    pub complete: bool,
}

/// Record a participant's like or dislike of an item of their session.
#[utoipa::path(post, path = "/api/sessions/{id}/responses", tag = "experiment",
    params(("id" = i64, Path, description = "Session id")),
    request_body = ResponseBody,
    responses((status = 200, description = "Recorded", body = ResponseRecorded),
              (status = 400, description = "Malformed body, round 0, or a track that is not an item of the session", body = ErrorBody),
              (status = 404, description = "No such session", body = ErrorBody),
              (status = 409, description = "The session belongs to a simulated study", body = ErrorBody)))]
pub async fn record_response(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResponseBody>,
) -> Result<Json<ResponseRecorded>, ApiError> {
    let round = study::check_round(body.round)?;
    let rating = if body.like {
        Rating::Like
    } else {
        Rating::Dislike
    };
    let track = TrackId(body.track);
    app.with_store(move |store| {
        let answered = study::respond(store, SessionId(id), track, round, rating)?;
        Ok(Json(ResponseRecorded {
            session: id,
            track: track.0,
            round,
            rating: rating_name(rating),
            rated: answered.rated,
            items: answered.session.items.len(),
            complete: answered.complete,
        }))
    })
    .await
}

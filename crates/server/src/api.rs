//! The JSON API under `/api`: track search and lookup, audio streaming with Range requests,
//! recommendations (similarity, genre, and for a user cf and hybrid, with the CF model kept in
//! [`crate::cf::CfCache`]), feedback, health, stats, the 2-D map and index reloads (the
//! listening experiment is in [`crate::experiment`]). Every handler is annotated for the OpenAPI document served at `/api/openapi.json`.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use musicrec_catalog::{Rating, Track, TrackId};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use tower_http::services::ServeFile;
use utoipa::{IntoParams, ToSchema};

use crate::cf::CfCache;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::map::MapData;
use musicrec_app::{Listener, RecommendMethod as MethodName, RecommendQuery, UserFeedback};
use musicrec_recommend::Metric;

/// At most this many recommendations per request.
pub const MAX_K: usize = 100;
use crate::state::{AppState, LoadedIndex};

/// Longest accepted user name (characters).
pub const MAX_USER_NAME: usize = 64;
/// Default and largest page size of `GET /api/tracks`.
pub const DEFAULT_PER_PAGE: u64 = 50;
pub const MAX_PER_PAGE: u64 = 200;

/// A track as the API shows it. Fields the source did not have are left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackOut {
    /// Catalog track id.
    pub id: i64,
    /// Title tag, or the file name when the file has no title.
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    /// File name (the folder is not shown).
    pub file_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    /// The model's most probable genre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// Its probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genre_probability: Option<f32>,
    /// Whether the served model has an embedding of this track (only those can be seeds).
    pub embedded: bool,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl TrackOut {
    /// From a catalog row, with the genre from the loaded index when the track is embedded.
    pub fn from_track(track: &Track, index: Option<&LoadedIndex>) -> Self {
        let row = index.and_then(|i| i.row_of(track.id).map(|r| (i, r)));
        let genre = row.and_then(|(i, r)| i.top_genre(r));
        let name = file_name(&track.path);
        Self {
            id: track.id.0,
            title: track.tags.title.clone().unwrap_or_else(|| name.clone()),
            artist: track.tags.artist.clone(),
            album: track.tags.album.clone(),
            file_name: name,
            duration_secs: track.duration_secs,
            genre: genre.map(|(g, _)| g.to_string()),
            genre_probability: genre.map(|(_, p)| p),
            embedded: row.is_some(),
        }
    }

    /// From a row of the loaded index (no catalog query: album and duration are not known here).
    pub fn from_row(index: &LoadedIndex, row: usize) -> Self {
        let t = &index.set.tracks[row];
        let genre = index.top_genre(row);
        let name = file_name(&t.path);
        Self {
            id: t.id.0,
            title: t.title.clone().unwrap_or_else(|| name.clone()),
            artist: t.artist.clone(),
            album: None,
            file_name: name,
            duration_secs: None,
            genre: genre.map(|(g, _)| g.to_string()),
            genre_probability: genre.map(|(_, p)| p),
            embedded: true,
        }
    }
}

// ---- health, stats ----

/// `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: &'static str,
    /// The served model, if the catalog has one.
    pub model: Option<String>,
    /// Tracks in the index.
    pub indexed_tracks: usize,
    /// musicrec version.
    pub version: &'static str,
}

/// Liveness and what is loaded.
#[utoipa::path(get, path = "/api/health", tag = "system",
    responses((status = 200, description = "Server is up", body = Health)))]
pub async fn health(State(app): State<AppState>) -> Json<Health> {
    let index = app.index();
    Json(Health {
        status: "ok",
        model: index.as_ref().map(|i| i.model_id.clone()),
        indexed_tracks: index.as_ref().map_or(0, |i| i.index.len()),
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Tracks per genre.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenreTracks {
    pub genre: String,
    pub tracks: u64,
}

/// The served model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelOut {
    pub id: String,
    pub embedding_dim: usize,
    pub genres: Vec<String>,
    /// Tracks in the loaded index.
    pub indexed_tracks: usize,
}

/// `GET /api/stats`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// Tracks whose file exists (as of the last scan).
    pub tracks: u64,
    pub missing_tracks: u64,
    pub users: u64,
    pub feedback_events: u64,
    /// The served model (absent while the catalog has none).
    pub model: Option<ModelOut>,
    /// Present tracks by most probable genre of the served model.
    pub genres: Vec<GenreTracks>,
    /// Methods `POST /api/recommend` accepts in this build.
    pub methods: Vec<MethodName>,
}

/// Catalog numbers: tracks, genres, model.
#[utoipa::path(get, path = "/api/stats", tag = "system",
    responses((status = 200, description = "Catalog statistics", body = Stats)))]
pub async fn stats(State(app): State<AppState>) -> Result<Json<Stats>, ApiError> {
    let index = app.index();
    let catalog = app.with_store(|store| Ok(store.stats()?)).await?;
    let genres = index
        .as_ref()
        .and_then(|i| catalog.models.iter().find(|m| m.model_id == i.model_id))
        .map(|m| {
            m.per_genre
                .iter()
                .map(|g| GenreTracks {
                    genre: g.genre.clone(),
                    tracks: g.tracks,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(Stats {
        tracks: catalog.tracks,
        missing_tracks: catalog.missing_tracks,
        users: catalog.users,
        feedback_events: catalog.feedback_events,
        model: index.as_ref().map(|i| ModelOut {
            id: i.model_id.clone(),
            embedding_dim: i.set.model.embedding_dim,
            genres: i.set.model.genres.clone(),
            indexed_tracks: i.index.len(),
        }),
        genres,
        methods: MethodName::ALL.to_vec(),
    }))
}

// ---- tracks ----

/// Query of `GET /api/tracks`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackQuery {
    /// Text found in the artist, title, album or path (case-insensitive); empty = all tracks.
    #[serde(default)]
    pub q: String,
    /// Page number, from 1.
    pub page: Option<u64>,
    /// Tracks per page (1 to 200, default 50).
    pub per_page: Option<u64>,
}

/// One page of tracks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackPage {
    /// Matching tracks over all pages.
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<TrackOut>,
}

/// Search the library.
#[utoipa::path(get, path = "/api/tracks", tag = "tracks", params(TrackQuery),
    responses((status = 200, description = "One page of matching tracks", body = TrackPage),
              (status = 400, description = "Bad page or page size", body = ErrorBody)))]
pub async fn search_tracks(
    State(app): State<AppState>,
    ApiQuery(query): ApiQuery<TrackQuery>,
) -> Result<Json<TrackPage>, ApiError> {
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if page == 0 {
        return Err(ApiError::bad_request("page starts at 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::bad_request(format!(
            "per_page = {per_page}: must be between 1 and {MAX_PER_PAGE}"
        )));
    }
    let offset = (page - 1)
        .checked_mul(per_page)
        .ok_or_else(|| ApiError::bad_request("page is too large"))?;
    let text = query.q.trim().to_string();
    let found = app
        .with_store(move |store| Ok(store.search(&text, offset, per_page)?))
        .await?;
    let index = app.index();
    Ok(Json(TrackPage {
        total: found.total,
        page,
        per_page,
        items: found
            .items
            .iter()
            .map(|t| TrackOut::from_track(t, index.as_deref()))
            .collect(),
    }))
}

async fn catalog_track(app: &AppState, id: i64) -> Result<Track, ApiError> {
    app.with_store(move |store| {
        store
            .track(TrackId(id))?
            .ok_or_else(|| ApiError::not_found(format!("unknown track id {id}")))
    })
    .await
}

/// One track with its genre probabilities.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackDetail {
    #[serde(flatten)]
    pub track: TrackOut,
    /// Probability per genre of the served model (empty when the track is not embedded).
    pub genre_probabilities: Vec<GenreProbability>,
    /// Whether the last scan found the file gone.
    pub missing: bool,
}

/// One genre's probability.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenreProbability {
    pub genre: String,
    pub probability: f32,
}

/// One track.
#[utoipa::path(get, path = "/api/tracks/{id}", tag = "tracks",
    params(("id" = i64, Path, description = "Catalog track id")),
    responses((status = 200, description = "The track", body = TrackDetail),
              (status = 404, description = "No such track", body = ErrorBody)))]
pub async fn get_track(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TrackDetail>, ApiError> {
    let track = catalog_track(&app, id).await?;
    let index = app.index();
    let genre_probabilities = index
        .as_deref()
        .and_then(|i| i.row_of(track.id).map(|r| (i, r)))
        .map(|(i, r)| {
            i.set
                .model
                .genres
                .iter()
                .zip(i.set.genre_probs(r))
                .map(|(g, &p)| GenreProbability {
                    genre: g.clone(),
                    probability: p,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(TrackDetail {
        track: TrackOut::from_track(&track, index.as_deref()),
        genre_probabilities,
        missing: track.missing_since.is_some(),
    }))
}

/// The track's audio file, with HTTP range requests (`Range: bytes=...` answers 206). Formats
/// browsers cannot play (`.au`, AIFF, CAF) come as a 16-bit WAV decoded on the fly.
#[utoipa::path(get, path = "/api/tracks/{id}/audio", tag = "tracks",
    params(("id" = i64, Path, description = "Catalog track id"),
           ("Range" = Option<String>, Header, description = "Byte range, e.g. `bytes=0-1023`")),
    responses((status = 200, description = "The whole file", content_type = "audio/*"),
              (status = 206, description = "The requested byte range", content_type = "audio/*"),
              (status = 404, description = "No such track, or its file is gone", body = ErrorBody),
              (status = 416, description = "Range outside the file"),
              (status = 422, description = "A file that must be converted for the browser cannot be decoded", body = ErrorBody)))]
pub async fn track_audio(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    request: Request,
) -> Result<Response, ApiError> {
    // Only the catalog's own path for this id is ever opened.
    let track = catalog_track(&app, id).await?;
    if track.missing_since.is_some() || !track.path.is_file() {
        return Err(ApiError::not_found(format!(
            "the file of track {id} is gone (rescan the library)"
        )));
    }
    if crate::transcode::needs_transcoding(&track.path) {
        let path = track.path.clone();
        let wav = app
            .work()
            .blocking(move || crate::transcode::wav_of(&path))
            .await?;
        let mut response = crate::transcode::ranged(wav, "audio/wav", request.headers());
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=3600"),
        );
        return Ok(response);
    }
    let response = ServeFile::new(&track.path)
        .oneshot(request)
        .await
        .map_err(|e| ApiError::internal(format!("cannot read track {id}: {e}")))?;
    let mut response = response.map(Body::new);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}

// ---- recommend, feedback ----

fn default_k() -> usize {
    5
}

fn default_metric() -> String {
    "cosine".to_string()
}

/// Body of `POST /api/recommend`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendBody {
    /// 1 to 5 catalog track ids with embeddings (`cf` and `hybrid` may leave it empty: the
    /// user's likes anchor them).
    #[serde(default)]
    pub seeds: Vec<i64>,
    /// How many tracks (1 to 100).
    #[serde(default = "default_k")]
    #[schema(default = 5, minimum = 1, maximum = 100)]
    pub k: usize,
    /// `similarity` (method 1), `genre` (method 2), `cf` (collaborative filtering over every
    /// user's likes) or `hybrid` (CF blended with content similarity); `cf` and `hybrid` need
    /// `user`.
    #[serde(default)]
    pub method: MethodName,
    /// `cosine`, `euclidean` or `pnorm:P` (P > 0); `cf` and `hybrid` take only `cosine`.
    #[serde(default = "default_metric")]
    #[schema(default = "cosine", example = "cosine")]
    pub metric: String,
    /// A user whose likes move the query (or, with `cf`/`hybrid`, are what CF learns from)
    /// and whose dislikes never come back.
    #[serde(default)]
    pub user: Option<String>,
    /// At most this many tracks by one artist.
    #[serde(default)]
    pub max_per_artist: Option<usize>,
    /// Weight of the CF score in `hybrid`, within [0, 1] (content gets `1 - w`).
    #[serde(default)]
    #[schema(default = 0.5, minimum = 0.0, maximum = 1.0)]
    pub hybrid_weight: Option<f32>,
}

/// A recommended track.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoredTrack {
    #[serde(flatten)]
    pub track: TrackOut,
    /// Higher = better: cosine similarity or 1 / (1 + distance) for `similarity` and `genre`;
    /// for `cf` and `hybrid` the blend of scores each scaled to [0, 1] over the candidates.
    pub score: f32,
}

/// How many of the user's ratings were used.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackUsed {
    pub liked: usize,
    pub disliked: usize,
}

/// What collaborative filtering knew for a `cf` or `hybrid` request.
#[derive(Debug, Serialize, ToSchema)]
pub struct CfUsed {
    /// Users and liked tracks the CF model was fitted on (0 while nobody liked anything).
    pub users: usize,
    pub tracks: usize,
    /// Whether the model learned from this user's likes (false: cold start, and `hybrid`
    /// ranked by content similarity alone).
    pub user_known: bool,
    /// The CF weight of `hybrid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hybrid_weight: Option<f32>,
}

/// Response of `POST /api/recommend`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendResponse {
    pub model: String,
    pub method: MethodName,
    pub metric: String,
    pub seeds: Vec<TrackOut>,
    /// Best first.
    pub tracks: Vec<ScoredTrack>,
    pub requested: usize,
    /// True when fewer than `k` tracks qualified (small catalog, exclusions, artist cap).
    pub fewer_than_requested: bool,
    /// Present when a user was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<FeedbackUsed>,
    /// Present for `cf` and `hybrid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collaborative: Option<CfUsed>,
}

fn check_user_name(name: &str) -> Result<String, ApiError> {
    check_name(name, "user")
}

/// A user or participant name: trimmed, 1 to [`MAX_USER_NAME`] characters, no control
/// characters. `field` names it in the message.
pub(crate) fn check_name(name: &str, field: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request(format!("`{field}` is empty")));
    }
    if name.chars().count() > MAX_USER_NAME {
        return Err(ApiError::bad_request(format!(
            "`{field}` is longer than {MAX_USER_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "`{field}` has control characters"
        )));
    }
    Ok(name.to_string())
}

/// Recommend tracks like the seeds.
#[utoipa::path(post, path = "/api/recommend", tag = "recommend", request_body = RecommendBody,
    responses((status = 200, description = "Recommendations, best first", body = RecommendResponse),
              (status = 400, description = "Malformed body, bad k/metric/method/weight, too many seeds, or cf/hybrid without a user", body = ErrorBody),
              (status = 404, description = "A seed is not an embedded track", body = ErrorBody),
              (status = 409, description = "The catalog has no embedded tracks yet, or method cf for a user without likes (cold start)", body = ErrorBody)))]
pub async fn recommend(
    State(app): State<AppState>,
    Extension(cf): Extension<Arc<CfCache>>,
    ApiJson(body): ApiJson<RecommendBody>,
) -> Result<Json<RecommendResponse>, ApiError> {
    let index = app.require_index()?;
    if body.k == 0 || body.k > MAX_K {
        return Err(ApiError::bad_request(format!(
            "k = {}: must be between 1 and {MAX_K}",
            body.k
        )));
    }
    let metric: Metric = body
        .metric
        .parse()
        .map_err(|e: musicrec_recommend::RecommendError| ApiError::bad_request(e.to_string()))?;
    let query = RecommendQuery {
        seeds: body.seeds,
        k: body.k,
        method: body.method,
        metric,
        max_per_artist: body.max_per_artist,
        hybrid_weight: body.hybrid_weight,
    };
    let user = body.user.as_deref().map(check_user_name).transpose()?;
    if query.method.is_collaborative() && user.is_none() {
        return Err(ApiError::bad_request(format!(
            "method {} recommends for a listener: give `user`",
            query.method.as_str()
        )));
    }
    let feedback = match &user {
        None => UserFeedback::default(),
        Some(name) => {
            let name = name.clone();
            let model = index.clone();
            app.with_store(move |store| Ok(UserFeedback::load(store, &name, &model)?))
                .await?
        }
    };
    let cf_model = match (&user, query.method.is_collaborative()) {
        (Some(_), true) => Some(cf.model(&app).await?.model),
        _ => None,
    };
    let cf_known = match (&user, &cf_model) {
        (Some(name), Some(model)) => Some(model.as_ref().map_or((0, 0, false), |m| {
            let m = crate::cf::lock(m);
            let (users, tracks) = m.size();
            (users, tracks, m.knows_user(name))
        })),
        _ => None,
    };
    let work_index = index.clone();
    let work_query = query.clone();
    let work_feedback = feedback.clone();
    let work_user = user.clone();
    let result = app
        .compute(move || {
            let guard = cf_model
                .as_ref()
                .and_then(|m| m.as_ref())
                .map(crate::cf::lock);
            let listener = work_user.as_deref().map(|name| Listener {
                name,
                feedback: &work_feedback,
                cf: guard.as_deref(),
            });
            musicrec_app::recommend(&work_index, &work_query, listener)
        })
        .await??;
    let out = |id: i64| {
        let row = index
            .row_of(TrackId(id))
            .ok_or_else(|| ApiError::internal(format!("track {id} vanished from the index")))?;
        Ok::<_, ApiError>(TrackOut::from_row(&index, row))
    };
    Ok(Json(RecommendResponse {
        model: index.model_id.clone(),
        method: query.method,
        metric: query.metric.to_string(),
        seeds: result
            .seeds
            .iter()
            .map(|&id| out(id))
            .collect::<Result<_, _>>()?,
        tracks: result
            .tracks
            .iter()
            .map(|hit| {
                Ok(ScoredTrack {
                    track: out(hit.id)?,
                    score: hit.score,
                })
            })
            .collect::<Result<_, ApiError>>()?,
        requested: result.requested,
        fewer_than_requested: result.fewer_than_requested,
        feedback: user.map(|_| FeedbackUsed {
            liked: feedback.liked.len(),
            disliked: feedback.disliked.len(),
        }),
        collaborative: cf_known.map(|(users, tracks, user_known)| CfUsed {
            users,
            tracks,
            user_known,
            hybrid_weight: result.hybrid_weight,
        }),
    }))
}

/// Body of `POST /api/feedback`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// User name (created on first use).
    pub user: String,
    /// Catalog track id.
    pub track: i64,
    /// true = like, false = dislike. The latest rating of a track counts.
    pub like: bool,
}

/// The recorded rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackRecorded {
    pub user: String,
    pub user_id: i64,
    pub track: i64,
    /// `like` or `dislike`.
    pub rating: &'static str,
}

/// Like or dislike a track.
#[utoipa::path(post, path = "/api/feedback", tag = "recommend", request_body = FeedbackBody,
    responses((status = 200, description = "Recorded", body = FeedbackRecorded),
              (status = 400, description = "Malformed body or user name", body = ErrorBody),
              (status = 404, description = "No such track", body = ErrorBody)))]
pub async fn feedback(
    State(app): State<AppState>,
    Extension(cf): Extension<Arc<CfCache>>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<Json<FeedbackRecorded>, ApiError> {
    let name = check_user_name(&body.user)?;
    let rating = if body.like {
        Rating::Like
    } else {
        Rating::Dislike
    };
    let track = body.track;
    let user_name = name.clone();
    let user_id = app
        .with_store(move |store| {
            // Check the track first so that an unknown id does not leave a new user behind.
            if store.track(TrackId(track))?.is_none() {
                return Err(ApiError::not_found(format!("unknown track id {track}")));
            }
            let user = store.add_user(&user_name)?;
            store.record_feedback(user, TrackId(track), rating)?;
            Ok(user)
        })
        .await?;
    cf.invalidate();
    Ok(Json(FeedbackRecorded {
        user: name,
        user_id: user_id.0,
        track,
        rating: rating_name(rating),
    }))
}

/// Query of `GET /api/feedback`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// User name.
    pub user: String,
}

/// One of the user's ratings.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatedTrack {
    #[serde(flatten)]
    pub track: TrackOut,
    /// `like` or `dislike` (the latest rating counts).
    pub rating: &'static str,
}

/// The user's ratings, by track id.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRatings {
    pub user: String,
    pub ratings: Vec<RatedTrack>,
}

fn rating_name(rating: Rating) -> &'static str {
    match rating {
        Rating::Like => "like",
        Rating::Dislike => "dislike",
    }
}

/// The user's likes and dislikes (an unknown user has none).
#[utoipa::path(get, path = "/api/feedback", tag = "recommend", params(UserQuery),
    responses((status = 200, description = "The user's latest rating of each rated track", body = UserRatings),
              (status = 400, description = "Bad user name", body = ErrorBody)))]
pub async fn user_feedback(
    State(app): State<AppState>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<UserRatings>, ApiError> {
    let name = check_user_name(&query.user)?;
    let user_name = name.clone();
    let rated = app
        .with_store(move |store| {
            let Some(user) = store.user_by_name(&user_name)? else {
                return Ok(Vec::new());
            };
            let mut rated = Vec::new();
            for rating in store.feedback(user.id)? {
                if let Some(track) = store.track(rating.track)? {
                    rated.push((track, rating.rating));
                }
            }
            Ok(rated)
        })
        .await?;
    let index = app.index();
    Ok(Json(UserRatings {
        user: name,
        ratings: rated
            .iter()
            .map(|(track, rating)| RatedTrack {
                track: TrackOut::from_track(track, index.as_deref()),
                rating: rating_name(*rating),
            })
            .collect(),
    }))
}

/// Query of `DELETE /api/feedback`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UndoQuery {
    /// User name.
    pub user: String,
    /// Catalog track id.
    pub track: i64,
}

/// The result of an undo.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackUndone {
    pub user: String,
    pub track: i64,
    /// Recorded ratings of the track that were removed (0: it was not rated).
    pub removed: u64,
}

/// Undo a like or dislike: the track counts as never rated by this user again.
#[utoipa::path(delete, path = "/api/feedback", tag = "recommend", params(UndoQuery),
    responses((status = 200, description = "The track's ratings by this user are removed", body = FeedbackUndone),
              (status = 400, description = "Bad user name or track id", body = ErrorBody)))]
pub async fn undo_feedback(
    State(app): State<AppState>,
    Extension(cf): Extension<Arc<CfCache>>,
    ApiQuery(query): ApiQuery<UndoQuery>,
) -> Result<Json<FeedbackUndone>, ApiError> {
    let name = check_user_name(&query.user)?;
    let user_name = name.clone();
    let track = query.track;
    let removed = app
        .with_store(move |store| match store.user_by_name(&user_name)? {
            Some(user) => Ok(store.clear_feedback(user.id, TrackId(track))?),
            None => Ok(0),
        })
        .await?;
    if removed > 0 {
        cf.invalidate();
    }
    Ok(Json(FeedbackUndone {
        user: name,
        track,
        removed,
    }))
}

// ---- map, reload ----

/// 2-D PCA projection of the embeddings, coloured by genre on the page.
#[utoipa::path(get, path = "/api/map", tag = "tracks",
    responses((status = 200, description = "One point per embedded track", body = MapData),
              (status = 409, description = "The catalog has no embedded tracks yet", body = ErrorBody)))]
pub async fn map(State(app): State<AppState>) -> Result<Response, ApiError> {
    let index = app.require_index()?;
    // The first call computes the PCA; serialising 100k points is also worth a worker thread.
    let bytes = app
        .compute(move || serde_json::to_vec(&*index.map()))
        .await?
        .map_err(|e| ApiError::internal(format!("cannot encode the map: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response())
}

/// Result of `POST /api/reload`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reloaded {
    pub model: Option<String>,
    pub indexed_tracks: usize,
}

/// Reload the index from the catalog (after a scan).
#[utoipa::path(post, path = "/api/reload", tag = "system",
    responses((status = 200, description = "Index reloaded", body = Reloaded)))]
pub async fn reload(
    State(app): State<AppState>,
    Extension(cf): Extension<Arc<CfCache>>,
) -> Result<Json<Reloaded>, ApiError> {
    let loaded = app.reload().await?;
    // A rescan may have purged tracks and their feedback.
    cf.invalidate();
    Ok(Json(Reloaded {
        model: loaded.as_ref().map(|i| i.model_id.clone()),
        indexed_tracks: loaded.as_ref().map_or(0, |i| i.index.len()),
    }))
}

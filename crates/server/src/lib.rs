//! musicrec's `server` stage: one axum (tokio) application that serves
//!
//! * the JSON API under `/api` ([`api`], the listening experiment in [`experiment`]), described
//!   by an OpenAPI document generated from the handlers and the router itself at
//!   `/api/openapi.json`;
//! * OpenSubsonic-compatible similar-songs calls under `/rest` ([`subsonic`]), alone or in
//!   companion mode in front of another Subsonic server ([`upstream`], `GET /api/upstream`);
//! * the web page at `/` ([`page`]), its assets embedded at compile time; audio that browsers
//!   cannot play is streamed as WAV converted on the fly ([`transcode`]).
//!
//! The catalog has one writer: the store sits behind a mutex and is used from blocking tasks
//! ([`AppState::with_store`]); the search index is loaded once and swapped whole on reload
//! (`POST /api/reload`, or when the periodic check sees the catalog's change revision move).
//! Safe by default: [`ServeConfig`] refuses a non-loopback address without a token, and with a
//! token every `/api` and `/rest` call must carry it ([`auth`]). Under load, catalog calls and
//! computations run on a bounded pool with a bounded queue, 429 beyond it ([`work`]); idle and
//! half-open connections are closed after [`IDLE_TIMEOUT`] ([`listen`]). Bodies are capped at
//! [`BODY_LIMIT_BYTES`], requests time out after [`REQUEST_TIMEOUT`], and every error, including
//! those of the body limit, the timeout and the router (405), is a JSON body
//! `{"error": {"code", "message"}}` with its 4xx status ([`error::json_errors`]).

pub mod api;
pub mod auth;
pub mod cf;
pub mod error;
pub mod experiment;
pub mod listen;
pub mod map;
pub mod page;
pub mod state;
pub mod subsonic;
pub mod transcode;
pub mod upstream;
pub mod work;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use musicrec_catalog::CatalogStore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use api::MAX_K;
pub use auth::{Access, AccessError};
pub use cf::CfCache;
pub use error::ApiError;
use musicrec_app::ModelRequest;
pub use musicrec_app::RecommendMethod as MethodName;
pub use musicrec_recommend::MAX_SEEDS;
pub use state::{AppState, LoadedIndex};
pub use upstream::{
    CatalogSong, PlaylistPushed, Upstream, UpstreamConfig, UpstreamError, push_playlist,
};
pub use work::{WorkLimits, WorkPool};

/// Largest request body accepted (JSON bodies are a few hundred bytes).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// A request that has not produced its response headers by then is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A connection without a complete request head this long after it opened or after its last
/// response (idle keep-alive, or half a request) is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(20);
/// Default interval of the check for a changed catalog.
pub const DEFAULT_REFRESH_EVERY: Duration = Duration::from_secs(30);

/// The request limits [`app_with_limits`] enforces ([`app`] uses the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body (a larger `Content-Length` is answered 413 before it is read).
    pub body_bytes: usize,
    /// A request without response headers by then is answered 408.
    pub timeout: Duration,
    /// Idle and half-open connections are closed after this ([`listen::serve`]).
    pub idle_timeout: Duration,
    /// Catalog calls and computations at once, and waiting, before 429 ([`WorkPool`]).
    pub work: WorkLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: BODY_LIMIT_BYTES,
            timeout: REQUEST_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            work: WorkLimits::default(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "musicrec",
        description = "Content-based music recommendations: search the library, stream tracks, \
            recommend by embedding similarity (method 1), similarity plus genre (method 2), \
            collaborative filtering or a hybrid, record likes and dislikes, run blind listening \
            experiments. Every error is `{\"error\": {\"code\", \"message\"}}` with a 4xx \
            status (5xx only for a server fault). With a server token, every /api and /rest call needs \
            `Authorization: Bearer TOKEN` or `?token=TOKEN`."
    ),
    modifiers(&TokenSecurity),
    tags(
        (name = "tracks", description = "Library search, track details, audio, map"),
        (name = "recommend", description = "Recommendations and feedback"),
        (name = "experiment", description = "Blind listening experiments: studies, participant sessions, answers"),
        (name = "system", description = "Health, statistics, reload"),
        (name = "subsonic", description = "OpenSubsonic-compatible similar songs")
    )
)]
struct ApiDoc;

/// Declares the token (as a Bearer header or a `token` query parameter), optional: it is needed
/// only when the server was started with one.
struct TokenSecurity;

impl utoipa::Modify for TokenSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "token_query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("token"))),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::default(),
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new(
                "token_query",
                Vec::<String>::new(),
            ),
        ]);
    }
}

/// The routes and the OpenAPI document built from them (one source, so they cannot disagree).
pub fn routes_and_doc() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::health))
        .routes(routes!(api::stats))
        .routes(routes!(api::search_tracks))
        .routes(routes!(api::get_track))
        .routes(routes!(api::track_audio))
        .routes(routes!(api::recommend))
        .routes(routes!(
            api::feedback,
            api::user_feedback,
            api::undo_feedback
        ))
        .routes(routes!(api::map))
        .routes(routes!(api::reload))
        .routes(routes!(experiment::list_studies))
        .routes(routes!(experiment::create_session))
        .routes(routes!(experiment::get_session))
        .routes(routes!(experiment::record_response))
        .routes(routes!(upstream::report))
        .routes(routes!(upstream::playlist))
        .routes(routes!(subsonic::rest))
        .split_for_parts()
}

/// The whole application over `state`, with `access` enforced and the default [`Limits`].
pub fn app(state: AppState, access: Access) -> Router {
    app_with_limits(state, access, Limits::default())
}

/// The whole application over `state`, with `access` and `limits` enforced.
pub fn app_with_limits(state: AppState, access: Access, limits: Limits) -> Router {
    let state = if state.work().limits() == limits.work {
        state
    } else {
        state.with_work_limits(limits.work)
    };
    let (routes, doc) = routes_and_doc();
    let doc_json = doc.to_pretty_json().unwrap_or_else(|_| "{}".to_string());
    routes
        .route(
            "/api/openapi.json",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                    doc_json,
                )
            }),
        )
        .route("/", get(page::index))
        .route("/assets/app.js", get(page::app_js))
        .route("/assets/app.css", get(page::app_css))
        .route("/assets/favicon.svg", get(page::favicon))
        .route("/favicon.ico", get(page::favicon))
        .fallback(not_found)
        .with_state(state)
        .layer(axum::Extension(access.clone()))
        .layer(axum::Extension(std::sync::Arc::new(CfCache::default())))
        .layer(middleware::from_fn_with_state(access, guard_api))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        // Outside the body limit and the timeout, so that their answers become JSON too.
        .layer(middleware::from_fn_with_state(limits, error::json_errors))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; media-src 'self'; object-src 'none'; frame-ancestors 'none'",
            ),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("the server hit a bug answering this request").into_response()
        }))
}

/// `/api/*` needs the token (the page and the Subsonic calls check their own way).
async fn guard_api(State(access): State<Access>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/api/") && !access.allows_api(&request) {
        return ApiError::unauthorized().into_response();
    }
    next.run(request).await
}

async fn not_found(request: Request) -> Response {
    ApiError::not_found(format!("no such page: {}", request.uri().path())).into_response()
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    /// Required for a non-loopback `addr`.
    pub token: Option<String>,
    /// Which model to serve: one the user named, else the front end's default when the catalog
    /// holds it, else the catalog's only model, or the one with most tracks.
    pub model: ModelRequest,
    /// How often to check whether the catalog changed (`None`: only on `POST /api/reload`).
    pub refresh_every: Option<Duration>,
    /// Companion mode: the Subsonic server to forward to and map songs of ([`upstream`]).
    pub upstream: Option<UpstreamConfig>,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("--upstream: {0}")]
    Upstream(#[from] UpstreamError),
    #[error("cannot load the catalog: {0}")]
    Catalog(ApiError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `store` until Ctrl-C (builds its own tokio runtime; for a synchronous caller).
pub fn run(store: Box<dyn CatalogStore>, config: ServeConfig) -> Result<(), ServeError> {
    let access = Access::for_bind(config.addr, config.token.clone())?;
    let mut state = AppState::serving(store, config.model.clone()).map_err(ServeError::Catalog)?;
    let upstream = config.upstream.clone().map(Upstream::new).transpose()?;
    if let Some(upstream) = &upstream {
        state = state.with_upstream(upstream.clone());
    }
    let limits = Limits::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // The work pool bounds catalog jobs; this also bounds the file reads of audio streaming
        // (tokio::fs), which run on blocking threads too (tokio's default allows 512 threads).
        .max_blocking_threads(2 * limits.work.workers + 4)
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.addr,
                source,
            })?;
        let local = listener.local_addr()?;
        let index = state.index();
        eprintln!(
            "musicrec serving http://{local}/ ({} tracks of model {}){}",
            index.as_ref().map_or(0, |i| i.index.len()),
            index.as_ref().map_or("-", |i| i.model_id.as_str()),
            if access.requires_token() {
                "; API calls need the token"
            } else {
                ""
            }
        );
        if let Some(every) = config.refresh_every {
            spawn_refresh(state.clone(), every);
        }
        if let Some(upstream) = upstream {
            eprintln!(
                "musicrec: companion of the Subsonic server at {} (user {}): /rest calls go there; reading its library...",
                upstream.url(),
                config.upstream.as_ref().map_or("", |u| u.user.as_str())
            );
            upstream.spawn_refresh(state.clone());
        }
        listen::serve(
            listener,
            app_with_limits(state, access, limits),
            limits.idle_timeout,
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
        )
        .await?;
        Ok(())
    })
}

/// Checks every `every` whether the catalog changed and reloads the index if so.
pub fn spawn_refresh(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match state.reload_if_changed().await {
                Ok(true) => tracing::info!("catalog changed: index reloaded"),
                Ok(false) => {}
                Err(e) => tracing::warn!("catalog check failed: {e}"),
            }
        }
    })
}

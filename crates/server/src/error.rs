//! The JSON API's error type: every failure a handler or an extractor meets becomes one of these,
//! answered as `{"error": {"code": "...", "message": "..."}}` with a 4xx status (5xx only for a
//! broken catalog file or a server fault, never for bad input).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use musicrec_app::AppError;
use musicrec_recommend::{CfError, RecommendError};
use musicrec_study::ExperimentError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `bad_request`, `not_found`, `method_not_available`.
    pub code: &'static str,
    /// One-line human-readable reason.
    pub message: String,
}

/// An API error: a status, a stable code and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The catalog holds nothing the request could be answered from (no embedded tracks yet).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "no_index", message)
    }

    /// The request contradicts what is stored (a second session for a participant, ...).
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this server needs its token: send `Authorization: Bearer TOKEN` or `?token=TOKEN`",
        )
    }

    /// Too much work is running or waiting: answered 429 with `Retry-After`.
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "busy", message)
    }

    /// A fault on the server's side (catalog I/O, a task that died): logged, answered 500.
    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        tracing::error!("{message}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(crate::work::RETRY_AFTER_SECS),
            );
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        // axum's text already says which field or byte was wrong; keep it on one line.
        let message = rejection.body_text().replace('\n', " ");
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            "unsupported_media_type"
        } else {
            "bad_request"
        };
        // Unprocessable (well-formed JSON of the wrong shape) is reported as 400 like other bad
        // input, except for the statuses that say something specific.
        let status = match status {
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => status,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, code, message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text().replace('\n', " "))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text().replace('\n', " "))
    }
}

impl From<musicrec_catalog::CatalogError> for ApiError {
    fn from(err: musicrec_catalog::CatalogError) -> Self {
        match err {
            musicrec_catalog::CatalogError::Invalid(message) => Self::bad_request(message),
            musicrec_catalog::CatalogError::UnknownTrack(id) => {
                Self::not_found(format!("unknown track id {id}"))
            }
            musicrec_catalog::CatalogError::UnknownUser(id) => {
                Self::not_found(format!("unknown user id {id}"))
            }
            other => Self::internal(format!("catalog: {other}")),
        }
    }
}

impl From<RecommendError> for ApiError {
    fn from(err: RecommendError) -> Self {
        match err {
            RecommendError::UnknownTrack(_) => Self::not_found(err.to_string()),
            RecommendError::EmptyIndex => Self::unavailable(err.to_string()),
            // Everything else the recommender refuses is about the request's values.
            other => Self::bad_request(other.to_string()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Invalid(message) => Self::bad_request(message),
            AppError::NotFound(message) => Self::not_found(message),
            AppError::Unavailable(message) => Self::unavailable(message),
            AppError::ColdStart(message) => Self::conflict("cold_start", message),
            AppError::Catalog(e) => e.into(),
            AppError::Recommend(e) => e.into(),
            AppError::Experiment(e) => e.into(),
            open @ AppError::Open { .. } => Self::internal(open.one_line()),
        }
    }
}

impl From<ExperimentError> for ApiError {
    fn from(err: ExperimentError) -> Self {
        match err {
            ExperimentError::Catalog(e) => e.into(),
            ExperimentError::Recommend(e) => e.into(),
            // What the experiment code refuses is about the request (an unknown method, a model
            // without genres for method 2, ...).
            ExperimentError::Invalid(message) => Self::bad_request(message),
            other => Self::internal(format!("experiment: {other}")),
        }
    }
}

impl From<CfError> for ApiError {
    fn from(err: CfError) -> Self {
        ExperimentError::from(err).into()
    }
}

/// Turns every error response that is not already JSON (axum's empty 405, the timeout's empty
/// 408, the body limit's plain-text 413, the file server's 416, ...) into the API's JSON error
/// body with the same status. Headers such as `Allow` and `Content-Range` are kept. Subsonic
/// responses (XML or JSON) are left alone.
pub async fn json_errors(
    State(limits): State<crate::Limits>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.contains("json") || content_type.contains("xml") {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(|v| format!(" (allowed: {v})"))
                .unwrap_or_default();
            ApiError::new(
                status,
                "method_not_allowed",
                format!("{method} is not allowed on {path}{allowed}"),
            )
        }
        StatusCode::REQUEST_TIMEOUT => ApiError::new(
            status,
            "timeout",
            format!(
                "no response within {} ms: the request was cancelled",
                limits.timeout.as_millis()
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            format!(
                "the request body is larger than the limit of {} bytes",
                limits.body_bytes
            ),
        ),
        StatusCode::RANGE_NOT_SATISFIABLE => ApiError::new(
            status,
            "range_not_satisfiable",
            "the requested byte range is outside the file (or has several parts)",
        ),
        _ if status.is_server_error() => {
            ApiError::internal(format!("{method} {path} failed with status {status}"))
        }
        _ => ApiError::new(
            status,
            "bad_request",
            format!(
                "{method} {path}: {}",
                status.canonical_reason().unwrap_or("request refused")
            ),
        ),
    };
    // The new body has its own type and length.
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    let mut fresh = error.into_response();
    let (fresh_parts, body) = fresh.into_parts();
    for (name, value) in &fresh_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    fresh = Response::from_parts(parts, body);
    *fresh.status_mut() = status;
    fresh
}

/// `axum::Json` whose rejection is an [`ApiError`] (JSON body, 4xx) instead of axum's plain text.
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` with [`ApiError`] rejections.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` with [`ApiError`] rejections.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

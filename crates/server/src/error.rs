//! The JSON API's error type: every failure a handler or an extractor meets becomes one of these,
//! answered as `{"error": {"code": "...", "message": "..."}}` with a 4xx status (5xx only for a
//! broken catalog file or a server fault, never for bad input).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use musicrec_recommend::RecommendError;
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

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this server needs its token: send `Authorization: Bearer TOKEN` or `?token=TOKEN`",
        )
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
        (self.status, Json(body)).into_response()
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

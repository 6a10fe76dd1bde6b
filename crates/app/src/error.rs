//! The application service's error: what went wrong, in words a user of either front end can act
//! on, and which kind it is, so that the server can answer with the right status (400, 404, 409)
//! and the CLI with one line.

use musicrec_catalog::CatalogError;
use musicrec_recommend::{CfError, RecommendError};
use musicrec_study::ExperimentError;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or contradicts itself (a bad `k`, a metric a method cannot use).
    #[error("{0}")]
    Invalid(String),
    /// A named track, user or model is not in the catalog.
    #[error("{0}")]
    NotFound(String),
    /// The catalog holds nothing to answer from yet (no catalog file, no embedded tracks).
    #[error("{0}")]
    Unavailable(String),
    /// Collaborative filtering has learnt nothing about this listener yet.
    #[error("{0}")]
    ColdStart(String),
    /// A catalog could not be opened (`catalog` names it, without any password).
    #[error("cannot open catalog {catalog}")]
    Open {
        catalog: String,
        #[source]
        source: CatalogError,
    },
    /// The catalog failed while answering.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The ranking refused the request.
    #[error(transparent)]
    Recommend(#[from] RecommendError),
    /// Collaborative filtering or an experiment failed.
    #[error(transparent)]
    Experiment(ExperimentError),
}

impl From<ExperimentError> for AppError {
    /// Catalog and ranking failures keep their own kind, so that they are answered alike
    /// whichever stage met them.
    fn from(err: ExperimentError) -> Self {
        match err {
            ExperimentError::Catalog(e) => AppError::Catalog(e),
            ExperimentError::Recommend(e) => AppError::Recommend(e),
            other => AppError::Experiment(other),
        }
    }
}

impl From<CfError> for AppError {
    /// As the [`ExperimentError`] it is: catalog and ranking failures keep their own kind.
    fn from(err: CfError) -> Self {
        ExperimentError::from(err).into()
    }
}

impl AppError {
    /// The message with its causes, on one line ("cannot open catalog x.db: database error: ...").
    pub fn one_line(&self) -> String {
        let mut line = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            source = cause.source();
        }
        line
    }
}

/// Results of the service.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

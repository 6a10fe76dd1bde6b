//! Shared test helpers: a real catalog of GTZAN clips (copied from ../shared/data into a temp
//! folder and scanned with the frame-statistics embedder, no model needed) and a few HTTP helpers
//! over the in-process application.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use indicatif::ProgressBar;
use musicrec_catalog::{ExperimentStore, NewStudy, ScanOptions, Study, scan};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_server::{Access, AppState};
use musicrec_testkit::data::copy_clips;
use musicrec_testkit::embedder::FrameStatsEmbedder;
use tower::ServiceExt;

pub const MODEL: &str = "frame-stats-v1";

/// A scanned catalog in a temp folder.
pub struct Library {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub music: PathBuf,
}

impl Library {
    /// `per_genre` clips of each of the 10 genres, scanned into `dir/catalog.db`.
    pub fn new(gtzan: &Path, per_genre: usize) -> Self {
        Self::new_with(gtzan, per_genre, |_| {})
    }

    /// As [`Library::new`], with `prepare` run on the music folder before the scan (to add
    /// files or write tags).
    pub fn new_with(gtzan: &Path, per_genre: usize, prepare: impl FnOnce(&Path)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("music");
        copy_clips(gtzan, &music, 0..per_genre);
        prepare(&music);
        let db = dir.path().join("catalog.db");
        let lib = Self { dir, db, music };
        lib.scan();
        lib
    }

    /// Scans the music folder (again) into the catalog.
    pub fn scan(&self) {
        let mut store = SqliteStore::open(&self.db).unwrap();
        let embedder = FrameStatsEmbedder::new(MODEL, Duration::ZERO);
        let options = ScanOptions {
            jobs: 2,
            ..ScanOptions::default()
        };
        scan(
            &mut store,
            std::slice::from_ref(&self.music),
            &embedder,
            &options,
            &ProgressBar::hidden(),
        )
        .unwrap();
    }

    /// The server state over this catalog.
    pub fn state(&self) -> AppState {
        AppState::new(Box::new(SqliteStore::open(&self.db).unwrap()), None).unwrap()
    }

    /// The open application over this catalog.
    pub fn app(&self) -> (AppState, Router) {
        let state = self.state();
        (state.clone(), musicrec_server::app(state, Access::open()))
    }
}

/// Sends `request` to `app`; returns status, headers and body bytes.
pub async fn send(app: &Router, request: Request<Body>) -> (StatusCode, Response<()>, Vec<u8>) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, Response::from_parts(parts, ()), bytes)
}

pub async fn get_json(app: &Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = send(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    (status, parse(&body))
}

pub async fn post_json(app: &Router, uri: &str, body: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, body) = send(app, request).await;
    (status, parse(&body))
}

pub fn parse(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )
    })
}

/// Asserts a JSON error response with a 4xx status and a one-line message.
pub fn assert_client_error(status: StatusCode, body: &serde_json::Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(!message.is_empty() && !message.contains('\n'), "{message}");
    assert!(body["error"]["code"].is_string(), "{body}");
}

/// Track id of the first search hit for `q`.
pub async fn first_id(app: &Router, q: &str) -> i64 {
    let (status, page) = get_json(app, &format!("/api/tracks?q={q}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"][0]["id"].as_i64().unwrap()
}

/// A study comparing both methods, 3 recommendations each and 2 decoys per session.
pub fn new_study(store: &mut SqliteStore, name: &str, simulated: bool) -> Study {
    store
        .create_study(&NewStudy {
            name: name.to_owned(),
            methods: vec!["similarity".to_owned(), "genre".to_owned()],
            k: 3,
            decoys: 2,
            simulated,
        })
        .unwrap()
}

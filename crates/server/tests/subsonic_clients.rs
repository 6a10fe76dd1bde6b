//! The `/rest` calls through real Subsonic client libraries (py-sonic's `libsonic` and
//! `knuckles`, driven by `tests/python/clients.py`), against the server listening on a free
//! loopback port over a catalog of real clips:
//!
//! * standalone: ping, getLicense, getMusicFolders and similar songs work, and every call musicrec
//!   does not implement is a Subsonic error the libraries raise as such (never an HTTP 404);
//! * companion mode over a real Supysonic server (started here over the same clips): browsing and
//!   streaming are the upstream's, through musicrec, and the similar-songs calls take and return
//!   upstream ids that Supysonic's `getSong` resolves.
//!
//! The Python interpreter is `$MUSICREC_SUBSONIC_PYTHON`, a venv with the pinned packages of
//! `.ci/python/subsonic.txt` (`.ci/run` makes it). Without it the tests are skipped with a note,
//! except under `CI=true`, where they fail (`musicrec_testkit::supysonic`, which also starts
//! Supysonic).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use common::{Library, first_id, get_json, post_json};
use musicrec_server::{Access, Upstream, UpstreamConfig};
use musicrec_testkit::data::gtzan_mini;
use musicrec_testkit::supysonic::{
    PASSWORD as SUPYSONIC_PASSWORD, Supysonic, USER as SUPYSONIC_USER, python as subsonic_python,
};
use serde_json::json;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/clients.py")
}

/// Serves `app` on a free loopback port until the test ends.
async fn listen(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(musicrec_server::listen::serve(
        listener,
        app,
        Duration::from_secs(20),
        std::future::pending(),
    ));
    addr
}

/// Runs the client script with `args`; panics with its output unless it printed OK.
async fn run_clients(python: &Path, args: Vec<String>) -> String {
    let python = python.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(script())
            .args(&args)
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "client script failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_libraries_get_envelopes_never_404s() {
    let Some(python) = subsonic_python() else {
        return;
    };
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 1);
    let (_, app) = lib.app();
    let id = first_id(&app, "jazz").await;
    let addr = listen(app).await;
    run_clients(
        &python,
        vec!["standalone".into(), addr.port().to_string(), id.to_string()],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn companion_mode_in_front_of_supysonic() {
    let Some(python) = subsonic_python() else {
        return;
    };
    let Some(gtzan) = gtzan_mini() else { return };
    // The same 20 clips in the catalog and in Supysonic's library.
    let lib = Library::new(&gtzan, 2);
    let supysonic = {
        let (python, music) = (python.clone(), lib.music.clone());
        tokio::task::spawn_blocking(move || Supysonic::start(&python, &music))
            .await
            .unwrap()
    };
    let config = |password: &str| UpstreamConfig {
        url: format!("http://127.0.0.1:{}/", supysonic.port),
        user: SUPYSONIC_USER.into(),
        password: password.into(),
        refresh_every: Duration::from_secs(600),
    };

    // A wrong password: a clear error, nothing mapped.
    let wrong = Upstream::new(config("not-the-password")).unwrap();
    let state = lib.state().with_upstream(wrong.clone());
    let e = wrong.refresh(&state).await.unwrap_err().to_string();
    println!("wrong password: {e}");
    assert!(
        e.contains("refused search3")
            && e.contains("Wrong username or password")
            && e.contains("40"),
        "{e}"
    );

    let upstream = Upstream::new(config(SUPYSONIC_PASSWORD)).unwrap();
    let state = lib.state().with_upstream(upstream.clone());
    let started = Instant::now();
    upstream.refresh(&state).await.unwrap();
    let app = musicrec_server::app(state, Access::open());
    let (status, report) = get_json(&app, "/api/upstream").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    println!(
        "read and matched in {:?}: {}",
        started.elapsed(),
        serde_json::to_string(&report).unwrap()
    );
    assert_eq!(report["upstream_songs"], 20, "{report}");
    assert_eq!(report["matched"], 20, "{report}");
    assert_eq!(report["matched_by_path"], 20, "{report}");
    assert_eq!(report["unmatched_count"], 0, "{report}");
    assert_eq!(report["auth"], "password", "Supysonic has no token auth");

    // The matching is kept in the catalog: after a restart it is served before (and without)
    // reading the library again, the same upstream song for every catalog track.
    let restarted = Upstream::new(config(SUPYSONIC_PASSWORD)).unwrap();
    assert_eq!(restarted.load_stored(&lib.state()).await.unwrap(), 20);
    let (read, kept) = (upstream.mapping(), restarted.mapping());
    assert_eq!(kept.matched(), 20);
    let index = lib.state().index().unwrap();
    for track in &index.set.tracks {
        let id = track.id.0;
        assert_eq!(
            read.child_of(id).map(|c| c["id"].clone()),
            kept.child_of(id).map(|c| c["id"].clone()),
            "track {id}"
        );
        let upstream_id = kept.child_of(id).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(kept.catalog_id(&upstream_id), Some(id));
    }

    let addr = listen(app.clone()).await;
    run_clients(
        &python,
        vec![
            "companion".into(),
            addr.port().to_string(),
            SUPYSONIC_USER.into(),
            SUPYSONIC_PASSWORD.into(),
            supysonic.port.to_string(),
        ],
    )
    .await;

    // XML (the default format): the upstream's Child fields as attributes, its ids.
    let mapping = upstream.mapping();
    let seed = first_id(&app, "blues").await;
    let seed = mapping.child_of(seed).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, xml) = common::send(
        &app,
        axum::http::Request::get(format!(
            "/rest/getSimilarSongs2.view?u={SUPYSONIC_USER}&p={SUPYSONIC_PASSWORD}&v=1.16.1&c=t&id={seed}&count=3"
        ))
        .body(axum::body::Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let xml = String::from_utf8(xml).unwrap();
    assert_eq!(xml.matches("<song ").count(), 3, "{xml}");
    assert!(
        xml.contains(r#"status="ok""#) && xml.contains("path=\""),
        "{xml}"
    );
    assert!(!xml.contains(&format!(r#"id="{seed}""#)), "{xml}");

    // A playlist of catalog tracks on the upstream: created, then replaced under the same name.
    let (_, page) = get_json(&app, "/api/tracks?q=&per_page=5").await;
    let tracks: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let auth = format!("f=json&u={SUPYSONIC_USER}&p={SUPYSONIC_PASSWORD}&v=1.16.1&c=t");
    let mut ids = Vec::new();
    for (n, replaced) in [(4, false), (2, true)] {
        let (status, out) = post_json(
            &app,
            "/api/upstream/playlist",
            &json!({"name": "musicrec mix", "tracks": &tracks[..n]}).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["replaced"], replaced, "{out}");
        assert_eq!(out["songs"], n);
        ids.push(out["playlist_id"].as_str().unwrap().to_owned());
        // Through musicrec's proxy, as a player sees it.
        let (_, list) = get_json(
            &app,
            &format!("/rest/getPlaylist?{auth}&id={}", ids.last().unwrap()),
        )
        .await;
        let list = &list["subsonic-response"]["playlist"];
        assert_eq!(list["name"], "musicrec mix", "{list}");
        assert_eq!(list["entry"].as_array().unwrap().len(), n, "{list}");
    }
    assert_eq!(ids[0], ids[1], "replaced, not a second playlist");
    let (status, out) = post_json(
        &app,
        "/api/upstream/playlist",
        r#"{"name": "x", "tracks": [999999]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");

    // Nothing but a call name is forwarded.
    for path in ["/rest/..%2Fapi", "/rest/a%2F..%2F..%2Fx", "/rest/ping%3Fx"] {
        let (status, out) = get_json(&app, &format!("{path}?f=json&u=x&p=y")).await;
        assert_eq!(status, StatusCode::OK, "{path}: {out}");
        assert_eq!(
            out["subsonic-response"]["error"]["code"], 0,
            "{path}: {out}"
        );
    }

    // The upstream gone: forwarded calls and musicrec's own answer with a Subsonic error that
    // says so; the server goes on.
    drop(supysonic);
    for call in ["getArtists", "getSimilarSongs2"] {
        let (status, out) = get_json(
            &app,
            &format!("/rest/{call}?f=json&u={SUPYSONIC_USER}&p=x&v=1.16.1&c=t&id=1"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let env = &out["subsonic-response"];
        assert_eq!(env["status"], "failed", "{out}");
        let message = env["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("cannot reach the upstream server"),
            "{message}"
        );
    }
    let e = upstream
        .refresh(&lib.state())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot reach"), "{e}");
}

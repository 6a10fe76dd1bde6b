//! The JSON API over a real catalog (GTZAN clips scanned with a frame-statistics embedder):
//! search, tracks, recommendations of every method (similarity, genre, cf, hybrid), feedback,
//! range requests, bad requests (also over a real socket: oversize Content-Length, wrong method,
//! timeout), tokens, the map, reloads, the listening-experiment endpoints and the OpenAPI
//! document.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Library, assert_client_error, first_id, get_json, post_json, send};
use musicrec_catalog::{CatalogStore, ExperimentStore, Rating, SessionItem, TrackId};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_recommend::cf::CfParams;
use musicrec_recommend::index_from_embedding_set;
use musicrec_server::{Access, AccessError, CfCache, Limits, WorkLimits};
use musicrec_study::experiment::participant_shuffle_seed;
use musicrec_study::plan_session;
use musicrec_testkit::data::{copy_clips, gtzan_mini, shared_data_with};
use serde_json::{Value, json};

#[tokio::test]
async fn health_stats_search_and_track_lookup() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 2);
    let (_, app) = lib.app();

    let (status, health) = get_json(&app, "/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["indexed_tracks"], 20);
    assert_eq!(health["model"], common::MODEL);

    let (_, stats) = get_json(&app, "/api/stats").await;
    assert_eq!(stats["tracks"], 20);
    assert_eq!(stats["model"]["genres"].as_array().unwrap().len(), 10);
    let per_genre: u64 = stats["genres"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["tracks"].as_u64().unwrap())
        .sum();
    assert_eq!(per_genre, 20);

    let (status, page) = get_json(&app, "/api/tracks?q=jazz&per_page=10").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 2);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["jazz.00000.wav", "jazz.00001.wav"]);
    assert_eq!(page["items"][0]["embedded"], true);

    let (_, all) = get_json(&app, "/api/tracks?per_page=7&page=3").await;
    assert_eq!(all["total"], 20);
    assert_eq!(all["items"].as_array().unwrap().len(), 6);

    let id = first_id(&app, "metal").await;
    let (status, track) = get_json(&app, &format!("/api/tracks/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(track["id"], id);
    let probs = track["genre_probabilities"].as_array().unwrap();
    assert_eq!(probs.len(), 10);
    let total: f64 = probs
        .iter()
        .map(|p| p["probability"].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-4, "{total}");
    assert!(track["duration_secs"].as_f64().unwrap() > 10.0);

    let (status, body) = get_json(&app, "/api/tracks/999999").await;
    assert_client_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = get_json(&app, "/api/tracks/abc").await;
    assert_client_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = get_json(&app, "/api/tracks?page=0").await;
    assert_client_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = get_json(&app, "/api/tracks?per_page=5000").await;
    assert_client_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = get_json(&app, "/api/nothing-here").await;
    assert_client_error(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn both_methods_recommend_ranked_tracks_without_the_seeds() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 2);
    let (_, app) = lib.app();
    let seeds = [
        first_id(&app, "classical").await,
        first_id(&app, "blues").await,
    ];
    for method in ["similarity", "genre"] {
        for metric in ["cosine", "euclidean", "pnorm:1"] {
            let body = format!(
                r#"{{"seeds":[{},{}],"k":6,"method":"{method}","metric":"{metric}"}}"#,
                seeds[0], seeds[1]
            );
            let (status, out) = post_json(&app, "/api/recommend", &body).await;
            assert_eq!(status, StatusCode::OK, "{out}");
            assert_eq!(out["method"], method);
            let tracks = out["tracks"].as_array().unwrap();
            assert_eq!(tracks.len(), 6);
            let scores: Vec<f64> = tracks
                .iter()
                .map(|t| t["score"].as_f64().unwrap())
                .collect();
            assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
            for t in tracks {
                assert!(!seeds.contains(&t["id"].as_i64().unwrap()));
                assert!(t["genre"].is_string());
            }
            assert_eq!(out["seeds"].as_array().unwrap().len(), 2);
        }
    }
    // Asking for more than the catalog holds returns all the others, flagged.
    let body = format!(r#"{{"seeds":[{}],"k":100}}"#, seeds[0]);
    let (_, out) = post_json(&app, "/api/recommend", &body).await;
    assert_eq!(out["tracks"].as_array().unwrap().len(), 19);
    assert_eq!(out["fewer_than_requested"], true);
}

#[tokio::test]
async fn bad_requests_get_json_4xx_errors() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 1);
    let (_, app) = lib.app();
    let id = first_id(&app, "rock").await;
    let others: Vec<i64> = {
        let (_, page) = get_json(&app, "/api/tracks?per_page=6").await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    let six = serde_json::to_string(&others).unwrap();
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            "{\"seeds\": [".into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("not json".into(), StatusCode::BAD_REQUEST, "bad_request"),
        ("{}".into(), StatusCode::BAD_REQUEST, "bad_request"),
        (
            r#"{"seeds":[999999]}"#.into(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            format!(r#"{{"seeds":[{id}],"k":0}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"k":-3}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"k":101}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":{six}}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            r#"{"seeds":[]}"#.into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"method":"magic"}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        // cf and hybrid rank for a listener, by cosine, with a weight in [0, 1] for hybrid only.
        (
            format!(r#"{{"seeds":[{id}],"method":"cf"}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"method":"hybrid"}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"method":"hybrid","user":"ana","metric":"euclidean"}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"method":"hybrid","user":"ana","hybrid_weight":1.5}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"user":"ana","hybrid_weight":0.3}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            r#"{"method":"hybrid","user":"nobody-yet"}"#.into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"method":"cf","user":"nobody-yet"}}"#),
            StatusCode::CONFLICT,
            "cold_start",
        ),
        (
            format!(r#"{{"seeds":[{id}],"metric":"manhattan"}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"metric":"pnorm:0"}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"metric":"pnorm:nan"}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"user":"  "}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"colour":"red"}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"seeds":[{id}],"max_per_artist":0}}"#),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for (body, expected, code) in &cases {
        let (status, out) = post_json(&app, "/api/recommend", body).await;
        assert_client_error(status, &out, *expected);
        assert_eq!(out["error"]["code"], *code, "{body} -> {out}");
    }
    let (_, out) = post_json(
        &app,
        "/api/recommend",
        &format!(r#"{{"seeds":[{id}],"method":"cf"}}"#),
    )
    .await;
    assert!(
        out["error"]["message"].as_str().unwrap().contains("`user`"),
        "{out}"
    );

    // Wrong content type, oversized body, wrong HTTP method.
    let request = Request::post("/api/recommend")
        .header("content-type", "text/plain")
        .body(Body::from(format!(r#"{{"seeds":[{id}]}}"#)))
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_client_error(
        status,
        &common::parse(&body),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );
    let huge = format!(r#"{{"seeds":[{id}],"user":"{}"}}"#, "x".repeat(200_000));
    let (status, out) = post_json(&app, "/api/recommend", &huge).await;
    assert_client_error(status, &out, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(out["error"]["code"], "payload_too_large");
    // A declared Content-Length over the limit is refused before the body is read (by the body
    // limit layer, whose plain-text answer becomes the JSON error).
    let request = Request::post("/api/recommend")
        .header("content-type", "application/json")
        .header("content-length", "10000000")
        .body(Body::from(format!(r#"{{"seeds":[{id}]}}"#)))
        .unwrap();
    let (status, head, body) = send(&app, request).await;
    let out = common::parse(&body);
    assert_client_error(status, &out, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(out["error"]["code"], "payload_too_large", "{out}");
    assert_eq!(head.headers()["content-type"], "application/json");
    let (status, head, body) = send(
        &app,
        Request::get("/api/recommend").body(Body::empty()).unwrap(),
    )
    .await;
    let out = common::parse(&body);
    assert_client_error(status, &out, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(out["error"]["code"], "method_not_allowed", "{out}");
    assert!(
        head.headers()["allow"].to_str().unwrap().contains("POST"),
        "{:?}",
        head.headers()
    );

    // Feedback: malformed, unknown track, empty user.
    for (body, expected) in [
        ("{\"user\":", StatusCode::BAD_REQUEST),
        (
            r#"{"user":"ana","track":999999,"like":true}"#,
            StatusCode::NOT_FOUND,
        ),
        (
            r#"{"user":"","track":1,"like":true}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"user":"ana","track":1,"like":"yes"}"#,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, out) = post_json(&app, "/api/feedback", body).await;
        assert_client_error(status, &out, expected);
    }
}

#[tokio::test]
async fn a_users_dislikes_never_come_back_and_likes_move_the_list() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 3);
    let (_, app) = lib.app();
    let seed = first_id(&app, "disco").await;
    let ask = |user: &str| format!(r#"{{"seeds":[{seed}],"k":8,"user":"{user}"}}"#);
    let ids = |out: &serde_json::Value| -> Vec<i64> {
        out["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };

    let (_, before) = post_json(&app, "/api/recommend", &ask("ana")).await;
    assert_eq!(before["feedback"]["liked"], 0);
    let before = ids(&before);
    let (disliked, liked) = (before[0], before[3]);
    let (status, rec) = post_json(
        &app,
        "/api/feedback",
        &format!(r#"{{"user":"ana","track":{disliked},"like":false}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    assert_eq!(rec["rating"], "dislike");
    let (_, _) = post_json(
        &app,
        "/api/feedback",
        &format!(r#"{{"user":"ana","track":{liked},"like":true}}"#),
    )
    .await;

    let (_, after) = post_json(&app, "/api/recommend", &ask("ana")).await;
    assert_eq!(after["feedback"]["liked"], 1);
    assert_eq!(after["feedback"]["disliked"], 1);
    let after = ids(&after);
    assert!(
        !after.contains(&disliked) && !after.contains(&liked),
        "{after:?}"
    );
    assert_ne!(before, after);

    // Another user's recommendations are not affected.
    let (_, other) = post_json(&app, "/api/recommend", &ask("ben")).await;
    assert_eq!(ids(&other), before);
}

#[tokio::test]
async fn audio_is_served_by_id_with_range_requests() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 1);
    let (_, app) = lib.app();
    let id = first_id(&app, "reggae").await;
    let file = std::fs::read(lib.music.join("reggae/reggae.00000.wav")).unwrap();

    let request = Request::get(format!("/api/tracks/{id}/audio"))
        .header("range", "bytes=100-1099")
        .body(Body::empty())
        .unwrap();
    let (status, head, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        head.headers()["content-range"],
        format!("bytes 100-1099/{}", file.len()).as_str()
    );
    assert_eq!(body, file[100..1100]);
    assert!(
        head.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("audio/")
    );

    let request = Request::get(format!("/api/tracks/{id}/audio"))
        .header("range", format!("bytes={}-", file.len() - 10))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, file[file.len() - 10..]);

    let (status, head, body) = send(
        &app,
        Request::get(format!("/api/tracks/{id}/audio"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(head.headers()["accept-ranges"], "bytes");
    assert_eq!(body, file);

    let request = Request::get(format!("/api/tracks/{id}/audio"))
        .header("range", format!("bytes={}-", file.len() + 10))
        .body(Body::empty())
        .unwrap();
    let (status, head, body) = send(&app, request).await;
    let out = common::parse(&body);
    assert_client_error(status, &out, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(out["error"]["code"], "range_not_satisfiable");
    // The size of the file is still told, as RFC 9110 asks.
    assert_eq!(
        head.headers()["content-range"],
        format!("bytes */{}", file.len()).as_str()
    );

    let (status, body) = get_json(&app, "/api/tracks/424242/audio").await;
    assert_client_error(status, &body, StatusCode::NOT_FOUND);
    // A path in the request is never a file name: it is just not a route.
    let (status, _, _) = send(
        &app,
        Request::get("/api/tracks/..%2F..%2Fetc%2Fpasswd/audio")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A file deleted after the scan is a 404, not a 500.
    std::fs::remove_file(lib.music.join("reggae/reggae.00000.wav")).unwrap();
    let (status, body) = get_json(&app, &format!("/api/tracks/{id}/audio")).await;
    assert_client_error(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn with_a_token_every_api_call_must_carry_it() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 1);
    const TOKEN: &str = "s3cret-s3cret-s3cret";
    let app = musicrec_server::app(lib.state(), Access::with_token(TOKEN).unwrap());

    let (status, body) = get_json(&app, "/api/health").await;
    assert_client_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = get_json(&app, "/api/health?token=wrong").await;
    assert_client_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, _) = get_json(&app, &format!("/api/health?token={TOKEN}")).await;
    assert_eq!(status, StatusCode::OK);
    // The scheme is case-insensitive (RFC 9110); the token itself is not.
    for (value, expected) in [
        (format!("Bearer {TOKEN}"), StatusCode::OK),
        (format!("bearer {TOKEN}"), StatusCode::OK),
        (format!("BEARER  {TOKEN}"), StatusCode::OK),
        (
            format!("Bearer {}", TOKEN.to_uppercase()),
            StatusCode::UNAUTHORIZED,
        ),
        (format!("Basic {TOKEN}"), StatusCode::UNAUTHORIZED),
    ] {
        let request = Request::get("/api/stats")
            .header("authorization", &value)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, request).await.0, expected, "{value}");
    }
    let (status, body) = post_json(&app, "/api/recommend", "{}").await;
    assert_client_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, _, page) = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8(page)
            .unwrap()
            .contains("<title>musicrec</title>")
    );

    // Subsonic: no token, the token as p=, enc:hex, t=md5(token+salt), apiKey.
    let ping = |query: &str| format!("/rest/ping.view?f=json&u=me&v=1.16.1&c=test{query}");
    let (_, out) = get_json(&app, &ping("")).await;
    assert_eq!(out["subsonic-response"]["status"], "failed");
    assert_eq!(out["subsonic-response"]["error"]["code"], 40);
    let salt = "c19b2d";
    let t = {
        use md5::{Digest, Md5};
        hex::encode(Md5::digest(format!("{TOKEN}{salt}").as_bytes()))
    };
    for query in [
        format!("&p={TOKEN}"),
        format!("&p=enc:{}", hex::encode(TOKEN)),
        format!("&t={t}&s={salt}"),
        format!("&apiKey={TOKEN}"),
    ] {
        let (_, out) = get_json(&app, &ping(&query)).await;
        assert_eq!(out["subsonic-response"]["status"], "ok", "{query}: {out}");
    }
    let (_, out) = get_json(&app, &ping(&format!("&t={t}&s=other"))).await;
    assert_eq!(out["subsonic-response"]["status"], "failed");
    // The extension list is open to all, as OpenSubsonic requires.
    let (_, out) = get_json(&app, "/rest/getOpenSubsonicExtensions?f=json").await;
    assert_eq!(out["subsonic-response"]["status"], "ok");

    // Binding beyond loopback needs a token.
    let public = "0.0.0.0:8080".parse().unwrap();
    assert_eq!(
        Access::for_bind(public, None).unwrap_err(),
        AccessError::TokenRequired(public)
    );
    assert!(
        Access::for_bind(public, Some(TOKEN.into()))
            .unwrap()
            .requires_token()
    );
    // A short token is refused at start, saying how to make a good one.
    let short = Access::for_bind(public, Some("t0k".into())).unwrap_err();
    assert_eq!(short, AccessError::ShortToken(3));
    assert!(short.to_string().contains("--new-token"), "{short}");
    assert!(
        !Access::for_bind("127.0.0.1:8080".parse().unwrap(), None)
            .unwrap()
            .requires_token()
    );
    assert!(
        !Access::for_bind("[::1]:8080".parse().unwrap(), None)
            .unwrap()
            .requires_token()
    );
    assert_eq!(
        Access::with_token("a b").unwrap_err(),
        AccessError::BadToken
    );
}

#[tokio::test]
async fn map_reload_and_openapi_document() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 1);
    let (state, app) = lib.app();

    let (status, map) = get_json(&app, "/api/map").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(map["projection"], "pca");
    assert_eq!(map["points"].as_array().unwrap().len(), 10);
    assert_eq!(map["genres"].as_array().unwrap().len(), 10);
    let ratio = map["explained_variance_ratio"].as_array().unwrap();
    let (r0, r1) = (ratio[0].as_f64().unwrap(), ratio[1].as_f64().unwrap());
    assert!(r0 >= r1 && r1 > 0.0 && r0 + r1 <= 1.0 + 1e-6, "{ratio:?}");

    // New clips scanned into the catalog appear after a reload (explicit, or the periodic check).
    copy_clips(&gtzan, &lib.music, 1..2);
    lib.scan();
    assert!(state.reload_if_changed().await.unwrap());
    assert!(!state.reload_if_changed().await.unwrap());
    let (_, health) = get_json(&app, "/api/health").await;
    assert_eq!(health["indexed_tracks"], 20);
    let (status, reloaded) = post_json(&app, "/api/reload", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reloaded["indexed_tracks"], 20);

    let (status, doc) = get_json(&app, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/experiments",
            "/api/experiments/{study}/sessions",
            "/api/feedback",
            "/api/health",
            "/api/map",
            "/api/recommend",
            "/api/reload",
            "/api/sessions/{id}",
            "/api/sessions/{id}/responses",
            "/api/stats",
            "/api/tracks",
            "/api/tracks/{id}",
            "/api/tracks/{id}/audio",
            "/api/upstream",
            "/api/upstream/playlist",
            "/rest/{call}",
        ]
    );
    assert!(doc["paths"]["/api/experiments"]["get"].is_object());
    assert!(doc["paths"]["/api/experiments/{study}/sessions"]["post"].is_object());
    assert!(doc["paths"]["/api/sessions/{id}"]["get"].is_object());
    assert!(doc["paths"]["/api/sessions/{id}/responses"]["post"].is_object());
    for schema in [
        "SessionOut",
        "NewSessionBody",
        "ResponseBody",
        "StudyList",
        "CfUsed",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    // The participant-facing item schema has no field that could tell an item's origin.
    let item = serde_json::to_string(&doc["components"]["schemas"]["BlindItem"]).unwrap();
    assert!(item.contains("\"position\""), "{item}");
    for word in ["origin", "score", "genre", "decoy"] {
        assert!(!item.contains(word), "{word} in {item}");
    }
    assert!(doc["paths"]["/api/recommend"]["post"].is_object());
    for method in ["get", "post", "delete"] {
        assert!(
            doc["paths"]["/api/feedback"][method].is_object(),
            "{method}"
        );
    }
    assert!(doc["paths"]["/rest/{call}"]["get"].is_object());
    assert!(doc["paths"]["/rest/{call}"]["post"].is_object());
    assert!(doc["components"]["schemas"]["RecommendBody"].is_object());
}

#[tokio::test]
async fn an_empty_catalog_serves_and_says_why_it_cannot_recommend() {
    let dir = tempfile::tempdir().unwrap();
    let store = musicrec_catalog_sqlite::SqliteStore::open(dir.path().join("empty.db")).unwrap();
    let state = musicrec_server::AppState::new(Box::new(store), None).unwrap();
    let app = musicrec_server::app(state, Access::open());
    let (status, health) = get_json(&app, "/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["indexed_tracks"], 0);
    let (status, body) = post_json(&app, "/api/recommend", r#"{"seeds":[1]}"#).await;
    assert_client_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = get_json(&app, "/api/map").await;
    assert_client_error(status, &body, StatusCode::CONFLICT);
    let (status, page) = get_json(&app, "/api/tracks").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 0);
    let (status, studies) = get_json(&app, "/api/experiments").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(studies["available"], true);
    assert_eq!(studies["studies"], serde_json::json!([]));
    // With a study but nothing embedded, a session cannot be planned: 409, and none is stored.
    let mut store =
        musicrec_catalog_sqlite::SqliteStore::open(dir.path().join("empty.db")).unwrap();
    let study = common::new_study(&mut store, "early", false);
    let (status, body) = post_json(
        &app,
        &format!("/api/experiments/{}/sessions", study.id),
        r#"{"participant":"p1","seeds":[1]}"#,
    )
    .await;
    assert_client_error(status, &body, StatusCode::CONFLICT);
    assert!(store.sessions(study.id).unwrap().is_empty());
}

fn ids_of(out: &Value, key: &str) -> Vec<i64> {
    out[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {out}"))
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// Ids of the first `n` tracks of a genre (GTZAN file names start with it).
async fn genre_ids(app: &axum::Router, genre: &str, n: usize) -> Vec<i64> {
    let (status, page) = get_json(app, &format!("/api/tracks?q={genre}.&per_page=50")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids = ids_of(&page, "items");
    assert!(ids.len() >= n, "{page}");
    ids[..n].to_vec()
}

#[tokio::test]
async fn experiment_sessions_are_blind_shuffled_and_keep_every_answer() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 2);
    let mut store = SqliteStore::open(&lib.db).unwrap();
    let study = common::new_study(&mut store, "blind", false);
    let virtual_study = common::new_study(&mut store, "virtual", true);
    let (_, app) = lib.app();

    // The studies, simulated ones flagged.
    let (status, list) = get_json(&app, "/api/experiments").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["available"], true);
    let studies: Vec<(i64, &str, bool)> = list["studies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap(),
                s["simulated"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        studies,
        [
            (study.id.0, "blind", false),
            (virtual_study.id.0, "virtual", true)
        ]
    );
    assert_eq!(
        list["studies"][0]["methods"],
        json!(["similarity", "genre"])
    );
    assert_eq!(list["studies"][0]["k"], 3);

    // A session from two seeds (one given twice, the name padded).
    let seeds = [first_id(&app, "jazz").await, first_id(&app, "metal").await];
    let sessions_uri = format!("/api/experiments/{}/sessions", study.id);
    let (status, session) = post_json(
        &app,
        &sessions_uri,
        &format!(
            r#"{{"participant":" p01 ","seeds":[{},{},{}]}}"#,
            seeds[0], seeds[1], seeds[0]
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    assert_eq!(session["participant"], "p01");
    assert_eq!(session["study"], "blind");
    assert_eq!(session["study_id"], study.id.0);
    assert_eq!(
        (session["round"].clone(), session["rated"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(session["complete"], false);
    assert_eq!(ids_of(&session, "seeds"), seeds);
    let id = session["id"].as_i64().unwrap();
    let items = ids_of(&session, "items");
    let positions: Vec<u64> = session["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, (1..=items.len() as u64).collect::<Vec<_>>());
    assert!(items.iter().all(|t| !seeds.contains(t)), "{items:?}");
    // Nothing in the answer tells where an item came from (nor its genre or score, which would).
    let text = session.to_string();
    for word in ["origin", "decoy", "similarity", "genre", "score", "/music/"] {
        assert!(!text.contains(word), "{word:?} in {text}");
    }

    // The stored session has the hidden origins; its list is the one `musicrec experiment
    // session` makes (plan_session with the participant's shuffle seed), in the order shown.
    let stored = store.session_of(study.id, "p01").unwrap().unwrap();
    assert_eq!(stored.id.0, id);
    assert_eq!(
        stored.items.iter().map(|i| i.track.0).collect::<Vec<_>>(),
        items
    );
    let set = store.load_embeddings(common::MODEL).unwrap();
    let index = index_from_embedding_set(&set).unwrap();
    let seed_ids = [TrackId(seeds[0]), TrackId(seeds[1])];
    let planned = plan_session(
        &study,
        &set,
        &index,
        &seed_ids,
        participant_shuffle_seed("blind", "p01"),
    )
    .unwrap();
    assert_eq!(planned, stored.items);
    assert_eq!(stored.items.iter().filter(|i| i.is_decoy()).count(), 2);
    for method in ["similarity", "genre"] {
        assert!(
            stored
                .items
                .iter()
                .any(|i| i.origins.iter().any(|o| o == method)),
            "{method}"
        );
    }
    // Another participant with the same seeds gets the same recommendations in another order.
    let (status, other) = post_json(
        &app,
        &sessions_uri,
        &format!(
            r#"{{"participant":"p02","seeds":[{},{}]}}"#,
            seeds[0], seeds[1]
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let other_stored = store.session_of(study.id, "p02").unwrap().unwrap();
    let recommended = |items: &[SessionItem]| -> Vec<i64> {
        items
            .iter()
            .filter(|i| !i.is_decoy())
            .map(|i| i.track.0)
            .collect()
    };
    let (mut mine, mut theirs) = (recommended(&stored.items), recommended(&other_stored.items));
    assert_ne!(mine, theirs, "same order for both participants");
    mine.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(mine, theirs);

    // The session as the page reloads it.
    let session_uri = format!("/api/sessions/{id}");
    let (status, got) = get_json(&app, &session_uri).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["items"], session["items"]);
    assert_eq!(got["seeds"], session["seeds"]);

    // Answers: like, dislike, like, ... in round 1 (the default); progress counts up.
    let responses_uri = format!("/api/sessions/{id}/responses");
    for (i, &track) in items.iter().enumerate() {
        let like = i % 2 == 0;
        let (status, rec) = post_json(
            &app,
            &responses_uri,
            &format!(r#"{{"track":{track},"like":{like}}}"#),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{rec}");
        assert_eq!(rec["round"], 1);
        assert_eq!(rec["rating"], if like { "like" } else { "dislike" });
        assert_eq!(rec["rated"], i + 1);
        assert_eq!(rec["items"], items.len());
        assert_eq!(rec["complete"], i + 1 == items.len());
    }
    // A change of mind in round 1, and a follow-up round 2 for one item.
    let (status, rec) = post_json(
        &app,
        &responses_uri,
        &format!(r#"{{"track":{},"like":true}}"#, items[1]),
    )
    .await;
    assert_eq!(
        (status, rec["rated"].clone()),
        (StatusCode::OK, json!(items.len()))
    );
    let (status, rec) = post_json(
        &app,
        &responses_uri,
        &format!(r#"{{"track":{},"like":false,"round":2}}"#, items[0]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    assert_eq!(
        (rec["rated"].clone(), rec["complete"].clone()),
        (json!(1), json!(false))
    );

    let (_, round1) = get_json(&app, &session_uri).await;
    assert_eq!(round1["complete"], true);
    let shown: Vec<&str> = round1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["rating"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = (0..items.len())
        .map(|i| {
            if i % 2 == 0 || i == 1 {
                "like"
            } else {
                "dislike"
            }
        })
        .collect();
    assert_eq!(shown, expected);
    let (_, round2) = get_json(&app, &format!("{session_uri}?round=2")).await;
    assert_eq!(round2["round"], 2);
    assert_eq!(round2["rated"], 1);
    assert_eq!(round2["items"][0]["rating"], "dislike");
    assert!(round2["items"][1].get("rating").is_none(), "{round2}");

    // The store holds the latest answer per item and round.
    let latest: BTreeMap<(u32, i64), Rating> = store
        .responses(study.id)
        .unwrap()
        .into_iter()
        .filter(|r| r.session.0 == id)
        .map(|r| ((r.round, r.track.0), r.rating))
        .collect();
    let mut wanted: BTreeMap<(u32, i64), Rating> = items
        .iter()
        .zip(&expected)
        .map(|(&t, &r)| {
            (
                (1, t),
                if r == "like" {
                    Rating::Like
                } else {
                    Rating::Dislike
                },
            )
        })
        .collect();
    wanted.insert((2, items[0]), Rating::Dislike);
    assert_eq!(latest, wanted);

    // A session made by a virtual listener takes no real answers.
    let decoy_row = set.row_of(TrackId(items[0])).unwrap();
    let virtual_session = store
        .create_session(
            virtual_study.id,
            "v1",
            &[TrackId(seeds[0])],
            &[SessionItem {
                track: TrackId(items[0]),
                path: set.tracks[decoy_row].path.clone(),
                origins: vec![musicrec_catalog::DECOY_ORIGIN.to_owned()],
            }],
            true,
        )
        .unwrap();

    // Bad requests: JSON 4xx, and nothing recorded before is lost or changed.
    let snapshot = |store: &SqliteStore| {
        let mut all = Vec::new();
        for s in [study.id, virtual_study.id] {
            all.push((store.sessions(s).unwrap(), store.responses(s).unwrap()));
        }
        all
    };
    let before = snapshot(&store);
    let six: Vec<i64> = ids_of(&get_json(&app, "/api/tracks?per_page=6").await.1, "items");
    let long_name = "x".repeat(65);
    let virtual_uri = format!("/api/experiments/{}/sessions", virtual_study.id);
    let one_seed = format!(r#"{{"participant":"p09","seeds":[{}]}}"#, seeds[0]);
    let cases: Vec<(String, String, StatusCode, &str)> = vec![
        (
            sessions_uri.clone(),
            format!(r#"{{"participant":"p01","seeds":[{}]}}"#, seeds[1]),
            StatusCode::CONFLICT,
            "session_exists",
        ),
        (
            sessions_uri.clone(),
            format!(r#"{{"participant":"  p01\t","seeds":[{}]}}"#, seeds[1]),
            StatusCode::CONFLICT,
            "session_exists",
        ),
        (
            "/api/experiments/999999/sessions".into(),
            one_seed.clone(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/experiments/blind/sessions".into(),
            one_seed.clone(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            virtual_uri,
            one_seed.clone(),
            StatusCode::CONFLICT,
            "study_simulated",
        ),
        (
            sessions_uri.clone(),
            format!(r#"{{"participant":" ","seeds":[{}]}}"#, seeds[0]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            sessions_uri.clone(),
            format!(r#"{{"participant":"{long_name}","seeds":[{}]}}"#, seeds[0]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            sessions_uri.clone(),
            r#"{"participant":"p09","seeds":[]}"#.into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            sessions_uri.clone(),
            format!(r#"{{"participant":"p09","seeds":{}}}"#, json!(six)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            sessions_uri.clone(),
            r#"{"participant":"p09","seeds":[999999]}"#.into(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            sessions_uri.clone(),
            format!(r#"{{"participant":"p09","seeds":[{}],"k":9}}"#, seeds[0]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            sessions_uri.clone(),
            r#"{"participant":"p09","seeds":["#.into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            responses_uri.clone(),
            format!(r#"{{"track":{},"like":true}}"#, seeds[0]),
            StatusCode::BAD_REQUEST,
            "not_in_session",
        ),
        (
            responses_uri.clone(),
            r#"{"track":999999,"like":true}"#.into(),
            StatusCode::BAD_REQUEST,
            "not_in_session",
        ),
        (
            responses_uri.clone(),
            format!(r#"{{"track":{},"like":true,"round":0}}"#, items[0]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            responses_uri.clone(),
            format!(r#"{{"track":{},"like":true,"round":-1}}"#, items[0]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            responses_uri.clone(),
            format!(r#"{{"track":{},"like":"yes"}}"#, items[0]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            responses_uri.clone(),
            r#"{"like":true}"#.into(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/sessions/999999/responses".into(),
            format!(r#"{{"track":{},"like":true}}"#, items[0]),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            format!("/api/sessions/{}/responses", virtual_session.id),
            format!(r#"{{"track":{},"like":true}}"#, items[0]),
            StatusCode::CONFLICT,
            "study_simulated",
        ),
    ];
    for (uri, body, expected, code) in &cases {
        let (status, out) = post_json(&app, uri, body).await;
        assert_client_error(status, &out, *expected);
        assert_eq!(out["error"]["code"], *code, "{uri} {body} -> {out}");
    }
    for (uri, expected) in [
        ("/api/sessions/999999".to_string(), StatusCode::NOT_FOUND),
        (format!("{session_uri}?round=0"), StatusCode::BAD_REQUEST),
        (format!("{session_uri}?round=x"), StatusCode::BAD_REQUEST),
        ("/api/sessions/first".to_string(), StatusCode::BAD_REQUEST),
    ] {
        let (status, out) = get_json(&app, &uri).await;
        assert_client_error(status, &out, expected);
    }
    assert_eq!(snapshot(&store), before);
}

#[tokio::test]
async fn cf_and_hybrid_rank_for_a_listener_and_refit_when_feedback_changes() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 3);
    let (state, app) = lib.app();
    let blues = genre_ids(&app, "blues", 3).await;
    let classical = genre_ids(&app, "classical", 3).await;
    let metal = genre_ids(&app, "metal", 3).await;
    let rock = genre_ids(&app, "rock", 3).await;
    let jazz = genre_ids(&app, "jazz", 1).await[0];
    let rate = |user: &'static str, track: i64, like: bool| {
        let app = app.clone();
        async move {
            let (status, out) = post_json(
                &app,
                "/api/feedback",
                &format!(r#"{{"user":"{user}","track":{track},"like":{like}}}"#),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{out}");
        }
    };
    // Two listeners who like blues and classical, two who like metal and rock.
    for (user, tracks) in [
        ("ann", vec![blues[0], blues[1], blues[2], classical[0]]),
        ("bob", vec![blues[0], blues[1], classical[0], classical[1]]),
        ("cat", vec![metal[0], metal[1], metal[2], rock[0]]),
        ("dan", vec![metal[0], rock[0], rock[1]]),
    ] {
        for track in tracks {
            rate(user, track, true).await;
        }
    }
    // ana likes what ann and bob like, and dislikes some metal.
    rate("ana", blues[0], true).await;
    rate("ana", classical[0], true).await;
    rate("ana", metal[0], false).await;
    let liked_by_someone = [
        blues[0],
        blues[1],
        blues[2],
        classical[0],
        classical[1],
        metal[0],
        metal[1],
        metal[2],
        rock[0],
        rock[1],
    ];
    let rated_by_ana = [blues[0], classical[0], metal[0]];

    let ask = |body: String| {
        let app = app.clone();
        async move {
            let (status, out) = post_json(&app, "/api/recommend", &body).await;
            assert_eq!(status, StatusCode::OK, "{body} -> {out}");
            out
        }
    };
    let scores = |out: &Value| -> Vec<f64> {
        out["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["score"].as_f64().unwrap())
            .collect()
    };

    // CF, seeded by ana's likes alone: only tracks someone liked, none ana rated, ann and bob's
    // tastes first.
    let out = ask(r#"{"method":"cf","user":"ana","k":5}"#.into()).await;
    assert_eq!(out["method"], "cf");
    assert_eq!(out["collaborative"]["users"], 5);
    assert_eq!(out["collaborative"]["tracks"], liked_by_someone.len());
    assert_eq!(out["collaborative"]["user_known"], true);
    assert!(out["collaborative"].get("hybrid_weight").is_none());
    assert_eq!(out["feedback"], json!({"liked": 2, "disliked": 1}));
    let cf = ids_of(&out, "tracks");
    assert_eq!(cf.len(), 5);
    assert!(cf.iter().all(|t| liked_by_someone.contains(t)), "{cf:?}");
    assert!(cf.iter().all(|t| !rated_by_ana.contains(t)), "{cf:?}");
    assert!(
        [blues[1], blues[2], classical[1]].contains(&cf[0]),
        "top CF pick {} is not one of ann's and bob's likes: {cf:?}",
        cf[0]
    );
    let s = scores(&out);
    assert!(s.windows(2).all(|w| w[0] >= w[1]), "{s:?}");
    // It never makes up tracks nobody liked: 10 liked, 3 rated by ana, 7 left.
    let out = ask(r#"{"method":"cf","user":"ana","k":10}"#.into()).await;
    assert_eq!(ids_of(&out, "tracks").len(), 7);
    assert_eq!(out["fewer_than_requested"], true);

    // Hybrid from a seed: k tracks (content fills in for tracks nobody liked), scores in [0, 1].
    let out = ask(format!(
        r#"{{"method":"hybrid","user":"ana","seeds":[{jazz}],"k":6,"hybrid_weight":0.7}}"#
    ))
    .await;
    let weight = out["collaborative"]["hybrid_weight"].as_f64().unwrap();
    assert!((weight - 0.7).abs() < 1e-6, "{weight}");
    assert_eq!(ids_of(&out, "seeds"), [jazz]);
    let hybrid = ids_of(&out, "tracks");
    assert_eq!(hybrid.len(), 6);
    assert!(
        hybrid
            .iter()
            .all(|t| *t != jazz && !rated_by_ana.contains(t)),
        "{hybrid:?}"
    );
    let s = scores(&out);
    assert!(s.windows(2).all(|w| w[0] >= w[1]) && s.iter().all(|v| (0.0..=1.0).contains(v)));
    // The artist cap also holds for CF rankings, as for similarity: GTZAN clips have no artist
    // tag, so each genre folder counts as one artist. Capped at 1, the answer is the uncapped
    // ranking with each folder's later tracks skipped.
    let folder_of = |track: &Value| {
        let name = track["file_name"].as_str().unwrap();
        name.split('.').next().unwrap().to_owned()
    };
    let all = ask(format!(
        r#"{{"method":"hybrid","user":"ana","seeds":[{jazz}],"k":30,"hybrid_weight":0.7}}"#
    ))
    .await;
    let mut folders_seen = std::collections::HashSet::new();
    let expected: Vec<i64> = all["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| folders_seen.insert(folder_of(t)))
        .map(|t| t["id"].as_i64().unwrap())
        .take(6)
        .collect();
    assert_eq!(expected.len(), 6, "{all}");
    let out = ask(format!(
        r#"{{"method":"hybrid","user":"ana","seeds":[{jazz}],"k":6,"hybrid_weight":0.7,"max_per_artist":1}}"#
    ))
    .await;
    assert_eq!(ids_of(&out, "tracks"), expected);
    assert_ne!(
        expected, hybrid,
        "the cap changed nothing: the test shows nothing"
    );

    // Cold start: a listener nobody's likes describe gets content similarity alone from hybrid
    // (the same ranking as method 1), and CF says it cannot rank for them yet.
    let content = ask(format!(r#"{{"seeds":[{jazz}],"k":6}}"#)).await;
    let out = ask(format!(
        r#"{{"method":"hybrid","user":"zed","seeds":[{jazz}],"k":6}}"#
    ))
    .await;
    assert_eq!(out["collaborative"]["user_known"], false);
    assert_eq!(ids_of(&out, "tracks"), ids_of(&content, "tracks"));
    let (status, body) = post_json(
        &app,
        "/api/recommend",
        r#"{"method":"cf","user":"zed","k":5}"#,
    )
    .await;
    assert_client_error(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "cold_start");

    // New feedback through the server refits at once: zed's first like makes them known.
    rate("zed", metal[1], true).await;
    let out = ask(r#"{"method":"cf","user":"zed","k":3}"#.into()).await;
    assert_eq!(out["collaborative"]["user_known"], true);
    assert_eq!(out["collaborative"]["users"], 6);
    assert!(!ids_of(&out, "tracks").contains(&metal[1]));
    // ana now likes blues[1]: it leaves her CF list.
    rate("ana", blues[1], true).await;
    let out = ask(r#"{"method":"cf","user":"ana","k":5}"#.into()).await;
    assert!(!ids_of(&out, "tracks").contains(&blues[1]));
    assert_eq!(out["feedback"]["liked"], 3);

    // The cache refits only when the catalog's feedback changed, also when another process
    // recorded it (seen at the next check).
    let cache = CfCache::new(CfParams::default(), Duration::from_millis(1500));
    let first = cache.model(&state).await.unwrap();
    assert_eq!((first.fits, cache.fits()), (1, 1));
    let users = |snapshot: &musicrec_server::cf::CfSnapshot| {
        musicrec_server::cf::lock(snapshot.model.as_ref().unwrap())
            .size()
            .0
    };
    assert_eq!(users(&first), 6);
    let again = cache.model(&state).await.unwrap();
    assert!(Arc::ptr_eq(
        first.model.as_ref().unwrap(),
        again.model.as_ref().unwrap()
    ));
    let mut other = SqliteStore::open(&lib.db).unwrap();
    let eve = other.add_user("eve").unwrap();
    other
        .record_feedback(eve, TrackId(rock[2]), Rating::Like)
        .unwrap();
    assert_eq!(cache.model(&state).await.unwrap().fits, 1, "refitted early");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let refitted = cache.model(&state).await.unwrap();
    assert_eq!(refitted.fits, 2);
    assert_eq!(users(&refitted), 7);
    // A check that finds nothing new does not refit.
    cache.invalidate();
    assert_eq!(cache.model(&state).await.unwrap().fits, 2);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(cache.model(&state).await.unwrap().fits, 2);

    let (_, stats) = get_json(&app, "/api/stats").await;
    assert_eq!(
        stats["methods"],
        json!(["similarity", "genre", "cf", "hybrid"])
    );
}

/// One raw HTTP/1.1 exchange on a fresh connection: writes `head` (and nothing else) and reads
/// the answer: status, lower-cased headers, body.
fn raw_http(addr: SocketAddr, head: &str) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream
            .read(&mut chunk)
            .expect("an answer before the read timeout");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse::<usize>().unwrap());
            if length.is_some_and(|len| buf.len() >= end + 4 + len) {
                break;
            }
        }
    }
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&buf)));
    let head_text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head_text.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, buf[end + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_real_socket_every_error_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("catalog.db")).unwrap();
    let state = musicrec_server::AppState::new(Box::new(store), None).unwrap();
    let limits = Limits {
        timeout: Duration::from_millis(400),
        ..Limits::default()
    };
    assert_eq!(limits.body_bytes, musicrec_server::BODY_LIMIT_BYTES);
    let app = musicrec_server::app_with_limits(state, Access::open(), limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let exchange = |head: String| tokio::task::spawn_blocking(move || raw_http(addr, &head));
    let check = |(status, headers, body): (u16, BTreeMap<String, String>, Vec<u8>),
                 expected: u16,
                 code: &str| {
        assert_eq!(
            status,
            expected,
            "{headers:?} {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(headers["content-type"], "application/json", "{headers:?}");
        let out = common::parse(&body);
        assert_client_error(
            StatusCode::from_u16(status).unwrap(),
            &out,
            StatusCode::from_u16(expected).unwrap(),
        );
        assert_eq!(out["error"]["code"], code, "{out}");
        (headers, out)
    };

    // A declared body over the limit: refused from the headers, before any body byte is sent.
    let answer = exchange(
        "POST /api/recommend HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: 1000000\r\nConnection: close\r\n\r\n"
            .into(),
    )
    .await
    .unwrap();
    let (_, out) = check(answer, 413, "payload_too_large");
    assert!(
        out["error"]["message"].as_str().unwrap().contains("65536"),
        "{out}"
    );

    // A method the route does not have.
    for (method, path, allowed) in [
        ("PATCH", "/api/feedback", "POST"),
        ("PUT", "/api/tracks/1", "GET"),
        ("POST", "/api/experiments", "GET"),
    ] {
        let answer = exchange(format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ))
        .await
        .unwrap();
        let (headers, out) = check(answer, 405, "method_not_allowed");
        assert!(headers["allow"].contains(allowed), "{headers:?}");
        let message = out["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(method) && message.contains(path),
            "{message}"
        );
    }

    // A body that never arrives: the timeout answers 408.
    let answer = exchange(
        "POST /api/feedback HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\nConnection: close\r\n\r\n{\"user\":"
            .into(),
    )
    .await
    .unwrap();
    let (_, out) = check(answer, 408, "timeout");
    assert!(
        out["error"]["message"].as_str().unwrap().contains("400 ms"),
        "{out}"
    );

    // And a plain unknown page, for completeness.
    let answer =
        exchange("GET /nowhere HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".into())
            .await
            .unwrap();
    check(answer, 404, "not_found");
}

/// Serves `app` on a free loopback port with `idle_timeout` ([`musicrec_server::listen::serve`],
/// the accept loop `musicrec serve` uses).
async fn serve_on_loopback(app: axum::Router, idle_timeout: Duration) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(musicrec_server::listen::serve(
        listener,
        app,
        idle_timeout,
        std::future::pending(),
    ));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_work_queue_answers_429_and_the_server_recovers() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 1);
    // One worker and two places in the queue.
    let work = WorkLimits {
        workers: 1,
        queue: 2,
    };
    let state = lib.state().with_work_limits(work);
    let limits = Limits {
        work,
        ..Limits::default()
    };
    let app = musicrec_server::app_with_limits(state.clone(), Access::open(), limits);
    let addr = serve_on_loopback(app, Duration::from_secs(20)).await;

    // The worker is busy with a catalog job that waits for the test.
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let busy = {
        let state = state.clone();
        tokio::spawn(async move {
            state
                .with_store(move |_| {
                    wait.recv().unwrap();
                    Ok(())
                })
                .await
        })
    };
    while state.work().in_flight() < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // 40 concurrent searches: two wait in the queue, the other 38 are refused at once.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..40 {
        let tx = tx.clone();
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(raw_http(
                addr,
                "GET /api/tracks?q=blues HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
            ));
        });
    }
    drop(tx);
    let mut refused = 0;
    while refused < 38 {
        let (status, headers, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("38 refusals while the worker is busy")
            .unwrap();
        assert_eq!(status, 429, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers["retry-after"], "1", "{headers:?}");
        let out = common::parse(&body);
        assert_client_error(
            StatusCode::TOO_MANY_REQUESTS,
            &out,
            StatusCode::TOO_MANY_REQUESTS,
        );
        assert_eq!(out["error"]["code"], "busy");
        refused += 1;
    }
    assert_eq!(state.work().in_flight(), 3, "the busy job and two queued");
    // Calls that need no worker still answer.
    let (status, _, _) = raw_http(
        addr,
        "GET /api/health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);

    // Once the worker is free the two queued searches are answered.
    release.send(()).unwrap();
    busy.await.unwrap().unwrap();
    for _ in 0..2 {
        let (status, _, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(common::parse(&body)["total"], 1);
    }
    assert!(rx.recv().await.is_none());
    assert_eq!(state.work().in_flight(), 0);
    let (status, _, _) = raw_http(
        addr,
        "GET /api/tracks?q=jazz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
}

/// Reads from `stream` until the server closes it; returns the bytes and how long it took.
fn read_until_closed(stream: &mut std::net::TcpStream) -> (Vec<u8>, Duration) {
    let start = std::time::Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return (got, start.elapsed()),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (got, start.elapsed());
            }
            Err(e) => panic!(
                "the server kept the connection open for {:?}: {e}",
                start.elapsed()
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_open_connections_are_closed_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("catalog.db")).unwrap();
    let state = musicrec_server::AppState::new(Box::new(store), None).unwrap();
    let idle = Duration::from_millis(600);
    let addr = serve_on_loopback(musicrec_server::app(state, Access::open()), idle).await;

    let outcome = tokio::task::spawn_blocking(move || {
        // Half a request head, then silence.
        let mut half = std::net::TcpStream::connect(addr).unwrap();
        half.write_all(b"GET /api/health HTTP/1.1\r\nHost: te")
            .unwrap();
        let (_, half_open) = read_until_closed(&mut half);
        // Connected, nothing sent.
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        let (nothing, silent_for) = read_until_closed(&mut silent);
        // One whole request on a keep-alive connection, answered, then idle.
        let mut kept = std::net::TcpStream::connect(addr).unwrap();
        kept.write_all(b"GET /api/health HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        let (answer, idle_for) = read_until_closed(&mut kept);
        (half_open, nothing, silent_for, answer, idle_for)
    })
    .await
    .unwrap();
    let (half_open, nothing, silent_for, answer, idle_for) = outcome;
    for (what, took) in [
        ("half a request", half_open),
        ("nothing sent", silent_for),
        ("idle keep-alive", idle_for),
    ] {
        assert!(
            took >= idle.mul_f32(0.8) && took < Duration::from_secs(5),
            "{what}: closed after {took:?} (timeout {idle:?})"
        );
    }
    assert!(nothing.is_empty());
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"status\":\"ok\""), "{answer}");
}

#[tokio::test]
async fn likes_and_dislikes_are_listed_and_can_be_undone() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 1);
    let (_, app) = lib.app();
    let (jazz, rock) = (first_id(&app, "jazz").await, first_id(&app, "rock").await);
    let rate = |track: i64, like: bool| {
        let app = app.clone();
        async move {
            let (status, out) = post_json(
                &app,
                "/api/feedback",
                &json!({ "user": "ada", "track": track, "like": like }).to_string(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{out}");
        }
    };
    rate(jazz, true).await;
    rate(rock, true).await;
    rate(rock, false).await;
    let (status, listed) = get_json(&app, "/api/feedback?user=ada").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let ratings: Vec<(i64, &str)> = listed["ratings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r["rating"].as_str().unwrap()))
        .collect();
    let mut expected = vec![(jazz, "like"), (rock, "dislike")];
    expected.sort_unstable();
    assert_eq!(ratings, expected);
    assert!(listed["ratings"][0]["title"].is_string(), "{listed}");

    // The dislike is undone: the track is unrated, and can come back in recommendations.
    let request = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = send(
        &app,
        request("DELETE", &format!("/api/feedback?user=ada&track={rock}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        common::parse(&body),
        json!({ "user": "ada", "track": rock, "removed": 2 })
    );
    let (_, listed) = get_json(&app, "/api/feedback?user=ada").await;
    assert_eq!(listed["ratings"].as_array().unwrap().len(), 1);
    assert_eq!(listed["ratings"][0]["id"], jazz);
    let (_, recs) = post_json(
        &app,
        "/api/recommend",
        &json!({ "seeds": [jazz], "k": 9, "user": "ada" }).to_string(),
    )
    .await;
    assert_eq!(recs["feedback"], json!({ "liked": 1, "disliked": 0 }));
    assert!(ids_of(&recs, "tracks").contains(&rock), "{recs}");

    // Undoing again, or for a user who never rated anything, removes nothing.
    let (_, _, body) = send(
        &app,
        request("DELETE", &format!("/api/feedback?user=ada&track={rock}")),
    )
    .await;
    assert_eq!(common::parse(&body)["removed"], 0);
    let (_, _, body) = send(
        &app,
        request("DELETE", &format!("/api/feedback?user=nobody&track={rock}")),
    )
    .await;
    assert_eq!(common::parse(&body)["removed"], 0);
    let (status, listed) = get_json(&app, "/api/feedback?user=nobody").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["ratings"], json!([]));
    let (status, body) = get_json(&app, "/api/feedback?user=%20").await;
    assert_client_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, _, body) = send(&app, request("DELETE", "/api/feedback?user=ada&track=x")).await;
    assert_client_error(status, &common::parse(&body), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_au_track_is_streamed_as_wav_with_ranges() {
    let Some(gtzan) = gtzan_mini() else { return };
    let Some(shared) = shared_data_with(&["formats/jazz.00000.au"]) else {
        return;
    };
    let au = shared.join("formats/jazz.00000.au");
    let lib = Library::new(&gtzan, 1);
    std::fs::copy(&au, lib.music.join("jazz.00000.au")).unwrap();
    lib.scan();
    let (_, app) = lib.app();
    let (_, page) = get_json(&app, "/api/tracks?q=jazz.00000.au").await;
    assert_eq!(page["total"], 1, "{page}");
    let id = page["items"][0]["id"].as_i64().unwrap();

    let (status, head, wav) = send(
        &app,
        Request::get(format!("/api/tracks/{id}/audio"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(head.headers()["content-type"], "audio/wav");
    assert_eq!(head.headers()["accept-ranges"], "bytes");
    let reader = hound::WavReader::new(std::io::Cursor::new(&wav)).expect("a WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.bits_per_sample, spec.sample_rate),
        (1, 16, 22_050)
    );
    let source = musicrec_audio::decode_file(&au).unwrap();
    assert_eq!(reader.duration() as usize, source.samples.len());
    let seconds = f64::from(reader.duration()) / f64::from(spec.sample_rate);
    assert!((seconds - 30.0).abs() < 0.1, "{seconds} s");
    // The samples are the decoded ones, to 16-bit precision.
    let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    let worst = samples
        .iter()
        .zip(&source.samples)
        .map(|(&w, &s)| (f32::from(w) / 32767.0 - s).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1.0 / 32767.0, "{worst}");

    // A range of it, as a browser asks when seeking.
    let (status, head, part) = send(
        &app,
        Request::get(format!("/api/tracks/{id}/audio"))
            .header("range", "bytes=100-1099")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        head.headers()["content-range"],
        format!("bytes 100-1099/{}", wav.len()).as_str()
    );
    assert_eq!(part, wav[100..1100]);
    let (status, _, _) = send(
        &app,
        Request::get(format!("/api/tracks/{id}/audio"))
            .header("range", format!("bytes={}-", wav.len() + 10))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);

    // A WAV is still served as it is, with its own ranges.
    let wav_id = first_id(&app, "blues").await;
    let (status, head, _) = send(
        &app,
        Request::get(format!("/api/tracks/{wav_id}/audio"))
            .header("range", "bytes=0-9")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let original = std::fs::metadata(lib.music.join("blues/blues.00000.wav"))
        .unwrap()
        .len();
    assert_eq!(
        head.headers()["content-range"],
        format!("bytes 0-9/{original}").as_str()
    );
}

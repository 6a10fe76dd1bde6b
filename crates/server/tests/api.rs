//! The JSON API over a real catalog (GTZAN clips scanned with a frame-statistics embedder):
//! search, tracks, recommendations of both methods, feedback, range requests, bad requests,
//! tokens, the map, reloads and the OpenAPI document.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Library, assert_client_error, first_id, get_json, gtzan_mini, post_json, send};
use musicrec_server::{Access, AccessError};

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
        (
            format!(r#"{{"seeds":[{id}],"method":"cf"}}"#),
            StatusCode::BAD_REQUEST,
            "method_not_available",
        ),
        (
            format!(r#"{{"seeds":[{id}],"method":"hybrid"}}"#),
            StatusCode::BAD_REQUEST,
            "method_not_available",
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
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not available in this build")
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
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{out}");
    let (status, _, _) = send(
        &app,
        Request::get("/api/recommend").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

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
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);

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
    let app = musicrec_server::app(lib.state(), Access::with_token("s3cret").unwrap());

    let (status, body) = get_json(&app, "/api/health").await;
    assert_client_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = get_json(&app, "/api/health?token=wrong").await;
    assert_client_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, _) = get_json(&app, "/api/health?token=s3cret").await;
    assert_eq!(status, StatusCode::OK);
    let request = Request::get("/api/stats")
        .header("authorization", "Bearer s3cret")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, request).await.0, StatusCode::OK);
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
        hex::encode(Md5::digest(format!("s3cret{salt}").as_bytes()))
    };
    for query in [
        "&p=s3cret".to_string(),
        format!("&p=enc:{}", hex::encode("s3cret")),
        format!("&t={t}&s={salt}"),
        "&apiKey=s3cret".to_string(),
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
        Access::for_bind(public, Some("t0k".into()))
            .unwrap()
            .requires_token()
    );
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
    common::copy_clips(&gtzan, &lib.music, 1, 1);
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
            "/api/feedback",
            "/api/health",
            "/api/map",
            "/api/recommend",
            "/api/reload",
            "/api/stats",
            "/api/tracks",
            "/api/tracks/{id}",
            "/api/tracks/{id}/audio",
            "/rest/{call}",
        ]
    );
    assert!(doc["paths"]["/api/recommend"]["post"].is_object());
    assert!(doc["paths"]["/rest/{call}"]["get"].is_object());
    assert!(doc["paths"]["/rest/{call}"]["post"].is_object());
    assert!(doc["components"]["schemas"]["RecommendBody"].is_object());
}

#[tokio::test]
async fn an_empty_catalog_serves_and_says_why_it_cannot_recommend() {
    let dir = tempfile::tempdir().unwrap();
    let store = musicrec_catalog::SqliteStore::open(dir.path().join("empty.db")).unwrap();
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
}

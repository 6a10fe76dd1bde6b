//! Companion mode without a server: matching upstream songs to catalog tracks, and the checks of
//! the upstream URL. (tests/subsonic_clients.rs runs it against a real Supysonic.)

use std::time::Duration;

use musicrec_server::upstream::{CatalogSong, match_songs, tag_key};
use musicrec_server::{Upstream, UpstreamConfig};
use serde_json::{Map, Value, json};

fn catalog(id: i64, path: &str, artist: &str, title: &str, secs: f64) -> CatalogSong {
    CatalogSong {
        id,
        path: path.into(),
        key: tag_key(Some(artist), Some(title)),
        duration: Some(secs),
    }
}

fn song(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn songs_match_by_path_suffix_then_tags_within_two_seconds() {
    let cat = [
        catalog(1, "/music/blues/a.wav", "X", "A", 30.0),
        catalog(2, "/other/blues/a.wav", "X", "A", 30.0),
        catalog(
            3,
            "/music/jazz/Bill - So What.flac",
            "Miles Davis",
            "So What!",
            545.4,
        ),
        catalog(4, "/music/rock/c.mp3", "Y", "C", 200.0),
    ];
    let songs = vec![
        song(json!({"id": "u1", "path": "blues/a.wav", "artistId": "ar1"})),
        song(
            json!({"id": "u2", "path": "Miles/Kind/01.flac", "artist": "miles  DAVIS", "title": "So what", "duration": 547}),
        ),
        song(json!({"id": "u3", "artist": "Y", "title": "C", "duration": 203})),
        song(json!({"id": 7, "path": "lablues/a.wav"})),
    ];
    let m = match_songs(songs, &cat);
    assert_eq!(m.catalog_id("u1"), Some(1));
    assert_eq!(m.catalog_id("u2"), Some(3));
    assert_eq!(m.catalog_id("u3"), None, "3 s apart");
    assert_eq!(m.catalog_id("7"), None, "suffixes are whole components");
    let (by_path, by_tags, unmatched) = m.counts();
    assert_eq!((by_path, by_tags, unmatched.len()), (1, 1, 2));
    assert_eq!(unmatched[1]["id"], "7");
    assert_eq!(m.child_of(3).unwrap()["id"], "u2");
    assert_eq!(m.artist_tracks("ar1"), [1]);
    assert_eq!(m.matched(), 2);
}

#[test]
fn only_http_urls_are_accepted_and_the_password_is_never_printed() {
    let config = |url: &str| UpstreamConfig {
        url: url.into(),
        user: "u".into(),
        password: "hunter2".into(),
        refresh_every: Duration::from_secs(60),
    };
    assert!(Upstream::new(config("http://localhost:4533/")).is_ok());
    for bad in ["https://x", "localhost:4533", "ftp://x", "http://x/?a=b"] {
        let e = Upstream::new(config(bad)).unwrap_err().to_string();
        assert!(e.contains(bad), "{e}");
    }
    assert!(!format!("{:?}", config("http://x")).contains("hunter2"));
}

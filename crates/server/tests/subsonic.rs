//! The OpenSubsonic calls over a real catalog: envelope fields, `similarSongs`/`similarSongs2`
//! and `sonicMatch` shapes in JSON and XML, `.view` and form POST, and Subsonic errors.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Library, first_id, get_json, send};
use musicrec_catalog::{CatalogStore, FileFacts, ScanUpdate, TrackTags};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_testkit::data::gtzan_mini;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

fn envelope(out: &Value) -> &Value {
    let env = &out["subsonic-response"];
    assert_eq!(env["version"], "1.16.1", "{out}");
    assert_eq!(env["type"], "musicrec");
    assert!(env["serverVersion"].is_string());
    assert_eq!(env["openSubsonic"], true);
    env
}

/// (element name, attributes) of every start/empty element of an XML document.
fn xml_elements(xml: &[u8]) -> Vec<(String, Vec<(String, String)>)> {
    let mut reader = Reader::from_reader(xml);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            a.key.as_ref().to_string(),
                            a.normalized_value(XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                out.push((name, attrs));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

#[tokio::test]
async fn similar_songs_in_json_and_xml() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 2);
    let (_, app) = lib.app();
    let id = first_id(&app, "hiphop").await;

    let (status, out) = get_json(&app, "/rest/ping.view?f=json&u=x&v=1.16.1&c=t").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(envelope(&out)["status"], "ok");

    let (_, out) = get_json(&app, "/rest/getOpenSubsonicExtensions?f=json").await;
    let names: Vec<&str> = envelope(&out)["openSubsonicExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["formPost", "sonicSimilarity"]);

    for call in [
        "getSimilarSongs",
        "getSimilarSongs2",
        "getSimilarSongs2.view",
    ] {
        let (status, out) = get_json(&app, &format!("/rest/{call}?f=json&id={id}&count=7")).await;
        assert_eq!(status, StatusCode::OK);
        let env = envelope(&out);
        assert_eq!(env["status"], "ok", "{out}");
        let key = call.trim_end_matches(".view").replace("getS", "s");
        let songs = env[key.as_str()]["song"]
            .as_array()
            .unwrap_or_else(|| panic!("{out}"));
        assert_eq!(songs.len(), 7);
        for song in songs {
            assert!(song["id"].is_string(), "ids are strings: {song}");
            assert_ne!(song["id"], id.to_string());
            assert_eq!(song["isDir"], false);
            assert_eq!(song["isVideo"], false);
            assert_eq!(song["type"], "music");
            assert_eq!(song["suffix"], "wav");
            assert!(song["contentType"].as_str().unwrap().starts_with("audio/"));
            assert!(song["title"].as_str().unwrap().ends_with(".wav"));
            assert!(song["duration"].as_i64().unwrap() >= 15);
            assert!(song["size"].as_u64().unwrap() > 100_000);
            assert!(song["genre"].is_string());
        }
    }
    // Default count 50 = every other track of this 20-track catalog.
    let (_, out) = get_json(&app, &format!("/rest/getSimilarSongs2?f=json&id={id}")).await;
    assert_eq!(
        out["subsonic-response"]["similarSongs2"]["song"]
            .as_array()
            .unwrap()
            .len(),
        19
    );

    // XML (the default format): same songs, in order, as attributes of repeated <song> elements.
    let (_, json_out) = get_json(
        &app,
        &format!("/rest/getSimilarSongs2?f=json&id={id}&count=5"),
    )
    .await;
    let (status, head, xml) = send(
        &app,
        Request::get(format!("/rest/getSimilarSongs2.view?id={id}&count=5"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        head.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let elements = xml_elements(&xml);
    let (root, attrs) = &elements[0];
    assert_eq!(root, "subsonic-response");
    let attr = |name: &str| {
        attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(attr("xmlns"), Some("http://subsonic.org/restapi"));
    assert_eq!(attr("status"), Some("ok"));
    assert_eq!(attr("openSubsonic"), Some("true"));
    assert_eq!(elements[1].0, "similarSongs2");
    let xml_ids: Vec<String> = elements[2..]
        .iter()
        .map(|(name, attrs)| {
            assert_eq!(name, "song");
            attrs.iter().find(|(k, _)| k == "id").unwrap().1.clone()
        })
        .collect();
    let json_ids: Vec<String> = json_out["subsonic-response"]["similarSongs2"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(xml_ids, json_ids);

    // Form POST (the formPost extension).
    let request = Request::post("/rest/getSimilarSongs")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("f=json&id={id}&count=3")))
        .unwrap();
    let (_, _, body) = send(&app, request).await;
    let out = common::parse(&body);
    assert_eq!(
        out["subsonic-response"]["similarSongs"]["song"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn sonic_similarity_extension_and_errors() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 2);
    let (_, app) = lib.app();
    let start = first_id(&app, "country").await;
    let end = first_id(&app, "pop").await;

    let (_, out) = get_json(
        &app,
        &format!("/rest/getSonicSimilarTracks?f=json&id={start}"),
    )
    .await;
    let matches = envelope(&out)["sonicSimilarTracksResult"]["sonicMatch"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(matches.len(), 10, "default count 10");
    let distances: Vec<f64> = matches
        .iter()
        .map(|m| m["distance"].as_f64().unwrap())
        .collect();
    // Ordered by distance, nearest first, normalized to [0, 1].
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances.iter().all(|d| (0.0..=1.0).contains(d)));
    // A sonicMatch is a Child with a distance.
    for m in matches {
        assert!(m["id"].is_string() && m["title"].is_string(), "{m}");
        assert_eq!(m["isDir"], false);
        assert_ne!(m["id"], start.to_string());
    }
    // The same songs as getSimilarSongs2, in the same order.
    let (_, similar) = get_json(
        &app,
        &format!("/rest/getSimilarSongs2?f=json&id={start}&count=10"),
    )
    .await;
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&matches.clone().into()),
        ids(&similar["subsonic-response"]["similarSongs2"]["song"])
    );

    let (_, out) = get_json(
        &app,
        &format!("/rest/findSonicPath?f=json&startSongId={start}&endSongId={end}&count=6"),
    )
    .await;
    let path: Vec<String> = envelope(&out)["findSonicPathResult"]["sonicMatch"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"))
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    // At most 6 (fewer when 20 clips hold too few songs between the two).
    assert!((2..=6).contains(&path.len()), "{path:?}");
    assert_eq!(path.first().unwrap(), &start.to_string());
    assert_eq!(path.last().unwrap(), &end.to_string());
    let mut unique = path.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), path.len(), "no song twice: {path:?}");
    // Distances are from the start song: 0 for itself, then growing at every step.
    let steps = envelope(&out)["findSonicPathResult"]["sonicMatch"]
        .as_array()
        .unwrap();
    assert_eq!(steps[0]["distance"], 0.0);
    let distances: Vec<f64> = steps
        .iter()
        .map(|m| m["distance"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] < w[1]), "{distances:?}");

    // Errors: envelope with status failed and a Subsonic code, HTTP 200.
    for (query, code) in [
        ("/rest/getSimilarSongs2?f=json", 10),
        ("/rest/getSimilarSongs2?f=json&id=999999", 70),
        ("/rest/getSimilarSongs2?f=json&id=ar-12", 70),
        ("/rest/getSimilarSongs2?f=json&id=1&count=0", 0),
        ("/rest/getSimilarSongs2?f=json&id=1&count=abc", 0),
        ("/rest/findSonicPath?f=json&startSongId=1", 10),
    ] {
        let (status, out) = get_json(&app, query).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        let env = envelope(&out);
        assert_eq!(env["status"], "failed", "{query}: {out}");
        assert_eq!(env["error"]["code"], code, "{query}: {out}");
        assert!(env["error"]["message"].is_string());
    }
    // Calls musicrec does not implement: a Subsonic error (code 0), never an HTTP 404, in JSON
    // and in XML, with or without `.view`.
    for call in [
        "getAlbumList2",
        "getArtists.view",
        "search3",
        "getSong",
        "stream",
    ] {
        let (status, out) = get_json(&app, &format!("/rest/{call}?f=json&id=1")).await;
        assert_eq!(status, StatusCode::OK, "{call}");
        let env = envelope(&out);
        assert_eq!(env["status"], "failed", "{call}: {out}");
        assert_eq!(env["error"]["code"], 0, "{call}: {out}");
        assert!(
            env["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not implemented"),
            "{out}"
        );
        let (status, _, xml) = send(
            &app,
            Request::get(format!("/rest/{call}?id=1"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{call}");
        let elements = xml_elements(&xml);
        assert_eq!(elements[0].0, "subsonic-response");
        assert!(elements[0].1.contains(&("status".into(), "failed".into())));
        assert_eq!(elements[1].0, "error");
        assert!(elements[1].1.contains(&("code".into(), "0".into())));
    }
    // The two calls every client makes on connecting.
    let (_, out) = get_json(&app, "/rest/getLicense.view?f=json").await;
    assert_eq!(envelope(&out)["status"], "ok", "{out}");
    assert_eq!(out["subsonic-response"]["license"]["valid"], true);
    let (_, out) = get_json(&app, "/rest/getMusicFolders?f=json").await;
    assert_eq!(envelope(&out)["status"], "ok", "{out}");
    assert_eq!(
        out["subsonic-response"]["musicFolders"]["musicFolder"][0]["id"],
        1
    );
    let (_, _, xml) = send(
        &app,
        Request::get("/rest/getSimilarSongs2")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let elements = xml_elements(&xml);
    assert_eq!(elements[1].0, "error");
    assert!(
        elements[1]
            .1
            .contains(&("code".to_string(), "10".to_string()))
    );
}

/// `getSimilarSongs2`'s `id` is an artist id in the spec: songs carry an `artistId`, and that id
/// seeds the mix with the artist's songs, giving what POST /api/recommend gives for them.
#[tokio::test]
async fn an_artist_id_seeds_similar_songs_with_the_artists_songs() {
    let Some(gtzan) = gtzan_mini() else { return };
    let lib = Library::new(&gtzan, 2);
    // Tag every clip with an artist named after its genre folder ("Jazz Band", ...).
    {
        let mut store = SqliteStore::open(&lib.db).unwrap();
        let page = store.search("", 0, 100).unwrap();
        assert_eq!(page.items.len(), 20);
        let updates: Vec<ScanUpdate> = page
            .items
            .iter()
            .map(|t| {
                let genre = t
                    .path
                    .parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap();
                ScanUpdate::Moved {
                    track: t.id,
                    path: t.path.clone(),
                    file: FileFacts {
                        content_hash: t.content_hash,
                        size_bytes: t.size_bytes,
                        mtime_ns: t.mtime_ns,
                    },
                    tags: TrackTags {
                        artist: Some(format!("{} Band", genre.to_uppercase())),
                        ..TrackTags::default()
                    },
                }
            })
            .collect();
        store.apply_scan_updates(common::MODEL, &updates).unwrap();
    }
    let (_, app) = lib.app();
    let jazz = first_id(&app, "jazz").await;
    let (_, out) = get_json(
        &app,
        &format!("/rest/getSimilarSongs2?f=json&id={jazz}&count=3"),
    )
    .await;
    let song = &out["subsonic-response"]["similarSongs2"]["song"][0];
    assert!(
        song["artistId"].as_str().unwrap().starts_with("ar-"),
        "{song}"
    );

    // The artist id of the jazz songs, as a client would have it from any Child.
    let (_, mine) = get_json(&app, "/api/tracks?q=jazz").await;
    let jazz_ids: Vec<i64> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(jazz_ids.len(), 2);
    let (_, any) = get_json(&app, "/rest/getSimilarSongs2?f=json&id=ar-&count=1").await;
    assert_eq!(
        envelope(&any)["error"]["code"],
        70,
        "an empty artist is unknown"
    );
    let (_, from_jazz_song) = get_json(
        &app,
        &format!("/rest/getSimilarSongs?f=json&id={}&count=19", jazz_ids[1]),
    )
    .await;
    let jazz_artist_id = from_jazz_song["subsonic-response"]["similarSongs"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str().and_then(|v| v.parse::<i64>().ok()) == Some(jazz_ids[0]))
        .map(|s| s["artistId"].as_str().unwrap().to_owned())
        .unwrap();
    // Case and spaces do not matter: the id is of the folded name.
    assert_eq!(jazz_artist_id, format!("ar-{}", hex_of("jazz band")));

    let (_, by_artist) = get_json(
        &app,
        &format!("/rest/getSimilarSongs2?f=json&id={jazz_artist_id}&count=5"),
    )
    .await;
    let got: Vec<i64> = envelope(&by_artist)["similarSongs2"]["song"]
        .as_array()
        .unwrap_or_else(|| panic!("{by_artist}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(got.len(), 5);
    assert!(
        got.iter().all(|id| !jazz_ids.contains(id)),
        "seeds never come back"
    );
    let (status, api) = common::post_json(
        &app,
        "/api/recommend",
        &format!(
            r#"{{"seeds":[{},{}],"k":5,"method":"similarity"}}"#,
            jazz_ids[0], jazz_ids[1]
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{api}");
    let expected: Vec<i64> = api["tracks"]
        .as_array()
        .unwrap_or_else(|| panic!("{api}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, expected);

    let unknown = format!("ar-{}", hex_of("nobody"));
    let (_, out) = get_json(&app, &format!("/rest/getSimilarSongs2?f=json&id={unknown}")).await;
    assert_eq!(envelope(&out)["status"], "failed");
    assert_eq!(envelope(&out)["error"]["code"], 70);
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

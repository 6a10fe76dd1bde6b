//! The two front ends are adapters over one recommendation service (`musicrec_app::recommend`):
//! the same request to `musicrec recommend` and to a running `musicrec serve` (`POST
//! /api/recommend`) gets the same songs with the same scores, from the same model, for every
//! method, metric, artist cap and listener; a request one refuses, the other refuses too.
//!
//! The catalog holds two models (MusiCNN, the default, and the built-in CNN), so the test also
//! checks that both front ends pick the same one.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{command, musicrec, ok, ok_stdout, s, stdout};
use serde_json::{Value, json};

/// 8 clips of 4 genres, two "artists" (folders, the files are untagged) per genre.
fn library(data: &Path, music: &Path) {
    for (genre, clips) in [
        ("metal", ["00001", "00002"]),
        ("classical", ["00001", "00002"]),
        ("jazz", ["00001", "00002"]),
        ("pop", ["00001", "00002"]),
    ] {
        for (n, clip) in clips.iter().enumerate() {
            let dir = music.join(format!("{genre}-{n}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(
                data.join("gtzan-mini")
                    .join(genre)
                    .join(format!("{genre}.{clip}.wav")),
                dir.join(format!("{genre}.{clip}.wav")),
            )
            .unwrap();
        }
    }
}

/// `musicrec serve` on a free port of this machine, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(db: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = command()
            .args([
                "serve",
                "--db",
                s(db),
                "--addr",
                &addr,
                "--refresh-secs",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start musicrec serve");
        let server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.request("GET", "/api/health", "").is_none() {
            assert!(Instant::now() < deadline, "musicrec serve did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// `(status, JSON body)` of one HTTP/1.1 request, `None` while nothing listens.
    fn request(&self, method: &str, path: &str, body: &str) -> Option<(u16, Value)> {
        let mut stream = TcpStream::connect(&self.addr).ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let (_, body) = response.split_once("\r\n\r\n")?;
        Some((status, serde_json::from_str(body).ok()?))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request, in the CLI's flags and the API's JSON body.
struct Case {
    seeds: Vec<i64>,
    k: usize,
    method: &'static str,
    metric: &'static str,
    user: Option<&'static str>,
    max_per_artist: Option<usize>,
}

impl Case {
    fn cli_args(&self, db: &Path) -> Vec<String> {
        let mut args: Vec<String> = ["recommend", "--db", s(db), "--format", "json"]
            .map(String::from)
            .to_vec();
        for seed in &self.seeds {
            args.extend(["--seed".into(), seed.to_string()]);
        }
        args.extend(["-k".into(), self.k.to_string()]);
        args.extend(["--method".into(), self.method.into()]);
        args.extend(["--metric".into(), self.metric.into()]);
        if let Some(user) = self.user {
            args.extend(["--user".into(), user.into()]);
        }
        if let Some(cap) = self.max_per_artist {
            args.extend(["--max-per-artist".into(), cap.to_string()]);
        }
        args
    }

    fn body(&self) -> String {
        let mut body = json!({
            "seeds": self.seeds,
            "k": self.k,
            "method": self.method,
            "metric": self.metric,
        });
        if let Some(user) = self.user {
            body["user"] = json!(user);
        }
        if let Some(cap) = self.max_per_artist {
            body["max_per_artist"] = json!(cap);
        }
        body.to_string()
    }

    fn describe(&self) -> String {
        format!(
            "seeds {:?}, k {}, {} / {}, user {:?}, cap {:?}",
            self.seeds, self.k, self.method, self.metric, self.user, self.max_per_artist
        )
    }
}

/// `(id, score)` of each song, in order.
fn ranked(list: &Value) -> Vec<(i64, f64)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|song| {
            (
                song["id"].as_i64().unwrap(),
                song["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_cli_and_the_server_give_the_same_recommendations() {
    let Some(data) = musicrec_testkit::data::shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    let db = dir.path().join("catalog.db");
    library(&data, &music);
    ok(
        musicrec(&["scan", s(&music), "--db", s(&db)]),
        "scan (MusiCNN)",
    );
    ok(
        musicrec(&["scan", s(&music), "--db", s(&db), "--model", "cnn"]),
        "scan (CNN)",
    );

    let id_of = |name: &str| -> i64 {
        let out = ok_stdout(
            musicrec(&["tracks", name, "--db", s(&db), "--format", "json"]),
            "tracks",
        );
        let tracks: Value = serde_json::from_str(&out).unwrap();
        tracks["tracks"][0]["id"].as_i64().unwrap()
    };
    let metal = id_of("metal.00001");
    let metal2 = id_of("metal.00002");
    let jazz = id_of("jazz.00001");
    let pop = id_of("pop.00002");
    for (user, track, rating) in [
        ("ann", metal2, "--like"),
        ("ann", jazz, "--like"),
        ("ann", pop, "--dislike"),
        ("bob", metal2, "--like"),
        ("bob", pop, "--like"),
    ] {
        ok(
            musicrec(&[
                "feedback",
                "--db",
                s(&db),
                "--user",
                user,
                "--track",
                &track.to_string(),
                rating,
            ]),
            "feedback",
        );
    }

    let server = Server::start(&db);
    let (status, stats) = server.request("GET", "/api/stats", "").unwrap();
    assert_eq!(status, 200, "{stats}");

    let case = |seeds: Vec<i64>, method, metric, user, max_per_artist| Case {
        seeds,
        k: 4,
        method,
        metric,
        user,
        max_per_artist,
    };
    let cases = [
        case(vec![metal], "similarity", "cosine", None, None),
        case(vec![metal, jazz], "similarity", "euclidean", None, None),
        case(vec![metal], "similarity", "pnorm:1", None, Some(1)),
        case(vec![metal], "genre", "cosine", None, None),
        case(vec![metal], "similarity", "cosine", Some("ann"), None),
        case(vec![], "similarity", "cosine", Some("ann"), None),
        case(vec![metal], "genre", "cosine", Some("ann"), Some(1)),
        case(vec![metal], "hybrid", "cosine", Some("ann"), None),
        case(vec![], "hybrid", "cosine", Some("ann"), Some(1)),
        case(vec![metal], "cf", "cosine", Some("bob"), None),
        case(
            vec![metal],
            "similarity",
            "cosine",
            Some("nobody-yet"),
            None,
        ),
    ];
    for case in &cases {
        let cli: Value =
            serde_json::from_str(&ok_stdout(musicrec(&case.cli_args(&db)), &case.describe()))
                .unwrap();
        let (status, api) = server
            .request("POST", "/api/recommend", &case.body())
            .unwrap();
        assert_eq!(status, 200, "{}: {api}", case.describe());
        let (from_cli, from_api) = (ranked(&cli["recommendations"]), ranked(&api["tracks"]));
        assert!(
            !from_cli.is_empty(),
            "{}: nothing recommended",
            case.describe()
        );
        assert_eq!(
            from_cli.iter().map(|r| r.0).collect::<Vec<_>>(),
            from_api.iter().map(|r| r.0).collect::<Vec<_>>(),
            "{}: different songs",
            case.describe()
        );
        for ((_, a), (_, b)) in from_cli.iter().zip(&from_api) {
            assert!(
                (a - b).abs() < 1e-6,
                "{}: scores {a} vs {b}",
                case.describe()
            );
        }
        let seeds = |list: &Value| -> Vec<i64> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|song| song["id"].as_i64().unwrap())
                .collect()
        };
        assert_eq!(
            seeds(&cli["seeds"]),
            seeds(&api["seeds"]),
            "{}",
            case.describe()
        );
    }

    // Both front ends serve the default model (MusiCNN) of the two the catalog holds.
    let table = stdout(&ok(
        musicrec(&["recommend", "--db", s(&db), "--seed", &metal.to_string()]),
        "recommend table",
    ));
    let (_, api) = server
        .request(
            "POST",
            "/api/recommend",
            &json!({ "seeds": [metal] }).to_string(),
        )
        .unwrap();
    let served = api["model"].as_str().unwrap();
    assert!(served.starts_with("musicnn"), "server serves {served}");
    assert!(table.contains(&format!("(model {served},")), "{table}");

    // A request one front end refuses, the other refuses.
    for refused in [
        case(vec![metal], "cf", "euclidean", Some("bob"), None),
        case(vec![metal], "cf", "cosine", Some("nobody-yet"), None),
        case(vec![], "similarity", "cosine", Some("nobody-yet"), None),
    ] {
        let cli = musicrec(&refused.cli_args(&db));
        assert!(
            !cli.status.success(),
            "{}: CLI accepted",
            refused.describe()
        );
        let (status, api) = server
            .request("POST", "/api/recommend", &refused.body())
            .unwrap();
        assert!(
            (400..500).contains(&status),
            "{}: server answered {status} {api}",
            refused.describe()
        );
    }
}

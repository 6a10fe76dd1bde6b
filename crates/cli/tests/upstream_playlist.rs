//! `musicrec mix|recommend --to-upstream-playlist NAME` through the built binary against a real
//! Subsonic server: Supysonic over the same real clips as the catalog
//! (`musicrec_testkit::supysonic`). The playlist read back from Supysonic holds the songs the
//! command printed, in order (those it does not have left out and named); the same name again
//! replaces it; a wrong password, a missing `--upstream`, user or password and a server that is
//! gone are one-line errors.
//!
//! Needs `$MUSICREC_SUBSONIC_PYTHON` (a venv with `.ci/python/subsonic.txt`) and the shared data;
//! without them the test is skipped with a note, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Output;

use musicrec_testkit::data::shared_data;
use musicrec_testkit::supysonic::{self, PASSWORD, Supysonic, USER};
use serde_json::Value;

mod common;
use common::{command, ok, ok_stdout, one_line_error, s, stderr};

const NAME: &str = "musicrec test";
const GENRES: [&str; 5] = ["blues", "classical", "jazz", "metal", "pop"];
const PER_GENRE: usize = 2;

/// The binary with `args` and the upstream password `password` (none: unset), the caller's
/// upstream user unset.
fn run(args: &[&str], password: Option<&str>) -> Output {
    let mut command = command();
    command.args(args).env_remove("MUSICREC_UPSTREAM_USER");
    match password {
        Some(p) => command.env("MUSICREC_UPSTREAM_PASSWORD", p),
        None => command.env_remove("MUSICREC_UPSTREAM_PASSWORD"),
    };
    command.output().expect("run musicrec")
}

/// The paths of an M3U's songs, in order.
fn m3u_paths(m3u: &str) -> Vec<PathBuf> {
    m3u.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(PathBuf::from)
        .collect()
}

/// The id and the songs' paths (relative to Supysonic's music folder) of the playlist `NAME`;
/// panics unless there is exactly one.
fn read_back(server: &Supysonic) -> (String, Vec<String>) {
    let lists = server.call("getPlaylists", &[]);
    let lists = match &lists["playlists"]["playlist"] {
        Value::Array(items) => items.clone(),
        Value::Object(one) => vec![Value::Object(one.clone())],
        _ => Vec::new(),
    };
    let named: Vec<&Value> = lists.iter().filter(|p| p["name"] == NAME).collect();
    assert_eq!(named.len(), 1, "one playlist {NAME:?}: {lists:?}");
    let id = match &named[0]["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let list = server.call("getPlaylist", &[("id", &id)]);
    let entries = match &list["playlist"]["entry"] {
        Value::Array(items) => items.clone(),
        Value::Object(one) => vec![Value::Object(one.clone())],
        _ => Vec::new(),
    };
    let paths = entries
        .iter()
        .map(|e| {
            e["path"]
                .as_str()
                .unwrap_or_else(|| panic!("no path: {e}"))
                .to_owned()
        })
        .collect();
    (id, paths)
}

/// Each catalog path ends with the upstream path at the same place.
fn assert_same_songs(printed: &[PathBuf], upstream: &[String]) {
    assert_eq!(
        printed.len(),
        upstream.len(),
        "{printed:?} vs upstream {upstream:?}"
    );
    for (p, u) in printed.iter().zip(upstream) {
        assert!(
            p.ends_with(Path::new(u)),
            "{printed:?} vs upstream {upstream:?}"
        );
    }
}

#[test]
fn mix_and_recommend_make_and_replace_a_playlist_on_supysonic() {
    let Some(python) = supysonic::python() else {
        return;
    };
    let Some(data) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    for genre in GENRES {
        let folder = music.join(genre);
        std::fs::create_dir_all(&folder).unwrap();
        for id in 0..PER_GENRE {
            let name = format!("{genre}.{id:05}.wav");
            std::fs::copy(
                data.join("gtzan-mini").join(genre).join(&name),
                folder.join(&name),
            )
            .unwrap();
        }
    }
    let db = dir.path().join("catalog.db");
    ok(
        run(&["scan", s(&music), "--db", s(&db), "--model", "cnn"], None),
        "scan",
    );
    let server = Supysonic::start(&python, &music);
    let url = server.url();
    let seed = music.join("jazz").join("jazz.00000.wav");
    let upstream_args = [
        "--to-upstream-playlist",
        NAME,
        "--upstream",
        url.as_str(),
        "--upstream-user",
        USER,
    ];

    // A mix: its M3U on stdout as without the option, the same songs in the playlist, in order.
    let mut mix = vec!["mix", "--seed", s(&seed), "--count", "4", "--db", s(&db)];
    mix.extend(upstream_args);
    let out = run(&mix, Some(PASSWORD));
    let report = stderr(&out);
    let printed = m3u_paths(&ok_stdout(out, "mix --to-upstream-playlist"));
    eprintln!("mix: {printed:?}\n{report}");
    assert_eq!(printed.len(), 4, "{printed:?}");
    assert!(
        report.contains(&format!(
            "playlist \"{NAME}\" on {url}: created with 4 songs"
        )),
        "{report}"
    );
    let (id, upstream) = read_back(&server);
    assert_same_songs(&printed, &upstream);

    // Recommendations under the same name: the playlist replaced, not a second one.
    let mut recommend = vec![
        "recommend",
        "--seed",
        s(&seed),
        "-k",
        "3",
        "--db",
        s(&db),
        "--format",
        "json",
    ];
    recommend.extend(upstream_args);
    let out = run(&recommend, Some(PASSWORD));
    let report = stderr(&out);
    let json: Value = serde_json::from_str(&ok_stdout(out, "recommend --to-upstream-playlist"))
        .expect("recommend's JSON as without the option");
    let printed: Vec<PathBuf> = json["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| PathBuf::from(r["path"].as_str().unwrap()))
        .collect();
    eprintln!("recommend: {printed:?}\n{report}");
    assert!(
        report.contains(&format!(
            "playlist \"{NAME}\" on {url}: replaced with 3 songs"
        )),
        "{report}"
    );
    let (same_id, upstream) = read_back(&server);
    assert_eq!(same_id, id, "replaced, not a second playlist");
    assert_same_songs(&printed, &upstream);

    // Songs the upstream does not have (added after it scanned): left out, and named.
    let rock = music.join("rock");
    std::fs::create_dir_all(&rock).unwrap();
    for id in 0..2 {
        let name = format!("rock.{id:05}.wav");
        std::fs::copy(data.join("gtzan-mini/rock").join(&name), rock.join(&name)).unwrap();
    }
    ok(
        run(&["scan", s(&music), "--db", s(&db), "--model", "cnn"], None),
        "scan again",
    );
    let mut everything = vec![
        "mix",
        "--seed",
        s(&seed),
        "--count",
        "11",
        "--max-per-artist",
        "0",
        "--db",
        s(&db),
    ];
    everything.extend(upstream_args);
    let out = run(&everything, Some(PASSWORD));
    let report = stderr(&out);
    let printed = m3u_paths(&ok_stdout(out, "mix of everything"));
    eprintln!("{report}");
    assert_eq!(printed.len(), 11, "{printed:?}");
    assert!(
        report.contains(&format!(
            "playlist \"{NAME}\" on {url}: replaced with 9 songs (2 not on the upstream: rock.0000"
        )),
        "{report}"
    );
    let on_upstream: Vec<PathBuf> = printed
        .into_iter()
        .filter(|p| !p.starts_with(&rock))
        .collect();
    assert_same_songs(&on_upstream, &read_back(&server).1);

    // A wrong password: one line that says what to check, a failure status.
    let out = run(&mix, Some("not-the-password"));
    eprintln!("{}", stderr(&out));
    one_line_error(
        &out,
        &[
            "Wrong username or password",
            "MUSICREC_UPSTREAM_PASSWORD",
            NAME,
        ],
    );
    assert_eq!(read_back(&server).1.len(), 9, "left as it was");

    // What is missing is said before any work.
    let base = ["mix", "--seed", s(&seed), "--count", "4", "--db", s(&db)];
    let mut no_url = base.to_vec();
    no_url.extend(["--to-upstream-playlist", NAME, "--upstream-user", USER]);
    one_line_error(
        &run(&no_url, Some(PASSWORD)),
        &["--upstream http://HOST:PORT"],
    );
    let mut no_user = base.to_vec();
    no_user.extend(["--to-upstream-playlist", NAME, "--upstream", &url]);
    one_line_error(
        &run(&no_user, Some(PASSWORD)),
        &["--upstream-user", "MUSICREC_UPSTREAM_USER"],
    );
    let out = run(&mix, None);
    one_line_error(&out, &["MUSICREC_UPSTREAM_PASSWORD"]);
    assert!(out.stdout.is_empty(), "no mix printed before the error");

    // The server gone.
    drop(server);
    let out = run(&mix, Some(PASSWORD));
    eprintln!("{}", stderr(&out));
    one_line_error(&out, &["cannot reach", url.as_str()]);
}

//! Feedback, `recommend --user` (content, cf, hybrid) and the listening-experiment commands end
//! to end through the built binary on real clips: a tiny model (2 epochs, quarter width) trained
//! on three GTZAN-mini genres, one scan, then the flows and their one-line errors.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use musicrec_testkit::data::shared_data;

mod common;
use common::{musicrec, ok, stderr, stdout};

const GENRES: [&str; 3] = ["classical", "metal", "reggae"];

struct Library {
    _dir: tempfile::TempDir,
    data: PathBuf,
    model: PathBuf,
    db: PathBuf,
}

impl Library {
    fn genre_dirs(&self) -> Vec<PathBuf> {
        GENRES
            .iter()
            .map(|g| self.data.join("gtzan-mini").join(g))
            .collect()
    }

    fn clip(&self, genre: &str, id: usize) -> PathBuf {
        self.data
            .join("gtzan-mini")
            .join(genre)
            .join(format!("{genre}.{id:05}.wav"))
    }

    fn scan_args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec!["scan".into()];
        args.extend(self.genre_dirs().into_iter().map(Into::into));
        args.extend([
            "--db".into(),
            self.db.clone().into(),
            "--model".into(),
            self.model.clone().into(),
        ]);
        args
    }
}

/// A tiny model (2 epochs, quarter width) trained on the three genres, and one scan of them:
/// built once per test binary; each test uses its own users and study names.
fn library() -> Option<&'static Library> {
    static LIBRARY: OnceLock<Option<Library>> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let data = shared_data()?;
            let dir = tempfile::tempdir().unwrap();
            let manifest = dir.path().join("manifest.csv");
            let mut csv = String::from("path,label,split\n");
            for genre in GENRES {
                for id in 0..10 {
                    let split = if id < 7 { "train" } else { "validation" };
                    let path = data
                        .join("gtzan-mini")
                        .join(genre)
                        .join(format!("{genre}.{id:05}.wav"));
                    csv.push_str(&format!("{},{genre},{split}\n", path.display()));
                }
            }
            std::fs::write(&manifest, csv).unwrap();
            let cache = dir.path().join("cache");
            ok(
                musicrec(&[
                    "dataset".as_ref(),
                    "prepare".as_ref(),
                    manifest.as_os_str(),
                    "--cache".as_ref(),
                    cache.as_os_str(),
                    "--preset".as_ref(),
                    "choi".as_ref(),
                ]),
                "dataset prepare",
            );
            let model = dir.path().join("model");
            ok(
                musicrec(&[
                    "train".as_ref(),
                    "--data".as_ref(),
                    manifest.as_os_str(),
                    "--cache".as_ref(),
                    cache.as_os_str(),
                    "--out".as_ref(),
                    model.as_os_str(),
                    "--epochs".as_ref(),
                    "2".as_ref(),
                    "--width-scale".as_ref(),
                    "0.25".as_ref(),
                ]),
                "train",
            );
            let library = Library {
                data,
                model,
                db: dir.path().join("catalog.db"),
                _dir: dir,
            };
            ok(musicrec(&library.scan_args()), "first scan");
            Some(library)
        })
        .as_ref()
}

fn db_args(lib: &Library) -> [std::ffi::OsString; 2] {
    ["--db".into(), lib.db.clone().into()]
}

fn run(lib: &Library, args: &[&str]) -> Output {
    let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    all.extend(db_args(lib));
    musicrec(&all)
}

fn fails(out: Output, needle: &str) {
    assert!(!out.status.success(), "should fail: {}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
}

fn path_text(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn recommend_json(lib: &Library, extra: &[&str]) -> Vec<i64> {
    let mut args = vec!["recommend", "--format", "json"];
    args.extend(extra);
    let out = ok(run(lib, &args), "recommend");
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    json["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn feedback_steers_recommendations_and_cf_and_hybrid_run() {
    let Some(lib) = library() else { return };
    let seed = path_text(&lib.clip("classical", 0));
    let before = recommend_json(lib, &["--seed", &seed, "-k", "8"]);
    let disliked = before[0].to_string();
    let liked = path_text(&lib.clip("metal", 2));
    ok(
        run(
            lib,
            &[
                "feedback",
                "--user",
                "ann",
                "--track",
                &disliked,
                "--dislike",
            ],
        ),
        "dislike",
    );
    let out = ok(
        run(
            lib,
            &["feedback", "--user", "ann", "--track", &liked, "--like"],
        ),
        "like",
    );
    assert!(stdout(&out).contains("ann likes"), "{}", stdout(&out));
    let after = recommend_json(lib, &["--seed", &seed, "-k", "8", "--user", "ann"]);
    assert!(
        !after.contains(&before[0]),
        "the disliked track never comes back"
    );
    assert_ne!(before, after, "feedback changes the ranking");
    // The whole ranking, before and after: every metal track (the liked clip's genre) moves up
    // on average, and the disliked track is gone from anywhere in it.
    let mean_metal_rank = |extra: &[&str]| -> f64 {
        let mut args = vec!["recommend", "--format", "json", "--seed", &seed, "-k", "40"];
        args.extend(extra);
        let json: serde_json::Value =
            serde_json::from_str(&stdout(&ok(run(lib, &args), "recommend"))).unwrap();
        let ranks: Vec<usize> = json["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                let path = e["path"].as_str().unwrap();
                path.contains("/metal/") && !path.ends_with("metal.00002.wav")
            })
            .map(|(rank, _)| rank)
            .collect();
        assert_eq!(ranks.len(), 9, "every other metal clip is ranked: {json}");
        ranks.iter().sum::<usize>() as f64 / ranks.len() as f64
    };
    let (metal_before, metal_after) = (mean_metal_rank(&[]), mean_metal_rank(&["--user", "ann"]));
    assert!(
        metal_after < metal_before - 1.0,
        "liking a metal clip moves metal up: mean rank {metal_before} -> {metal_after}"
    );
    // Seeded by her likes alone.
    assert_eq!(recommend_json(lib, &["--user", "ann", "-k", "3"]).len(), 3);

    // Other listeners, so CF has something to learn from.
    for (user, clips) in [
        ("bob", [("metal", 2), ("metal", 4), ("metal", 5)]),
        ("cy", [("metal", 2), ("metal", 4), ("reggae", 3)]),
    ] {
        for (genre, id) in clips {
            let track = path_text(&lib.clip(genre, id));
            ok(
                run(
                    lib,
                    &["feedback", "--user", user, "--track", &track, "--like"],
                ),
                "like",
            );
        }
    }
    let cf = recommend_json(lib, &["--user", "ann", "--method", "cf", "-k", "3"]);
    assert!(!cf.is_empty() && !cf.contains(&before[0]));
    let hybrid = recommend_json(lib, &["--user", "ann", "--method", "hybrid", "-k", "5"]);
    assert_eq!(
        hybrid.len(),
        5,
        "the hybrid falls back to content for unrated songs"
    );
    assert!(!hybrid.contains(&before[0]));
    let table = ok(
        run(lib, &["recommend", "--user", "ann", "--method", "hybrid"]),
        "table",
    );
    assert!(
        stdout(&table).contains("hybrid 0.50 x CF"),
        "{}",
        stdout(&table)
    );

    // A listener with no feedback yet gets the plain recommendations (issue 15's defect).
    fails(
        run(lib, &["recommend", "--user", "nobody"]),
        "nobody has liked nothing yet",
    );
    let plain = run(lib, &["recommend", "--seed", &seed, "--format", "json"]);
    let new_user = run(
        lib,
        &[
            "recommend",
            "--seed",
            &seed,
            "--user",
            "nobody",
            "--format",
            "json",
        ],
    );
    assert!(new_user.status.success(), "{}", stderr(&new_user));
    assert_eq!(stdout(&new_user), stdout(&plain));
    fails(
        run(lib, &["recommend", "--seed", &seed, "--method", "cf"]),
        "add --user",
    );
    fails(
        run(
            lib,
            &[
                "feedback",
                "--user",
                "ann",
                "--track",
                "/no/such.wav",
                "--like",
            ],
        ),
        "no track",
    );
}

/// The track ids of a session's printed list, and the session id.
fn parse_session(out: &Output) -> (String, Vec<String>) {
    let text = stdout(out);
    let first = text.lines().next().unwrap();
    let id = first.split_whitespace().nth(1).unwrap().to_owned();
    let items = text
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
        .collect();
    (id, items)
}

#[test]
fn a_blind_listening_experiment_from_sessions_to_analysis() {
    let Some(lib) = library() else { return };
    ok(
        run(
            lib,
            &[
                "experiment",
                "new",
                "--name",
                "blind",
                "--methods",
                "similarity,genre",
                "--k",
                "4",
                "--decoys",
                "6",
            ],
        ),
        "new",
    );
    fails(
        run(
            lib,
            &[
                "experiment",
                "new",
                "--name",
                "blind",
                "--methods",
                "similarity,genre",
            ],
        ),
        "already exists",
    );
    fails(
        run(
            lib,
            &[
                "experiment",
                "new",
                "--name",
                "x",
                "--methods",
                "similarity,magic",
            ],
        ),
        "unknown study method",
    );
    let mut sessions = Vec::new();
    for (p, genre) in [("p1", "classical"), ("p2", "metal"), ("p3", "reggae")] {
        let seeds: Vec<String> = (0..3).map(|i| path_text(&lib.clip(genre, i))).collect();
        let mut args = vec![
            "experiment",
            "session",
            "--study",
            "blind",
            "--participant",
            p,
        ];
        for s in &seeds {
            args.extend(["--seed", s.as_str()]);
        }
        let out = ok(run(lib, &args), "session");
        let text = stdout(&out);
        for hidden in ["similarity", "genre", "decoy"] {
            assert!(
                !text.to_lowercase().contains(hidden),
                "origins must not show: {text}"
            );
        }
        let (id, items) = parse_session(&out);
        assert!(items.len() >= 10 && items.len() <= 14, "{text}");
        if p == "p1" {
            fails(run(lib, &args), "already has session");
        }
        sessions.push((id, items));
    }
    // p1 likes the first half of the list, p2 every third item, p3 only answers later.
    for (n, (session, items)) in sessions.iter().take(2).enumerate() {
        for (i, track) in items.iter().enumerate() {
            let like = if n == 0 {
                i < items.len() / 2
            } else {
                i % 3 == 0
            };
            let flag = if like { "--like" } else { "--dislike" };
            ok(
                run(
                    lib,
                    &[
                        "experiment",
                        "respond",
                        "--session",
                        session,
                        "--track",
                        track,
                        flag,
                    ],
                ),
                "respond",
            );
        }
    }
    // A track that is not in the session; an unknown session.
    let outsider = sessions[1]
        .1
        .iter()
        .find(|t| !sessions[0].1.contains(t))
        .unwrap();
    fails(
        run(
            lib,
            &[
                "experiment",
                "respond",
                "--session",
                &sessions[0].0,
                "--track",
                outsider,
                "--like",
            ],
        ),
        "not in session",
    );
    fails(
        run(
            lib,
            &[
                "experiment",
                "respond",
                "--session",
                "9999",
                "--track",
                outsider,
                "--like",
            ],
        ),
        "no session",
    );
    // Round 2 with one participant only: refused, round 1 still intact.
    ok(
        run(
            lib,
            &[
                "experiment",
                "respond",
                "--session",
                &sessions[0].0,
                "--track",
                &sessions[0].1[0],
                "--dislike",
                "--round",
                "2",
            ],
        ),
        "round 2",
    );
    fails(
        run(
            lib,
            &["experiment", "analyze", "--study", "blind", "--round", "2"],
        ),
        "at least two",
    );
    fails(
        run(lib, &["experiment", "analyze", "--study", "nope"]),
        "no study named",
    );

    let out_dir = lib.db.with_file_name("blind-report");
    let out = ok(
        run(
            lib,
            &[
                "experiment",
                "analyze",
                "--study",
                "blind",
                "--out",
                out_dir.to_str().unwrap(),
            ],
        ),
        "analyze",
    );
    let text = stdout(&out);
    assert!(text.contains("2 participants"), "{text}");
    assert!(text.contains("decoy (floor)"), "{text}");
    assert!(
        text.contains("paired t-test") && text.contains("Wilcoxon"),
        "{text}"
    );
    assert!(text.contains("Left out: p3"), "{text}");
    assert!(!text.to_lowercase().contains("simulated"), "{text}");
    for file in ["analysis.md", "analysis.json", "like_rates.png"] {
        assert!(out_dir.join(file).is_file(), "{file}");
    }
}

#[test]
fn a_simulated_study_says_so_everywhere() {
    let Some(lib) = library() else { return };
    ok(
        run(
            lib,
            &[
                "experiment",
                "new",
                "--name",
                "virtual",
                "--methods",
                "similarity,genre",
            ],
        ),
        "new",
    );
    let out = ok(
        run(
            lib,
            &[
                "experiment",
                "simulate",
                "--study",
                "virtual",
                "--listeners",
                "12",
                "--seed",
                "3",
            ],
        ),
        "simulate",
    );
    assert!(
        stdout(&out).starts_with("SIMULATED: 12 virtual listeners"),
        "{}",
        stdout(&out)
    );
    let out = ok(
        run(lib, &["experiment", "analyze", "--study", "virtual"]),
        "analyze",
    );
    let text = stdout(&out);
    assert!(
        text.contains("(simulated)") && text.contains("SIMULATED study"),
        "{text}"
    );
    assert!(text.contains("12 participants"), "{text}");
    // Real people do not join a simulated study.
    let seed = path_text(&lib.clip("classical", 0));
    fails(
        run(
            lib,
            &[
                "experiment",
                "session",
                "--study",
                "virtual",
                "--participant",
                "human",
                "--seed",
                &seed,
            ],
        ),
        "simulated",
    );
}

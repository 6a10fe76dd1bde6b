//! End to end through the built binary on real clips: train a tiny model, `scan` three GTZAN-mini
//! genres into a temporary catalog, `recommend` from five seeds (JSON, M3U, table), rescan
//! incrementally, `stats`, and the one-line errors of bad input.

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
    first_scan: String,
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

    fn recommend(&self, extra: &[&str], seeds: &[PathBuf]) -> Output {
        let mut args: Vec<std::ffi::OsString> =
            vec!["recommend".into(), "--db".into(), self.db.clone().into()];
        for seed in seeds {
            args.push("--seed".into());
            args.push(seed.clone().into());
        }
        args.extend(extra.iter().map(Into::into));
        musicrec(&args)
    }
}

/// A tiny model (2 epochs, quarter width) trained on the three genres, and one scan of them:
/// built once per test binary.
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
            let mut library = Library {
                data,
                model,
                db: dir.path().join("catalog.db"),
                first_scan: String::new(),
                _dir: dir,
            };
            let scan = ok(musicrec(&library.scan_args()), "first scan");
            library.first_scan = stdout(&scan);
            Some(library)
        })
        .as_ref()
}

fn five_seeds(lib: &Library) -> Vec<PathBuf> {
    vec![
        lib.clip("classical", 0),
        lib.clip("classical", 1),
        lib.clip("metal", 0),
        lib.clip("metal", 1),
        lib.clip("reggae", 0),
    ]
}

#[test]
fn scan_embeds_every_clip_and_rescan_is_incremental() {
    let Some(lib) = library() else { return };
    assert!(
        lib.first_scan
            .contains("30 files: 30 added, 0 updated, 0 moved, 0 unchanged, 0 missing, 0 failed"),
        "{}",
        lib.first_scan
    );
    let rescan = ok(musicrec(&lib.scan_args()), "rescan");
    assert!(
        stdout(&rescan)
            .contains("30 files: 0 added, 0 updated, 0 moved, 30 unchanged, 0 missing, 0 failed"),
        "{}",
        stdout(&rescan)
    );
    let stats = ok(
        musicrec(&[
            "stats".as_ref(),
            "--db".as_ref(),
            lib.db.as_os_str(),
            "--json".as_ref(),
        ]),
        "stats",
    );
    let stats: serde_json::Value = serde_json::from_str(&stdout(&stats)).unwrap();
    assert_eq!(stats["tracks"], 30);
    assert_eq!(stats["models"][0]["embedded_tracks"], 30);
    let failed = ok(
        musicrec(&[
            "scan".as_ref(),
            "--failed".as_ref(),
            "--db".as_ref(),
            lib.db.as_os_str(),
        ]),
        "scan --failed",
    );
    assert_eq!(stdout(&failed).trim(), "no recorded failures");
}

#[test]
fn recommend_five_from_five_as_json() {
    let Some(lib) = library() else { return };
    let seeds = five_seeds(lib);
    let out = ok(
        lib.recommend(&["--format", "json"], &seeds),
        "recommend json",
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["seeds"].as_array().unwrap().len(), 5);
    let recs = json["recommendations"].as_array().unwrap();
    assert_eq!(recs.len(), 5);
    let seed_paths: Vec<PathBuf> = seeds.iter().map(|s| s.canonicalize().unwrap()).collect();
    let mut previous = f64::INFINITY;
    for rec in recs {
        let path = PathBuf::from(rec["path"].as_str().unwrap());
        assert!(
            !seed_paths.contains(&path),
            "seed returned: {}",
            path.display()
        );
        assert!(path.is_absolute() && path.is_file());
        let score = rec["score"].as_f64().unwrap();
        assert!(score <= previous + 1e-6, "not best first: {recs:?}");
        previous = score;
        assert!(GENRES.contains(&rec["genre"].as_str().unwrap()));
        assert!(rec["id"].as_i64().is_some());
    }
    // Method 2 and another metric answer too, still without seeds.
    let out = ok(
        lib.recommend(
            &[
                "--format", "json", "--method", "genre", "--metric", "pnorm:1", "-k", "3",
            ],
            &seeds,
        ),
        "recommend genre",
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["recommendations"].as_array().unwrap().len(), 3);
}

#[test]
fn recommend_m3u_is_a_playlist_of_absolute_paths() {
    let Some(lib) = library() else { return };
    let out = ok(
        lib.recommend(&["--format", "m3u"], &five_seeds(lib)),
        "recommend m3u",
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#EXTM3U");
    assert_eq!(lines.len(), 1 + 2 * 5, "{text}");
    for pair in lines[1..].chunks(2) {
        let duration: i64 = pair[0]
            .strip_prefix("#EXTINF:")
            .and_then(|rest| rest.split(',').next())
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| panic!("bad EXTINF line {}", pair[0]));
        assert!((15..=31).contains(&duration), "{}", pair[0]);
        let path = Path::new(pair[1]);
        assert!(path.is_absolute() && path.is_file(), "{}", pair[1]);
    }
}

#[test]
fn seeds_by_id_and_table_output() {
    let Some(lib) = library() else { return };
    let out = ok(
        musicrec(&[
            "recommend".as_ref(),
            "--db".as_ref(),
            lib.db.as_os_str(),
            "--seed".as_ref(),
            "1".as_ref(),
            "--model".as_ref(),
            lib.model.as_os_str(),
        ]),
        "recommend by id",
    );
    let text = stdout(&out);
    assert!(text.starts_with("seeds: "), "{text}");
    assert_eq!(text.lines().count(), 2 + 5, "{text}");
}

#[test]
fn k_larger_than_the_catalog_returns_what_exists_with_a_note() {
    let Some(lib) = library() else { return };
    let out = ok(
        lib.recommend(&["--format", "json", "-k", "100"], &five_seeds(lib)),
        "recommend k=100",
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["recommendations"].as_array().unwrap().len(), 25);
    assert!(stderr(&out).contains("note: 25 of 100"), "{}", stderr(&out));
}

fn one_line_error(out: &Output, needle: &str) {
    assert!(!out.status.success());
    let err = stderr(out);
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
}

#[test]
fn bad_input_is_a_one_line_error() {
    let Some(lib) = library() else { return };
    one_line_error(
        &lib.recommend(&[], &[PathBuf::from("Nobody - No Such Song 123")]),
        "no track in the catalog matches",
    );
    // A real file that was never scanned.
    one_line_error(
        &lib.recommend(&[], &[lib.clip("jazz", 0)]),
        "not in the catalog",
    );
    let missing_db = lib.db.with_file_name("none.db");
    one_line_error(
        &musicrec(&[
            "recommend".as_ref(),
            "--db".as_ref(),
            missing_db.as_os_str(),
            "--seed".as_ref(),
            "1".as_ref(),
        ]),
        "no catalog at",
    );
    // A catalog without any scan.
    let empty_db = lib.db.with_file_name("empty.db");
    drop(musicrec_catalog_sqlite::SqliteStore::open(&empty_db).unwrap());
    let stats = ok(
        musicrec(&["stats".as_ref(), "--db".as_ref(), empty_db.as_os_str()]),
        "stats of an empty catalog",
    );
    assert!(
        stdout(&stats).contains("no model yet"),
        "{}",
        stdout(&stats)
    );
    one_line_error(
        &musicrec(&[
            "recommend".as_ref(),
            "--db".as_ref(),
            empty_db.as_os_str(),
            "--seed".as_ref(),
            "1".as_ref(),
        ]),
        "the catalog is empty",
    );
    // A model directory that never scanned this catalog (same config, other weights).
    let other = lib.db.with_file_name("other-model");
    std::fs::create_dir_all(&other).unwrap();
    for name in ["config.json", "weights.safetensors"] {
        std::fs::copy(lib.model.join(name), other.join(name)).unwrap();
    }
    let mut weights = std::fs::read(other.join("weights.safetensors")).unwrap();
    let last = weights.len() - 1;
    weights[last] ^= 1;
    std::fs::write(other.join("weights.safetensors"), weights).unwrap();
    let mut args: Vec<std::ffi::OsString> = vec!["--model".into(), other.into()];
    args.insert(0, "recommend".into());
    args.extend([
        "--db".into(),
        lib.db.clone().into(),
        "--seed".into(),
        "1".into(),
    ]);
    one_line_error(&musicrec(&args), "was never used to scan this catalog");
}

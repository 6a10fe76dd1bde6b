//! `musicrec path` and `musicrec mix` through the built binary on real clips: a path from metal
//! to classical moves steadily (checked against the catalog's own embeddings), a mix is varied,
//! capped per artist and round-trips through M3U (`--base`, `--seeds-from`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use musicrec_catalog::CatalogStore;
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_testkit::data::shared_data;
use serde_json::Value;

mod common;
use common::{musicrec, ok, ok_stdout, one_line_error, s, stderr};

const GENRES: [&str; 4] = ["metal", "classical", "jazz", "pop"];
const PER_GENRE: usize = 8;

struct Library {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Library {
    fn clip(&self, genre: &str, id: usize) -> PathBuf {
        std::fs::canonicalize(
            self.dir
                .path()
                .join("music")
                .join(genre)
                .join(format!("{genre}.{id:05}.wav")),
        )
        .unwrap()
    }

    /// Unit embeddings by catalog id, read from the catalog itself.
    fn embeddings(&self) -> HashMap<i64, Vec<f32>> {
        let store = SqliteStore::open(&self.db).unwrap();
        let model = store.model_ids().unwrap().remove(0);
        let set = store.load_embeddings(&model).unwrap();
        set.tracks
            .iter()
            .enumerate()
            .map(|(row, t)| {
                let v = set.embedding(row);
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                (t.id.0, v.iter().map(|x| x / norm).collect())
            })
            .collect()
    }
}

/// The first clips of four genres copied into one folder and scanned with the small CNN: once
/// per test binary.
fn library() -> Option<&'static Library> {
    static LIBRARY: OnceLock<Option<Library>> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let data = shared_data()?;
            let dir = tempfile::tempdir().unwrap();
            for genre in GENRES {
                let folder = dir.path().join("music").join(genre);
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
                musicrec(&[
                    "scan",
                    s(&dir.path().join("music")),
                    "--db",
                    s(&db),
                    "--model",
                    "cnn",
                ]),
                "scan",
            );
            Some(Library { dir, db })
        })
        .as_ref()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn a_path_from_metal_to_classical_moves_steadily() {
    let Some(lib) = library() else { return };
    let (from, to) = (lib.clip("metal", 0), lib.clip("classical", 0));
    let out = ok_stdout(
        musicrec(&[
            "path",
            "--from",
            s(&from),
            "--to",
            s(&to),
            "--count",
            "8",
            "--format",
            "json",
            "--db",
            s(&lib.db),
        ]),
        "path",
    );
    let steps: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(steps.len() >= 3 && steps.len() <= 8, "{out}");
    let path_of = |v: &Value| PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(path_of(&steps[0]), from);
    assert_eq!(path_of(steps.last().unwrap()), to);
    let ids: Vec<i64> = steps.iter().map(|v| v["id"].as_i64().unwrap()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "a song twice: {ids:?}");

    // Monotone by the catalog's own embeddings, not only by the figures the command printed.
    let vectors = lib.embeddings();
    let (start, end) = (&vectors[&ids[0]], &vectors[ids.last().unwrap()]);
    let to_start: Vec<f32> = ids.iter().map(|id| cosine(&vectors[id], start)).collect();
    let to_end: Vec<f32> = ids.iter().map(|id| cosine(&vectors[id], end)).collect();
    assert!(to_start.windows(2).all(|w| w[1] < w[0]), "{to_start:?}");
    assert!(to_end.windows(2).all(|w| w[1] > w[0]), "{to_end:?}");
    for (step, (a, b)) in steps.iter().zip(to_start.iter().zip(&to_end)) {
        assert!((step["similarity_to_start"].as_f64().unwrap() - f64::from(*a)).abs() < 1e-4);
        assert!((step["similarity_to_end"].as_f64().unwrap() - f64::from(*b)).abs() < 1e-4);
    }

    // Table and M3U forms; bad requests are one-line errors.
    let table = ok_stdout(
        musicrec(&[
            "path",
            "--from",
            s(&from),
            "--to",
            s(&to),
            "--db",
            s(&lib.db),
        ]),
        "path table",
    );
    assert!(table.starts_with("path of "), "{table}");
    let m3u = ok_stdout(
        musicrec(&[
            "path",
            "--from",
            s(&from),
            "--to",
            s(&to),
            "--count",
            "8",
            "--format",
            "m3u",
            "--db",
            s(&lib.db),
        ]),
        "path m3u",
    );
    assert_eq!(
        m3u.lines().filter(|l| l.starts_with('/')).count(),
        steps.len()
    );
    one_line_error(
        &musicrec(&[
            "path",
            "--from",
            s(&from),
            "--to",
            s(&from),
            "--db",
            s(&lib.db),
        ]),
        &["same song"],
    );
    one_line_error(
        &musicrec(&[
            "path",
            "--from",
            s(&from),
            "--to",
            s(&to),
            "--count",
            "1",
            "--db",
            s(&lib.db),
        ]),
        &["--count"],
    );
}

#[test]
fn a_mix_is_varied_capped_and_round_trips_through_m3u() {
    let Some(lib) = library() else { return };
    let seed = lib.clip("jazz", 0);
    let mix = |extra: &[&str]| -> Value {
        let mut args = vec![
            "mix",
            "--seed",
            s(&seed),
            "--db",
            s(&lib.db),
            "--format",
            "json",
        ];
        args.extend(extra);
        serde_json::from_str(&ok_stdout(musicrec(&args), "mix")).unwrap()
    };
    let ids = |v: &Value| -> Vec<i64> {
        v["mix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect()
    };
    // Untagged clips count by folder: a cap of 3 per "artist" keeps every genre folder to 3.
    let capped = mix(&["--count", "10", "--max-per-artist", "3"]);
    assert_eq!(ids(&capped).len(), 10);
    let mut per_folder: HashMap<String, usize> = HashMap::new();
    for m in capped["mix"].as_array().unwrap() {
        let folder = Path::new(m["path"].as_str().unwrap()).parent().unwrap();
        *per_folder.entry(folder.display().to_string()).or_default() += 1;
    }
    assert!(per_folder.values().all(|&n| n <= 3), "{per_folder:?}");
    assert!(!ids(&capped).contains(&capped["seeds"][0]["id"].as_i64().unwrap()));

    // Variety: the mix's songs are less alike among themselves than the plain ranking's.
    let vectors = lib.embeddings();
    let spread = |ids: &[i64]| -> f32 {
        let mut total = 0.0;
        let mut pairs = 0.0;
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                total += cosine(&vectors[a], &vectors[b]);
                pairs += 1.0;
            }
        }
        total / pairs
    };
    let plain = ids(&mix(&[
        "--count",
        "8",
        "--variety",
        "0",
        "--max-per-artist",
        "0",
    ]));
    let varied = ids(&mix(&[
        "--count",
        "8",
        "--variety",
        "0.6",
        "--max-per-artist",
        "0",
    ]));
    assert_eq!(plain.len(), 8);
    assert_eq!(varied.len(), 8);
    assert_ne!(plain, varied);
    assert!(
        spread(&varied) < spread(&plain),
        "varied {} vs plain {}",
        spread(&varied),
        spread(&plain)
    );

    // M3U with paths relative to the music folder, and a mix seeded from that playlist.
    let music = std::fs::canonicalize(lib.dir.path().join("music")).unwrap();
    let playlist = ok_stdout(
        musicrec(&[
            "mix",
            "--seed",
            s(&seed),
            "--db",
            s(&lib.db),
            "--count",
            "5",
            "--base",
            s(&music),
        ]),
        "mix m3u",
    );
    let lines: Vec<&str> = playlist.lines().collect();
    assert_eq!(lines[0], "#EXTM3U");
    let entries: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert_eq!(entries.len(), 5);
    assert!(
        entries
            .iter()
            .all(|e| !e.starts_with('/') && music.join(e).exists()),
        "{playlist}"
    );
    let list = music.join("mix.m3u");
    std::fs::write(&list, format!("{playlist}not/in/catalog.mp3\n")).unwrap();
    let from_list = musicrec(&[
        "mix",
        "--seeds-from",
        s(&list),
        "--db",
        s(&lib.db),
        "--count",
        "4",
        "--format",
        "json",
    ]);
    let out: Value = serde_json::from_str(&ok_stdout(from_list.clone(), "seeds-from")).unwrap();
    assert_eq!(out["seeds"].as_array().unwrap().len(), 5);
    assert_eq!(ids(&out).len(), 4);
    assert!(
        stderr(&from_list).contains("1 of the 6 songs"),
        "{}",
        stderr(&from_list)
    );
    std::fs::remove_file(&list).unwrap();
}

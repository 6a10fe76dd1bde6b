//! `musicrec dataset ...` end to end through the real binary: GTZAN manifest, FMA with bad rows and a
//! missing mp3, clear one-line errors on bad input, and `prepare` killed part way then resumed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use musicrec_datasets::{Manifest, Split};
use musicrec_testkit::data::shared_data;

mod common;
use common::{BIN, musicrec, s, text};

/// Every file under `dir` (relative path, bytes), sorted.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Finished cache entries (`.npy` outside the staging folder); 0 while the cache does not exist.
fn count_entries(cache: &Path) -> usize {
    let Ok(items) = std::fs::read_dir(cache) else {
        return 0;
    };
    items
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.ends_with(".partial"))
        .map(|p| {
            if p.is_dir() {
                count_entries(&p)
            } else {
                usize::from(p.extension().is_some_and(|e| e == "npy"))
            }
        })
        .sum()
}

#[test]
fn gtzan_manifest_split_and_stats() {
    let Some(shared) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sets/gtzan.csv");
    let run = |seed: &str| {
        let o = musicrec(&[
            "dataset",
            "gtzan",
            s(&shared.join("gtzan-mini")),
            "--out",
            s(&out),
            "--seed",
            seed,
            "--min-duration",
            "16",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        (Manifest::read(&out).unwrap(), text(&o.stdout))
    };
    let (a, stdout) = run("5");
    assert!(stdout.contains("dropped, listed in"), "{stdout}");
    let dropped =
        musicrec_datasets::report::read_report(&dir.path().join("sets/gtzan.dropped.csv")).unwrap();
    assert!(
        !dropped.is_empty()
            && dropped
                .iter()
                .all(|d| d.reason == musicrec_datasets::DropReason::TooShort)
    );
    assert_eq!(a.entries.len() + dropped.len(), 100);
    let (b, _) = run("5");
    assert_eq!(a, b, "same seed, same manifest");
    let (c, _) = run("6");
    assert_ne!(a, c);
    // Every genre: 8:1:1 within one clip, and the splits are disjoint by construction (one per row).
    for label in a.labels() {
        let n = a.entries.iter().filter(|e| e.label == label).count() as f64;
        for (split, share) in [
            (Split::Train, 0.8),
            (Split::Validation, 0.1),
            (Split::Test, 0.1),
        ] {
            let k = a.split(split).filter(|e| e.label == label).count() as f64;
            assert!((k - n * share).abs() < 1.0, "{label} {split}: {k} of {n}");
        }
    }
    let o = musicrec(&["dataset", "stats", s(&out)]);
    assert!(o.status.success());
    let stats = text(&o.stdout);
    assert!(
        stats.contains("too_short") && stats.contains("hiphop"),
        "{stats}"
    );
}

#[test]
fn bad_input_gives_one_clear_line_and_writes_nothing() {
    let Some(shared) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.csv");
    let fails_with = |args: &[&str], needle: &str| {
        let o = musicrec(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = text(&o.stderr);
        assert!(
            err.contains(needle),
            "{args:?}: expected '{needle}' in {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            !out.exists() && !dir.path().join("o.dropped.csv").exists(),
            "{args:?} wrote output"
        );
    };
    let mini = shared.join("gtzan-mini");
    fails_with(
        &[
            "dataset",
            "gtzan",
            s(&mini),
            "--out",
            s(&out),
            "--genres",
            "blues,polka",
            "--no-screen",
        ],
        "unknown genre 'polka'; available: blues, classical, country",
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(empty.join("rock")).unwrap();
    fails_with(
        &["dataset", "folder", s(&empty), "--out", s(&out)],
        "no audio files",
    );
    fails_with(
        &[
            "dataset",
            "gtzan",
            s(&dir.path().join("nope")),
            "--out",
            s(&out),
        ],
        "is not a folder",
    );
    fails_with(
        &[
            "dataset",
            "gtzan",
            s(&mini),
            "--out",
            s(&out),
            "--split-ratio",
            "8:1",
        ],
        "8:1",
    );
    fails_with(
        &[
            "dataset",
            "gtzan",
            s(&mini),
            "--out",
            s(&out),
            "--per-genre",
            "0",
            "--no-screen",
        ],
        "--per-genre",
    );
    fails_with(
        &[
            "dataset",
            "prepare",
            s(&dir.path().join("none.csv")),
            "--cache",
            s(&dir.path().join("c")),
        ],
        "none.csv",
    );
}

#[test]
fn fma_keeps_going_past_a_missing_mp3_and_a_malformed_row() {
    let Some(shared) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let tracks = dir.path().join("tracks.csv");
    std::fs::write(
        &tracks,
        "\
,artist,set,set,track,track,track,track
,name,split,subset,genre_top,genres,genres_all,title
track_id,,,,,,,
2,AWOL,training,small,Hip-Hop,[21],[21],Food
3,AWOL,test,small,Hip-Hop,[21],\"[21, 811]\",\"Electric, Ave\"
5,Someone,training,small,Jazz,[4],[4],\"two
lines\"
7,Someone,training,small,Jazz,[4],[4,,broken
9,Other,validation,small,Rock,[12],\"[12, 10]\",Both
",
    )
    .unwrap();
    let audio = dir.path().join("audio");
    std::fs::create_dir_all(audio.join("000")).unwrap();
    for id in ["000002", "000003"] {
        std::fs::copy(
            shared.join("formats/joram-16k-mono.mp3"),
            audio.join(format!("000/{id}.mp3")),
        )
        .unwrap();
    }
    let out = dir.path().join("fma.csv");
    let o = musicrec(&[
        "dataset",
        "fma",
        "--tracks",
        s(&tracks),
        "--genres-csv",
        s(&shared.join("fma/genres.csv")),
        "--audio",
        s(&audio),
        "--subset",
        "small",
        "--split",
        "fma",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let m = Manifest::read(&out).unwrap();
    let ids: Vec<_> = m
        .entries
        .iter()
        .map(|e| e.track_id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["2", "3"]);
    assert_eq!(m.entries[1].split, Some(Split::Test));
    assert_eq!(m.entries[1].title.as_deref(), Some("Electric, Ave"));
    let report = std::fs::read_to_string(dir.path().join("fma.dropped.csv")).unwrap();
    for needle in [
        "000005.mp3,Jazz,5,missing_audio",
        "malformed_row",
        "multi_genre",
    ] {
        assert!(report.contains(needle), "'{needle}' not in\n{report}");
    }
    // Unknown FMA genre: the message lists the 16 top-level genres.
    let o = musicrec(&[
        "dataset",
        "fma",
        "--tracks",
        s(&tracks),
        "--genres-csv",
        s(&shared.join("fma/genres.csv")),
        "--audio",
        s(&audio),
        "--genres",
        "hip-hop,technopop",
        "--out",
        s(&dir.path().join("x.csv")),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("unknown genre 'technopop'") && err.contains("Easy Listening"),
        "{err}"
    );
}

#[test]
fn prepare_killed_part_way_resumes_to_the_same_cache() {
    let Some(shared) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("data.csv");
    let o = musicrec(&[
        "dataset",
        "gtzan",
        s(&shared.join("gtzan-mini")),
        "--out",
        s(&manifest),
        "--no-screen",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let n_clips = Manifest::read(&manifest).unwrap().entries.len();

    // Reference: one uninterrupted run.
    let reference = dir.path().join("reference");
    let o = musicrec(&[
        "dataset",
        "prepare",
        s(&manifest),
        "--cache",
        s(&reference),
        "--jobs",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(count_entries(&reference), n_clips);

    // Interrupted: kill (SIGKILL) once a few entries exist.
    let cache = dir.path().join("cache");
    let mut child = Command::new(BIN)
        .args([
            "dataset",
            "prepare",
            s(&manifest),
            "--cache",
            s(&cache),
            "--jobs",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_entries(&cache) < 3 {
        assert!(Instant::now() < deadline, "prepare wrote nothing in 120 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    let finished_early = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    child.wait().unwrap();
    let done_at_kill = count_entries(&cache);
    assert!(
        !finished_early && done_at_kill < n_clips,
        "prepare finished before it could be killed"
    );

    let o = musicrec(&[
        "dataset",
        "prepare",
        s(&manifest),
        "--cache",
        s(&cache),
        "--jobs",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains(&format!(
            "{} computed, {done_at_kill} already cached",
            n_clips - done_at_kill
        )),
        "finished entries must not be recomputed: {stdout}"
    );
    let resumed = tree(&cache);
    assert_eq!(
        resumed,
        tree(&reference),
        "resumed cache differs from an uninterrupted run"
    );
    assert!(
        resumed
            .iter()
            .all(|(p, _)| !p.to_string_lossy().contains(".partial")
                && !p.to_string_lossy().contains("tmp")),
        "temp files left: {:?}",
        resumed.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
}

#[test]
fn prepare_reports_unreadable_files_and_caches_the_rest() {
    let Some(shared) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.csv");
    let broken = dir.path().join("broken.wav");
    std::fs::write(&broken, b"not audio at all").unwrap();
    std::fs::write(
        &manifest,
        format!(
            "path,label\n{},blues\nbroken.wav,rock\ngone.wav,rock\n",
            shared.join("gtzan-mini/blues/blues.00003.wav").display()
        ),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let o = musicrec(&[
        "dataset",
        "prepare",
        s(&manifest),
        "--cache",
        s(&cache),
        "--preset",
        "choi",
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("broken.wav: cannot decode") && err.contains("gone.wav: cannot read"),
        "{err}"
    );
    assert!(
        text(&o.stdout).contains("1 computed"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(count_entries(&cache), 1);
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["gtzan", "fma", "folder", "manifest", "prepare", "stats"] {
        let o = musicrec(&["dataset", sub, "--help"]);
        assert!(o.status.success(), "{sub}");
        assert!(
            text(&o.stdout).contains("Example"),
            "{sub} help has no example"
        );
    }
}

#[test]
fn hand_written_manifest_artist_filtered() {
    let Some(shared) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mine.csv");
    let mut rows = String::from("path,label,artist\n");
    for genre in ["blues", "jazz", "rock"] {
        for i in 0..10 {
            let path = shared.join(format!("gtzan-mini/{genre}/{genre}.{i:05}.wav"));
            rows += &format!("{},{genre},{genre} player {}\n", path.display(), i % 5);
        }
    }
    rows += "missing-label.wav,,someone\n";
    std::fs::write(&input, rows).unwrap();
    let out = dir.path().join("out.csv");
    let o = musicrec(&[
        "dataset",
        "manifest",
        s(&input),
        "--out",
        s(&out),
        "--artist-filter",
        "--no-screen",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let m = Manifest::read(&out).unwrap();
    assert_eq!(m.entries.len(), 30);
    let mut split_of = std::collections::HashMap::new();
    for e in &m.entries {
        let prev = split_of.insert(e.artist.clone().unwrap(), e.split.unwrap());
        assert!(
            prev.is_none() || prev == e.split,
            "{:?} in two splits",
            e.artist
        );
    }
    let report = std::fs::read_to_string(dir.path().join("out.dropped.csv")).unwrap();
    assert!(
        report.contains("malformed_row") && report.contains("empty label"),
        "{report}"
    );
}

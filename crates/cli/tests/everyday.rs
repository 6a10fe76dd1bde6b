//! Everyday use of the built binary on a small real library (issue 17's CLI section): output into
//! a closed pipe, seeds by text, `tracks`, the recommend table, scan output and exit statuses,
//! errors that say their cause once, the seed limit, the artist cap over untagged folders, and the
//! mode of files `decode` writes.
//!
//! The library: two folders of untagged GTZAN-mini clips ("albums"), one MP3 tagged only with an
//! ID3v1 tag whose title field has junk after its end (the tag reader warns about it), and one
//! broken file. It is scanned once per test binary with the built-in model (whichever it is).

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;

use musicrec_testkit::data::shared_data;

mod common;
use common::{command, musicrec, ok, stderr, stdout};

/// Runs musicrec with its stdout a pipe whose reader is already gone, as in `musicrec ... | true`
/// (every write fails with EPIPE, deterministically).
fn musicrec_into_closed_pipe<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    command()
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run musicrec")
        .wait_with_output()
        .expect("wait for musicrec")
}

/// Asserts exit status 2 ("nothing could be done") and a message containing `needle`.
fn nothing_done(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stderr(out).contains(needle), "{}", stderr(out));
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

struct Library {
    dir: tempfile::TempDir,
    lib: PathBuf,
    db: PathBuf,
    first_scan: Output,
}

impl Library {
    fn db_args(&self) -> [std::ffi::OsString; 2] {
        ["--db".into(), self.db.clone().into()]
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<std::ffi::OsString> = vec![args[0].into()];
        all.extend(self.db_args());
        all.extend(args[1..].iter().map(Into::into));
        musicrec(&all)
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = ok(self.run(args), &format!("{args:?}"));
        serde_json::from_str(&stdout(&out)).unwrap()
    }

    fn album(&self, name: &str) -> PathBuf {
        self.lib.join(name)
    }
}

/// An ID3v1 tag (the last 128 bytes of an MP3) whose title field holds junk after its end.
fn id3v1(title: &str, artist: &str, genre: u8) -> Vec<u8> {
    let field = |text: &str, len: usize| {
        let mut bytes = text.as_bytes().to_vec();
        bytes.resize(len, 0);
        bytes
    };
    let mut tag = b"TAG".to_vec();
    let mut title_field = field(title, 30);
    title_field[title.len() + 1..title.len() + 5].copy_from_slice(b"junk");
    tag.extend(title_field);
    tag.extend(field(artist, 30));
    tag.extend(field("", 30)); // album
    tag.extend(b"1983");
    tag.extend(field("", 30)); // comment
    tag.push(genre);
    assert_eq!(tag.len(), 128);
    tag
}

/// `formats/dubstep.mp3` without its ID3v2 tag (so the ID3v1 one is the file's tag).
fn mp3_frames(data: &Path) -> Vec<u8> {
    let bytes = std::fs::read(data.join("formats/dubstep.mp3")).unwrap();
    assert_eq!(&bytes[..3], b"ID3");
    let size = bytes[6..10]
        .iter()
        .fold(0usize, |acc, &b| (acc << 7) | usize::from(b & 0x7f));
    bytes[10 + size..].to_vec()
}

fn library() -> Option<&'static Library> {
    static LIBRARY: OnceLock<Option<Library>> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let data = shared_data()?;
            let dir = tempfile::tempdir().unwrap();
            let lib = dir.path().join("music");
            let gtzan = data.join("gtzan-mini");
            for (album, clips) in [
                (
                    "Album A",
                    ["metal.00001", "metal.00002", "metal.00003", "metal.00004"].as_slice(),
                ),
                ("Album B", ["classical.00001", "classical.00002"].as_slice()),
            ] {
                std::fs::create_dir_all(lib.join(album)).unwrap();
                for clip in clips {
                    let genre = clip.split('.').next().unwrap();
                    std::fs::copy(
                        gtzan.join(genre).join(format!("{clip}.wav")),
                        lib.join(album).join(format!("{clip}.wav")),
                    )
                    .unwrap();
                }
            }
            std::fs::create_dir_all(lib.join("tagged")).unwrap();
            let mut mp3 = mp3_frames(&data);
            mp3.extend(id3v1("Frontiers", "Journey", 0)); // genre 0: Blues
            std::fs::write(lib.join("tagged/journey.mp3"), mp3).unwrap();
            std::fs::write(lib.join("broken.mp3"), "not audio at all").unwrap();
            let db = dir.path().join("catalog.db");
            let first_scan = musicrec(&[
                "scan".as_ref(),
                lib.as_os_str(),
                "--db".as_ref(),
                db.as_os_str(),
            ]);
            Some(Library {
                dir,
                lib,
                db,
                first_scan,
            })
        })
        .as_ref()
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let Some(lib) = library() else { return };
    let db = lib.db.to_str().unwrap();
    let clip = lib.album("Album A").join("metal.00001.wav");
    let clip = clip.to_str().unwrap();
    for args in [
        vec!["recommend", "--db", db, "--seed", clip],
        vec!["recommend", "--db", db, "--seed", clip, "--format", "json"],
        vec!["recommend", "--db", db, "--seed", clip, "--format", "m3u"],
        vec!["stats", "--db", db],
        vec!["stats", "--db", db, "--json"],
        vec!["tracks", "--db", db],
        vec!["scan", "--failed", "--db", db],
        vec!["model"],
        vec!["predict", clip],
    ] {
        let out = musicrec_into_closed_pipe(&args);
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn scan_lists_failures_reports_throughput_and_exits_0() {
    let Some(lib) = library() else { return };
    let scan = ok(lib.first_scan.clone(), "first scan");
    let (out, err) = (stdout(&scan), stderr(&scan));
    assert!(
        out.contains("8 files: 7 added, 0 updated, 0 moved, 0 unchanged, 0 missing, 1 failed"),
        "{out}"
    );
    assert!(
        out.contains("tracks/min") && out.contains("x real time"),
        "{out}"
    );
    assert!(
        err.contains("failed: ") && err.contains("broken.mp3"),
        "{err}"
    );
    // Not a terminal: no colours, and the tag reader's warning is for -v only.
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(!err.contains("trailing junk"), "{err}");

    // A rescan: the broken file is skipped and counted; nothing goes through the model.
    let rescan = ok(
        musicrec(&[
            "scan".as_ref(),
            lib.lib.as_os_str(),
            "--db".as_ref(),
            lib.db.as_os_str(),
        ]),
        "rescan",
    );
    assert!(
        stdout(&rescan).contains(
            "8 files: 0 added, 0 updated, 0 moved, 7 unchanged, 0 missing, 0 failed, \
             1 skipped as failed before"
        ),
        "{}",
        stdout(&rescan)
    );
    let stats = ok(lib.run(&["stats"]), "stats");
    assert!(stdout(&stats).contains("missing   0"), "{}", stdout(&stats));
}

#[test]
fn tag_warnings_go_to_the_log_with_the_file_name() {
    let Some(lib) = library() else { return };
    let db = lib.dir.path().join("tags.db");
    let out = ok(
        musicrec(&[
            "-v".as_ref(),
            "scan".as_ref(),
            lib.album("tagged").as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
        ]),
        "scan -v",
    );
    let err = stderr(&out);
    let warning = err
        .lines()
        .find(|l| l.contains("trailing junk"))
        .unwrap_or_else(|| panic!("no tag warning in {err}"));
    assert!(warning.contains("journey.mp3"), "{warning}");
    assert!(!err.contains('\u{1b}'), "no colours on a pipe: {err:?}");
}

#[test]
fn scans_that_can_do_nothing_exit_2() {
    let Some(lib) = library() else { return };
    let db = lib.dir.path().join("nothing.db");
    let empty = lib.dir.path().join("empty");
    std::fs::create_dir_all(empty.join("sub")).unwrap();
    let scan = |dir: &Path| {
        musicrec(&[
            "scan".as_ref(),
            dir.as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
        ])
    };
    nothing_done(
        &scan(&empty),
        &format!("no music files found in {}", empty.display()),
    );
    nothing_done(&scan(&lib.dir.path().join("nowhere")), "does not exist");
    let broken = lib.dir.path().join("only-broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::copy(lib.lib.join("broken.mp3"), broken.join("broken.mp3")).unwrap();
    nothing_done(&scan(&broken), "none of the 1 music files");
}

#[test]
fn quickstart_summary_counts_skipped_files() {
    let Some(lib) = library() else { return };
    let out = ok(
        musicrec(&[
            "quickstart".as_ref(),
            lib.lib.as_os_str(),
            "--db".as_ref(),
            lib.db.as_os_str(),
            "--random-seed".as_ref(),
            "1".as_ref(),
            "-k".as_ref(),
            "2".as_ref(),
        ]),
        "quickstart",
    );
    assert!(
        stdout(&out).contains("7 unchanged, 0 missing, 0 failed, 1 skipped as failed before"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn seeds_by_text_one_match_is_the_answer_several_are_listed() {
    let Some(lib) = library() else { return };
    // One approximate match (part of a title) and one untagged file's name.
    for seed in ["frontier", "metal.00002", "METAL.00003.wav"] {
        let json = lib.json(&["recommend", "--seed", seed, "-k", "2", "--format", "json"]);
        assert_eq!(json["seeds"].as_array().unwrap().len(), 1, "{seed}: {json}");
    }
    // Several: listed with their ids.
    let out = lib.run(&["recommend", "--seed", "metal.0000"]);
    nothing_done(&out, "matches 4 tracks");
    let tracks = lib.json(&["tracks", "metal.0000", "--format", "json"]);
    let ids: Vec<i64> = tracks["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "{tracks}");
    for id in ids {
        assert!(
            stderr(&out)
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{id} "))),
            "id {id} not listed: {}",
            stderr(&out)
        );
    }
}

#[test]
fn tracks_finds_songs_by_name_genre_and_limit() {
    let Some(lib) = library() else { return };
    let json = lib.json(&["tracks", "journey", "--format", "json"]);
    assert_eq!(json["total"], 1, "{json}");
    let track = &json["tracks"][0];
    assert_eq!(track["artist"], "Journey");
    assert_eq!(track["title"], "Frontiers");
    assert_eq!(track["genre_tag"], "Blues");

    // The table: a header, then one row per track, id first.
    let table = stdout(&ok(lib.run(&["tracks", "Album B"]), "tracks table"));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].trim_start().starts_with("id"), "{table}");
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[1].contains("classical.0000"), "{table}");

    // By genre: the tag's, or the model's most probable one.
    let blues = lib.json(&["tracks", "--genre", "BLUES", "--format", "json"]);
    let listed = blues["tracks"].as_array().unwrap();
    assert!(listed.iter().any(|t| t["artist"] == "Journey"), "{blues}");
    let all = lib.json(&["tracks", "--format", "json"]);
    assert_eq!(all["total"], 7, "{all}");
    let genre = all["tracks"][0]["genre"].as_str().unwrap().to_owned();
    let of_genre = lib.json(&["tracks", "--genre", &genre, "--format", "json"]);
    let of_genre = of_genre["tracks"].as_array().unwrap();
    assert!(!of_genre.is_empty());
    for t in of_genre {
        assert!(
            t["genre"] == genre.as_str() || t["genre_tag"].as_str() == Some(genre.as_str()),
            "{t}"
        );
    }

    let limited = lib.run(&["tracks", "--limit", "2"]);
    assert_eq!(stdout(&limited).lines().count(), 3, "{}", stdout(&limited));
    assert!(
        stderr(&limited).contains("2 of 7 tracks shown"),
        "{}",
        stderr(&limited)
    );
}

#[test]
fn recommend_table_shows_ids_and_fits_the_terminal_width() {
    let Some(lib) = library() else { return };
    let seed = lib.album("Album A").join("metal.00001.wav");
    let seed = seed.to_str().unwrap();
    let json = lib.json(&["recommend", "--seed", seed, "-k", "4", "--format", "json"]);
    let ids: Vec<String> = json["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].to_string())
        .collect();

    // Into a pipe: whole lines, columns aligned, the id second.
    let whole = stdout(&ok(
        lib.run(&["recommend", "--seed", seed, "-k", "4"]),
        "table",
    ));
    let lines: Vec<&str> = whole.lines().skip(1).collect();
    assert_eq!(lines.len(), 5, "{whole}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["#", "id", "score", "genre", "song", "path"],
        "{whole}"
    );
    let path_at = lines[0].find("path").unwrap();
    for (line, id) in lines[1..].iter().zip(&ids) {
        assert_eq!(line.split_whitespace().nth(1), Some(id.as_str()), "{whole}");
        assert_eq!(line.find('/'), Some(path_at), "aligned paths:\n{whole}");
    }

    // In a narrow terminal (COLUMNS): every line fits, long paths lose their start.
    let narrow = command()
        .args([
            "recommend",
            "--db",
            lib.db.to_str().unwrap(),
            "--seed",
            seed,
        ])
        .args(["-k", "4"])
        .env("COLUMNS", "70")
        .output()
        .unwrap();
    let narrow = stdout(&ok(narrow, "narrow table"));
    for line in narrow.lines().skip(1) {
        assert!(line.chars().count() <= 70, "{line:?}\n{narrow}");
    }
    assert!(narrow.contains("…"), "{narrow}");
    for row in narrow.lines().skip(2) {
        assert!(
            row.ends_with(".wav") || row.ends_with(".mp3"),
            "{row:?}\n{narrow}"
        );
    }
}

#[test]
fn max_per_artist_counts_untagged_files_by_folder() {
    let Some(lib) = library() else { return };
    let seed = lib.album("Album A").join("metal.00001.wav");
    let seed = seed.to_str().unwrap();
    let folders = |extra: &[&str]| -> Vec<PathBuf> {
        let mut args = vec!["recommend", "--seed", seed, "-k", "6", "--format", "json"];
        args.extend(extra);
        lib.json(&args)["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                Path::new(r["path"].as_str().unwrap())
                    .parent()
                    .unwrap()
                    .to_path_buf()
            })
            .collect()
    };
    let uncapped = folders(&[]);
    assert_eq!(uncapped.len(), 6);
    let capped = folders(&["--max-per-artist", "1"]);
    // Album A, Album B and the tagged song's folder (by its artist): one each.
    assert_eq!(capped.len(), 3, "{capped:?}");
    let mut distinct = capped.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), capped.len(), "{capped:?}");
}

#[test]
fn errors_say_their_cause_once_and_hints_need_no_model() {
    let Some(lib) = library() else { return };
    // A catalog whose folder cannot be made: a file stands where the folder should be.
    let file = lib.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = musicrec(&[
        "scan".as_ref(),
        lib.album("Album B").as_os_str(),
        "--db".as_ref(),
        file.join("sub/catalog.db").as_os_str(),
    ]);
    nothing_done(&out, "Not a directory");
    assert_eq!(
        stderr(&out).matches("os error").count(),
        1,
        "{}",
        stderr(&out)
    );

    // An atomic write under a file: the error type carries its cause and names it too.
    let clip = lib.album("Album A").join("metal.00001.wav");
    let out = musicrec(&[
        "decode".as_ref(),
        clip.as_os_str(),
        "--out".as_ref(),
        file.join("x.wav").as_os_str(),
    ]);
    nothing_done(&out, "a-file: File exists (os error 17)");
    assert_eq!(
        stderr(&out).matches("os error").count(),
        1,
        "{}",
        stderr(&out)
    );

    // An empty catalog: the hint is the plain scan, the built-in model needs no --model.
    let empty = lib.dir.path().join("empty.db");
    drop(musicrec_catalog_sqlite::SqliteStore::open(&empty).unwrap());
    let out = musicrec(&[
        "recommend".as_ref(),
        "--db".as_ref(),
        empty.as_os_str(),
        "--seed".as_ref(),
        "1".as_ref(),
    ]);
    nothing_done(&out, "run `musicrec scan DIR` first");
    assert!(!stderr(&out).contains("--model"), "{}", stderr(&out));
}

#[test]
fn the_seed_limit_is_the_apis() {
    let Some(lib) = library() else { return };
    let max = musicrec_recommend::MAX_SEEDS;
    let mut args = vec!["recommend".to_owned()];
    for id in 1..=max + 1 {
        args.extend(["--seed".to_owned(), id.to_string()]);
    }
    args.extend(["--db".to_owned(), lib.db.to_str().unwrap().to_owned()]);
    nothing_done(&musicrec(&args), &format!("at most {max}"));
}

#[test]
fn help_documents_exit_status_and_scores_above_1() {
    // Help is wrapped to the terminal: compare with single spaces.
    let help = |args: &[&str]| {
        let text = stdout(&ok(musicrec(args), &format!("{args:?}")));
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let main = help(&["--help"]);
    assert!(main.contains("Exit status: 0 done."), "{main}");
    assert!(main.contains("2 nothing could be done"), "{main}");
    let recommend = help(&["recommend", "--help"]);
    assert!(recommend.contains("so a score can exceed 1"), "{recommend}");
    assert!(recommend.contains("untagged album"), "{recommend}");
    let scan = help(&["scan", "--help"]);
    assert!(scan.contains("Exit status: 0 when the scan ran"), "{scan}");
}

#[test]
#[cfg(unix)]
fn decode_writes_an_ordinary_file() {
    use std::os::unix::fs::PermissionsExt;
    let Some(lib) = library() else { return };
    let wav = lib.dir.path().join("decoded.wav");
    ok(
        musicrec(&[
            "decode".as_ref(),
            lib.album("Album B").join("classical.00001.wav").as_os_str(),
            "--out".as_ref(),
            wav.as_os_str(),
        ]),
        "decode",
    );
    // 0666 less this process's umask (inherited by the child): 0644 as a rule.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|m| u32::from_str_radix(m.trim(), 8).unwrap())
        .unwrap_or(0o022);
    let mode = std::fs::metadata(&wav).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !umask, "mode {mode:o}");
}

/// A truncated file is analysed as far as it can be read when that lasts `--min-duration`: it is
/// embedded (recommendable), warned about on stderr and by `scan --failed`, and not counted as
/// failed; a file with less left fails. A rescan of the same files changes nothing.
#[test]
fn a_truncated_file_is_embedded_from_its_readable_part_with_a_warning() {
    let Some(data) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let clip = |name: &str| data.join("gtzan-mini").join("jazz").join(name);
    std::fs::copy(clip("jazz.00001.wav"), music.join("whole.wav")).unwrap();
    // The clip lasts 19 s: 70 % of its bytes leave about 13 s, 10 % about 2 s (under the 10 s
    // default).
    for (name, share) in [("most.wav", 0.7), ("little.wav", 0.1)] {
        let bytes = std::fs::read(clip("jazz.00002.wav")).unwrap();
        let keep = (bytes.len() as f64 * share) as usize;
        std::fs::write(music.join(name), &bytes[..keep]).unwrap();
    }
    let db = dir.path().join("catalog.db");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            music.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ];
        args.extend(["--model", "cnn"]);
        args.extend(extra);
        musicrec(&args)
    };
    let first = ok(scan(&[]), "scan");
    let (out, err) = (stdout(&first), stderr(&first));
    assert!(out.contains("3 files: 2 added"), "{out}");
    assert!(out.contains("1 failed"), "{out}");
    assert!(
        err.contains("warning: ") && err.contains("most.wav: truncated"),
        "{err}"
    );
    assert!(
        err.contains("failed: ") && err.contains("little.wav"),
        "{err}"
    );
    assert!(!err.contains("whole.wav"), "{err}");

    let failed = stdout(&ok(
        musicrec(&["scan", "--failed", "--db", db.to_str().unwrap()]),
        "scan --failed",
    ));
    let line = |name: &str| {
        failed
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not listed: {failed}"))
            .to_owned()
    };
    assert!(
        line("most.wav").contains("\twarning\ttruncated"),
        "{failed}"
    );
    assert!(!line("little.wav").contains("\twarning\t"), "{failed}");

    // The truncated track is in the catalog and can seed recommendations.
    let recommend = ok(
        musicrec(&[
            "recommend",
            "--db",
            db.to_str().unwrap(),
            "--seed",
            music.join("most.wav").to_str().unwrap(),
        ]),
        "recommend from the truncated track",
    );
    assert!(
        stdout(&recommend).contains("whole.wav"),
        "{}",
        stdout(&recommend)
    );

    // With a higher bar the 13 s part is not enough: a changed setting applies to files
    // retried (`--retry-failed` re-reads the failed one; the embedded one stays as it is).
    let strict = ok(
        scan(&["--min-duration", "20", "--retry-failed"]),
        "strict rescan",
    );
    assert!(
        stdout(&strict).contains("2 unchanged"),
        "{}",
        stdout(&strict)
    );
    let other_db = dir.path().join("strict.db");
    let fresh = ok(
        musicrec(&[
            "scan",
            music.to_str().unwrap(),
            "--db",
            other_db.to_str().unwrap(),
            "--model",
            "cnn",
            "--min-duration",
            "20",
        ]),
        "strict scan",
    );
    assert!(stdout(&fresh).contains("1 added"), "{}", stdout(&fresh));
    assert!(stdout(&fresh).contains("2 failed"), "{}", stdout(&fresh));
}

//! End-to-end tests of `musicrec features` and `musicrec decode` through the built binary: every
//! shared recording goes through, bad files in a batch are skipped and reported, single-file errors
//! are one line, and what the CLI writes equals what the library computes.

use std::path::{Path, PathBuf};

use musicrec_features::{MelConfig, MelExtractor, read_npy};
use musicrec_testkit::data::shared_data_with;

mod common;
use common::{musicrec, stderr};

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

/// The shared data folder (it need only exist).
fn shared_data() -> Option<PathBuf> {
    shared_data_with(&[])
}

fn audio_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("wav" | "flac" | "mp3" | "ogg" | "aac" | "au")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The lines of `stderr` that musicrec itself wrote, without log records that dependencies (symphonia)
/// emit through `tracing` at the default `warn` level; those are timestamped and tagged with a module.
fn own_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !(l.contains("WARN") || l.contains("ERROR")) || l.starts_with("error: "))
        .collect()
}

#[test]
fn features_of_every_shared_file_succeed() {
    let Some(data) = shared_data() else { return };
    let files = audio_files(&data);
    assert!(
        files.len() >= 110,
        "expected the formats/ and gtzan-mini/ files, found {}",
        files.len()
    );
    let out_dir = tempfile::tempdir().unwrap();
    let mut args: Vec<&std::ffi::OsStr> = files.iter().map(|p| p.as_os_str()).collect();
    args.splice(0..0, [os("features")]);
    args.extend([os("--out-dir"), out_dir.path().as_os_str()]);
    let out = musicrec(&args);
    assert!(out.status.success(), "{}", stderr(&out));

    // dubstep.{wav,flac,...} share a stem: each gets its own file, nothing is overwritten.
    let written: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(written.len(), files.len(), "{written:?}");
    for name in [
        "blues.00000.npy",
        "dubstep.wav.npy",
        "dubstep.aac.npy",
        "jazz.00000.au.npy",
        "jazz.00000.wav.npy",
    ] {
        assert!(
            out_dir.path().join(name).is_file(),
            "{name} missing from {written:?}"
        );
    }
    for entry in std::fs::read_dir(out_dir.path()).unwrap() {
        let mel = read_npy(entry.unwrap().path()).unwrap();
        assert_eq!(mel.n_mels, 128);
        assert!(mel.n_frames > 100, "a shared file under 2.5 s?");
        assert!(mel.data.iter().all(|x| x.is_finite()));
    }
}

#[test]
fn cli_output_equals_the_library_and_options_reach_the_config() {
    let Some(data) = shared_data() else { return };
    let input = data.join("gtzan-mini/rock/rock.00003.wav");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.npy");
    let run = musicrec(&[
        os("features"),
        input.as_os_str(),
        os("--out"),
        out.as_os_str(),
        os("--preset"),
        os("choi"),
        os("--n-mels"),
        os("64"),
        os("--top-db"),
        os("none"),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let cfg = MelConfig {
        n_mels: 64,
        top_db: None,
        ..MelConfig::choi()
    };
    let audio = musicrec_audio::load(&input, Some(cfg.sample_rate)).unwrap();
    let expected = MelExtractor::new(&cfg).unwrap().log_mel(&audio.samples);
    assert_eq!(read_npy(&out).unwrap(), expected);

    // Bad parameter values are refused before any work, with the reason.
    let run = musicrec(&[
        os("features"),
        input.as_os_str(),
        os("--out"),
        out.as_os_str(),
        os("--fmax"),
        os("20000"),
    ]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("Nyquist"), "{}", stderr(&run));
}

#[test]
fn batch_skips_bad_files_reports_them_and_fails() {
    let Some(data) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    let empty = bad.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = bad.join("notes.mp3");
    std::fs::write(
        &text,
        "these are not the droids you are looking for\n".repeat(50),
    )
    .unwrap();
    let truncated = bad.join("truncated.flac");
    let flac = std::fs::read(data.join("formats/dubstep.flac")).unwrap();
    std::fs::write(&truncated, &flac[..flac.len() / 3]).unwrap();
    let good = [
        data.join("gtzan-mini/blues/blues.00001.wav"),
        data.join("formats/dubstep.ogg"),
    ];

    let out_dir = dir.path().join("out");
    let mut args = vec![
        os("features"),
        good[0].as_os_str(),
        empty.as_os_str(),
        text.as_os_str(),
    ];
    args.extend([
        truncated.as_os_str(),
        good[1].as_os_str(),
        os("--out-dir"),
        out_dir.as_os_str(),
        os("-j"),
        os("2"),
    ]);
    let run = musicrec(&args);
    let err = stderr(&run);
    assert!(
        !run.status.success(),
        "a batch with bad files must fail: {err}"
    );
    assert!(err.contains("of 5 files failed"), "{err}");
    for bad_file in [&empty, &text, &truncated] {
        let line = err
            .lines()
            .find(|l| l.contains(&*bad_file.to_string_lossy()))
            .unwrap_or_else(|| panic!("{err}"));
        assert!(
            line.len() > bad_file.to_string_lossy().len() + 5,
            "no reason given: {line}"
        );
    }
    // The good files are all written; nothing else (no partial or temporary files) is left behind.
    let mut written: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(written, ["blues.00001.npy", "dubstep.npy"], "{err}");
    assert!(err.contains("3 of 5 files failed"), "{err}");
    let expected = &written;
    for name in expected {
        read_npy(out_dir.join(name)).unwrap();
    }
}

#[test]
fn single_file_error_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("song.mp3");
    std::fs::write(&text, "not audio at all").unwrap();
    let out = dir.path().join("song.npy");
    let run = musicrec(&[
        os("features"),
        text.as_os_str(),
        os("--out"),
        out.as_os_str(),
    ]);
    assert!(!run.status.success());
    let err = stderr(&run);
    let lines = own_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(&*text.to_string_lossy()),
        "{err}"
    );
    assert!(!out.exists(), "no output for a failed input");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary file left behind"
    );

    let run = musicrec(&[
        os("decode"),
        dir.path().join("missing.flac").as_os_str(),
        os("--out"),
        dir.path().join("x.wav").as_os_str(),
    ]);
    assert!(!run.status.success());
    assert_eq!(own_lines(&stderr(&run)).len(), 1, "{}", stderr(&run));

    // --out with several inputs is a usage error, not a silent overwrite.
    let run = musicrec(&[
        os("features"),
        text.as_os_str(),
        text.as_os_str(),
        os("--out"),
        out.as_os_str(),
    ]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("--out-dir"), "{}", stderr(&run));
}

#[test]
fn decode_writes_the_samples_the_features_stage_sees() {
    let Some(data) = shared_data() else { return };
    let input = data.join("formats/joram-16k-mono.mp3");
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("joram.wav");
    let run = musicrec(&[
        os("decode"),
        input.as_os_str(),
        os("--out"),
        wav.as_os_str(),
        os("--sr"),
        os("22050"),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let expected = musicrec_audio::load(&input, Some(22_050)).unwrap();
    let decoded = musicrec_audio::load(&wav, None).unwrap();
    assert_eq!(decoded.sample_rate, 22_050);
    assert_eq!(decoded.samples, expected.samples);
    // And `features` of that WAV equals `features` of the MP3: decode shows exactly what is analysed.
    let a = dir.path().join("a.npy");
    let b = dir.path().join("b.npy");
    for (src, dst) in [(&input, &a), (&wav, &b)] {
        let run = musicrec(&[
            os("features"),
            src.as_os_str(),
            os("--out"),
            dst.as_os_str(),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    assert_eq!(read_npy(&a).unwrap(), read_npy(&b).unwrap());
}

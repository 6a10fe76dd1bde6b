//! Screening on generated audio: silence, too short, undecodable; the folder loader around it.

mod common;

use indicatif::ProgressBar;
use musicrec_datasets::folder::load_folder;
use musicrec_datasets::screen::check_audio;
use musicrec_datasets::{BuildOptions, DropReason, ScreenConfig, build};

#[test]
fn screening_reasons_on_generated_clips() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let sr = 8000;
    common::write_wav(&root.join("tone/ok.wav"), &common::sine(12.0, 0.5, sr), sr);
    common::write_wav(
        &root.join("tone/short.wav"),
        &common::sine(3.0, 0.5, sr),
        sr,
    );
    common::write_wav(
        &root.join("tone/silent.wav"),
        &vec![0.0; 12 * sr as usize],
        sr,
    );
    // -70 dBFS sine: audible in theory, near-silent in practice.
    common::write_wav(
        &root.join("quiet/hiss.wav"),
        &common::sine(12.0, 0.000_45, sr),
        sr,
    );
    std::fs::write(root.join("quiet/broken.wav"), b"RIFF....WAVEnot really").unwrap();
    common::write_wav(&root.join("stray.wav"), &common::sine(12.0, 0.5, sr), sr);

    let cfg = ScreenConfig::default();
    let reason = |name: &str| check_audio(&root.join(name), &cfg).map_err(|(r, _)| r);
    let ok = reason("tone/ok.wav").unwrap();
    assert!((ok.duration_secs - 12.0).abs() < 1e-3);
    assert!(
        (ok.rms_dbfs + 9.03).abs() < 0.1,
        "0.5 amplitude sine is -9.03 dBFS, got {}",
        ok.rms_dbfs
    );
    assert_eq!(reason("tone/short.wav").unwrap_err(), DropReason::TooShort);
    assert_eq!(reason("tone/silent.wav").unwrap_err(), DropReason::Silent);
    assert_eq!(reason("quiet/hiss.wav").unwrap_err(), DropReason::Silent);
    assert_eq!(
        reason("quiet/broken.wav").unwrap_err(),
        DropReason::DecodeError
    );
    assert_eq!(
        reason("quiet/none.wav").unwrap_err(),
        DropReason::MissingAudio
    );
    let lenient = ScreenConfig {
        min_duration_secs: 1.0,
        silence_dbfs: -80.0,
    };
    assert!(check_audio(&root.join("quiet/hiss.wav"), &lenient).is_ok());

    let loaded = load_folder(root).unwrap();
    assert_eq!(loaded.entries.len(), 5);
    assert_eq!(loaded.dropped.len(), 1, "stray.wav is in no label folder");
    assert_eq!(loaded.dropped[0].reason, DropReason::BadFileName);
    let built = build(loaded, &BuildOptions::default(), &ProgressBar::hidden()).unwrap();
    assert_eq!(built.manifest.entries.len(), 1);
    assert_eq!(built.manifest.entries[0].label, "tone");
    assert_eq!(built.dropped.len(), 5);
}

#[test]
fn empty_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rock")).unwrap();
    let err = load_folder(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no audio files"), "{err}");
}

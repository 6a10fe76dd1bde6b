//! librosa parity of the MFCCs: `librosa.feature.mfcc(S=log_mel_db, n_mfcc=20)` and the
//! mean/std summary on a stored real log-mel (golden files: scripts/golden/mfcc.py).

use std::path::{Path, PathBuf};

use musicrec_features::mfcc::{mfcc, mfcc_summary};
use musicrec_features::{LogMel, read_npy};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn read_f32(name: &str) -> Vec<f32> {
    npyz::NpyFile::new(std::fs::File::open(golden(name)).unwrap())
        .unwrap()
        .into_vec::<f32>()
        .unwrap()
}

fn max_abs_error(actual: &[f32], expected: &[f32]) -> f32 {
    assert_eq!(actual.len(), expected.len());
    actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0.0, f32::max)
}

#[test]
fn mfcc_matches_librosa() {
    let log_mel = read_npy(golden("mfcc_input_logmel.npy")).unwrap();
    assert_eq!((log_mel.n_mels, log_mel.n_frames), (128, 64));
    let expected = read_f32("mfcc_expected.npy");
    let actual = mfcc(&log_mel, 20).unwrap();
    let err = max_abs_error(&actual, &expected);
    println!("max |mfcc - librosa| = {err}");
    assert!(err < 1e-4, "max |mfcc - librosa| = {err}");
}

#[test]
fn mfcc_summary_matches_librosa_mean_and_std() {
    let log_mel = read_npy(golden("mfcc_input_logmel.npy")).unwrap();
    let expected = read_f32("mfcc_summary_expected.npy");
    let actual = mfcc_summary(&log_mel, 20).unwrap();
    assert_eq!(actual.len(), 40);
    let err = max_abs_error(&actual, &expected);
    println!("max |summary - numpy| = {err}");
    assert!(err < 1e-4, "max |summary - numpy| = {err}");
}

#[test]
fn fewer_coefficients_are_the_leading_rows() {
    let log_mel = read_npy(golden("mfcc_input_logmel.npy")).unwrap();
    let all = mfcc(&log_mel, 20).unwrap();
    let first = mfcc(&log_mel, 13).unwrap();
    assert_eq!(first[..], all[..13 * log_mel.n_frames]);
}

#[test]
fn bad_coefficient_counts_and_shapes_are_errors() {
    let log_mel = LogMel {
        n_mels: 8,
        n_frames: 3,
        data: vec![0.0; 24],
    };
    assert!(mfcc(&log_mel, 0).is_err());
    assert!(mfcc(&log_mel, 9).is_err());
    assert!(mfcc(&log_mel, 8).is_ok());
    let broken = LogMel {
        n_mels: 8,
        n_frames: 3,
        data: vec![0.0; 5],
    };
    assert!(mfcc(&broken, 4).is_err());
    let empty = LogMel {
        n_mels: 8,
        n_frames: 0,
        data: vec![],
    };
    assert_eq!(mfcc(&empty, 4).unwrap(), Vec::<f32>::new());
    assert!(mfcc_summary(&empty, 4).is_err());
}

//! Helpers shared by the golden-file tests: locating the shared recordings and the golden files, and
//! comparing a computed log-mel with librosa's.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use musicrec_features::{LogMel, LogScale, MelConfig, read_npy};
use musicrec_testkit::data::shared_data_with;

/// The shared data folder (it need only exist).
pub fn shared_data() -> Option<PathBuf> {
    shared_data_with(&[])
}

pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A stored librosa log-mel slice and what it was computed from (see scripts/golden/features.py).
pub struct Golden {
    pub mel: LogMel,
    pub file: String,
    pub config: MelConfig,
    pub n_frames: usize,
    pub n_samples: usize,
}

pub fn golden(name: &str) -> Golden {
    let mel = read_npy(golden_dir().join(format!("logmel_{name}.npy"))).unwrap();
    let meta = std::fs::read_to_string(golden_dir().join(format!("logmel_{name}.json"))).unwrap();
    let field = |key: &str| -> String {
        // The JSON is flat and written by our own script: a tiny key lookup avoids a JSON dev-dependency.
        let at = meta
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} missing in {name}.json"));
        let rest = meta[at + key.len() + 3..].trim_start();
        let end = rest.find([',', '\n', '}']).unwrap();
        rest[..end].trim().trim_matches('"').to_string()
    };
    let opt = |key: &str| match field(key).as_str() {
        "null" => None,
        v => Some(v.parse::<f32>().unwrap()),
    };
    let config = MelConfig {
        sample_rate: field("sr").parse().unwrap(),
        n_fft: field("n_fft").parse().unwrap(),
        hop_length: field("hop_length").parse().unwrap(),
        n_mels: field("n_mels").parse().unwrap(),
        fmin: field("fmin").parse().unwrap(),
        fmax: opt("fmax"),
        top_db: opt("top_db"),
        // Older golden files predate log scales: power_to_db.
        log_scale: if meta.contains("\"log_scale\": \"musicnn\"") {
            LogScale::Musicnn
        } else {
            LogScale::PowerToDb
        },
    };
    Golden {
        mel,
        file: field("file"),
        n_frames: field("n_frames").parse().unwrap(),
        n_samples: field("n_samples").parse().unwrap(),
        config,
    }
}

/// Absolute differences between `ours` restricted to the golden's frames and the golden, sorted.
pub fn abs_errors(ours: &LogMel, golden: &LogMel) -> Vec<f32> {
    assert_eq!(ours.n_mels, golden.n_mels);
    assert!(
        ours.n_frames >= golden.n_frames,
        "{} < {} frames",
        ours.n_frames,
        golden.n_frames
    );
    let mut errs: Vec<f32> = (0..golden.n_mels)
        .flat_map(|m| {
            let ours = &ours.band(m)[..golden.n_frames];
            ours.iter()
                .zip(golden.band(m))
                .map(|(a, b)| (a - b).abs())
                .collect::<Vec<_>>()
        })
        .collect();
    errs.sort_by(f32::total_cmp);
    errs
}

pub fn percentile(sorted: &[f32], p: f64) -> f32 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

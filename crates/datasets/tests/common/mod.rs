//! Helpers shared by the integration tests: the shared real-music folder and small fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use musicrec_testkit::data::shared_data_with;

/// The shared data folder, which holds `gtzan-mini/` and `fma/genres.csv`.
pub fn shared_data() -> Option<PathBuf> {
    shared_data_with(&["gtzan-mini", "fma/genres.csv"])
}

/// Writes a mono 16-bit WAV of `samples` at `sample_rate`.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

/// A sine of `secs` seconds at `amplitude` (1.0 = full scale).
pub fn sine(secs: f32, amplitude: f32, sample_rate: u32) -> Vec<f32> {
    let n = (secs * sample_rate as f32) as usize;
    (0..n)
        .map(|i| {
            amplitude * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / sample_rate as f32).sin()
        })
        .collect()
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

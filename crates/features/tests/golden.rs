//! librosa parity of the pure features path (no decoder involved): filterbanks, and log-mels of WAVs
//! read with `hound` at their native rate. Golden files: scripts/golden/features.py.

mod common;

use common::{abs_errors, golden, golden_dir, shared_data};
use musicrec_features::{MelConfig, MelExtractor, mel_filterbank};

fn read_wav_mono(path: &std::path::Path) -> (u32, Vec<f32>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.channels, 1, "test expects a mono WAV");
    // Same scaling as libsndfile (librosa's reader): integer / 2^(bits-1).
    let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
    let samples = reader
        .samples::<i32>()
        .map(|s| s.unwrap() as f32 * scale)
        .collect();
    (spec.sample_rate, samples)
}

fn check_filterbank(preset: &str) {
    let cfg = MelConfig::from_preset(preset).unwrap();
    let index = npyz::NpyFile::new(
        std::fs::File::open(golden_dir().join(format!("fb_{preset}_index.npy"))).unwrap(),
    )
    .unwrap()
    .into_vec::<i64>()
    .unwrap();
    let weights = npyz::NpyFile::new(
        std::fs::File::open(golden_dir().join(format!("fb_{preset}_weights.npy"))).unwrap(),
    )
    .unwrap()
    .into_vec::<f32>()
    .unwrap();
    let n_bins = cfg.n_fft / 2 + 1;
    let mut expected = vec![0.0f32; cfg.n_mels * n_bins];
    let mut at = 0;
    for (m, pair) in index.chunks_exact(2).enumerate() {
        let (first, len) = (pair[0] as usize, pair[1] as usize);
        expected[m * n_bins + first..m * n_bins + first + len]
            .copy_from_slice(&weights[at..at + len]);
        at += len;
    }
    assert_eq!(at, weights.len());

    let ours = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax);
    assert_eq!(ours.len(), expected.len());
    let max_err = ours
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let max_weight = expected.iter().copied().fold(0.0f32, f32::max);
    println!("filterbank {preset}: max abs error {max_err:e} (largest weight {max_weight:e})");
    assert!(
        max_err < 1e-6,
        "filterbank {preset}: max abs error {max_err}"
    );
}

#[test]
fn filterbank_librosa_preset_matches_librosa() {
    check_filterbank("librosa");
}

#[test]
fn filterbank_choi_preset_matches_librosa() {
    check_filterbank("choi");
}

/// A WAV at its native rate: no decoder or resampler differences, so we demand < 0.01 dB everywhere.
fn check_native_wav(name: &str) {
    let Some(data) = shared_data() else { return };
    let g = golden(name);
    let (sr, samples) = read_wav_mono(&data.join(&g.file));
    assert_eq!(sr, g.config.sample_rate);
    assert_eq!(samples.len(), g.n_samples);
    let ours = MelExtractor::new(&g.config).unwrap().log_mel(&samples);
    assert_eq!(ours.n_frames, g.n_frames);
    let errs = abs_errors(&ours, &g.mel);
    let max = *errs.last().unwrap();
    println!(
        "{name}: max abs error {max:.5} dB, p99 {:.5} dB",
        common::percentile(&errs, 0.99)
    );
    assert!(max < 0.01, "{name}: max abs error {max} dB");
}

#[test]
fn logmel_of_16bit_wav_at_native_rate_matches_librosa() {
    check_native_wav("jazz00000_wav_librosa");
}

#[test]
fn logmel_of_24bit_48k_wav_at_native_rate_matches_librosa() {
    check_native_wav("sax48k_native_librosa");
}

//! `resample` against librosa's default `soxr_hq` (golden files from
//! `scripts/golden/resample.py`): waveforms on four excerpts, and the log-mel each front end
//! computes from the resampled signal on every common rate pair; plus length, timing and gain
//! properties.

mod common;

use std::path::Path;

use common::*;
use musicrec_audio::{decode_file, resample, resampled_len};

/// (golden name, source, start sample, rate the samples are taken at, target, min SNR in dB).
/// libsoxr at librosa's recipe reproduces librosa's output exactly (measured: max |diff| 0,
/// SNR infinite, on all four); 120 dB leaves room for another libsoxr build's SIMD rounding.
const CASES: &[(&str, &str, usize, u32, u32, f64)] = &[
    (
        "dubstep_44100_to_22050",
        "formats/dubstep.wav",
        44_100,
        44_100,
        22_050,
        120.0,
    ),
    (
        "sax_48000_to_22050",
        "formats/sax-tenor-24bit-48k.wav",
        48_000,
        48_000,
        22_050,
        120.0,
    ),
    (
        "jazz_as_16000_to_22050",
        "gtzan-mini/jazz/jazz.00000.wav",
        22_050,
        16_000,
        22_050,
        120.0,
    ),
    (
        "jazz_22050_to_44100",
        "gtzan-mini/jazz/jazz.00000.wav",
        22_050,
        22_050,
        44_100,
        120.0,
    ),
];

fn golden(name: &str) -> Vec<f32> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/resample_{name}.wav"));
    hound::WavReader::open(path)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn matches_librosa_soxr_hq() {
    let Some(data) = shared_data() else { return };
    for &(name, file, start, rate, target, min_snr) in CASES {
        let source = decode_file(data.join(file)).unwrap();
        let excerpt = &source.samples[start..start + rate as usize / 2];
        let expected = golden(name);
        let ours = resample(excerpt, rate, target).unwrap();
        assert_eq!(ours.len(), expected.len(), "{name}: length");
        let snr = snr_db(&expected, &ours);
        let max_diff = expected
            .iter()
            .zip(&ours)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let lag = {
            // Integer lag over +-3 samples, on the middle of the excerpt.
            let mid = &expected[1000..expected.len() - 1000];
            (-3i64..=3)
                .max_by(|&a, &b| {
                    let dot = |l: i64| -> f64 {
                        mid.iter()
                            .enumerate()
                            .map(|(i, &x)| {
                                f64::from(x) * f64::from(ours[(1000 + i as i64 + l) as usize])
                            })
                            .sum()
                    };
                    dot(a).total_cmp(&dot(b))
                })
                .unwrap()
        };
        eprintln!("{name}: SNR {snr:.1} dB, max |diff| {max_diff:.1e}, lag {lag}");
        assert_eq!(lag, 0, "{name}: timing");
        assert!(snr >= min_snr, "{name}: {snr:.1} dB < {min_snr} dB");
    }
}

/// (from, to) pairs of `PAIRS` in scripts/golden/resample.py: every common source rate to the
/// rates of the three front ends (22.05 kHz librosa, 12 kHz choi, 16 kHz musicnn), and two
/// upsamplings.
const LOG_MEL_PAIRS: &[(u32, u32)] = &[
    (8_000, 22_050),
    (11_025, 22_050),
    (16_000, 22_050),
    (44_100, 22_050),
    (48_000, 22_050),
    (8_000, 12_000),
    (11_025, 12_000),
    (16_000, 12_000),
    (22_050, 12_000),
    (44_100, 12_000),
    (48_000, 12_000),
    (8_000, 16_000),
    (11_025, 16_000),
    (22_050, 16_000),
    (44_100, 16_000),
    (48_000, 16_000),
    (12_000, 22_050),
    (22_050, 44_100),
];

/// The 0.5 s excerpt the script resamples for source rate `rate`.
fn log_mel_source(data: &Path, rate: u32) -> Vec<f32> {
    let (file, start) = match rate {
        44_100 => ("formats/dubstep.wav", 44_100),
        48_000 => ("formats/sax-tenor-24bit-48k.wav", 48_000),
        // Other rates: the GTZAN clip's samples, labelled with that rate.
        _ => ("gtzan-mini/jazz/jazz.00000.wav", 22_050),
    };
    let source = decode_file(data.join(file)).unwrap();
    source.samples[start..start + rate as usize / 2].to_vec()
}

/// The front end used at `rate` (see FRONT_ENDS in the script).
fn front_end(rate: u32) -> musicrec_features::MelConfig {
    let mut cfg = musicrec_features::MelConfig::librosa();
    if rate != 22_050 && rate != 44_100 {
        cfg = musicrec_features::MelConfig::choi();
    }
    cfg.sample_rate = rate;
    cfg
}

/// The bar of issue 18: the log-mel of our resampled signal within 1 dB of librosa's at the
/// 99th percentile, on every pair. (libsoxr with librosa's recipe: measured p99 ~0 dB; the
/// previous rubato resampler failed it, e.g. 16 -> 22.05 kHz.)
#[test]
fn log_mel_of_resampled_audio_matches_librosa_on_every_pair() {
    let Some(data) = shared_data() else { return };
    let mut worst = (0.0f32, (0, 0));
    for &(from, to) in LOG_MEL_PAIRS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/golden/resample_logmel_{from}_to_{to}.npy"));
        let expected = musicrec_features::read_npy(&path).unwrap();
        let ours = resample(&log_mel_source(&data, from), from, to).unwrap();
        let cfg = front_end(to);
        let mel = musicrec_features::MelExtractor::new(&cfg)
            .unwrap()
            .log_mel(&ours);
        assert_eq!(
            (mel.n_mels, mel.n_frames),
            (expected.n_mels, expected.n_frames),
            "{from} -> {to}: shape"
        );
        let mut errors: Vec<f32> = mel
            .data
            .iter()
            .zip(&expected.data)
            .map(|(a, b)| (a - b).abs())
            .collect();
        errors.sort_by(f32::total_cmp);
        let p99 = errors[(errors.len() - 1) * 99 / 100];
        let max = errors[errors.len() - 1];
        eprintln!("{from} -> {to}: log-mel p99 {p99:.2e} dB, max {max:.2e} dB");
        assert!(p99 < 1.0, "{from} -> {to}: p99 {p99} dB");
        if p99 >= worst.0 {
            worst = (p99, (from, to));
        }
    }
    eprintln!("worst pair {:?}: p99 {:.2e} dB", worst.1, worst.0);
}

/// A long signal is resampled in segments on the threads of the caller's rayon pool (each with
/// context on both sides): on every pair it must give what one soxr pass gives, up to rounding.
#[test]
fn a_long_signal_resamples_the_same_on_several_threads() {
    let Some(data) = shared_data() else { return };
    let clip = decode_file(data.join("gtzan-mini/jazz/jazz.00000.wav"))
        .unwrap()
        .samples;
    let on = |threads: usize, samples: &[f32], from: u32, to: u32| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| resample(samples, from, to).unwrap())
    };
    let mut worst = 0.0f32;
    for &(from, to) in LOG_MEL_PAIRS
        .iter()
        .chain(&[(48_000, 44_100), (44_100, 48_000)])
    {
        // 65 s at the source rate (3 segments of at least 20 s on 3 threads), odd length.
        let len = 65 * from as usize + 7;
        let signal: Vec<f32> = clip.iter().copied().cycle().take(len).collect();
        let serial = on(1, &signal, from, to);
        let parallel = on(3, &signal, from, to);
        assert_eq!(serial.len(), parallel.len(), "{from} -> {to}");
        let max = serial
            .iter()
            .zip(&parallel)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            max < 1e-5,
            "{from} -> {to}: max |serial - parallel| {max:e}"
        );
        worst = worst.max(max);
    }
    eprintln!("worst max |serial - parallel| over all pairs: {worst:e}");
}

#[test]
fn length_is_librosa_ceil() {
    for (len, from, to, expected) in [
        (0, 44_100, 22_050, 0),
        (1, 44_100, 22_050, 1),
        (3, 44_100, 22_050, 2),
        (661_794, 22_050, 16_000, 480_214),
        (100, 16_000, 22_050, 138),
        (1_000, 48_000, 44_100, 919),
    ] {
        assert_eq!(resampled_len(len, from, to), expected, "{len} {from}->{to}");
        let out = resample(&vec![0.1; len], from, to).unwrap();
        assert_eq!(out.len(), expected, "{len} {from}->{to}");
    }
}

#[test]
fn same_rate_is_a_copy() {
    let x: Vec<f32> = (0..1000).map(|i| (i as f32).sin()).collect();
    assert_eq!(resample(&x, 22_050, 22_050).unwrap(), x);
}

#[test]
fn an_impulse_lands_at_the_same_time() {
    for (from, to) in [
        (44_100, 22_050),
        (48_000, 22_050),
        (16_000, 22_050),
        (22_050, 44_100),
    ] {
        let mut x = vec![0.0f32; from as usize];
        let at = from as usize / 2;
        x[at] = 1.0;
        let y = resample(&x, from, to).unwrap();
        let peak = y
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        let expected = at as f64 * f64::from(to) / f64::from(from);
        assert!(
            (peak as f64 - expected).abs() <= 0.5,
            "{from}->{to}: peak at {peak}, expected {expected}"
        );
    }
}

#[test]
fn a_tone_keeps_its_level() {
    let from = 44_100u32;
    let x: Vec<f32> = (0..from)
        .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / from as f32).sin() * 0.5)
        .collect();
    let y = resample(&x, from, 22_050).unwrap();
    let level = level_db(&x[4410..39_690], &y[2205..19_845]);
    assert!(level.abs() < 0.01, "{level} dB");
}

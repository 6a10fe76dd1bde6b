//! Helpers shared by the integration tests: locating real test audio and external tools
//! (missing ones fail under `CI=true`, skip otherwise), alignment and agreement measures, and
//! crafted file headers.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use musicrec_audio::resample;
use musicrec_testkit::data::{in_ci, shared_data_with};

/// The shared data folder, which holds `formats/`.
pub fn shared_data() -> Option<PathBuf> {
    shared_data_with(&["formats"])
}

/// An external program from `.ci/apt/audio.txt`; required under CI.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "{name} not installed (listed in .ci/apt/audio.txt; CI=true)"
        );
        eprintln!("skipping: {name} not installed");
    }
    found
}

/// Runs a command and panics with its stderr if it fails.
pub fn run(program: &Path, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .expect("spawn tool");
    assert!(
        output.status.success(),
        "{} {:?} failed: {}",
        program.display(),
        args,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Dot product in 8 independent lanes so it vectorises without fast-math.
fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    lanes.iter().map(|&v| f64::from(v)).sum::<f64>() + f64::from(tail)
}

/// The lag L in [-max_lag, max_lag] maximising the correlation of `reference[i]` with
/// `other[i + L]`, over a 2^16-sample window starting 1 s in.
pub fn best_lag(reference: &[f32], other: &[f32], max_lag: usize) -> i64 {
    let start = 44_100usize.max(max_lag);
    let len = 1usize << 16;
    assert!(reference.len() >= start + len && other.len() >= start + len + max_lag);
    let window = &reference[start..start + len];
    (-(max_lag as i64)..=max_lag as i64)
        .map(|lag| {
            let from = (start as i64 + lag) as usize;
            (lag, dot(window, &other[from..from + len]))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(lag, _)| lag)
        .unwrap()
}

/// `reference` and `other` cut to their overlap once `other` is shifted back by `lag`.
pub fn overlap<'a>(reference: &'a [f32], other: &'a [f32], lag: i64) -> (&'a [f32], &'a [f32]) {
    let (r, o) = if lag >= 0 {
        (reference, &other[lag as usize..])
    } else {
        (&reference[(-lag) as usize..], other)
    };
    let n = r.len().min(o.len());
    (&r[..n], &o[..n])
}

/// Signal-to-difference ratio in dB.
pub fn snr_db(reference: &[f32], test: &[f32]) -> f64 {
    let signal: f64 = reference.iter().map(|&x| f64::from(x).powi(2)).sum();
    let noise: f64 = reference
        .iter()
        .zip(test)
        .map(|(&x, &y)| f64::from(x - y).powi(2))
        .sum();
    10.0 * (signal / noise).log10()
}

/// Pearson correlation.
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let mean = |x: &[f32]| x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let (ma, mb) = (mean(a), mean(b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

/// RMS level of `test` relative to `reference`, in dB.
pub fn level_db(reference: &[f32], test: &[f32]) -> f64 {
    let power = |x: &[f32]| x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * (power(test) / power(reference)).log10()
}

/// A canonical WAV: 44-byte header (format tag 1 = PCM, 3 = float) declaring
/// `declared_data_len` bytes of data, followed by `data` (which may be shorter: truncated).
pub fn wav_bytes(
    format_tag: u16,
    channels: u16,
    sample_rate: u32,
    bits: u16,
    declared_data_len: u32,
    data: &[u8],
) -> Vec<u8> {
    let block_align = channels.wrapping_mul(bits / 8);
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + declared_data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&format_tag.to_le_bytes());
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&sample_rate.to_le_bytes());
    wav.extend_from_slice(
        &sample_rate
            .wrapping_mul(u32::from(block_align))
            .to_le_bytes(),
    );
    wav.extend_from_slice(&block_align.to_le_bytes());
    wav.extend_from_slice(&bits.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&declared_data_len.to_le_bytes());
    wav.extend_from_slice(data);
    wav
}

/// A Sun `.au` header (24 bytes, big-endian) followed by `data`.
pub fn au_bytes(
    data_size: u32,
    encoding: u32,
    sample_rate: u32,
    channels: u32,
    data: &[u8],
) -> Vec<u8> {
    let mut au = b".snd".to_vec();
    for field in [24u32, data_size, encoding, sample_rate, channels] {
        au.extend_from_slice(&field.to_be_bytes());
    }
    au.extend_from_slice(data);
    au
}

/// 16-bit little-endian PCM of a 440 Hz tone.
pub fn tone_pcm16(frames: usize, channels: usize, sample_rate: u32) -> Vec<u8> {
    let mut data = Vec::with_capacity(frames * channels * 2);
    for i in 0..frames {
        let v = (2.0 * std::f32::consts::PI * 440.0 * i as f32 / sample_rate as f32).sin();
        for _ in 0..channels {
            data.extend_from_slice(&((v * 20_000.0) as i16).to_le_bytes());
        }
    }
    data
}

/// Mono mean of a WAV read with hound, an implementation independent of symphonia.
pub fn hound_mono(path: &Path) -> (Vec<f32>, u32) {
    let mut reader = hound::WavReader::open(path).expect("hound opens WAV");
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = 2f32.powi(i32::from(spec.bits_per_sample) - 1);
            reader
                .samples::<i32>()
                .map(|s| s.unwrap() as f32 / scale)
                .collect()
        }
    };
    let mono = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().fold(0.0f32, |acc, &s| acc + s) / channels as f32)
        .collect();
    (mono, spec.sample_rate)
}

/// Checks that `lossy` lines up with `reference` at `expected_lag` and agrees with it:
/// - correlation >= 0.95 (measured 0.970 Vorbis 112k, 0.981 MP3 192k, 0.987 AAC 192k);
/// - below 8 kHz (both resampled to 16 kHz) SNR >= 15 dB (measured 19.5-26.5 dB). Full-band
///   SNR is only 12-16 dB because the encoders low-pass and coarsely code the top octave,
///   which carries much of this dubstep clip's energy;
/// - RMS level within 1 dB (measured -0.2 to -0.4 dB).
pub fn assert_lossy_agrees(
    name: &str,
    reference: &[f32],
    rate: u32,
    lossy: &[f32],
    expected_lag: i64,
) {
    let lag = best_lag(reference, lossy, 2048);
    assert_eq!(lag, expected_lag, "{name}: lag");
    let (r, l) = overlap(reference, lossy, lag);
    let corr = correlation(r, l);
    let low_r = resample(r, rate, 16_000).unwrap();
    let low_l = resample(l, rate, 16_000).unwrap();
    let snr = snr_db(&low_r, &low_l);
    let level = level_db(r, l);
    eprintln!("{name}: lag {lag}, correlation {corr:.4}, SNR<8k {snr:.1} dB, level {level:+.2} dB");
    assert!(corr >= 0.95, "{name}: correlation {corr}");
    assert!(snr >= 15.0, "{name}: SNR below 8 kHz {snr} dB");
    assert!(level.abs() <= 1.0, "{name}: level {level} dB");
}

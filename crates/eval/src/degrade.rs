//! Test-time degradations for robustness evaluation: what happens to a classifier when the test
//! audio is not as clean as the (curated) data it was trained on.
//!
//! - [`Degradation::Noise`]: white Gaussian noise added to the samples at a given signal-to-noise
//!   ratio (mean-square power of the clip over that of the noise), drawn from a seeded ChaCha8
//!   stream so the same clip gets the same noise for every model and every run.
//! - [`Degradation::Codec`]: a lossy round trip through `ffmpeg` (e.g. `mp3:64k`): the original file
//!   is encoded to a temporary file which the caller decodes again with its own decoder. `ffmpeg`
//!   is the only encoder for MP3/AAC/Opus at hand; its presence is checked once with a clear error.
//!
//! Conditions are parsed from the command line's `--noise 10` and `--codec mp3:64k` words.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::EvalError;

/// A lossy codec round trip: `format` (mp3, aac, opus, ogg) at `bitrate_kbps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodecSpec {
    pub format: String,
    pub bitrate_kbps: u32,
}

/// The codecs `--codec` accepts: name, file extension, ffmpeg encoder.
const CODECS: [(&str, &str, &str); 4] = [
    ("mp3", "mp3", "libmp3lame"),
    ("aac", "m4a", "aac"),
    ("opus", "opus", "libopus"),
    ("ogg", "ogg", "libvorbis"),
];

impl CodecSpec {
    fn table_entry(&self) -> (&'static str, &'static str, &'static str) {
        *CODECS
            .iter()
            .find(|(name, _, _)| *name == self.format)
            .expect("format checked when parsed")
    }
}

impl std::str::FromStr for CodecSpec {
    type Err = EvalError;
    /// `mp3:64k`, `aac:96k`, `opus:32` (kbit/s; the `k` is optional).
    fn from_str(text: &str) -> Result<Self, EvalError> {
        let bad = || {
            EvalError::invalid(format!(
                "codec '{text}' is not FORMAT:BITRATE with FORMAT one of {} and BITRATE in \
                 kbit/s, e.g. mp3:64k",
                CODECS.map(|c| c.0).join(", ")
            ))
        };
        let (format, rate) = text.trim().split_once(':').ok_or_else(bad)?;
        let format = format.trim().to_ascii_lowercase();
        if !CODECS.iter().any(|(name, _, _)| *name == format) {
            return Err(bad());
        }
        let rate = rate.trim().to_ascii_lowercase();
        let rate = rate.strip_suffix('k').unwrap_or(&rate);
        let bitrate_kbps: u32 = rate.parse().map_err(|_| bad())?;
        if !(6..=512).contains(&bitrate_kbps) {
            return Err(EvalError::invalid(format!(
                "codec bitrate {bitrate_kbps} kbit/s is outside 6..=512"
            )));
        }
        Ok(Self {
            format,
            bitrate_kbps,
        })
    }
}

impl std::fmt::Display for CodecSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}k", self.format, self.bitrate_kbps)
    }
}

/// One test condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Degradation {
    /// The audio as it is.
    Clean,
    /// White Gaussian noise at this signal-to-noise ratio in dB.
    Noise { snr_db: f64 },
    /// A lossy encode/decode round trip.
    Codec { codec: CodecSpec },
}

impl Degradation {
    /// A noise condition; the SNR must be finite and within [-30, 100] dB.
    pub fn noise(snr_db: f64) -> Result<Self, EvalError> {
        if !(snr_db.is_finite() && (-30.0..=100.0).contains(&snr_db)) {
            return Err(EvalError::invalid(format!(
                "--noise SNR must be a number of dB in [-30, 100], got {snr_db}"
            )));
        }
        Ok(Self::Noise { snr_db })
    }

    /// How reports name the condition: `clean`, `noise 10 dB`, `mp3 64k`.
    pub fn label(&self) -> String {
        match self {
            Self::Clean => "clean".into(),
            Self::Noise { snr_db } => format!("noise {snr_db} dB SNR"),
            Self::Codec { codec } => format!("{} {}k", codec.format, codec.bitrate_kbps),
        }
    }

    /// A file-name-safe name: `clean`, `noise_10db`, `mp3_64k`.
    pub fn slug(&self) -> String {
        match self {
            Self::Clean => "clean".into(),
            Self::Noise { snr_db } => {
                format!("noise_{}db", format!("{snr_db}").replace(['.', '-'], "_"))
            }
            Self::Codec { codec } => format!("{}_{}k", codec.format, codec.bitrate_kbps),
        }
    }
}

/// A seed for one clip under one condition, from the run's seed and a key naming the clip (its
/// path or content hash): the same clip gets the same noise whatever the order or the model.
pub fn clip_seed(seed: u64, key: &str) -> u64 {
    // FNV-1a: std's DefaultHasher may change between Rust releases, this never does.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in key.as_bytes() {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Mean square of `samples` (0 for none).
fn power(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / samples.len() as f64
}

/// `samples` plus white Gaussian noise whose power is the clip's power divided by
/// `10^(snr_db / 10)`. A silent clip has no defined SNR and is returned unchanged.
pub fn add_white_noise(samples: &[f32], snr_db: f64, seed: u64) -> Vec<f32> {
    let signal = power(samples);
    if signal == 0.0 {
        return samples.to_vec();
    }
    let sigma = (signal / 10f64.powf(snr_db / 10.0)).sqrt();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    samples
        .iter()
        .map(|&s| {
            let z: f64 = StandardNormal.sample(&mut rng);
            (f64::from(s) + sigma * z) as f32
        })
        .collect()
}

/// Whether `ffmpeg` can be run (checked once per process).
pub fn ffmpeg_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new("ffmpeg")
            .arg("-version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Encodes `input` (any audio file ffmpeg reads) with `codec` into a new file in `dir`, mono at
/// the input's rate, and returns its path. The caller decodes it and removes it.
pub fn encode_with_ffmpeg(
    input: &Path,
    codec: &CodecSpec,
    dir: &Path,
) -> Result<PathBuf, EvalError> {
    if !ffmpeg_available() {
        return Err(EvalError::invalid(
            "--codec needs ffmpeg on the PATH (apt-get install ffmpeg)",
        ));
    }
    let (_, extension, encoder) = codec.table_entry();
    let out = tempfile::Builder::new()
        .prefix("degraded-")
        .suffix(&format!(".{extension}"))
        .tempfile_in(dir)
        .map_err(|source| EvalError::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .into_temp_path()
        .keep()
        .map_err(|e| EvalError::Io {
            path: dir.to_path_buf(),
            source: e.error,
        })?;
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(input)
        .args(["-vn", "-ac", "1", "-c:a", encoder, "-b:a"])
        .arg(format!("{}k", codec.bitrate_kbps))
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| EvalError::Io {
            path: input.to_path_buf(),
            source,
        })?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&out);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().last().unwrap_or("no message").trim();
        return Err(EvalError::invalid(format!(
            "ffmpeg could not encode {} as {codec}: {reason}",
            input.display()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_the_requested_snr_and_is_seeded() {
        let signal: Vec<f32> = (0..48_000).map(|i| 0.5 * (i as f32 * 0.05).sin()).collect();
        for snr in [0.0, 10.0, 20.0] {
            let noisy = add_white_noise(&signal, snr, 7);
            let noise: Vec<f32> = noisy.iter().zip(&signal).map(|(a, b)| a - b).collect();
            let measured = 10.0 * (power(&signal) / power(&noise)).log10();
            assert!(
                (measured - snr).abs() < 0.1,
                "snr {snr}: measured {measured}"
            );
            assert_eq!(noisy, add_white_noise(&signal, snr, 7));
            assert_ne!(noisy, add_white_noise(&signal, snr, 8));
        }
        assert_eq!(add_white_noise(&[0.0; 10], 10.0, 1), vec![0.0; 10]);
    }

    #[test]
    fn conditions_parse_and_name_themselves() {
        let codec: CodecSpec = "MP3:64k".parse().unwrap();
        assert_eq!(codec.to_string(), "mp3:64k");
        assert_eq!(Degradation::Codec { codec }.slug(), "mp3_64k");
        assert_eq!(Degradation::noise(10.0).unwrap().slug(), "noise_10db");
        assert_eq!(Degradation::noise(-2.5).unwrap().slug(), "noise__2_5db");
        for bad in ["mp3", "wma:64k", "mp3:fast", "mp3:1k"] {
            assert!(bad.parse::<CodecSpec>().is_err(), "{bad}");
        }
        assert!(Degradation::noise(f64::NAN).is_err());
        assert_ne!(clip_seed(1, "a.wav"), clip_seed(1, "b.wav"));
        assert_ne!(clip_seed(1, "a.wav"), clip_seed(2, "a.wav"));
    }
}

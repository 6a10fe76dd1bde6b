//! Audio screening, as the paper cleaned the FMA: a clip is dropped when it does not decode, is shorter
//! than a minimum duration, or is (near-)silent (RMS of the whole clip below a dBFS threshold).

use std::path::Path;

use crate::entry::DropReason;

/// Thresholds of [`check_audio`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScreenConfig {
    /// Clips shorter than this many seconds are dropped. Default 10 s: FMA clips are 30 s and GTZAN's
    /// 30 s, so anything under a third of that is a truncated or broken file.
    pub min_duration_secs: f64,
    /// Clips whose RMS over the whole clip is below this level (dBFS, full scale = 0 dB) are dropped as
    /// silent. Default -60 dBFS: quieter than any mastered music, louder than digital silence or hiss.
    pub silence_dbfs: f32,
}

impl Default for ScreenConfig {
    fn default() -> Self {
        Self {
            min_duration_secs: 10.0,
            silence_dbfs: -60.0,
        }
    }
}

/// What screening measured on a clip that passed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AudioCheck {
    pub duration_secs: f64,
    pub rms_dbfs: f32,
}

/// RMS level of `samples` in dBFS; `-inf` for no samples or digital silence.
pub fn rms_dbfs(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return f32::NEG_INFINITY;
    }
    // f64 accumulation: millions of squared samples lose precision in f32.
    let mean_square = samples
        .iter()
        .map(|&s| (s as f64) * (s as f64))
        .sum::<f64>()
        / samples.len() as f64;
    if mean_square <= 0.0 {
        f32::NEG_INFINITY
    } else {
        (10.0 * mean_square.log10()) as f32
    }
}

/// Decodes `path` at its native rate and applies `cfg`. `Err` carries the reason and a one-line detail.
pub fn check_audio(path: &Path, cfg: &ScreenConfig) -> Result<AudioCheck, (DropReason, String)> {
    if !path.is_file() {
        return Err((DropReason::MissingAudio, "file not found".into()));
    }
    let audio =
        musicrec_audio::decode_file(path).map_err(|e| (DropReason::DecodeError, e.to_string()))?;
    let duration_secs = audio.duration_secs();
    if duration_secs < cfg.min_duration_secs {
        return Err((
            DropReason::TooShort,
            format!(
                "{duration_secs:.2} s is shorter than the minimum {} s",
                cfg.min_duration_secs
            ),
        ));
    }
    let rms = rms_dbfs(&audio.samples);
    if rms < cfg.silence_dbfs {
        return Err((
            DropReason::Silent,
            format!(
                "RMS {rms:.1} dBFS is below the silence threshold {} dBFS",
                cfg.silence_dbfs
            ),
        ));
    }
    Ok(AudioCheck {
        duration_secs,
        rms_dbfs: rms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_of_known_signals() {
        assert_eq!(rms_dbfs(&[]), f32::NEG_INFINITY);
        assert_eq!(rms_dbfs(&[0.0; 100]), f32::NEG_INFINITY);
        // Full-scale square wave: 0 dBFS. Amplitude 0.001: -60 dBFS.
        let square: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!(rms_dbfs(&square).abs() < 1e-4);
        let quiet: Vec<f32> = square.iter().map(|s| s * 0.001).collect();
        assert!((rms_dbfs(&quiet) + 60.0).abs() < 1e-3);
        // Sine of amplitude 1: -3.01 dBFS.
        let sine: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin())
            .collect();
        assert!((rms_dbfs(&sine) + 3.0103).abs() < 0.01);
    }
}

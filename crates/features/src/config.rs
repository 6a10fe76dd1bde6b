//! Log-mel parameters: the named presets, validation, and the cache key that names a feature set.

use serde::{Deserialize, Serialize};

use crate::FeatureError;

/// Bumped whenever the numbers a given `MelConfig` produces change (algorithm, padding, dB scaling), so
/// that feature caches keyed by [`MelConfig::cache_key`] are invalidated.
const ALGORITHM_VERSION: u32 = 1;

/// Largest FFT size accepted: far beyond any music front end, small enough that a typo cannot ask for
/// gigabytes of FFT plan.
const MAX_N_FFT: usize = 1 << 18;

/// Every parameter of the log-mel front end. Defaults follow librosa 0.11: periodic Hann window,
/// `center=True` with zero (`"constant"`) padding, power spectrogram, Slaney mel scale with Slaney area
/// normalisation, `power_to_db(ref=1.0, amin=1e-10, top_db)` (or another [`LogScale`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MelConfig {
    /// Sample rate (Hz) the input samples are already at.
    pub sample_rate: u32,
    /// FFT size and window length, in samples.
    pub n_fft: usize,
    /// Samples between frame starts.
    pub hop_length: usize,
    /// Number of mel bands.
    pub n_mels: usize,
    /// Lowest filter edge, Hz.
    pub fmin: f32,
    /// Highest filter edge, Hz; `None` means the Nyquist frequency `sample_rate / 2`.
    pub fmax: Option<f32>,
    /// Floor of the dB output below its maximum (librosa's `top_db`); `None` keeps everything down to
    /// `10*log10(amin)` = -100 dB. Only for [`LogScale::PowerToDb`]; must be `None` otherwise.
    pub top_db: Option<f32>,
    /// How the mel power is compressed. Absent from JSON written before it existed and left out of
    /// JSON when it is the default, so older model configs and caches read and hash as before.
    #[serde(default, skip_serializing_if = "LogScale::is_power_to_db")]
    pub log_scale: LogScale,
}

/// The compression applied to the mel power spectrogram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogScale {
    /// librosa `power_to_db(S, ref=1.0, amin=1e-10, top_db)`: decibels.
    #[default]
    PowerToDb,
    /// musicnn 0.1.0's front end: `log10(1 + 10000 * x)`, with `x` the mel power first rounded to
    /// float16 (musicnn casts the mel spectrogram to float16 before the log; we reproduce the cast so
    /// that the backbone sees the very values it was run with in TensorFlow). The one deviation:
    /// a power beyond float16's range (> 65504, far louder than full-scale audio gets through this
    /// filterbank) saturates at 65504 where musicnn would get infinity.
    Musicnn,
}

impl LogScale {
    fn is_power_to_db(&self) -> bool {
        *self == Self::PowerToDb
    }
}

impl MelConfig {
    /// librosa's defaults: 22 050 Hz, `n_fft` 2048, hop 512, 128 mels, 0 Hz to Nyquist, `top_db` 80.
    pub fn librosa() -> Self {
        Self {
            sample_rate: 22_050,
            n_fft: 2048,
            hop_length: 512,
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            top_db: Some(80.0),
            log_scale: LogScale::PowerToDb,
        }
    }

    /// The front end of Choi et al. 2017 ("Convolutional recurrent neural networks for music
    /// classification"): 12 kHz, `n_fft` 512, hop 256, 96 mels.
    pub fn choi() -> Self {
        Self {
            sample_rate: 12_000,
            n_fft: 512,
            hop_length: 256,
            n_mels: 96,
            fmin: 0.0,
            fmax: None,
            top_db: Some(80.0),
            log_scale: LogScale::PowerToDb,
        }
    }

    /// The front end of MusiCNN (Pons & Serra 2019, the `musicnn` package's `batch_data`): 16 kHz,
    /// `n_fft` 512, hop 256, 96 Slaney mels from 0 to 8000 Hz, power 2, `log10(1 + 10000 x)` of the
    /// float16-rounded power ([`LogScale::Musicnn`]). The network takes 187-frame patches of it.
    pub fn musicnn() -> Self {
        Self {
            sample_rate: 16_000,
            n_fft: 512,
            hop_length: 256,
            n_mels: 96,
            fmin: 0.0,
            fmax: Some(8000.0),
            top_db: None,
            log_scale: LogScale::Musicnn,
        }
    }

    /// Names accepted by [`MelConfig::from_preset`].
    pub const PRESETS: [&'static str; 3] = ["librosa", "choi", "musicnn"];

    /// The preset called `name` (`"librosa"`, `"choi"` or `"musicnn"`, case-insensitive).
    pub fn from_preset(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "librosa" => Some(Self::librosa()),
            "choi" => Some(Self::choi()),
            "musicnn" => Some(Self::musicnn()),
            _ => None,
        }
    }

    /// The upper filter edge actually used (`fmax`, or Nyquist when unset).
    pub fn fmax_hz(&self) -> f32 {
        self.fmax.unwrap_or(self.sample_rate as f32 / 2.0)
    }

    /// Number of frequency bins of one spectrum, `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Number of frames `center=True` framing gives for `n_samples` input samples.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        // Padding n_fft/2 on both sides: 1 + (n + 2*(n_fft/2) - n_fft) / hop, as librosa. Only an odd
        // n_fft with no samples at all leaves less than one window: no frames.
        (n_samples + 2 * (self.n_fft / 2))
            .checked_sub(self.n_fft)
            .map_or(0, |span| 1 + span / self.hop_length)
    }

    /// Checks that the parameters describe a computable front end.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let invalid = |msg: String| Err(FeatureError::InvalidConfig(msg));
        if self.sample_rate == 0 {
            return invalid("sample rate must be positive".into());
        }
        if self.n_fft < 2 || self.n_fft > MAX_N_FFT {
            return invalid(format!(
                "n_fft must be in 2..={MAX_N_FFT}, got {}",
                self.n_fft
            ));
        }
        if self.hop_length == 0 {
            return invalid("hop length must be positive".into());
        }
        if self.n_mels == 0 {
            return invalid("n_mels must be positive".into());
        }
        if !self.fmin.is_finite() || self.fmin < 0.0 {
            return invalid(format!(
                "fmin must be a finite frequency >= 0 Hz, got {}",
                self.fmin
            ));
        }
        let nyquist = self.sample_rate as f32 / 2.0;
        let fmax = self.fmax_hz();
        if !fmax.is_finite() || fmax > nyquist {
            return invalid(format!(
                "fmax must be at most the Nyquist frequency {nyquist} Hz, got {fmax}"
            ));
        }
        if fmax <= self.fmin {
            return invalid(format!(
                "fmax ({fmax} Hz) must be above fmin ({} Hz)",
                self.fmin
            ));
        }
        if let Some(top_db) = self.top_db
            && (!top_db.is_finite() || top_db < 0.0)
        {
            return invalid(format!("top_db must be a finite number >= 0, got {top_db}"));
        }
        if self.top_db.is_some() && self.log_scale != LogScale::PowerToDb {
            return invalid(format!(
                "top_db applies to the power_to_db log scale only, not to {:?}",
                self.log_scale
            ));
        }
        Ok(())
    }

    /// Stable 16-hex-digit digest of every parameter plus the algorithm version: equal keys mean equal
    /// features. Floats are hashed by their exact bits, so 0.0 and 1e-9 differ.
    pub fn cache_key(&self) -> String {
        let mut canonical = format!(
            "musicrec-features/logmel/v{ALGORITHM_VERSION};sr={};n_fft={};hop={};n_mels={};fmin={:08x};fmax={};top_db={}",
            self.sample_rate,
            self.n_fft,
            self.hop_length,
            self.n_mels,
            self.fmin.to_bits(),
            self.fmax
                .map_or_else(|| "nyquist".to_string(), |f| format!("{:08x}", f.to_bits())),
            self.top_db
                .map_or_else(|| "none".to_string(), |f| format!("{:08x}", f.to_bits())),
        );
        // Appended only when not the default, so every key made before log scales existed stays.
        if self.log_scale != LogScale::PowerToDb {
            canonical.push_str(&format!(";log_scale={:?}", self.log_scale));
        }
        blake3::hash(canonical.as_bytes()).to_hex()[..16].to_string()
    }
}

impl Default for MelConfig {
    fn default() -> Self {
        Self::librosa()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_differ() {
        for name in MelConfig::PRESETS {
            let cfg = MelConfig::from_preset(name).unwrap();
            cfg.validate().unwrap();
        }
        assert_eq!(
            MelConfig::from_preset("LibROSA"),
            Some(MelConfig::librosa())
        );
        assert_eq!(MelConfig::from_preset("htk"), None);
        assert_ne!(
            MelConfig::librosa().cache_key(),
            MelConfig::choi().cache_key()
        );
        assert_eq!(
            MelConfig::from_preset("MusiCNN"),
            Some(MelConfig::musicnn())
        );
    }

    #[test]
    fn log_scale_defaults_when_absent_and_is_left_out_when_default() {
        // A config written before `log_scale` existed (models/default/config.json has this form).
        let old = r#"{"sample_rate":12000,"n_fft":512,"hop_length":256,"n_mels":96,"fmin":0.0,"fmax":null,"top_db":80.0}"#;
        let cfg: MelConfig = serde_json::from_str(old).unwrap();
        assert_eq!(cfg, MelConfig::choi());
        assert_eq!(serde_json::to_string(&cfg).unwrap(), old);
        // Pinned: the key of a config without log_scale must never change (it names existing
        // caches): the digest of the canonical string from before log scales existed.
        let before = format!(
            "musicrec-features/logmel/v1;sr=12000;n_fft=512;hop=256;n_mels=96;fmin={:08x};fmax=nyquist;top_db={:08x}",
            0f32.to_bits(),
            80f32.to_bits()
        );
        assert_eq!(
            MelConfig::choi().cache_key(),
            blake3::hash(before.as_bytes()).to_hex()[..16]
        );
        let musicnn = serde_json::to_string(&MelConfig::musicnn()).unwrap();
        assert!(musicnn.contains(r#""log_scale":"musicnn""#), "{musicnn}");
        assert_eq!(
            serde_json::from_str::<MelConfig>(&musicnn).unwrap(),
            MelConfig::musicnn()
        );
    }

    #[test]
    fn cache_key_is_stable_and_sees_every_parameter() {
        let base = MelConfig::librosa();
        // Pinned: changing it silently would orphan every existing cache; bump ALGORITHM_VERSION instead.
        assert_eq!(base.cache_key(), MelConfig::librosa().cache_key());
        assert_eq!(base.cache_key().len(), 16);
        assert!(base.cache_key().chars().all(|c| c.is_ascii_hexdigit()));
        let variants = [
            MelConfig {
                sample_rate: 16_000,
                ..base.clone()
            },
            MelConfig {
                n_fft: 1024,
                ..base.clone()
            },
            MelConfig {
                hop_length: 256,
                ..base.clone()
            },
            MelConfig {
                n_mels: 64,
                ..base.clone()
            },
            MelConfig {
                fmin: 20.0,
                ..base.clone()
            },
            MelConfig {
                fmax: Some(8000.0),
                ..base.clone()
            },
            MelConfig {
                fmax: Some(11_025.0),
                ..base.clone()
            },
            MelConfig {
                top_db: None,
                ..base.clone()
            },
            MelConfig {
                top_db: Some(60.0),
                ..base.clone()
            },
            MelConfig {
                top_db: None,
                log_scale: LogScale::Musicnn,
                ..base.clone()
            },
        ];
        let mut keys: Vec<String> = variants.iter().map(MelConfig::cache_key).collect();
        keys.push(base.cache_key());
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "two configs share a cache key");
    }

    #[test]
    fn validate_rejects_nonsense() {
        let base = MelConfig::librosa();
        let bad = [
            MelConfig {
                sample_rate: 0,
                ..base.clone()
            },
            MelConfig {
                n_fft: 1,
                ..base.clone()
            },
            MelConfig {
                n_fft: MAX_N_FFT + 1,
                ..base.clone()
            },
            MelConfig {
                hop_length: 0,
                ..base.clone()
            },
            MelConfig {
                n_mels: 0,
                ..base.clone()
            },
            MelConfig {
                fmin: -1.0,
                ..base.clone()
            },
            MelConfig {
                fmin: f32::NAN,
                ..base.clone()
            },
            MelConfig {
                fmax: Some(20_000.0),
                ..base.clone()
            },
            MelConfig {
                fmin: 5000.0,
                fmax: Some(4000.0),
                ..base.clone()
            },
            MelConfig {
                top_db: Some(-1.0),
                ..base.clone()
            },
            MelConfig {
                top_db: Some(f32::INFINITY),
                ..base.clone()
            },
            MelConfig {
                top_db: Some(80.0),
                ..MelConfig::musicnn()
            },
        ];
        for cfg in bad {
            let err = cfg.validate().expect_err(&format!("{cfg:?} accepted"));
            assert!(matches!(err, FeatureError::InvalidConfig(_)));
        }
    }

    #[test]
    fn frame_count_matches_librosa_center_padding() {
        let cfg = MelConfig::librosa();
        // librosa: 1 + len // hop for even n_fft with center=True.
        assert_eq!(cfg.n_frames(0), 1);
        assert_eq!(cfg.n_frames(511), 1);
        assert_eq!(cfg.n_frames(512), 2);
        assert_eq!(cfg.n_frames(661_794), 1 + 661_794 / 512);
    }
}

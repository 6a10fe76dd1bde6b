//! Backbone features of audio files, cached on disk so that a second head training on the same
//! files is instant, and the clip variants head training augments with ([`Variant`]).
//!
//! An entry is keyed by the backbone id, the analysis, the variant and the blake3 of the file's
//! bytes: `DIR/<backbone id>/<analysis>/<variant>/<blake3>.json`. A changed file or other weights
//! miss the cache instead of returning stale features; entries are written atomically.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::backbone::{Analysis, Backbone, TrackFeatures};
use crate::error::{Result, TrainError};

/// A clip as the backbone sees it in head training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Variant {
    /// The decoded file.
    Original,
    /// Band-limited to this many Hz: what an old MP3 or a 2·Hz-sampled source sounds like.
    BandLimited(u32),
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Original => f.write_str("original"),
            Self::BandLimited(hz) => write!(f, "band:{hz}"),
        }
    }
}

impl FromStr for Variant {
    type Err = String;

    /// `original` or `band:HZ` (`HZ` from 500 up).
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        if text == "original" {
            return Ok(Self::Original);
        }
        let hz = text
            .strip_prefix("band:")
            .and_then(|hz| hz.parse::<u32>().ok())
            .filter(|hz| *hz >= 500);
        hz.map(Self::BandLimited).ok_or_else(|| {
            format!("a variant is `original` or `band:HZ` (HZ >= 500), not `{text}`")
        })
    }
}

impl Variant {
    /// The variants an `--augment` list asks for: the original first, then each listed variant
    /// (`band:HZ`, comma-separated, repeats dropped); `none` for the original alone.
    pub fn parse_augment(list: &str) -> std::result::Result<Vec<Variant>, String> {
        let mut variants = vec![Variant::Original];
        if list != "none" {
            for item in list.split(',').filter(|s| !s.is_empty()) {
                let variant: Variant = item.parse()?;
                if !variants.contains(&variant) {
                    variants.push(variant);
                }
            }
        }
        Ok(variants)
    }

    /// `samples` (at `sample_rate`) as this variant.
    ///
    /// Band-limiting resamples to twice the bandwidth and back with the audio stage's resampler
    /// (rubato, a sharp anti-aliasing low-pass): exactly what a file sampled at that rate
    /// brings, without a hand-written filter. A bandwidth at or above Nyquist leaves the clip as
    /// it is.
    pub fn apply(self, samples: &[f32], sample_rate: u32) -> Result<Vec<f32>> {
        match self {
            Self::BandLimited(hz) if 2 * hz < sample_rate => {
                let low = musicrec_audio::resample(samples, sample_rate, 2 * hz)
                    .map_err(|e| TrainError::Data(format!("cannot band-limit a clip: {e}")))?;
                let mut back = musicrec_audio::resample(&low, 2 * hz, sample_rate)
                    .map_err(|e| TrainError::Data(format!("cannot band-limit a clip: {e}")))?;
                back.resize(samples.len(), 0.0);
                Ok(back)
            }
            _ => Ok(samples.to_vec()),
        }
    }
}

/// The on-disk cache of [`TrackFeatures`].
#[derive(Clone, Debug)]
pub struct FeatureCache {
    dir: PathBuf,
}

/// Whether [`FeatureCache::features`] computed the entry or found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Computed,
}

impl FeatureCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(
        &self,
        backbone: &dyn Backbone,
        analysis: Analysis,
        variant: Variant,
        hash: &blake3::Hash,
    ) -> PathBuf {
        self.dir
            .join(backbone.id())
            .join(analysis.to_string())
            .join(variant.to_string().replace(':', "-"))
            .join(format!("{}.json", hash.to_hex()))
    }

    /// The features of every variant of `path`, from the cache or computed (the file is decoded
    /// once for all missing variants).
    pub fn features(
        &self,
        path: &Path,
        variants: &[Variant],
        backbone: &dyn Backbone,
        analysis: Analysis,
    ) -> Result<Vec<(TrackFeatures, CacheOutcome)>> {
        let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
        let hash = blake3::hash(&bytes);
        drop(bytes);
        let mut samples: Option<Vec<f32>> = None;
        let mut out = Vec::with_capacity(variants.len());
        for &variant in variants {
            let entry = self.entry_path(backbone, analysis, variant, &hash);
            if let Some(found) = read_entry(&entry, backbone.embedding_dim()) {
                out.push((found, CacheOutcome::Hit));
                continue;
            }
            if samples.is_none() {
                let audio =
                    musicrec_audio::load(path, Some(backbone.sample_rate())).map_err(|source| {
                        TrainError::Audio {
                            path: path.to_path_buf(),
                            source,
                        }
                    })?;
                samples = Some(audio.samples);
            }
            let clip = variant.apply(samples.as_deref().unwrap_or(&[]), backbone.sample_rate())?;
            let features = backbone
                .features(&clip, analysis)
                .map_err(|e| TrainError::Data(format!("{}: {e}", path.display())))?;
            write_entry(&entry, &features)?;
            out.push((features, CacheOutcome::Computed));
        }
        Ok(out)
    }
}

/// A cached entry, or `None` when absent or unreadable (then it is computed again).
fn read_entry(path: &Path, embedding_dim: usize) -> Option<TrackFeatures> {
    let text = std::fs::read(path).ok()?;
    let features: TrackFeatures = serde_json::from_slice(&text).ok()?;
    (features.embedding.len() == embedding_dim).then_some(features)
}

fn write_entry(path: &Path, features: &TrackFeatures) -> Result<()> {
    let dir = path.parent().expect("entry paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let json = serde_json::to_vec(features).expect("features serialise");
    crate::model_dir::write_file_atomically(path, &json)
}

#[cfg(test)]
mod tests {
    use super::Variant;

    #[test]
    fn variants_parse_print_and_band_limit() {
        assert_eq!("original".parse::<Variant>().unwrap(), Variant::Original);
        assert_eq!(
            "band:4000".parse::<Variant>().unwrap(),
            Variant::BandLimited(4000)
        );
        assert!("band:10".parse::<Variant>().is_err());
        assert!(
            "lowpass"
                .parse::<Variant>()
                .unwrap_err()
                .contains("lowpass")
        );
        assert_eq!(Variant::BandLimited(4000).to_string(), "band:4000");
        assert_eq!(Variant::parse_augment("none").unwrap(), [Variant::Original]);
        assert_eq!(
            Variant::parse_augment("band:4000,band:4000,,band:8000").unwrap(),
            [
                Variant::Original,
                Variant::BandLimited(4000),
                Variant::BandLimited(8000)
            ]
        );
        assert!(Variant::parse_augment("band:4000,lowpass").is_err());

        // 1 kHz passes a 4 kHz band limit, 6 kHz does not.
        let sr = 16_000u32;
        let tone = |hz: f32| -> Vec<f32> {
            (0..sr)
                .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / sr as f32).sin())
                .collect()
        };
        let rms = |x: &[f32]| {
            let mid = &x[2000..x.len() - 2000];
            (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32).sqrt()
        };
        let low = Variant::BandLimited(4000).apply(&tone(1000.0), sr).unwrap();
        let high = Variant::BandLimited(4000).apply(&tone(6000.0), sr).unwrap();
        assert_eq!(low.len(), sr as usize);
        assert!((rms(&low) - 0.707).abs() < 0.02, "{}", rms(&low));
        assert!(rms(&high) < 0.01, "{}", rms(&high));
        // At or above Nyquist: unchanged.
        let same = Variant::BandLimited(8000).apply(&tone(6000.0), sr).unwrap();
        assert_eq!(same, tone(6000.0));
    }
}

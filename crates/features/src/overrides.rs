//! Single values that override a preset's ([`MelOverrides`]), as `musicrec features` takes them.

use crate::{FeatureError, MelConfig};

/// Values that replace a preset's one by one; `None` keeps the preset's.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MelOverrides {
    pub sample_rate: Option<u32>,
    pub n_fft: Option<usize>,
    pub hop_length: Option<usize>,
    pub n_mels: Option<usize>,
    pub fmin: Option<f32>,
    pub fmax: Option<f32>,
    /// `Some(None)`: no clipping.
    pub top_db: Option<Option<f32>>,
}

impl MelOverrides {
    /// `cfg` with these values in place of its own, checked with [`MelConfig::validate`].
    pub fn apply(&self, mut cfg: MelConfig) -> Result<MelConfig, FeatureError> {
        if let Some(sr) = self.sample_rate {
            cfg.sample_rate = sr;
        }
        if let Some(n_fft) = self.n_fft {
            cfg.n_fft = n_fft;
        }
        if let Some(hop) = self.hop_length {
            cfg.hop_length = hop;
        }
        if let Some(n_mels) = self.n_mels {
            cfg.n_mels = n_mels;
        }
        if let Some(fmin) = self.fmin {
            cfg.fmin = fmin;
        }
        if let Some(fmax) = self.fmax {
            cfg.fmax = Some(fmax);
        }
        if let Some(top_db) = self.top_db {
            cfg.top_db = top_db;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_overridden_is_the_preset() {
        let cfg = MelOverrides::default().apply(MelConfig::choi()).unwrap();
        assert_eq!(cfg, MelConfig::choi());
        let too_high = MelOverrides {
            fmax: Some(20_000.0),
            ..MelOverrides::default()
        };
        assert!(too_high.apply(MelConfig::librosa()).is_err());
    }
}

//! What a training run is asked to do: [`TrainConfig`] (data, architecture, optimiser, stopping,
//! device) and how it turns into a model config and window sizes.

use std::path::PathBuf;

use musicrec_features::MelConfig;
use musicrec_model::{CnnConfig, CrnnConfig, ModelConfig};

use crate::device::DeviceKind;
use crate::error::{Result, TrainError};

/// Window length used when none is given: 6 s (281 frames at the `choi` preset, 258 at
/// `librosa`). Long enough for rhythm and timbre, short enough for several windows per clip.
pub const DEFAULT_WINDOW_SECS: f64 = 6.0;

/// The network to train.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arch {
    /// Choi et al.'s CRNN (0.5M parameters at full width).
    #[default]
    Crnn,
    /// The 5-block all-convolutional network.
    Cnn,
}

impl Arch {
    /// `crnn` or `cnn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crnn => "crnn",
            Self::Cnn => "cnn",
        }
    }

    /// The default model for `n_genres` outputs and `n_mels` inputs, every width (conv filters,
    /// GRU units) multiplied by `width_scale` and rounded, at least 1.
    pub fn model_config(
        self,
        n_genres: usize,
        n_mels: usize,
        width_scale: f64,
    ) -> Result<ModelConfig> {
        if !(width_scale.is_finite() && width_scale > 0.0 && width_scale <= 8.0) {
            return Err(TrainError::Config(format!(
                "--width-scale must be in (0, 8], got {width_scale}"
            )));
        }
        let scale = |n: usize| ((n as f64 * width_scale).round() as usize).max(1);
        let config = match self {
            Self::Crnn => {
                let base = CrnnConfig::new(n_genres).with_n_mels(n_mels);
                let filters = base.filters.iter().map(|&f| scale(f)).collect();
                let hidden = scale(base.gru_hidden);
                ModelConfig::Crnn(base.with_filters(filters).with_gru_hidden(hidden))
            }
            Self::Cnn => {
                let base = CnnConfig::new(n_genres).with_n_mels(n_mels);
                let filters = base.filters.iter().map(|&f| scale(f)).collect();
                ModelConfig::Cnn(base.with_filters(filters))
            }
        };
        Ok(config)
    }
}

impl std::str::FromStr for Arch {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "crnn" => Ok(Self::Crnn),
            "cnn" => Ok(Self::Cnn),
            other => Err(TrainError::Config(format!(
                "unknown architecture '{other}'; use crnn or cnn"
            ))),
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Window length, given in frames or in seconds (converted with the preset's sample rate and hop).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WindowLength {
    Frames(usize),
    Secs(f64),
}

impl Default for WindowLength {
    fn default() -> Self {
        Self::Secs(DEFAULT_WINDOW_SECS)
    }
}

impl WindowLength {
    /// Frames for `mel` (at least 1).
    pub fn frames(self, mel: &MelConfig) -> Result<usize> {
        match self {
            Self::Frames(0) => Err(TrainError::Config("--frames must be positive".into())),
            Self::Frames(n) => Ok(n),
            Self::Secs(s) if s.is_finite() && s > 0.0 && s <= 600.0 => Ok(
                musicrec_datasets::window::frames_for_secs(s, mel.sample_rate, mel.hop_length),
            ),
            Self::Secs(s) => Err(TrainError::Config(format!(
                "--window-secs must be in (0, 600], got {s}"
            ))),
        }
    }
}

/// Everything one training run needs. [`TrainConfig::new`] gives the defaults of
/// `musicrec train`; fields are public so callers set what they need.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Manifest CSV with `train` and `validation` (optionally `test`) splits.
    pub manifest: PathBuf,
    /// Feature cache filled by `musicrec dataset prepare` with the same preset.
    pub cache: PathBuf,
    /// Model directory to write (weights, config, metrics, curves, card, checkpoint).
    pub out: PathBuf,
    pub arch: Arch,
    /// Log-mel preset name (`choi` or `librosa`).
    pub preset: String,
    pub window: WindowLength,
    /// Start-to-start distance of training windows, in frames; `None`: half a window (50% overlap).
    /// Validation, test and prediction always use non-overlapping windows.
    pub train_hop_frames: Option<usize>,
    /// Multiplies every layer width of the default architecture (0.25: a quick CPU model).
    pub width_scale: f64,
    /// Most epochs to run.
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Stop when the validation loss has not improved for this many epochs.
    pub patience: usize,
    /// Seeds weight init, window shuffling and dropout.
    pub seed: u64,
    pub device: DeviceKind,
    /// Continue the run checkpointed in `out` instead of starting fresh.
    pub resume: bool,
    /// Show a progress bar (on a terminal) and one line per epoch on stderr.
    pub progress: bool,
    /// The command line, for the model card.
    pub command_line: Option<String>,
    /// The seed the manifest's splits were drawn with, if known (provenance only).
    pub split_seed: Option<u64>,
    /// Stop (as if killed) after this many epochs of this invocation, leaving the checkpoint to
    /// resume from and no final model card. For tests and time-boxed sessions.
    pub stop_after_epochs: Option<usize>,
}

impl TrainConfig {
    /// The `musicrec train` defaults: CRNN, `choi` preset, 6 s windows, 100 epochs, batch 16,
    /// Adam at 1e-3, patience 10, seed 0, CPU.
    pub fn new(
        manifest: impl Into<PathBuf>,
        cache: impl Into<PathBuf>,
        out: impl Into<PathBuf>,
    ) -> Self {
        Self {
            manifest: manifest.into(),
            cache: cache.into(),
            out: out.into(),
            arch: Arch::Crnn,
            preset: "choi".into(),
            window: WindowLength::default(),
            train_hop_frames: None,
            width_scale: 1.0,
            epochs: 100,
            batch_size: 16,
            learning_rate: 1e-3,
            patience: 10,
            seed: 0,
            device: DeviceKind::Cpu,
            resume: false,
            progress: false,
            command_line: None,
            split_seed: None,
            stop_after_epochs: None,
        }
    }

    /// The log-mel parameters of [`TrainConfig::preset`].
    pub fn mel(&self) -> Result<MelConfig> {
        MelConfig::from_preset(&self.preset).ok_or_else(|| {
            TrainError::Config(format!(
                "unknown preset '{}'; use one of {}",
                self.preset,
                MelConfig::PRESETS.join(", ")
            ))
        })
    }

    /// Checks the numeric options (before anything is read).
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(TrainError::Config(msg));
        if self.epochs == 0 {
            return bad("--epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("--batch must be at least 1".into());
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate < 10.0)
        {
            return bad(format!(
                "--lr must be in (0, 10), got {}",
                self.learning_rate
            ));
        }
        if self.patience == 0 {
            return bad("--patience must be at least 1".into());
        }
        if self.train_hop_frames == Some(0) {
            return bad("the training window hop must be positive".into());
        }
        if !(self.width_scale.is_finite() && self.width_scale > 0.0 && self.width_scale <= 8.0) {
            return bad(format!(
                "--width-scale must be in (0, 8], got {}",
                self.width_scale
            ));
        }
        if self.stop_after_epochs == Some(0) {
            return bad("stop_after_epochs must be at least 1".into());
        }
        self.mel()?;
        Ok(())
    }
}

//! The model directory a training run writes and prediction, evaluation and the catalog read:
//!
//! ```text
//! MODEL_DIR/
//!   config.json           ModelDirConfig: model config, features, genres, window, provenance
//!   weights.safetensors   the best epoch's weights (lowest validation loss)
//!   metrics.csv           one row per epoch
//!   loss.png accuracy.png training curves
//!   MODEL.md              model card
//!   checkpoint/           the last epoch's full training state (for --resume)
//! ```
//!
//! [`ModelDir::load`] checks the format version first, so a directory written by another
//! musicrec version is one clear error, and [`ModelDir::check_mel`] says which features the model
//! expects when given others.

use std::path::{Path, PathBuf};

use musicrec_features::{MelConfig, MelExtractor};
use musicrec_model::{Device, GenreModel, HostModel, ModelConfig};
use serde::{Deserialize, Serialize};

use crate::data::describe_mel;
use crate::device::DeviceKind;
use crate::error::{Result, TrainError};

/// `config.json`.
pub const CONFIG_FILE: &str = "config.json";
/// The best weights, SafeTensors.
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// The model card.
pub const CARD_FILE: &str = "MODEL.md";
/// What `config.json`'s `format` says.
pub const FORMAT_NAME: &str = "musicrec-model";
/// Bumped whenever a model directory written before can no longer be read the same way.
pub const FORMAT_VERSION: u32 = 1;
/// This build's version, written into every model directory.
pub const MUSICREC_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A model directory's id, `<arch>-<16 hex>`: blake3 over `config.json` then the weights file.
/// Catalogs store embeddings under it, so changed weights or settings never mix with old vectors.
pub fn model_id_of(dir: &Path, arch: &str) -> Result<String> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| TrainError::io(path, source))
    };
    Ok(model_id_of_bytes(
        &read(CONFIG_FILE)?,
        &read(WEIGHTS_FILE)?,
        arch,
    ))
}

/// The id of a model from the bytes of its `config.json` and weights file (see [`model_id_of`]).
pub fn model_id_of_bytes(config_json: &[u8], weights: &[u8], arch: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(config_json);
    hasher.update(weights);
    let hex = hasher.finalize().to_hex();
    format!("{arch}-{}", &hex.as_str()[..16])
}

/// How a model was trained: enough to reproduce or audit it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The manifest as given.
    pub manifest: PathBuf,
    /// blake3 of the manifest's bytes.
    pub manifest_blake3: String,
    /// The seed of the manifest's splits, when the caller knew it.
    pub split_seed: Option<u64>,
    /// Training seed (init, shuffling, dropout).
    pub seed: u64,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub max_epochs: usize,
    pub patience: usize,
    pub width_scale: f64,
    pub device: String,
}

/// `config.json` of a model directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelDirConfig {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// musicrec version of the writer.
    pub musicrec_version: String,
    /// `crnn` or `cnn`.
    pub arch: String,
    /// The network, as `musicrec_model::ModelConfig` JSON.
    pub model: ModelConfig,
    /// Preset name of `mel`, when it is one.
    pub preset: Option<String>,
    /// The log-mel front end the model was trained on.
    pub mel: MelConfig,
    /// Genres in output order.
    pub genres: Vec<String>,
    /// Frames per model window (prediction uses non-overlapping windows of this length).
    pub window_frames: usize,
    /// Frames between training windows.
    pub train_hop_frames: usize,
    pub training: Provenance,
}

impl ModelDirConfig {
    /// Window length in seconds.
    pub fn window_secs(&self) -> f64 {
        self.window_frames as f64 * self.mel.hop_length as f64 / self.mel.sample_rate as f64
    }

    /// Reads and checks `dir/config.json`: present, ours, of this format version.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(CONFIG_FILE);
        if !dir.is_dir() {
            return Err(TrainError::model_dir(dir, "no such directory"));
        }
        let text = std::fs::read_to_string(&path).map_err(|_| {
            TrainError::model_dir(
                dir,
                format!("not a musicrec model directory (no readable {CONFIG_FILE})"),
            )
        })?;
        Self::parse(&text, dir)
    }

    /// Parses and checks the text of a `config.json` (ours, of this format version); `dir`
    /// names the model in messages.
    pub fn parse(text: &str, dir: &Path) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            TrainError::model_dir(dir, format!("{CONFIG_FILE} is not valid JSON: {e}"))
        })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(TrainError::model_dir(
                dir,
                format!(
                    "{CONFIG_FILE} is not a musicrec model config (no \"format\": \"{FORMAT_NAME}\")"
                ),
            ));
        }
        let version = value.get("format_version").and_then(|v| v.as_u64());
        let writer = value
            .get("musicrec_version")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_string();
        if version != Some(u64::from(FORMAT_VERSION)) {
            return Err(TrainError::model_dir(
                dir,
                format!(
                    "written by musicrec {writer} (model format {}), this is musicrec {MUSICREC_VERSION} \
                     (model format {FORMAT_VERSION}); retrain the model or use musicrec {writer}",
                    version.map_or("unknown".into(), |v| v.to_string())
                ),
            ));
        }
        serde_json::from_value(value).map_err(|e| {
            TrainError::model_dir(
                dir,
                format!("{CONFIG_FILE} from musicrec {writer} does not parse: {e}"),
            )
        })
    }

    /// Writes `dir/config.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("model dir config serialises");
        write_file_atomically(&dir.join(CONFIG_FILE), &json)
    }

    /// What differs between two configs in ways that matter to a resumed run (not epochs,
    /// patience, device or version); empty when the run can continue.
    pub fn resume_mismatches(&self, other: &Self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |what: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{what}: checkpoint {a}, now {b}"));
            }
        };
        check("model", to_json(&self.model), to_json(&other.model));
        check(
            "features",
            describe_mel(&self.mel),
            describe_mel(&other.mel),
        );
        check("genres", self.genres.join(","), other.genres.join(","));
        check(
            "window frames",
            self.window_frames.to_string(),
            other.window_frames.to_string(),
        );
        check(
            "training hop",
            self.train_hop_frames.to_string(),
            other.train_hop_frames.to_string(),
        );
        let (a, b) = (&self.training, &other.training);
        check(
            "manifest blake3",
            a.manifest_blake3.clone(),
            b.manifest_blake3.clone(),
        );
        check("seed", a.seed.to_string(), b.seed.to_string());
        check(
            "batch size",
            a.batch_size.to_string(),
            b.batch_size.to_string(),
        );
        check(
            "learning rate",
            a.learning_rate.to_string(),
            b.learning_rate.to_string(),
        );
        out
    }
}

/// Compact JSON of a config, to compare types that have no `PartialEq` (Burn configs).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A loaded model directory: its config and the best weights in eval mode on a device.
#[derive(Debug)]
pub struct ModelDir {
    dir: PathBuf,
    config: ModelDirConfig,
    model: GenreModel,
    device: Device,
    extractor: MelExtractor,
    /// The weights on the host for the fused CPU path (`None` on another device).
    host: Option<HostModel>,
}

impl ModelDir {
    /// Loads `dir` on the CPU.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(dir, DeviceKind::Cpu)
    }

    /// Loads `dir` on `device`: config (version checked), then the best weights.
    pub fn load_on(dir: impl AsRef<Path>, device: DeviceKind) -> Result<Self> {
        let dir = dir.as_ref();
        let config = ModelDirConfig::read(dir)?;
        Self::check_consistent(&config, dir)?;
        let weights = dir.join(WEIGHTS_FILE);
        if !weights.is_file() {
            return Err(TrainError::model_dir(
                dir,
                format!("no {WEIGHTS_FILE} yet (training has not finished an epoch)"),
            ));
        }
        let device_handle = device.device()?;
        let model = config.model.init(&device_handle)?.load_weights(&weights)?;
        Self::assemble(dir, config, model, device_handle)
    }

    /// Loads a model directory held in memory (a model built into the binary): the bytes of its
    /// `config.json` and `weights.safetensors`, with the same checks as [`Self::load_on`].
    /// `name` stands for the directory in messages and [`Self::dir`].
    pub fn from_bytes(
        name: impl AsRef<Path>,
        config_json: &[u8],
        weights: &[u8],
        device: DeviceKind,
    ) -> Result<Self> {
        let name = name.as_ref();
        let text = std::str::from_utf8(config_json)
            .map_err(|_| TrainError::model_dir(name, format!("{CONFIG_FILE} is not UTF-8 text")))?;
        let config = ModelDirConfig::parse(text, name)?;
        Self::check_consistent(&config, name)?;
        let device_handle = device.device()?;
        let model = config
            .model
            .init(&device_handle)?
            .load_weights_from_bytes(weights, &name.join(WEIGHTS_FILE))?;
        Self::assemble(name, config, model, device_handle)
    }

    fn assemble(
        dir: &Path,
        config: ModelDirConfig,
        model: GenreModel,
        device: Device,
    ) -> Result<Self> {
        let extractor = MelExtractor::new(&config.mel)?;
        let host = if device == Device::flex() {
            Some(HostModel::of(&model)?)
        } else {
            None
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            model,
            device,
            extractor,
            host,
        })
    }

    fn check_consistent(config: &ModelDirConfig, dir: &Path) -> Result<()> {
        if config.model.n_genres() != config.genres.len()
            || config.model.n_mels() != config.mel.n_mels
        {
            return Err(TrainError::model_dir(
                dir,
                format!(
                    "{CONFIG_FILE} is inconsistent: the model has {} outputs for {} genres and {} mel \
                     inputs for {} mels",
                    config.model.n_genres(),
                    config.genres.len(),
                    config.model.n_mels(),
                    config.mel.n_mels
                ),
            ));
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> &ModelDirConfig {
        &self.config
    }

    /// The network in eval mode.
    pub fn model(&self) -> &GenreModel {
        &self.model
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The weights for the fused CPU path, when the model runs on the CPU.
    pub(crate) fn host(&self) -> Option<&HostModel> {
        self.host.as_ref()
    }

    /// Genres in output order.
    pub fn genres(&self) -> &[String] {
        &self.config.genres
    }

    /// The log-mel front end of the model (to compute its input from samples).
    pub fn extractor(&self) -> &MelExtractor {
        &self.extractor
    }

    /// Checks that features computed with `mel` fit this model; the error names both.
    pub fn check_mel(&self, mel: &MelConfig) -> Result<()> {
        if *mel == self.config.mel {
            return Ok(());
        }
        Err(TrainError::model_dir(
            &self.dir,
            format!(
                "model expects {} but got {}",
                describe_mel(&self.config.mel),
                describe_mel(mel)
            ),
        ))
    }
}

/// Writes `bytes` to `path` atomically (temp file in the same folder, then rename).
pub(crate) fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    musicrec_plot::write_atomically(path, |out| {
        out.write_all(bytes)
            .map_err(|source| musicrec_plot::PlotError::Io {
                path: path.to_path_buf(),
                source,
            })
    })
    .map_err(|e| match e {
        musicrec_plot::PlotError::Io { path, source } => TrainError::Io { path, source },
        other => TrainError::Plot(other),
    })
}

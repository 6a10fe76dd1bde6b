//! The adapters between models and the catalog's [`TrackEmbedder`] seam, and how `--model` is
//! resolved (see [`ModelChoice`]).
//!
//! Two kinds of embedder:
//! - a trained CNN/CRNN model directory (`musicrec_train::ModelDir`): one decode and one log-mel
//!   per file, then the averaged window embedding and genre probabilities; its model id is
//!   `<arch>-<first 16 hex of blake3(config.json bytes + weights bytes)>`;
//! - a backbone ([`musicrec_train::Backbone`], MusiCNN by default) with a genre head
//!   ([`musicrec_train::Head`]): the track embedding is the backbone's, the genre probabilities
//!   the head's; its model id is `<backbone name>-<16 hex of blake3(backbone id, head config, head
//!   weights)>`. How many patches of a track are analysed (`--analysis`) is not part of the id:
//!   it changes how much of a track is heard, not the embedding space.
//!
//! The same files give the same id on every machine, and any change (weights, head)
//! gives a new one, so the catalog never mixes vectors of two models, and a catalog made with
//! one model keeps working (and says which model it holds) when the default changes.
//!
//! Burn modules are not `Sync`. Each embedder keeps a [`Pool`] of models: a scan thread takes
//! an idle one (building another from the same bytes when all are busy) and gives it back, so
//! every worker thread runs its own model and no lock is held during inference.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, bail};
use musicrec_catalog::{ModelInfo, TrackEmbedder, TrackEmbedding};
pub use musicrec_train::model_dir::model_id_of;
use musicrec_train::{Analysis, Backbone, DeviceKind, Head, HeadConfig, ModelDir};

use crate::built_in::BackboneKind;

/// What `--model` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// A backbone (MusiCNN, or the one a head directory names) and where its genre probabilities
    /// come from. The default: MusiCNN with the built-in genre head.
    Backbone { head: HeadSource },
    /// The built-in CNN (`models/default/`), the default before MusiCNN.
    BuiltInCnn,
    /// A CNN/CRNN model directory written by `musicrec train --arch`.
    ModelDir(PathBuf),
}

/// Names `--model` takes besides a directory.
pub const MODEL_NAMES: &str = "`musicnn` (the default: MusiCNN with the built-in genre head), \
    `musicnn-tags` (MusiCNN, its 50 tags standing in for genres), `cnn` (the built-in CNN of \
    earlier versions), or a directory from `musicrec train` (a CNN/CRNN, or a genre head from \
    `train --backbone`)";

/// Where a backbone's genre probabilities come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadSource {
    /// The genre head built into the binary (`models/musicnn-genre/`).
    BuiltIn,
    /// None: the backbone's own tags stand in for genres.
    Tags,
    /// A head directory written by `musicrec train --backbone`.
    Dir(PathBuf),
}

impl HeadSource {
    /// The head's config.json and weights bytes (for [`HeadSource::Tags`], what stands for them
    /// in the model id).
    fn bytes(&self) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
        use crate::built_in::{GENRE_HEAD_CONFIG, GENRE_HEAD_WEIGHTS};
        match self {
            Self::BuiltIn => Ok((GENRE_HEAD_CONFIG.to_vec(), GENRE_HEAD_WEIGHTS.to_vec())),
            Self::Tags => Ok((TAGS_AS_GENRES.to_vec(), Vec::new())),
            Self::Dir(dir) => head_bytes(dir),
        }
    }

    /// How messages and the `model` command name the head.
    pub fn describe(&self) -> String {
        match self {
            Self::BuiltIn => crate::built_in::GENRE_HEAD_NAME.to_string(),
            Self::Tags => "its tags as genres".to_string(),
            Self::Dir(dir) => format!("the genre head in {}", dir.display()),
        }
    }

    /// The name a head's errors carry.
    fn name(&self) -> PathBuf {
        match self {
            Self::Dir(dir) => dir.clone(),
            _ => PathBuf::from(crate::built_in::GENRE_HEAD_NAME),
        }
    }
}

impl ModelChoice {
    /// `--model` as given: `None` or `musicnn` is MusiCNN with the built-in genre head,
    /// `musicnn-tags` MusiCNN with its tags as genres, `cnn` the built-in CNN; anything else must
    /// be a directory: a genre head (its config.json says `"format": "musicrec-head"`) or a
    /// CNN/CRNN model directory. An existing directory wins over a name.
    pub fn parse(arg: Option<&Path>) -> anyhow::Result<Self> {
        let Some(arg) = arg else {
            return Ok(Self::Backbone {
                head: HeadSource::BuiltIn,
            });
        };
        if arg.is_dir() {
            return Ok(if HeadConfig::is_head_dir(arg) {
                Self::Backbone {
                    head: HeadSource::Dir(arg.to_path_buf()),
                }
            } else {
                Self::ModelDir(arg.to_path_buf())
            });
        }
        match arg.to_str() {
            Some("musicnn") => Ok(Self::Backbone {
                head: HeadSource::BuiltIn,
            }),
            Some("musicnn-tags") => Ok(Self::Backbone {
                head: HeadSource::Tags,
            }),
            Some("cnn") => Ok(Self::BuiltInCnn),
            _ => bail!(
                "--model {}: no such directory; --model takes {MODEL_NAMES}",
                arg.display()
            ),
        }
    }

    /// The catalog model id this choice embeds with, computed from the files without loading
    /// any network.
    pub fn model_id(&self) -> anyhow::Result<String> {
        match self {
            Self::BuiltInCnn => crate::built_in::model_id(),
            Self::ModelDir(dir) => {
                let config = musicrec_train::ModelDirConfig::read(dir)?;
                model_id_of(dir, &config.arch).map_err(one_line)
            }
            Self::Backbone {
                head: HeadSource::Tags,
            } => {
                let kind = BackboneKind::MusicnnMsd;
                Ok(backbone_model_id(
                    &kind.name(),
                    &kind.id()?,
                    TAGS_AS_GENRES,
                    &[],
                ))
            }
            Self::Backbone { head } => {
                let (config, weights) = head.bytes()?;
                let name = head.name();
                let head_config = HeadConfig::parse(
                    std::str::from_utf8(&config).context("head config.json is not UTF-8")?,
                    &name,
                )
                .map_err(one_line)?;
                let kind = BackboneKind::for_head(&head_config, &name)?;
                Ok(backbone_model_id(
                    &kind.name(),
                    &kind.id()?,
                    &config,
                    &weights,
                ))
            }
        }
    }
}

/// A set of models of one kind: a thread takes an idle one, or builds one when all are busy.
pub struct Pool<T> {
    idle: Mutex<Vec<T>>,
    make: Box<dyn Fn() -> anyhow::Result<T> + Send + Sync>,
}

impl<T: Send> Pool<T> {
    /// A pool that builds its models with `make`, holding `first` already.
    pub fn new(first: T, make: impl Fn() -> anyhow::Result<T> + Send + Sync + 'static) -> Self {
        Self {
            idle: Mutex::new(vec![first]),
            make: Box::new(make),
        }
    }

    /// Runs `f` on a model of its own.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Result<R, String> {
        let taken = self.idle.lock().map_err(|_| poisoned())?.pop();
        let model = match taken {
            Some(model) => model,
            None => (self.make)().map_err(|e| format!("{e:#}"))?,
        };
        let result = f(&model);
        self.idle.lock().map_err(|_| poisoned())?.push(model);
        Ok(result)
    }
}

fn poisoned() -> String {
    "the model failed on an earlier file (poisoned lock)".to_string()
}

/// What stands for a head's bytes in the model id of a backbone without a head (its tags are the
/// genres).
const TAGS_AS_GENRES: &[u8] = b"tags as genres";

/// A backbone and the head on it (none: the backbone's tags are the genres), used together by
/// one thread.
pub struct BackboneAndHead {
    pub backbone: Box<dyn Backbone + Send>,
    pub head: Option<Head>,
}

impl BackboneAndHead {
    /// Genre names: the head's, or the backbone's tags.
    pub fn genres(&self) -> Vec<String> {
        match &self.head {
            Some(head) => head.genres().to_vec(),
            None => self.backbone.tag_names().to_vec(),
        }
    }

    /// Genre probabilities of a track's features.
    pub fn genre_probs(
        &self,
        features: &musicrec_train::TrackFeatures,
    ) -> musicrec_train::Result<Vec<f32>> {
        match &self.head {
            Some(head) => head.probabilities(&features.embedding),
            None => Ok(features.tags.clone()),
        }
    }
}

enum Models {
    ModelDir(Pool<ModelDir>),
    Backbone(Pool<BackboneAndHead>),
}

/// A [`TrackEmbedder`] over a CNN/CRNN model directory or a backbone with a genre head.
pub struct ModelEmbedder {
    models: Models,
    model_id: String,
    info: ModelInfo,
    sample_rate: u32,
    analysis: Analysis,
    description: String,
    /// A truncated file is embedded from its readable part when that lasts this long.
    min_duration_secs: f64,
}

/// How much of a truncated file must be readable for a scan to embed it (with a warning): by
/// default 10 s, a third of a GTZAN clip and three MusiCNN patches.
pub const DEFAULT_MIN_DURATION_SECS: f64 = 10.0;

impl ModelEmbedder {
    /// Loads the CNN/CRNN model directory `dir` and derives its stable id.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let model = ModelDir::load(dir)
            .map_err(one_line)
            .with_context(|| format!("cannot load model {}", dir.display()))?;
        let model_id = model_id_of(dir, &model.config().arch)?;
        let owned = dir.to_path_buf();
        Self::from_model_dir(
            model,
            move || ModelDir::load(&owned).map_err(one_line),
            model_id,
            dir.display().to_string(),
        )
    }

    /// The built-in CNN (`models/default/`).
    pub fn built_in_cnn() -> anyhow::Result<Self> {
        let model = crate::built_in::load(DeviceKind::Cpu)?;
        let model_id = crate::built_in::model_id()?;
        Self::from_model_dir(
            model,
            || crate::built_in::load(DeviceKind::Cpu),
            model_id,
            crate::built_in::NAME.to_string(),
        )
    }

    /// The default embedder (MusiCNN with the built-in genre head).
    pub fn built_in() -> anyhow::Result<Self> {
        Self::from_arg(None, Analysis::default())
    }

    /// What `--model` names (see [`ModelChoice::parse`]); `analysis` applies to backbones.
    pub fn from_arg(model: Option<&Path>, analysis: Analysis) -> anyhow::Result<Self> {
        match ModelChoice::parse(model)? {
            ModelChoice::Backbone { head } => Self::backbone(&head, analysis),
            ModelChoice::BuiltInCnn => Self::built_in_cnn(),
            ModelChoice::ModelDir(dir) => Self::load(&dir),
        }
    }

    /// A backbone with the genre head `head`; a head names its backbone, which must be built
    /// into this binary.
    pub fn backbone(head: &HeadSource, analysis: Analysis) -> anyhow::Result<Self> {
        let source = head.clone();
        let load = move || load_backbone_and_head(&source);
        let first = load()?;
        let (config, weights) = head.bytes()?;
        let backbone = &first.backbone;
        let model_id = backbone_model_id(backbone.name(), backbone.id(), &config, &weights);
        let info = ModelInfo {
            genres: first.genres(),
            embedding_dim: backbone.embedding_dim(),
            config: serde_json::json!({
                "backbone": backbone.name(),
                "backbone_id": backbone.id(),
                "head": head.describe(),
                "tags": backbone.tag_names(),
            }),
        };
        let sample_rate = backbone.sample_rate();
        let description = format!("{} + {}", backbone.name(), head.describe());
        Ok(Self {
            models: Models::Backbone(Pool::new(first, load)),
            model_id,
            info,
            sample_rate,
            analysis,
            description,
            min_duration_secs: DEFAULT_MIN_DURATION_SECS,
        })
    }

    /// The same embedder taking truncated files whose readable part lasts `secs` or more (they
    /// are embedded from that part, with a warning); shorter ones fail.
    pub fn with_min_duration(mut self, secs: f64) -> Self {
        self.min_duration_secs = secs;
        self
    }

    /// The model directory, or the built-in model's name.
    pub fn description(&self) -> &str {
        &self.description
    }

    fn from_model_dir(
        model: ModelDir,
        make: impl Fn() -> anyhow::Result<ModelDir> + Send + Sync + 'static,
        model_id: String,
        description: String,
    ) -> anyhow::Result<Self> {
        let embedding_dim = model.config().model.embedding_dim();
        let info = ModelInfo {
            genres: model.genres().to_vec(),
            embedding_dim,
            config: serde_json::to_value(model.config())
                .context("cannot serialise the model config")?,
        };
        let sample_rate = model.config().mel.sample_rate;
        Ok(Self {
            models: Models::ModelDir(Pool::new(model, make)),
            model_id,
            info,
            sample_rate,
            analysis: Analysis::default(),
            description,
            min_duration_secs: DEFAULT_MIN_DURATION_SECS,
        })
    }
}

/// The bytes of a head directory's config.json and weights.
fn head_bytes(dir: &Path) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    use musicrec_train::head::{HEAD_CONFIG_FILE, HEAD_WEIGHTS_FILE};
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    Ok((read(HEAD_CONFIG_FILE)?, read(HEAD_WEIGHTS_FILE)?))
}

/// The head `source` and the built-in backbone it was trained on; MusiCNN without a head for
/// [`HeadSource::Tags`].
pub fn load_backbone_and_head(source: &HeadSource) -> anyhow::Result<BackboneAndHead> {
    if *source == HeadSource::Tags {
        return Ok(BackboneAndHead {
            backbone: BackboneKind::MusicnnMsd.load()?,
            head: None,
        });
    }
    let (config, weights) = source.bytes()?;
    let name = source.name();
    let head = Head::from_bytes(&name, &config, &weights).map_err(one_line)?;
    let backbone = BackboneKind::for_head(head.config(), &name)?.load()?;
    head.check_backbone(backbone.as_ref()).map_err(one_line)?;
    Ok(BackboneAndHead {
        backbone,
        head: Some(head),
    })
}

/// `<backbone name>-<16 hex>` of a backbone with a head.
pub fn backbone_model_id(
    backbone_name: &str,
    backbone_id: &str,
    head_config: &[u8],
    head_weights: &[u8],
) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(backbone_id.as_bytes());
    hasher.update(b"\0");
    hasher.update(head_config);
    hasher.update(head_weights);
    let hex = hasher.finalize().to_hex();
    format!("{backbone_name}-{}", &hex.as_str()[..16])
}

/// The train stage's errors are complete one-line reasons; keep their source chains out.
pub fn one_line(err: musicrec_train::TrainError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

impl TrackEmbedder for ModelEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn model_info(&self) -> ModelInfo {
        self.info.clone()
    }

    fn embed(&self, path: &Path) -> Result<TrackEmbedding, String> {
        let audio =
            musicrec_audio::load_partial(path, Some(self.sample_rate), self.min_duration_secs)
                .map_err(|e| e.to_string())?;
        let warning = audio.truncation.as_ref().map(|t| {
            format!(
                "{t}; analysed the {:.1} s that could be read",
                audio.duration_secs()
            )
        });
        if audio.samples.is_empty() {
            return Err("no audio samples".into());
        }
        let duration_secs = audio.samples.len() as f64 / f64::from(self.sample_rate);
        match &self.models {
            Models::ModelDir(pool) => {
                // One forward pass gives both outputs (the embedding feeds the classifier).
                let outputs = pool.with(|model| {
                    let log_mel = model.extractor().log_mel(&audio.samples);
                    model.embed_and_predict_log_mel(&log_mel)
                })?;
                let outputs = outputs.map_err(|e| e.to_string())?;
                Ok(TrackEmbedding {
                    embedding: outputs.embedding,
                    genre_probs: outputs.probabilities,
                    duration_secs,
                    warning: warning.clone(),
                })
            }
            Models::Backbone(pool) => {
                let (features, genre_probs) = pool
                    .with(|models| {
                        let features = models.backbone.features(&audio.samples, self.analysis)?;
                        let probs = models.genre_probs(&features)?;
                        Ok::<_, musicrec_train::TrainError>((features, probs))
                    })?
                    .map_err(|e| e.to_string())?;
                Ok(TrackEmbedding {
                    embedding: features.embedding,
                    genre_probs,
                    duration_secs,
                    warning: warning.clone(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{HeadSource, ModelChoice};
    use std::path::Path;

    #[test]
    fn model_names_and_directories_resolve() {
        let default = ModelChoice::Backbone {
            head: HeadSource::BuiltIn,
        };
        assert_eq!(ModelChoice::parse(None).unwrap(), default);
        assert_eq!(
            ModelChoice::parse(Some(Path::new("musicnn"))).unwrap(),
            default
        );
        assert_eq!(
            ModelChoice::parse(Some(Path::new("musicnn-tags"))).unwrap(),
            ModelChoice::Backbone {
                head: HeadSource::Tags
            }
        );
        assert_eq!(
            ModelChoice::parse(Some(Path::new("cnn"))).unwrap(),
            ModelChoice::BuiltInCnn
        );
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        assert_eq!(
            ModelChoice::parse(Some(&repo.join("default"))).unwrap(),
            ModelChoice::ModelDir(repo.join("default"))
        );
        let err = ModelChoice::parse(Some(Path::new("no/such/model")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no such directory") && err.contains("musicnn"),
            "{err}"
        );
    }
}

//! `train` stage: trains the CNN / CRNN genre classifiers of `musicrec-model` on cached log-mel
//! windows and writes a self-describing model directory; loads such directories to predict
//! genres and compute embeddings.
//!
//! - [`TrainConfig`] + [`train`]: Adam, binary cross-entropy from logits on one-hot targets,
//!   shuffled mini-batches of windows from the feature cache ([`data`]), validation every epoch,
//!   early stopping on validation loss, best weights kept, a crash-safe checkpoint every epoch and
//!   `resume` ([`checkpoint`]), `metrics.csv` + curves ([`metrics`]), a model card.
//! - [`ModelDir`]: `config.json` + best weights, version-checked; [`ModelDir::predict_file`] and
//!   [`ModelDir::embed_file`] average the outputs of a file's windows ([`predict`]).
//! - [`Backbone`]: a pretrained network (MusiCNN) as a track embedder; [`head`] trains genre
//!   heads on its cached features ([`feature_cache`]) and loads them.
//! - [`DeviceKind`]: CPU (Burn flex) by default, CUDA with the `gpu` feature; one code path.
//!
//! ```no_run
//! use musicrec_train::{Arch, ModelDir, TrainConfig, train};
//! let mut config = TrainConfig::new("data/gtzan.csv", "cache/", "models/crnn");
//! config.arch = Arch::Crnn;
//! let report = train(&config)?;
//! let model = ModelDir::load("models/crnn")?;
//! let prediction = model.predict_file("song.mp3")?;
//! println!("{}", prediction.top_genre(&model));
//! # Ok::<(), musicrec_train::TrainError>(())
//! ```

pub mod backbone;
mod card;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod feature_cache;
pub mod head;
pub mod metrics;
pub mod model_dir;
pub mod musicnn_backbone;
pub mod predict;
pub mod trainer;

pub use backbone::{Analysis, Backbone, ModelDirBackbone, TrackFeatures};
pub use card::command_line;
pub use config::{Arch, DEFAULT_WINDOW_SECS, TrainConfig, WindowLength};
pub use data::TrainingData;
pub use device::{DeviceKind, GPU_SUPPORT};
pub use error::{Result, TrainError};
pub use feature_cache::{FeatureCache, Variant};
pub use head::{Head, HeadConfig, HeadTrainConfig, train_head};
pub use metrics::EpochMetrics;
pub use model_dir::{CARD_FILE, ModelDir, ModelDirConfig, Provenance};
pub use predict::{EmbeddingAndProbabilities, Prediction};
pub use trainer::{Evaluation, TrainReport, evaluate_model_dir, train};

//! Prediction and embeddings with a loaded [`ModelDir`]: a file is decoded at the model's sample
//! rate, turned into its log-mel, cut into non-overlapping windows of the model's length (a short
//! clip gives one padded window), run in batches, and the per-window outputs are averaged.

use std::path::{Path, PathBuf};

use musicrec_datasets::window::{WindowConfig, mean_of, windows};
use musicrec_features::LogMel;
use musicrec_model::burn::tensor::{Tensor, TensorData};
use musicrec_model::{Device, GenreModel};

use crate::error::{Result, TrainError};
use crate::model_dir::ModelDir;

/// Windows per forward pass at prediction time.
pub const PREDICT_BATCH: usize = 32;

/// One file's genre prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub path: PathBuf,
    /// Per-genre probability (sigmoid outputs averaged over windows), in [`ModelDir::genres`] order.
    pub probabilities: Vec<f32>,
    /// Index of the most probable genre.
    pub top: usize,
    /// How many windows were averaged.
    pub windows: usize,
}

impl Prediction {
    /// The name of the top genre.
    pub fn top_genre<'a>(&self, model: &'a ModelDir) -> &'a str {
        &model.genres()[self.top]
    }
}

/// Index of the largest value (the first of equals; NaN never wins).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(best, best_value), (i, &v)| {
            if v > best_value {
                (i, v)
            } else {
                (best, best_value)
            }
        })
        .0
}

/// Which model output to average over windows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Output {
    Probabilities,
    Embedding,
}

/// A track's embedding and genre probabilities from one forward pass per window batch.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingAndProbabilities {
    /// Window embeddings averaged (`model.embedding_dim()` values).
    pub embedding: Vec<f32>,
    /// Per-genre probabilities averaged over windows, in [`ModelDir::genres`] order.
    pub probabilities: Vec<f32>,
    /// How many windows were averaged.
    pub windows: usize,
}

/// `[n, 1, n_mels, frames]` input tensor from flattened windows.
pub(crate) fn input_tensor(
    data: Vec<f32>,
    n: usize,
    n_mels: usize,
    frames: usize,
    device: &Device,
) -> Tensor<4> {
    Tensor::from_data(TensorData::new(data, [n, 1, n_mels, frames]), device)
}

/// Rows of a `[n, k]` tensor.
pub(crate) fn rows(tensor: Tensor<2>) -> Result<Vec<Vec<f32>>> {
    let [_, k] = tensor.dims();
    let values = tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| TrainError::Config(format!("cannot read model output: {e:?}")))?;
    Ok(values.chunks(k.max(1)).map(<[f32]>::to_vec).collect())
}

/// `[n, 1, n_mels, frames]` tensors of `windows` (all of one shape), [`PREDICT_BATCH`] at a time.
fn batches<'a>(windows: &'a [LogMel], device: &'a Device) -> impl Iterator<Item = Tensor<4>> + 'a {
    windows.chunks(PREDICT_BATCH).map(move |batch| {
        let (n_mels, frames) = (batch[0].n_mels, batch[0].n_frames);
        let data: Vec<f32> = batch.iter().flat_map(|w| w.data.iter().copied()).collect();
        input_tensor(data, batch.len(), n_mels, frames, device)
    })
}

/// One row per window.
type WindowRows = Vec<Vec<f32>>;

/// Embeddings and probabilities of every window in `windows`, one forward pass per batch: on
/// the CPU through the fused path ([`musicrec_model::HostModel`]), else as Burn ops.
pub(crate) fn run_windows_both(
    model: &ModelDir,
    windows: &[LogMel],
) -> Result<(WindowRows, WindowRows)> {
    let mut embeddings = Vec::with_capacity(windows.len());
    let mut probabilities = Vec::with_capacity(windows.len());
    if let Some(host) = model.host() {
        for batch in windows.chunks(PREDICT_BATCH) {
            let (n_mels, frames) = (batch[0].n_mels, batch[0].n_frames);
            let data: Vec<f32> = batch.iter().flat_map(|w| w.data.iter().copied()).collect();
            debug_assert_eq!(data.len(), batch.len() * n_mels * frames);
            let (e, p) = host.embed_and_probabilities(&data, batch.len(), frames)?;
            embeddings.extend(e.chunks(e.len() / batch.len()).map(<[f32]>::to_vec));
            probabilities.extend(p.chunks(p.len() / batch.len()).map(<[f32]>::to_vec));
        }
        return Ok((embeddings, probabilities));
    }
    for x in batches(windows, model.device()) {
        let (e, p) = model.model().embed_and_probabilities(x)?;
        embeddings.extend(rows(e)?);
        probabilities.extend(rows(p)?);
    }
    Ok((embeddings, probabilities))
}

/// `output` of every window in `windows` (all of one shape), in batches.
pub(crate) fn run_windows(
    model: &GenreModel,
    device: &Device,
    windows: &[LogMel],
    output: Output,
) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(windows.len());
    for x in batches(windows, device) {
        let y = match output {
            Output::Probabilities => model.probabilities(x)?,
            Output::Embedding => model.embed(x)?,
        };
        out.extend(rows(y)?);
    }
    Ok(out)
}

impl ModelDir {
    fn window_config(&self) -> WindowConfig {
        WindowConfig::new(self.config().window_frames)
    }

    /// `log_mel` cut into the model's windows, after checking its mel count.
    fn model_windows(&self, log_mel: &LogMel) -> Result<Vec<LogMel>> {
        let expected = self.config().mel.n_mels;
        if log_mel.n_mels != expected {
            return Err(TrainError::model_dir(
                self.dir(),
                format!(
                    "model expects {} but got a log-mel with {} mel bins",
                    crate::data::describe_mel(&self.config().mel),
                    log_mel.n_mels
                ),
            ));
        }
        Ok(windows(log_mel, &self.window_config()))
    }

    fn averaged(&self, log_mel: &LogMel, output: Output) -> Result<(Vec<f32>, usize)> {
        let cut = self.model_windows(log_mel)?;
        let outputs = match output {
            Output::Probabilities if self.host().is_some() => run_windows_both(self, &cut)?.1,
            Output::Embedding if self.host().is_some() => run_windows_both(self, &cut)?.0,
            _ => run_windows(self.model(), self.device(), &cut, output)?,
        };
        Ok((mean_of(&outputs), cut.len()))
    }

    /// The embedding and the genre probabilities of a log-mel (computed with the model's front
    /// end) from one forward pass: the values of [`Self::embed_log_mel`] and
    /// [`Self::predict_log_mel`] at the cost of one of them.
    pub fn embed_and_predict_log_mel(&self, log_mel: &LogMel) -> Result<EmbeddingAndProbabilities> {
        let cut = self.model_windows(log_mel)?;
        let (embeddings, probabilities) = run_windows_both(self, &cut)?;
        Ok(EmbeddingAndProbabilities {
            embedding: mean_of(&embeddings),
            probabilities: mean_of(&probabilities),
            windows: cut.len(),
        })
    }

    /// Per-genre probabilities of a log-mel computed with the model's front end.
    pub fn predict_log_mel(&self, log_mel: &LogMel) -> Result<Vec<f32>> {
        Ok(self.averaged(log_mel, Output::Probabilities)?.0)
    }

    /// The embedding (window embeddings averaged) of a log-mel computed with the model's front end.
    pub fn embed_log_mel(&self, log_mel: &LogMel) -> Result<Vec<f32>> {
        Ok(self.averaged(log_mel, Output::Embedding)?.0)
    }

    /// Decodes `path` at the model's sample rate and computes its log-mel.
    pub fn log_mel_of_file(&self, path: &Path) -> Result<LogMel> {
        let audio =
            musicrec_audio::load(path, Some(self.config().mel.sample_rate)).map_err(|source| {
                TrainError::Audio {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        Ok(self.extractor().log_mel(&audio.samples))
    }

    /// Genre probabilities and top genre of an audio file.
    pub fn predict_file(&self, path: impl AsRef<Path>) -> Result<Prediction> {
        let path = path.as_ref();
        let log_mel = self.log_mel_of_file(path)?;
        let (probabilities, windows) = self.averaged(&log_mel, Output::Probabilities)?;
        Ok(Prediction {
            path: path.to_path_buf(),
            top: argmax(&probabilities),
            probabilities,
            windows,
        })
    }

    /// The embedding of an audio file: its window embeddings averaged
    /// (`model.embedding_dim()` values).
    pub fn embed_file(&self, path: impl AsRef<Path>) -> Result<Vec<f32>> {
        let log_mel = self.log_mel_of_file(path.as_ref())?;
        self.embed_log_mel(&log_mel)
    }
}

#[cfg(test)]
mod tests {
    use super::argmax;
    use crate::DeviceKind;
    use crate::model_dir::{
        CONFIG_FILE, FORMAT_NAME, FORMAT_VERSION, MUSICREC_VERSION, ModelDir, ModelDirConfig,
        Provenance, WEIGHTS_FILE,
    };
    use musicrec_features::{LogMel, MelConfig};
    use musicrec_model::{CrnnConfig, ModelConfig};

    /// A small freshly initialised CRNN written as a model directory (batch norm running stats
    /// at their defaults: the eval-mode outputs are still a deterministic function of the input).
    fn small_model_dir(dir: &std::path::Path) {
        let genres: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut crnn = CrnnConfig::new(genres.len());
        crnn.filters = vec![4, 6, 6, 6];
        crnn.gru_hidden = 5;
        let model = ModelConfig::Crnn(crnn);
        let device = DeviceKind::Cpu.device().unwrap();
        model
            .init(&device)
            .unwrap()
            .save_weights(&dir.join(WEIGHTS_FILE))
            .unwrap();
        ModelDirConfig {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            musicrec_version: MUSICREC_VERSION.into(),
            arch: "crnn".into(),
            model,
            preset: Some("choi".into()),
            mel: MelConfig::choi(),
            genres,
            window_frames: 64,
            train_hop_frames: 32,
            training: Provenance {
                manifest: "data.csv".into(),
                manifest_blake3: String::new(),
                split_seed: None,
                seed: 0,
                batch_size: 16,
                learning_rate: 1e-3,
                max_epochs: 1,
                patience: 1,
                width_scale: 1.0,
                device: "cpu".into(),
            },
        }
        .write(dir)
        .unwrap();
    }

    /// A deterministic, non-constant 96-mel log-mel of `frames` frames.
    fn log_mel(frames: usize) -> LogMel {
        let data = (0..96 * frames)
            .map(|i| ((i * 7919 % 1000) as f32 / 25.0) - 60.0)
            .collect();
        LogMel {
            n_mels: 96,
            n_frames: frames,
            data,
        }
    }

    fn assert_close(what: &str, a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-6, "{what}: {a:?} vs {b:?}");
        }
    }

    #[test]
    fn one_pass_equals_the_two_separate_calls_and_bytes_load_the_same_model() {
        let dir = tempfile::tempdir().unwrap();
        small_model_dir(dir.path());
        let model = ModelDir::load(dir.path()).unwrap();
        // 150 frames: two full 64-frame windows and a padded third.
        let input = log_mel(150);
        let both = model.embed_and_predict_log_mel(&input).unwrap();
        assert_eq!(both.windows, 3);
        assert_eq!(both.embedding.len(), 5);
        assert_eq!(both.probabilities.len(), 3);
        assert!(both.embedding.iter().any(|v| *v != 0.0));
        assert_close(
            "embedding",
            &both.embedding,
            &model.embed_log_mel(&input).unwrap(),
        );
        assert_close(
            "probabilities",
            &both.probabilities,
            &model.predict_log_mel(&input).unwrap(),
        );

        let config = std::fs::read(dir.path().join(CONFIG_FILE)).unwrap();
        let weights = std::fs::read(dir.path().join(WEIGHTS_FILE)).unwrap();
        let from_bytes =
            ModelDir::from_bytes("built-in", &config, &weights, DeviceKind::Cpu).unwrap();
        assert_eq!(
            from_bytes.embed_and_predict_log_mel(&input).unwrap(),
            both,
            "the same bytes give the same model"
        );
        let err = ModelDir::from_bytes("built-in", &config, &weights[..100], DeviceKind::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("built-in"), "{err}");
    }

    #[test]
    fn argmax_takes_the_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.3, 0.1]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}

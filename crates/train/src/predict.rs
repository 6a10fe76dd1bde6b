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

/// `output` of every window in `windows` (all of one shape), in batches.
pub(crate) fn run_windows(
    model: &GenreModel,
    device: &Device,
    windows: &[LogMel],
    output: Output,
) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(windows.len());
    for batch in windows.chunks(PREDICT_BATCH) {
        let (n_mels, frames) = (batch[0].n_mels, batch[0].n_frames);
        let data: Vec<f32> = batch.iter().flat_map(|w| w.data.iter().copied()).collect();
        let x = input_tensor(data, batch.len(), n_mels, frames, device);
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

    fn averaged(&self, log_mel: &LogMel, output: Output) -> Result<(Vec<f32>, usize)> {
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
        let cut = windows(log_mel, &self.window_config());
        let outputs = run_windows(self.model(), self.device(), &cut, output)?;
        Ok((mean_of(&outputs), cut.len()))
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

    #[test]
    fn argmax_takes_the_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.3, 0.1]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}

//! The inference of the [`Cnn`] and of the [`Crnn`]'s conv blocks on the CPU as fused tiles: for each window, block and tile of a few
//! pooled time steps, an im2col of just that tile (channels last, so each 3x3 neighbour is one
//! contiguous run of input channels), one GEMM (the `gemm` crate, which Burn's CPU backend uses
//! too), then batch norm, ReLU and the max pool taken straight from the product. Eval mode only
//! (running statistics, no dropout): training keeps Burn's ops and their gradients. The CRNN's
//! GRUs, a small share of its work, run as Burn modules on the conv blocks' output.
//!
//! Why by hand: as Burn ops every block materialises its whole convolution output before the
//! norm, the ReLU and the pool read it again (for the first block 96 x 281 x 40 floats per
//! window), and `scan --model cnn` spent most of its time there; no crate offers a convolution
//! fused with its pooling. The tiles here stay in L2.

use rayon::prelude::*;

use crate::host::{Scratch, host_values};
use burn::nn::gru::Gru;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::{Device, Tensor, TensorData};

use crate::{Cnn, ConvBlock, Crnn, GenreModel, ModelError};

/// Rows of one tile's im2col and product: a few hundred keep both in L2.
const TILE_ROWS: usize = 512;

/// One conv block's weights on the host, batch norm folded into a scale and shift.
#[derive(Clone, Debug)]
struct HostBlock {
    in_channels: usize,
    out_channels: usize,
    /// `[(dh * 3 + dw) * in_channels + c, out_channels]` row-major.
    kernel: Vec<f32>,
    scale: Vec<f32>,
    shift: Vec<f32>,
    /// `[freq, time]`, kernel = stride, floor mode.
    pool: [usize; 2],
}

/// A [`Cnn`]'s weights on the host for [`HostCnn::embed_and_probabilities`].
#[derive(Clone, Debug)]
pub struct HostCnn {
    blocks: Vec<HostBlock>,
    n_mels: usize,
    min_frames: usize,
    classifier: HostLinear,
}

impl HostCnn {
    /// Copies `model`'s eval-mode weights to the host.
    pub fn of(model: &Cnn) -> Result<Self, ModelError> {
        let blocks = model
            .blocks
            .iter()
            .map(HostBlock::of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            blocks,
            n_mels: model.n_mels,
            min_frames: model.min_frames,
            classifier: HostLinear::of(&model.classifier)?,
        })
    }

    /// The embeddings `[batch, embedding_dim]` and genre probabilities `[batch, n_genres]`
    /// (row-major) of `batch` log-mel windows `[batch, n_mels, frames]`, as
    /// [`Cnn::embed_and_probabilities`] computes them in eval mode.
    pub fn embed_and_probabilities(
        &self,
        x: &[f32],
        batch: usize,
        frames: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        check_windows(x, batch, self.n_mels, frames, self.min_frames)?;
        let window = self.n_mels * frames;
        let embeddings: Vec<Vec<f32>> = x
            .par_chunks_exact(window)
            .map(|w| self.embed_window(w, frames))
            .collect();
        let embeddings = embeddings.concat();
        let probabilities = self.classifier.sigmoid_rows(&embeddings);
        Ok((embeddings, probabilities))
    }

    /// One window `[n_mels, frames]` through every block, then the max over time.
    fn embed_window(&self, window: &[f32], frames: usize) -> Vec<f32> {
        let (x, steps) = run_blocks(&self.blocks, window.to_vec(), self.n_mels, frames);
        let channels = x.len() / steps.max(1);
        // Frequency is pooled to 1: the embedding is the max over the time steps left.
        let mut embedding = x[..channels].to_vec();
        for step in x.chunks_exact(channels).skip(1) {
            for (e, &v) in embedding.iter_mut().zip(step) {
                *e = e.max(v);
            }
        }
        embedding
    }
}

/// A window `[height, width]` (one channel) through `blocks`, channels last; gives the output
/// `[steps, channels]` (frequency pooled to 1) and its step count.
fn run_blocks(
    blocks: &[HostBlock],
    mut x: Vec<f32>,
    mut height: usize,
    mut width: usize,
) -> (Vec<f32>, usize) {
    let mut scratch = Scratch::default();
    for block in blocks {
        x = block.forward(&x, height, width, &mut scratch);
        height /= block.pool[0];
        width /= block.pool[1];
    }
    debug_assert_eq!(height, 1, "frequency pools multiply to n_mels");
    (x, width)
}

/// A batch norm in eval mode as `x * scale + shift` per channel.
fn fold_norm(norm: &BatchNorm) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
    let gamma = host_values(&norm.gamma.val())?;
    let beta = host_values(&norm.beta.val())?;
    let mean = host_values(&norm.running_mean.value())?;
    let var = host_values(&norm.running_var.value())?;
    let scale: Vec<f32> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| g / (v + norm.epsilon as f32).sqrt())
        .collect();
    let shift = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    Ok((scale, shift))
}

/// A `Linear` layer (the classifier) on the host.
#[derive(Clone, Debug)]
struct HostLinear {
    /// `[inputs, outputs]` row-major (Burn's layout).
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl HostLinear {
    fn of(linear: &Linear) -> Result<Self, ModelError> {
        let outputs = linear.weight.val().dims()[1];
        Ok(Self {
            weight: host_values(&linear.weight.val())?,
            bias: match &linear.bias {
                Some(bias) => host_values(&bias.val())?,
                None => vec![0.0; outputs],
            },
        })
    }

    /// `sigmoid(row x weight + bias)` of each row of `rows` (`[n, inputs]`), concatenated.
    fn sigmoid_rows(&self, rows: &[f32]) -> Vec<f32> {
        let outputs = self.bias.len().max(1);
        let inputs = self.weight.len() / outputs;
        let mut out = Vec::with_capacity(rows.len() / inputs.max(1) * outputs);
        for row in rows.chunks_exact(inputs.max(1)) {
            let mut logits = self.bias.clone();
            for (&v, weights) in row.iter().zip(self.weight.chunks_exact(outputs)) {
                for (l, &w) in logits.iter_mut().zip(weights) {
                    *l += v * w;
                }
            }
            out.extend(logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp())));
        }
        out
    }
}

impl HostBlock {
    fn of(block: &ConvBlock) -> Result<Self, ModelError> {
        let weight = block.conv.weight.val();
        let [out_channels, in_channels, kh, kw] = weight.dims();
        if [kh, kw] != [3, 3] || block.conv.stride != [1, 1] || block.conv.bias.is_some() {
            return Err(ModelError::Config(
                "the fused CPU path takes 3x3 stride-1 convolutions without bias".into(),
            ));
        }
        let values = host_values(&weight)?;
        let mut kernel = vec![0.0f32; 9 * in_channels * out_channels];
        for o in 0..out_channels {
            for c in 0..in_channels {
                for d in 0..9 {
                    kernel[(d * in_channels + c) * out_channels + o] =
                        values[(o * in_channels + c) * 9 + d];
                }
            }
        }
        let (scale, shift) = fold_norm(&block.norm)?;
        Ok(Self {
            in_channels,
            out_channels,
            kernel,
            scale,
            shift,
            pool: block.pool.kernel_size,
        })
    }

    /// `[height, width, in]` -> `[height / pool_f, width / pool_t, out]`.
    fn forward(&self, x: &[f32], height: usize, width: usize, scratch: &mut Scratch) -> Vec<f32> {
        let [pf, pt] = self.pool;
        let (out_h, out_w) = (height / pf, width / pt);
        let (cin, cout) = (self.in_channels, self.out_channels);
        let k = 9 * cin;
        let mut out = vec![f32::NEG_INFINITY; out_h * out_w * cout];
        // A tile: every frequency row of the pooled output, `cols` pooled time steps.
        let rows_per_col = out_h * pf * pt;
        let cols = (TILE_ROWS / rows_per_col.max(1)).clamp(1, out_w.max(1));
        for c0 in (0..out_w).step_by(cols) {
            let c1 = (c0 + cols).min(out_w);
            let (w0, w1) = (c0 * pt, c1 * pt);
            let tile_w = w1 - w0;
            let rows = out_h * pf * tile_w;
            // im2col: row (h, w - w0) holds the 3x3 neighbourhood of (h, w), zero outside.
            scratch.columns.clear();
            scratch.columns.resize(rows * k, 0.0);
            for h in 0..out_h * pf {
                for w in w0..w1 {
                    let row = (h * tile_w + (w - w0)) * k;
                    for dh in 0..3 {
                        let Some(sh) = (h + dh).checked_sub(1).filter(|&s| s < height) else {
                            continue;
                        };
                        for dw in 0..3 {
                            let Some(sw) = (w + dw).checked_sub(1).filter(|&s| s < width) else {
                                continue;
                            };
                            let at = row + (dh * 3 + dw) * cin;
                            let from = (sh * width + sw) * cin;
                            scratch.columns[at..at + cin].copy_from_slice(&x[from..from + cin]);
                        }
                    }
                }
            }
            scratch.product.resize(rows * cout, 0.0);
            crate::host::matmul_into(
                &mut scratch.product,
                &scratch.columns,
                &self.kernel,
                rows,
                k,
            );
            // Norm, ReLU, then the max over each pool window.
            for h in 0..out_h * pf {
                for w in w0..w1 {
                    let row = (h * tile_w + (w - w0)) * cout;
                    let pooled = ((h / pf) * out_w + w / pt) * cout;
                    let values = &scratch.product[row..row + cout];
                    let target = &mut out[pooled..pooled + cout];
                    for (((t, &v), &s), &b) in target
                        .iter_mut()
                        .zip(values)
                        .zip(&self.scale)
                        .zip(&self.shift)
                    {
                        *t = t.max((v * s + b).max(0.0));
                    }
                }
            }
        }
        out
    }
}

/// A [`Crnn`]'s weights for its fused CPU path: the input norm and the conv blocks on the host
/// (nearly all of the work), the GRUs as Burn's own modules.
#[derive(Clone, Debug)]
pub struct HostCrnn {
    /// The input batch norm over mel bins, folded.
    input_scale: Vec<f32>,
    input_shift: Vec<f32>,
    blocks: Vec<HostBlock>,
    grus: Vec<Gru>,
    classifier: HostLinear,
    n_mels: usize,
    time_pool_product: usize,
}

impl HostCrnn {
    /// Copies `model`'s eval-mode weights to the host (the GRUs stay Burn modules on the CPU).
    pub fn of(model: &Crnn) -> Result<Self, ModelError> {
        let (input_scale, input_shift) = fold_norm(&model.input_norm)?;
        let blocks = model
            .blocks
            .iter()
            .map(HostBlock::of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            input_scale,
            input_shift,
            blocks,
            grus: model.grus.clone(),
            classifier: HostLinear::of(&model.classifier)?,
            n_mels: model.n_mels,
            time_pool_product: model.time_pool_product,
        })
    }

    /// The embeddings `[batch, gru_hidden]` and genre probabilities `[batch, n_genres]`
    /// (row-major) of `batch` log-mel windows `[batch, n_mels, frames]`, as
    /// [`Crnn::embed_and_probabilities`] computes them in eval mode.
    pub fn embed_and_probabilities(
        &self,
        x: &[f32],
        batch: usize,
        frames: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        let n_mels = self.n_mels;
        check_windows(x, batch, n_mels, frames, 1)?;
        // Normalised, then zero-padded in time to a multiple of the pools, as `Crnn::embed` does.
        let padded = frames.div_ceil(self.time_pool_product) * self.time_pool_product;
        let before = (padded - frames) / 2;
        let sequences: Vec<(Vec<f32>, usize)> = x
            .par_chunks_exact(n_mels * frames)
            .map(|window| {
                let mut input = vec![0.0f32; n_mels * padded];
                for (m, (line, out)) in window
                    .chunks_exact(frames)
                    .zip(input.chunks_exact_mut(padded))
                    .enumerate()
                {
                    let (scale, shift) = (self.input_scale[m], self.input_shift[m]);
                    for (o, &v) in out[before..before + frames].iter_mut().zip(line) {
                        *o = v * scale + shift;
                    }
                }
                run_blocks(&self.blocks, input, n_mels, padded)
            })
            .collect();
        let steps = sequences[0].1;
        let channels = sequences[0].0.len() / steps.max(1);
        let data: Vec<f32> = sequences.into_iter().flat_map(|(s, _)| s).collect();
        let mut sequence: Tensor<3> = Tensor::from_data(
            TensorData::new(data, [batch, steps, channels]),
            &Device::flex(),
        );
        for gru in &self.grus {
            sequence = gru.forward(sequence, None);
        }
        let [_, steps, hidden] = sequence.dims();
        let embeddings = host_values(&sequence.narrow(1, steps - 1, 1).reshape([batch, hidden]))?;
        let probabilities = self.classifier.sigmoid_rows(&embeddings);
        Ok((embeddings, probabilities))
    }
}

/// Either model's fused CPU path.
#[derive(Clone, Debug)]
pub enum HostModel {
    Cnn(HostCnn),
    Crnn(HostCrnn),
}

impl HostModel {
    /// Copies `model`'s eval-mode weights to the host.
    pub fn of(model: &GenreModel) -> Result<Self, ModelError> {
        Ok(match model {
            GenreModel::Cnn(cnn) => Self::Cnn(HostCnn::of(cnn)?),
            GenreModel::Crnn(crnn) => Self::Crnn(HostCrnn::of(crnn)?),
        })
    }

    /// Embeddings and genre probabilities of `batch` windows `[batch, n_mels, frames]`, row-major.
    pub fn embed_and_probabilities(
        &self,
        x: &[f32],
        batch: usize,
        frames: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        match self {
            Self::Cnn(cnn) => cnn.embed_and_probabilities(x, batch, frames),
            Self::Crnn(crnn) => crnn.embed_and_probabilities(x, batch, frames),
        }
    }
}

/// Refuses an input shape the model cannot take, or values that are not `batch` windows of
/// `n_mels x frames`.
fn check_windows(
    x: &[f32],
    batch: usize,
    n_mels: usize,
    frames: usize,
    min_frames: usize,
) -> Result<(), ModelError> {
    crate::check_input([batch, 1, n_mels, frames], n_mels, min_frames)?;
    if x.len() == batch * n_mels * frames {
        return Ok(());
    }
    Err(ModelError::Input {
        shape: [batch, 1, n_mels, frames],
        reason: format!("{} values given", x.len()),
    })
}

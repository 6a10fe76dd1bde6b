//! The [`Cnn`]'s inference on the CPU as fused tiles: for each window, block and tile of a few
//! pooled time steps, an im2col of just that tile (channels last, so each 3x3 neighbour is one
//! contiguous run of input channels), one GEMM (the `gemm` crate, which Burn's CPU backend uses
//! too), then batch norm, ReLU and the max pool taken straight from the product. Eval mode only
//! (running statistics, no dropout): training keeps Burn's ops and their gradients.
//!
//! Why by hand: as Burn ops every block materialises its whole convolution output before the
//! norm, the ReLU and the pool read it again (for the first block 96 x 281 x 40 floats per
//! window), and `scan --model cnn` spent most of its time there; no crate offers a convolution
//! fused with its pooling. The tiles here stay in L2.

use rayon::prelude::*;

use crate::host::{Scratch, host_values};
use crate::{Cnn, ModelError};

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
    /// `[embedding_dim, n_genres]` row-major (Burn's `Linear` layout).
    classifier: Vec<f32>,
    classifier_bias: Vec<f32>,
}

impl HostCnn {
    /// Copies `model`'s eval-mode weights to the host.
    pub fn of(model: &Cnn) -> Result<Self, ModelError> {
        let mut blocks = Vec::with_capacity(model.blocks.len());
        for block in &model.blocks {
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
            let norm = &block.norm;
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
            blocks.push(HostBlock {
                in_channels,
                out_channels,
                kernel,
                scale,
                shift,
                pool: block.pool.kernel_size,
            });
        }
        let classifier = host_values(&model.classifier.weight.val())?;
        let dim = blocks.last().map_or(1, |b: &HostBlock| b.out_channels);
        let n_genres = classifier.len() / dim;
        let classifier_bias = match &model.classifier.bias {
            Some(bias) => host_values(&bias.val())?,
            None => vec![0.0; n_genres],
        };
        Ok(Self {
            blocks,
            n_mels: model.n_mels,
            min_frames: model.min_frames,
            classifier,
            classifier_bias,
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
        crate::check_input(
            [batch, 1, self.n_mels, frames],
            self.n_mels,
            self.min_frames,
        )?;
        if x.len() != batch * self.n_mels * frames {
            return Err(ModelError::Input {
                shape: [batch, 1, self.n_mels, frames],
                reason: format!("{} values given", x.len()),
            });
        }
        let window = self.n_mels * frames;
        let embeddings: Vec<Vec<f32>> = x
            .par_chunks_exact(window)
            .map(|w| self.embed_window(w, frames))
            .collect();
        let dim = self.classifier_bias.len();
        let mut probabilities = Vec::with_capacity(batch * dim);
        for e in &embeddings {
            let mut logits = self.classifier_bias.clone();
            for (&v, row) in e.iter().zip(self.classifier.chunks_exact(dim)) {
                for (l, &w) in logits.iter_mut().zip(row) {
                    *l += v * w;
                }
            }
            probabilities.extend(logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp())));
        }
        Ok((embeddings.concat(), probabilities))
    }

    /// One window `[n_mels, frames]` through every block, then the max over time.
    fn embed_window(&self, window: &[f32], frames: usize) -> Vec<f32> {
        // Channels last: [freq, time, channels]; the input has one channel.
        let mut x = window.to_vec();
        let (mut height, mut width) = (self.n_mels, frames);
        let mut scratch = Scratch::default();
        for block in &self.blocks {
            x = block.forward(&x, height, width, &mut scratch);
            height /= block.pool[0];
            width /= block.pool[1];
        }
        let channels = self.blocks.last().map_or(1, |b| b.out_channels);
        // Frequency is pooled to 1: the embedding is the max over the time steps left.
        let mut embedding = x[..channels].to_vec();
        for step in x.chunks_exact(channels).skip(1).take(height * width - 1) {
            for (e, &v) in embedding.iter_mut().zip(step) {
                *e = e.max(v);
            }
        }
        embedding
    }
}

impl HostBlock {
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

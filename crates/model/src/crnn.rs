//! The CRNN genre classifier after Choi et al. 2017, "Convolutional Recurrent Neural Networks
//! for Music Classification" (arXiv:1609.04243), and its Keras reference code
//! (`music_tagger_crnn.py`).
//!
//! ```text
//! log-mel [B, 1, n_mels, T]
//!   -> batch norm over the frequency axis (one mean/var per mel bin)
//!   -> zero-pad time symmetrically to a multiple of the time-pool product
//!      (1366 frames -> 37 + 1366 + 37 = 1440, exactly Choi's ZeroPadding2D((0, 37)))
//!   -> 4 x [conv 3x3 -> BN -> ReLU -> max pool (f_i, t_i) -> dropout 0.1]   => [B, C, 1, T']
//!   -> sequence [B, T', C] -> GRU -> GRU (PyTorch formulation)           => last state [B, H]
//!   -> embedding = that last state; dropout 0.3 -> dense -> one logit per genre
//! ```
//!
//! Deviations from the paper, on purpose:
//! - ReLU instead of ELU (the issue asks for ReLU).
//! - The frequency batch norm runs *before* the zero padding (Keras pads first), so padded
//!   frames are zeros in the normalised domain instead of raw-zero log-mel columns that
//!   skew the training statistics. (The Keras code's `BatchNormalization(axis=time_axis)` on
//!   a layer named `bn_0_freq` is a known slip; we normalise per mel bin as the name says.)
//! - Frequency pools are derived from `n_mels` (see [`crate::pools`]); time pools are Choi's.
//! - GRU gates follow PyTorch (r, z, n; `b_hn` inside the reset product, Burn's
//!   `reset_after = true`), not Keras 1's single-bias GRU.
//! - Conv layers have no bias (the batch norm right after them shifts anyway).
//! - Batch norm uses PyTorch's eps 1e-5 / momentum 0.1 (Keras: 1e-3 / 0.01).

use burn::config::Config;
use burn::module::Module;
use burn::nn::gru::{Gru, GruConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Initializer, Linear, LinearConfig,
};
use burn::tensor::activation::sigmoid;
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor};

use crate::block::ConvBlock;
use crate::{ModelError, pools};

/// CRNN hyper-parameters. Defaults are Choi's 0.5M-parameter CRNN on the `choi` log-mel
/// preset (96 mels, sr 12000, n_fft 512, hop 256).
#[derive(Config, Debug)]
pub struct CrnnConfig {
    /// Number of genres (one sigmoid output each).
    pub n_genres: usize,
    /// Mel bins of the input (96 `choi` preset, 128 `librosa` preset).
    #[config(default = 96)]
    pub n_mels: usize,
    /// Output channels of each conv block (Choi's 0.5M CRNN: 68, 137, 137, 137).
    #[config(default = "vec![68, 137, 137, 137]")]
    pub filters: Vec<usize>,
    /// Time pool of each conv block (Choi: 2, 3, 4, 4 -> 1440 frames become 15 steps).
    #[config(default = "vec![2, 3, 4, 4]")]
    pub time_pools: Vec<usize>,
    /// Frequency pool of each block; `None` derives them from `n_mels` with the time pools
    /// as template ([`crate::pools`]: 96 -> 2,3,4,4; 128 -> 2,4,4,4). Given explicitly, they must multiply to `n_mels`.
    #[config(default = "None")]
    pub frequency_pools: Option<Vec<usize>>,
    /// Dropout after each conv block (Choi: 0.1).
    #[config(default = 0.1)]
    pub block_dropout: f64,
    /// Hidden units of each GRU layer (Choi's 0.5M CRNN: 68).
    #[config(default = 68)]
    pub gru_hidden: usize,
    /// Stacked GRU layers (Choi: 2).
    #[config(default = 2)]
    pub gru_layers: usize,
    /// Dropout between the last GRU state and the dense layer (Choi's Keras code: 0.3).
    #[config(default = 0.3)]
    pub final_dropout: f64,
}

impl CrnnConfig {
    /// Frequency pools actually used for `n_mels` (derived unless given explicitly).
    pub fn effective_frequency_pools(&self) -> Result<Vec<usize>, ModelError> {
        // Choi's pools are square, so the time pools double as the frequency template.
        pools::frequency_pools(
            self.n_mels,
            &self.time_pools,
            self.frequency_pools.as_deref(),
        )
    }

    /// Dimension of [`Crnn::embed`]: the last GRU's hidden size.
    pub fn embedding_dim(&self) -> usize {
        self.gru_hidden
    }

    /// Checks every field; [`CrnnConfig::init`] calls it first.
    pub fn validate(&self) -> Result<(), ModelError> {
        let blocks = self.filters.len();
        if blocks == 0 || self.time_pools.len() != blocks {
            return Err(ModelError::Config(format!(
                "CRNN needs one time pool per conv block: {} filters, {} time_pools",
                blocks,
                self.time_pools.len()
            )));
        }
        if self.filters.contains(&0) || self.time_pools.contains(&0) {
            return Err(ModelError::Config(
                "CRNN filters and time_pools must be positive".into(),
            ));
        }
        if self.n_genres == 0 || self.gru_hidden == 0 || self.gru_layers == 0 {
            return Err(ModelError::Config(format!(
                "CRNN n_genres, gru_hidden and gru_layers must be positive (got {}, {}, {})",
                self.n_genres, self.gru_hidden, self.gru_layers
            )));
        }
        for (name, p) in [
            ("block_dropout", self.block_dropout),
            ("final_dropout", self.final_dropout),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(ModelError::Config(format!(
                    "CRNN {name} must be in [0, 1), got {p}"
                )));
            }
        }
        self.effective_frequency_pools().map(|_| ())
    }

    /// Builds the model with fresh weights on `device` (PyTorch-style init for the GRU:
    /// U(-1/sqrt(H), 1/sqrt(H)); Burn's Kaiming-uniform defaults elsewhere match PyTorch).
    pub fn init(&self, device: &Device) -> Result<Crnn, ModelError> {
        self.validate()?;
        let frequency_pools = self.effective_frequency_pools()?;
        let mut in_channels = 1;
        let mut blocks = Vec::with_capacity(self.filters.len());
        for ((&out_channels, &f), &t) in self
            .filters
            .iter()
            .zip(&frequency_pools)
            .zip(&self.time_pools)
        {
            blocks.push(ConvBlock::new(
                in_channels,
                out_channels,
                [f, t],
                self.block_dropout,
                device,
            ));
            in_channels = out_channels;
        }
        let bound = 1.0 / (self.gru_hidden as f64).sqrt();
        let grus = (0..self.gru_layers)
            .map(|layer| {
                let d_input = if layer == 0 {
                    in_channels
                } else {
                    self.gru_hidden
                };
                GruConfig::new(d_input, self.gru_hidden, true)
                    .with_reset_after(true)
                    .with_initializer(Initializer::Uniform {
                        min: -bound,
                        max: bound,
                    })
                    .init(device)
            })
            .collect();
        Ok(Crnn {
            input_norm: BatchNormConfig::new(self.n_mels).init(device),
            blocks,
            grus,
            final_dropout: DropoutConfig::new(self.final_dropout).init(),
            classifier: LinearConfig::new(self.gru_hidden, self.n_genres).init(device),
            n_mels: self.n_mels,
            time_pool_product: self.time_pools.iter().product(),
        })
    }
}

/// The CRNN. Field names are the weight-file paths (`grus.0.reset_gate.input_transform.weight`).
#[derive(Module, Debug)]
pub struct Crnn {
    /// Batch norm over the mel bins of the raw input.
    pub input_norm: BatchNorm,
    /// Conv blocks that pool frequency to 1.
    pub blocks: Vec<ConvBlock>,
    /// Stacked GRUs over the time axis.
    pub grus: Vec<Gru>,
    /// Dropout before the classifier (training only).
    pub final_dropout: Dropout,
    /// Embedding -> one logit per genre.
    pub classifier: Linear,
    /// Expected mel bins (checked on every call).
    #[module(skip)]
    pub n_mels: usize,
    /// Product of the time pools: frames are padded up to a multiple of it.
    #[module(skip)]
    pub time_pool_product: usize,
}

impl Crnn {
    /// Checks `[batch, 1, n_mels, frames]` against the config; no Burn op runs before this.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), ModelError> {
        crate::check_input(shape, self.n_mels, 1)
    }

    /// Logits `[batch, n_genres]` (apply a sigmoid, or use a logits loss).
    pub fn forward(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        let embedding = self.embed(x)?;
        Ok(self
            .classifier
            .forward(self.final_dropout.forward(embedding)))
    }

    /// Per-genre probabilities `[batch, n_genres]`: `sigmoid(forward(x))`.
    pub fn probabilities(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        Ok(sigmoid(self.forward(x)?))
    }

    /// The song embedding and the per-genre probabilities from one pass over `x`:
    /// `(embed(x), sigmoid(dense(embed(x))))` (eval mode: dropout is the identity). The scan needs
    /// both, and running the network twice doubled its inference time.
    pub fn embed_and_probabilities(
        &self,
        x: Tensor<4>,
    ) -> Result<(Tensor<2>, Tensor<2>), ModelError> {
        let embedding = self.embed(x)?;
        let logits = self
            .classifier
            .forward(self.final_dropout.forward(embedding.clone()));
        Ok((embedding, sigmoid(logits)))
    }

    /// The song embedding `[batch, gru_hidden]`: the last GRU state, right before the
    /// classifier's dropout and dense layer.
    pub fn embed(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        let [batch, _, n_mels, frames] = x.dims();
        self.check_input(x.dims())?;

        let x = self
            .input_norm
            .forward(x.reshape([batch, n_mels, frames]))
            .reshape([batch, 1, n_mels, frames]);
        let padded = frames.div_ceil(self.time_pool_product) * self.time_pool_product;
        let before = (padded - frames) / 2;
        let after = padded - frames - before;
        let mut x = if padded == frames {
            x
        } else {
            x.pad([(before, after)], PadMode::Constant(0.0))
        };
        for block in &self.blocks {
            x = block.forward(x);
        }
        let [batch, channels, height, steps] = x.dims();
        debug_assert_eq!(height, 1, "frequency pools multiply to n_mels");
        let mut sequence = x.reshape([batch, channels, steps]).swap_dims(1, 2);
        for gru in &self.grus {
            sequence = gru.forward(sequence, None);
        }
        let [batch, steps, hidden] = sequence.dims();
        Ok(sequence.narrow(1, steps - 1, 1).reshape([batch, hidden]))
    }
}

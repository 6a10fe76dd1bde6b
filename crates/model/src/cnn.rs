//! The all-convolutional genre classifier: five conv blocks, a global max over time, one
//! dense layer. Shaped after Choi et al.'s FCN-5 ("Automatic tagging using deep convolutional
//! neural networks", 2016) but sized to match the 0.5M-parameter CRNN.
//!
//! ```text
//! log-mel [B, 1, n_mels, T]
//!   -> 5 x [conv 3x3 -> BN -> ReLU -> max pool (f_i, t_i) -> dropout]   => [B, C5, 1, T']
//!   -> max over the T' remaining frames                                 => embedding [B, C5]
//!   -> dense -> one logit per genre
//! ```
//!
//! Widths and pools (defaults):
//! - filters 40, 80, 112, 144, 176: about 0.5M parameters with 50 genres, like the CRNN.
//! - frequency pools derived from `n_mels` with FCN-5's 2, 2, 2, 3, 4 as template
//!   ([`crate::pools`]: 96 -> 2,2,2,3,4; 128 -> 2,2,2,4,4), so frequency ends at exactly 1.
//! - time pools 4, 4, 2, 2, 2 (product 128) instead of FCN-5's 4, 4, 4, 5, 4: FCN-5 pools a
//!   fixed 1366-frame input to one frame; here any clip of at least 128 frames works
//!   (256 frames -> 2, 1366 -> 10) and the global max over time makes the output
//!   length-independent. Shorter clips are rejected with an error.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};

use crate::block::ConvBlock;
use crate::{ModelError, pools};

/// CNN hyper-parameters; see the module docs for where the defaults come from.
#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Number of genres (one sigmoid output each).
    pub n_genres: usize,
    /// Mel bins of the input (96 `choi` preset, 128 `librosa` preset).
    #[config(default = 96)]
    pub n_mels: usize,
    /// Output channels of each conv block.
    #[config(default = "vec![40, 80, 112, 144, 176]")]
    pub filters: Vec<usize>,
    /// Time pool of each conv block; their product is the shortest accepted clip.
    #[config(default = "vec![4, 4, 2, 2, 2]")]
    pub time_pools: Vec<usize>,
    /// Template the frequency pools are derived from (FCN-5's frequency pools).
    #[config(default = "vec![2, 2, 2, 3, 4]")]
    pub frequency_pool_template: Vec<usize>,
    /// Frequency pool of each block; `None` derives them from `n_mels` and the template.
    /// Given explicitly, they must multiply to `n_mels`.
    #[config(default = "None")]
    pub frequency_pools: Option<Vec<usize>>,
    /// Dropout after each conv block (off by default, as in FCN-5).
    #[config(default = 0.0)]
    pub block_dropout: f64,
}

impl CnnConfig {
    /// Frequency pools actually used for `n_mels`.
    pub fn effective_frequency_pools(&self) -> Result<Vec<usize>, ModelError> {
        pools::frequency_pools(
            self.n_mels,
            &self.frequency_pool_template,
            self.frequency_pools.as_deref(),
        )
    }

    /// Dimension of [`Cnn::embed`]: the last block's channel count.
    pub fn embedding_dim(&self) -> usize {
        self.filters.last().copied().unwrap_or(0)
    }

    /// Shortest clip (in frames) the model accepts: the product of the time pools.
    pub fn min_frames(&self) -> usize {
        self.time_pools.iter().product()
    }

    /// Checks every field; [`CnnConfig::init`] calls it first.
    pub fn validate(&self) -> Result<(), ModelError> {
        let blocks = self.filters.len();
        if blocks == 0
            || self.time_pools.len() != blocks
            || self.frequency_pool_template.len() != blocks
        {
            return Err(ModelError::Config(format!(
                "CNN needs one time pool and one frequency template entry per conv block: \
                 {} filters, {} time_pools, {} frequency_pool_template",
                blocks,
                self.time_pools.len(),
                self.frequency_pool_template.len()
            )));
        }
        if self.filters.contains(&0) || self.time_pools.contains(&0) || self.n_genres == 0 {
            return Err(ModelError::Config(
                "CNN filters, time_pools and n_genres must be positive".into(),
            ));
        }
        if !(0.0..1.0).contains(&self.block_dropout) {
            return Err(ModelError::Config(format!(
                "CNN block_dropout must be in [0, 1), got {}",
                self.block_dropout
            )));
        }
        self.effective_frequency_pools().map(|_| ())
    }

    /// Builds the model with fresh weights (Burn's defaults, which match PyTorch's) on `device`.
    pub fn init(&self, device: &Device) -> Result<Cnn, ModelError> {
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
        Ok(Cnn {
            blocks,
            classifier: LinearConfig::new(in_channels, self.n_genres).init(device),
            n_mels: self.n_mels,
            min_frames: self.min_frames(),
        })
    }
}

/// The CNN. Field names are the weight-file paths (`blocks.0.conv.weight`, ...).
#[derive(Module, Debug)]
pub struct Cnn {
    /// Conv blocks that pool frequency to 1.
    pub blocks: Vec<ConvBlock>,
    /// Embedding -> one logit per genre.
    pub classifier: Linear,
    /// Expected mel bins (checked on every call).
    #[module(skip)]
    pub n_mels: usize,
    /// Shortest accepted clip in frames.
    #[module(skip)]
    pub min_frames: usize,
}

impl Cnn {
    /// Checks `[batch, 1, n_mels, frames]` against the config; no Burn op runs before this.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), ModelError> {
        crate::check_input(shape, self.n_mels, self.min_frames)
    }

    /// Logits `[batch, n_genres]` (apply a sigmoid, or use a logits loss).
    pub fn forward(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        Ok(self.classifier.forward(self.embed(x)?))
    }

    /// Per-genre probabilities `[batch, n_genres]`: `sigmoid(forward(x))`.
    pub fn probabilities(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        Ok(sigmoid(self.forward(x)?))
    }

    /// The song embedding and the per-genre probabilities from one pass over `x`:
    /// `(embed(x), sigmoid(dense(embed(x))))`.
    pub fn embed_and_probabilities(
        &self,
        x: Tensor<4>,
    ) -> Result<(Tensor<2>, Tensor<2>), ModelError> {
        let embedding = self.embed(x)?;
        let logits = self.classifier.forward(embedding.clone());
        Ok((embedding, sigmoid(logits)))
    }

    /// The song embedding `[batch, filters.last()]`: the last block's channels, max-pooled
    /// over the remaining time steps, right before the dense layer.
    pub fn embed(&self, x: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        self.check_input(x.dims())?;
        let mut x = x;
        for block in &self.blocks {
            x = block.forward(x);
        }
        let [batch, channels, height, _] = x.dims();
        debug_assert_eq!(height, 1, "frequency pools multiply to n_mels");
        Ok(x.max_dim(3).reshape([batch, channels]))
    }
}

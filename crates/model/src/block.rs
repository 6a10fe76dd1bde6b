//! The conv block both models stack: 3x3 conv (stride 1, same padding) -> batch norm -> ReLU
//! -> max pool -> dropout. Matches `ConvBlock` in `scripts/golden/models.py`.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// One conv block. Field names are the weight-file paths (`blocks.<i>.conv.weight`, ...).
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// 3x3 convolution without bias: the batch norm right after it has its own shift.
    pub conv: Conv2d,
    /// Batch norm over channels (PyTorch defaults: eps 1e-5, momentum 0.1).
    pub norm: BatchNorm,
    /// Non-overlapping max pool, `[freq, time]` kernel = stride, floor mode.
    pub pool: MaxPool2d,
    /// Dropout after pooling (probability 0 disables it).
    pub dropout: Dropout,
}

impl ConvBlock {
    /// A block from `in_channels` to `out_channels` pooling by `pool = [freq, time]`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        pool: [usize; 2],
        dropout: f64,
        device: &Device,
    ) -> Self {
        Self {
            conv: Conv2dConfig::new([in_channels, out_channels], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device),
            norm: BatchNormConfig::new(out_channels).init(device),
            pool: MaxPool2dConfig::new(pool).with_strides(pool).init(),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    /// `[batch, in, h, w] -> [batch, out, h / pool_h, w / pool_w]` (floor division).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(self.norm.forward(self.conv.forward(x)));
        self.dropout.forward(self.pool.forward(x))
    }
}

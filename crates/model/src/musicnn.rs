//! MusiCNN (Pons & Serra 2019, the `musicnn` 0.1.0 package, ISC licence), ported from its
//! TensorFlow graph: the musically motivated front end (timbral 7x38 and 7x67 filters, temporal
//! 128/64/32 filters over a 96-band log-mel), the dense mid-end with two residual layers, the
//! temporal-pooling back end and 50 sigmoid tags. Inference only; both published weight sets
//! ([`MusicnnVariant::Msd`], [`MusicnnVariant::Mtt`]) share the architecture.
//!
//! Input: `[n_patches, 187, 96]` log-mel patches (time, mel) of the `musicnn` feature preset
//! (`musicrec_features::MelConfig::musicnn`), cut with [`patch_starts`] / [`patches`].
//!
//! ```text
//! x [n,187,96] -> BN0 (one channel)
//!   timbral  A: pad time 3/3, conv 7x38 (204) -> ReLU -> BN -> max over freq  -> [n,204,187]
//!   timbral  B: pad time 3/3, conv 7x67 (204) -> ReLU -> BN -> max over freq  -> [n,204,187]
//!   temporal : TF SAME conv 128x1 / 64x1 / 32x1 (51 each), ReLU, BN, max over freq -> 3x[n,51,187]
//!   front = concat -> [n,561,187]
//!   mid 1: pad 3/3, conv1d k7 561->64, ReLU, BN                      = c1
//!   mid 2: BN(ReLU(conv1d k7 64->64 (c1))) + c1                      = r2
//!   mid 3: BN(ReLU(conv1d k7 64->64 (r2))) + r2                      = r3
//!   mid = concat[front, c1, r2, r3] -> [n,753,187]
//!   max_pool, mean_pool over time -> [n,753] each; interleave (max_i, mean_i) -> [n,1506]
//!   BN -> dense 1506->200 -> ReLU -> BN = penultimate -> dense 200->50 -> sigmoid = taggram
//! ```
//! Every block is conv -> bias -> ReLU -> batch norm (BN after the ReLU, epsilon 1e-3). TF's
//! `same` padding of even kernels puts the extra row after (128: 63 before, 64 after); we give
//! that padding explicitly. The spec, with the TF names, is `../shared/designs/musicnn-port.md`
//! and `scripts/convert/musicnn.py` documents the weights file.
//!
//! The weights file holds the checkpoint's variables under their TensorFlow names and
//! TensorFlow layouts (`conv2d/kernel` `[7, 38, 1, 204]` HWIO, `dense/kernel` `[1506, 200]`,
//! `batch_normalization_3/moving_mean`, ...); [`Musicnn::from_safetensors_bytes`] checks every
//! name and shape, then permutes to Burn's layouts and folds each batch norm into a per-channel
//! scale and shift (`gamma / sqrt(var + 1e-3)`, `beta - mean * scale`, in f64), which is how
//! TensorFlow evaluates an inference batch norm too.

use std::collections::BTreeMap;
use std::path::Path;

use burn::store::{ModuleStore, SafetensorsStore, bridge};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::module::{conv1d, conv2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};

use crate::ModelError;
use crate::host::host_values;
use crate::musicnn_cpu::HostConv;

/// Frames of one patch: `librosa.time_to_frames(3 s, sr=16000, hop=256) + 1`, what the network
/// was trained on.
pub const PATCH_FRAMES: usize = 187;
/// Mel bands of the input.
pub const N_MELS: usize = 96;
/// Length of [`MusicnnOutputs::penultimate`].
pub const PENULTIMATE_DIM: usize = 200;
/// Length of [`MusicnnOutputs::max_pool`] and [`MusicnnOutputs::mean_pool`] (561 front-end + 3 x
/// 64 mid-end channels).
pub const POOL_DIM: usize = 753;
/// Number of tags of either variant.
pub const N_TAGS: usize = 50;

/// Batch-norm epsilon of every layer (TF 1 `tf.layers.batch_normalization` default, confirmed in
/// the saved graph).
const BN_EPSILON: f64 = 1e-3;
const TIMBRAL_FILTERS: usize = 204;
const TEMPORAL_FILTERS: usize = 51;
const MID_FILTERS: usize = 64;
const FRONT_CHANNELS: usize = 2 * TIMBRAL_FILTERS + 3 * TEMPORAL_FILTERS;
const DENSE_IN: usize = 2 * POOL_DIM;

/// The 50 tags of `MSD_musicnn`, in output order (musicnn's `configuration.MSD_LABELS`).
pub const TAGS_MSD: [&str; N_TAGS] = [
    "rock",
    "pop",
    "alternative",
    "indie",
    "electronic",
    "female vocalists",
    "dance",
    "00s",
    "alternative rock",
    "jazz",
    "beautiful",
    "metal",
    "chillout",
    "male vocalists",
    "classic rock",
    "soul",
    "indie rock",
    "Mellow",
    "electronica",
    "80s",
    "folk",
    "90s",
    "chill",
    "instrumental",
    "punk",
    "oldies",
    "blues",
    "hard rock",
    "ambient",
    "acoustic",
    "experimental",
    "female vocalist",
    "guitar",
    "Hip-Hop",
    "70s",
    "party",
    "country",
    "easy listening",
    "sexy",
    "catchy",
    "funk",
    "electro",
    "heavy metal",
    "Progressive rock",
    "60s",
    "rnb",
    "indie pop",
    "sad",
    "House",
    "happy",
];

/// The 50 tags of `MTT_musicnn`, in output order (musicnn's `configuration.MTT_LABELS`).
pub const TAGS_MTT: [&str; N_TAGS] = [
    "guitar",
    "classical",
    "slow",
    "techno",
    "strings",
    "drums",
    "electronic",
    "rock",
    "fast",
    "piano",
    "ambient",
    "beat",
    "violin",
    "vocal",
    "synth",
    "female",
    "indian",
    "opera",
    "male",
    "singing",
    "vocals",
    "no vocals",
    "harpsichord",
    "loud",
    "quiet",
    "flute",
    "woman",
    "male vocal",
    "no vocal",
    "pop",
    "soft",
    "sitar",
    "solo",
    "man",
    "classic",
    "choir",
    "voice",
    "new age",
    "dance",
    "male voice",
    "female vocal",
    "beats",
    "harp",
    "cello",
    "no voice",
    "weird",
    "country",
    "metal",
    "female voice",
    "choral",
];

/// The MSD weights built into the binary (`models/musicnn-msd/weights.safetensors`, converted by
/// `scripts/convert/musicnn.py`; ISC licence, see `models/musicnn-msd/LICENSE`).
pub static MSD_WEIGHTS: &[u8] = include_bytes!("../../../models/musicnn-msd/weights.safetensors");
/// The MTT weights built into the binary (`models/musicnn-mtt/`, same origin and licence).
pub static MTT_WEIGHTS: &[u8] = include_bytes!("../../../models/musicnn-mtt/weights.safetensors");

/// Attribution to show with the weights (both variants): musicnn's copyright line and licence.
pub const ATTRIBUTION: &str = "MusiCNN weights from musicnn 0.1.0 (Pons & Serra 2019), \
    (c) Music Technology Group, Universitat Pompeu Fabra 2019, ISC licence";

/// The built-in network of `variant` on `device` (both weight sets are compiled in).
pub fn built_in(variant: MusicnnVariant, device: &Device) -> Result<Musicnn, ModelError> {
    Musicnn::from_safetensors_bytes(variant.built_in_weights(), device)
}

/// Which published weight set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MusicnnVariant {
    /// `MSD_musicnn`: trained on the Million Song Dataset's 50 most common last.fm tags.
    Msd,
    /// `MTT_musicnn`: trained on MagnaTagATune's 50 most common tags.
    Mtt,
}

impl MusicnnVariant {
    /// Tag names in output order.
    pub fn tags(self) -> &'static [&'static str; N_TAGS] {
        match self {
            Self::Msd => &TAGS_MSD,
            Self::Mtt => &TAGS_MTT,
        }
    }

    /// The bytes of this variant's built-in weights file.
    pub fn built_in_weights(self) -> &'static [u8] {
        match self {
            Self::Msd => MSD_WEIGHTS,
            Self::Mtt => MTT_WEIGHTS,
        }
    }

    /// The name musicnn gives the model (`"MSD_musicnn"`, `"MTT_musicnn"`).
    pub fn model_name(self) -> &'static str {
        match self {
            Self::Msd => "MSD_musicnn",
            Self::Mtt => "MTT_musicnn",
        }
    }
}

/// Everything the network gives per patch (one row per input patch).
#[derive(Clone, Debug)]
pub struct MusicnnOutputs {
    /// Tag probabilities `[n, 50]` (sigmoid of the logits; musicnn's `taggram`).
    pub taggram: Tensor<2>,
    /// The 200-d layer before the tag layer, after its ReLU and batch norm `[n, 200]`.
    pub penultimate: Tensor<2>,
    /// Max over time of the front-end and mid-end channels `[n, 753]`.
    pub max_pool: Tensor<2>,
    /// Mean over time of the same channels `[n, 753]`.
    pub mean_pool: Tensor<2>,
}

/// A batch norm folded into `x * scale + shift` per channel.
#[derive(Clone, Debug)]
struct Affine {
    scale: Tensor<1>,
    shift: Tensor<1>,
    /// 1.0 where `scale >= 0`, else 0.0: which of a max or a min the norm turns into the max.
    increasing: Tensor<1>,
}

impl Affine {
    /// `x * scale + shift` with the channel on `axis` of a rank-`D` tensor.
    fn apply<const D: usize>(&self, x: Tensor<D>, axis: usize) -> Tensor<D> {
        x * per_channel(&self.scale, axis) + per_channel(&self.shift, axis)
    }
}

/// `values` `[c]` shaped to broadcast along `axis` of a rank-`D` tensor.
fn per_channel<const D: usize>(values: &Tensor<1>, axis: usize) -> Tensor<D> {
    let mut shape = [1usize; D];
    shape[axis] = values.dims()[0];
    values.clone().reshape(shape)
}

/// A front-end convolution over the one-channel log-mel: kernel `k_time x k_freq`, zero padding
/// in time only, no padding in frequency (every one is followed by a max over all frequencies).
#[derive(Clone, Debug)]
struct FrontConv {
    /// `[k_time * k_freq, filters]`: TF's HWIO kernel with the two window axes flattened.
    kernel: Tensor<2>,
    k_time: usize,
    k_freq: usize,
    /// Time padding (before, after).
    pad: (usize, usize),
    bias: Tensor<1>,
    norm: Affine,
}

/// A mid-end convolution: kernel 7 in time over all `channels` (a conv1d), padding 3/3.
#[derive(Clone, Debug)]
struct MidConv {
    /// `[channels * 7, 64]`: channel-major, then time offset (the order `unfold` gives).
    kernel: Tensor<2>,
    channels: usize,
    bias: Tensor<1>,
    norm: Affine,
}

/// MusiCNN with loaded weights, ready for inference on any device.
#[derive(Clone, Debug)]
pub struct Musicnn {
    input_norm: Affine,
    /// Timbral 7x38, 7x67, then temporal 128x1, 64x1, 32x1: the order of the concatenation.
    front: [FrontConv; 5],
    /// Mid-end: 561->64, 64->64 (+ residual), 64->64 (+ residual).
    mid: [MidConv; 3],
    backend_norm: Affine,
    /// Dense 1506->200 weight `[1506, 200]` (TF and Burn both store `[in, out]`).
    dense: Tensor<2>,
    dense_bias: Tensor<1>,
    dense_norm: Affine,
    /// Tag layer 200->50 `[200, 50]`.
    tags: Tensor<2>,
    tags_bias: Tensor<1>,
    /// Host copies of the input norm (scale, shift) and the front end, for the fused CPU path.
    host_input: (f32, f32),
    host_front: Vec<HostConv>,
}

/// Time padding (before, after) TF's `same` gives a kernel of `k` rows at stride 1.
fn tf_same_padding(k: usize) -> (usize, usize) {
    let total = k - 1;
    (total / 2, total - total / 2)
}

impl Musicnn {
    /// Loads a weights file written by `scripts/convert/musicnn.py` from its bytes. Every tensor
    /// the network needs must be there with its TensorFlow shape and dtype f32; anything else is
    /// an error naming the tensor, never a panic.
    pub fn from_safetensors_bytes(bytes: &[u8], device: &Device) -> Result<Self, ModelError> {
        let mut store = SafetensorsStore::from_bytes(Some(bytes.to_vec()));
        let name = Path::new("<musicnn weights>");
        let tensors = store.get_all_tensors().map_err(|err| {
            weights_error(name, format!("not a readable SafeTensors file: {err}"))
        })?;
        let reader = WeightReader {
            tensors,
            name,
            device,
        };
        let input_norm = reader.batch_norm("batch_normalization", 1)?;
        // (conv index, k_time, k_freq, filters, time padding)
        let front_specs = [
            (0, 7, 38, TIMBRAL_FILTERS, (3, 3)),
            (1, 7, 67, TIMBRAL_FILTERS, (3, 3)),
            (2, 128, 1, TEMPORAL_FILTERS, tf_same_padding(128)),
            (3, 64, 1, TEMPORAL_FILTERS, tf_same_padding(64)),
            (4, 32, 1, TEMPORAL_FILTERS, tf_same_padding(32)),
        ];
        let front = front_specs.map(|(i, k_time, k_freq, filters, pad)| {
            Ok::<_, ModelError>(FrontConv {
                // HWIO [k_time, k_freq, 1, out]: flattening (time, freq) is the im2col order.
                kernel: reader
                    .tensor::<4>(&conv_name(i, "kernel"), [k_time, k_freq, 1, filters])?
                    .reshape([k_time * k_freq, filters]),
                k_time,
                k_freq,
                pad,
                bias: reader.tensor::<1>(&conv_name(i, "bias"), [filters])?,
                norm: reader.batch_norm(&bn_name(i + 1), filters)?,
            })
        });
        let [f0, f1, f2, f3, f4] = front;
        let front = [f0?, f1?, f2?, f3?, f4?];
        let host_front = front
            .iter()
            .map(|conv| {
                Ok::<_, ModelError>(HostConv::new(
                    host_values(&conv.kernel)?,
                    (conv.k_time, conv.k_freq),
                    conv.pad.0,
                    host_values(&conv.bias)?,
                    (
                        host_values(&conv.norm.scale)?,
                        host_values(&conv.norm.shift)?,
                    ),
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let host_input = (
            host_values(&input_norm.scale)?[0],
            host_values(&input_norm.shift)?[0],
        );
        let mid_specs = [(5, FRONT_CHANNELS), (6, MID_FILTERS), (7, MID_FILTERS)];
        let mid = mid_specs.map(|(i, channels)| {
            // [7, channels, 1, 64] (time, all input channels as the conv's width, 1, out) ->
            // [channels, 7, 64] -> [channels * 7, 64].
            Ok::<_, ModelError>(MidConv {
                kernel: reader
                    .tensor::<4>(&conv_name(i, "kernel"), [7, channels, 1, MID_FILTERS])?
                    .reshape([7, channels, MID_FILTERS])
                    .permute([1, 0, 2])
                    .reshape([channels * 7, MID_FILTERS]),
                channels,
                bias: reader.tensor::<1>(&conv_name(i, "bias"), [MID_FILTERS])?,
                norm: reader.batch_norm(&bn_name(i + 1), MID_FILTERS)?,
            })
        });
        let [m0, m1, m2] = mid;
        Ok(Self {
            input_norm,
            front,
            mid: [m0?, m1?, m2?],
            backend_norm: reader.batch_norm("batch_normalization_9", DENSE_IN)?,
            dense: reader.tensor::<2>("dense/kernel", [DENSE_IN, PENULTIMATE_DIM])?,
            dense_bias: reader.tensor::<1>("dense/bias", [PENULTIMATE_DIM])?,
            dense_norm: reader.batch_norm("batch_normalization_10", PENULTIMATE_DIM)?,
            tags: reader.tensor::<2>("dense_1/kernel", [PENULTIMATE_DIM, N_TAGS])?,
            tags_bias: reader.tensor::<1>("dense_1/bias", [N_TAGS])?,
            host_input,
            host_front,
        })
    }

    /// Checks a `[n_patches, 187, 96]` input shape without running anything.
    pub fn check_input(dims: [usize; 3]) -> Result<(), ModelError> {
        let [n, frames, mels] = dims;
        let reason = if n == 0 {
            "no patches".to_string()
        } else if frames != PATCH_FRAMES || mels != N_MELS {
            format!("expected [n, {PATCH_FRAMES}, {N_MELS}] (patches of frames x mel bands)")
        } else {
            return Ok(());
        };
        Err(ModelError::Input {
            shape: [n, 1, frames, mels],
            reason,
        })
    }

    /// Every output for `patches` `[n_patches, 187, 96]` (log-mel, time x mel). Panics on
    /// another shape (use [`Musicnn::check_input`] first on untrusted input, or
    /// [`Musicnn::try_forward`]).
    pub fn forward(&self, patches: Tensor<3>) -> MusicnnOutputs {
        self.try_forward(patches)
            .unwrap_or_else(|err| panic!("Musicnn::forward: {err}"))
    }

    /// [`Musicnn::forward`] with the input shape checked first.
    ///
    /// Computed channels-last (`[n, time, channels]`, TF's own layout) with every convolution
    /// as an explicit im2col and one matrix product, and each max over frequency taken before
    /// the bias, ReLU and batch norm: those are monotone per channel (the norm decreasing where
    /// its scale is negative, which the min then serves), so the result is the same while the
    /// elementwise work shrinks 30-96x. On Burn's CPU device the front end (four fifths of the
    /// work) runs fused, tile by tile (`musicnn_cpu`); elsewhere (GPUs) as Burn tensor ops
    /// ([`Musicnn::forward_tensor_ops`]). [`Musicnn::forward_reference`] is the direct
    /// transcription with Burn's `conv2d` / `conv1d`.
    pub fn try_forward(&self, patches: Tensor<3>) -> Result<MusicnnOutputs, ModelError> {
        Self::check_input(patches.dims())?;
        if patches.device() != Device::flex() {
            return self.forward_tensor_ops(patches);
        }
        let [n, _, _] = patches.dims();
        let device = patches.device();
        let (scale, shift) = self.host_input;
        let mut x = host_values(&patches)?;
        for v in &mut x {
            *v = *v * scale + shift;
        }
        let front = crate::musicnn_cpu::front_end(&x, n, &self.host_front);
        let front = Tensor::from_data(
            TensorData::new(front, [n, PATCH_FRAMES, FRONT_CHANNELS]),
            &device,
        );
        Ok(self.mid_and_back_end(front))
    }

    /// [`Musicnn::try_forward`] with the front end as Burn tensor ops on any device.
    pub fn forward_tensor_ops(&self, patches: Tensor<3>) -> Result<MusicnnOutputs, ModelError> {
        Self::check_input(patches.dims())?;
        let x = self.input_norm.apply(patches, 2);
        let front: Vec<Tensor<3>> = self.front.iter().map(|conv| front_conv(&x, conv)).collect();
        let front = Tensor::cat(front, 2); // [n, 187, 561]
        Ok(self.mid_and_back_end(front))
    }

    /// The mid-end and back end on the front end's `[n, 187, 561]`.
    fn mid_and_back_end(&self, front: Tensor<3>) -> MusicnnOutputs {
        let c1 = mid_conv(front.clone(), &self.mid[0]);
        let r2 = mid_conv(c1.clone(), &self.mid[1]) + c1.clone();
        let r3 = mid_conv(r2.clone(), &self.mid[2]) + r2.clone();
        let mid = Tensor::cat(vec![front, c1, r2, r3], 2); // [n, 187, 753]
        self.backend(mid, 1)
    }

    /// The same outputs as [`Musicnn::forward`], computed the plain way: NCHW, Burn's `conv2d`
    /// on the log-mel and `conv1d` in the mid-end, bias -> ReLU -> norm -> max as in TF. Slower;
    /// kept as the cross-check of the fast path and for the benchmark.
    pub fn forward_reference(&self, patches: Tensor<3>) -> Result<MusicnnOutputs, ModelError> {
        Self::check_input(patches.dims())?;
        let [n, frames, mels] = patches.dims();
        // [n, 187, 96] -> NCHW [n, 1, 187, 96]: H = time, W = mel, as TF's NHWC with C = 1.
        let x = self
            .input_norm
            .apply(patches.reshape([n, 1, frames, mels]), 1);
        let front: Vec<Tensor<3>> = self
            .front
            .iter()
            .map(|conv| {
                let out = conv.kernel.dims()[1];
                // [k_t * k_f, out] -> HWIO -> OIHW [out, 1, k_t, k_f].
                let weight = conv
                    .kernel
                    .clone()
                    .reshape([conv.k_time, conv.k_freq, 1, out])
                    .permute([3, 2, 0, 1]);
                let mut options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
                options.padding = [conv.pad, (0, 0)];
                let y = conv2d(x.clone(), weight, Some(conv.bias.clone()), options);
                let y = conv.norm.apply(relu(y), 1);
                let [n, c, t, _] = y.dims();
                y.max_dim(3).reshape([n, c, t])
            })
            .collect();
        let front = Tensor::cat(front, 1); // [n, 561, 187]
        let mid_block = |x: Tensor<3>, conv: &MidConv| {
            // [c * 7, 64] -> [c, 7, 64] -> conv1d [64, c, 7].
            let weight = conv
                .kernel
                .clone()
                .reshape([conv.channels, 7, MID_FILTERS])
                .permute([2, 0, 1]);
            let y = conv1d(
                x,
                weight,
                Some(conv.bias.clone()),
                ConvOptions::new([1], [3], [1], 1),
            );
            conv.norm.apply(relu(y), 1)
        };
        let c1 = mid_block(front.clone(), &self.mid[0]);
        let r2 = mid_block(c1.clone(), &self.mid[1]) + c1.clone();
        let r3 = mid_block(r2.clone(), &self.mid[2]) + r2.clone();
        let mid = Tensor::cat(vec![front, c1, r2, r3], 1); // [n, 753, 187]
        Ok(self.backend(mid, 2))
    }

    /// Global pooling over `time_axis` of the `[n, ., .]` mid-end output, then the dense layers.
    fn backend(&self, mid: Tensor<3>, time_axis: usize) -> MusicnnOutputs {
        let n = mid.dims()[0];
        let max_pool = mid.clone().max_dim(time_axis).reshape([n, POOL_DIM]);
        let mean_pool = mid.mean_dim(time_axis).reshape([n, POOL_DIM]);
        // TF concatenates [753, 1] max and mean columns into [753, 2] and flattens: interleaved.
        let pooled =
            Tensor::stack::<3>(vec![max_pool.clone(), mean_pool.clone()], 2).reshape([n, DENSE_IN]);
        let pooled = self.backend_norm.apply(pooled, 1);
        let hidden = relu(pooled.matmul(self.dense.clone()) + self.dense_bias.clone().unsqueeze());
        let penultimate = self.dense_norm.apply(hidden, 1);
        let logits =
            penultimate.clone().matmul(self.tags.clone()) + self.tags_bias.clone().unsqueeze();
        MusicnnOutputs {
            taggram: sigmoid(logits),
            penultimate,
            max_pool,
            mean_pool,
        }
    }
}

/// Zero rows before and after along time (axis 1) of `[n, time, c]`.
fn pad_time(x: Tensor<3>, (before, after): (usize, usize)) -> Tensor<3> {
    let [n, _, c] = x.dims();
    let device = x.device();
    let mut parts = Vec::with_capacity(3);
    if before > 0 {
        parts.push(Tensor::zeros([n, before, c], &device));
    }
    parts.push(x);
    if after > 0 {
        parts.push(Tensor::zeros([n, after, c], &device));
    }
    Tensor::cat(parts, 1)
}

/// A front-end block on the normalised log-mel `[n, 187, 96]`: conv, bias, ReLU, norm, max over
/// frequency -> `[n, 187, filters]`, as one im2col matrix product and a max/min over frequency.
fn front_conv(x: &Tensor<3>, conv: &FrontConv) -> Tensor<3> {
    let [n, time, mels] = x.dims();
    let filters = conv.kernel.dims()[1];
    let freq_out = mels - conv.k_freq + 1;
    // [n, time + k_t - 1, mels] -> windows [n, time, mels, k_t] -> [n, time, freq_out, k_t, k_f].
    let columns = pad_time(x.clone(), conv.pad)
        .unfold::<4, _>(1, conv.k_time, 1)
        .unfold::<5, _>(2, conv.k_freq, 1)
        .reshape([n * time * freq_out, conv.k_time * conv.k_freq]);
    let y = columns
        .matmul(conv.kernel.clone())
        .reshape([n, time, freq_out, filters]);
    let highest = y.clone().max_dim(2).reshape([n, time, filters]);
    let lowest = y.min_dim(2).reshape([n, time, filters]);
    // Where the norm's scale is negative it turns the lowest pre-activation into the max.
    let increasing: Tensor<3> = per_channel(&conv.norm.increasing, 2);
    let chosen = highest * increasing.clone() + lowest * (increasing.neg() + 1.0);
    let bias: Tensor<3> = per_channel(&conv.bias, 2);
    conv.norm.apply(relu(chosen + bias), 2)
}

/// A mid-end block on `[n, 187, c]`: conv k=7 over time and all channels (padding 3/3), bias,
/// ReLU, norm -> `[n, 187, 64]`.
fn mid_conv(x: Tensor<3>, conv: &MidConv) -> Tensor<3> {
    let [n, time, channels] = x.dims();
    debug_assert_eq!(channels, conv.channels);
    let columns = pad_time(x, (3, 3))
        .unfold::<4, _>(1, 7, 1) // [n, time, channels, 7]
        .reshape([n * time, channels * 7]);
    let y = columns.matmul(conv.kernel.clone()) + conv.bias.clone().unsqueeze();
    conv.norm.apply(relu(y), 1).reshape([n, time, MID_FILTERS])
}

fn conv_name(i: usize, what: &str) -> String {
    match i {
        0 => format!("conv2d/{what}"),
        _ => format!("conv2d_{i}/{what}"),
    }
}

fn bn_name(i: usize) -> String {
    format!("batch_normalization_{i}")
}

fn weights_error(path: &Path, reason: String) -> ModelError {
    ModelError::Weights {
        path: path.to_path_buf(),
        reason,
    }
}

/// Takes named tensors out of a SafeTensors file with shape and dtype checks.
struct WeightReader<'a> {
    tensors: &'a BTreeMap<String, burn::store::burn_pack::Tensor>,
    name: &'a Path,
    device: &'a Device,
}

impl WeightReader<'_> {
    fn values(&self, key: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        let tensor = self.tensors.get(key).ok_or_else(|| {
            weights_error(
                self.name,
                format!("no tensor '{key}' (not a MusiCNN weights file?)"),
            )
        })?;
        if tensor.shape.as_slice() != shape {
            return Err(weights_error(
                self.name,
                format!(
                    "tensor '{key}' has shape {:?}, MusiCNN needs {shape:?}",
                    tensor.shape.as_slice()
                ),
            ));
        }
        let data = bridge::to_data(tensor)
            .map_err(|err| weights_error(self.name, format!("tensor '{key}': {err}")))?;
        data.try_into_vec::<f32>().map_err(|err| {
            weights_error(self.name, format!("tensor '{key}' is not float32: {err:?}"))
        })
    }

    fn tensor<const D: usize>(
        &self,
        key: &str,
        shape: [usize; D],
    ) -> Result<Tensor<D>, ModelError> {
        let values = self.values(key, &shape)?;
        Ok(Tensor::from_data(
            TensorData::new(values, shape),
            self.device,
        ))
    }

    /// `prefix/{gamma,beta,moving_mean,moving_variance}` folded into scale and shift.
    fn batch_norm(&self, prefix: &str, channels: usize) -> Result<Affine, ModelError> {
        let get = |what: &str| self.values(&format!("{prefix}/{what}"), &[channels]);
        let (gamma, beta) = (get("gamma")?, get("beta")?);
        let (mean, variance) = (get("moving_mean")?, get("moving_variance")?);
        let mut scale = Vec::with_capacity(channels);
        let mut shift = Vec::with_capacity(channels);
        for c in 0..channels {
            let s = f64::from(gamma[c]) / (f64::from(variance[c]) + BN_EPSILON).sqrt();
            scale.push(s as f32);
            shift.push((f64::from(beta[c]) - f64::from(mean[c]) * s) as f32);
        }
        let increasing = scale
            .iter()
            .map(|&s| if s >= 0.0 { 1.0 } else { 0.0 })
            .collect();
        let vector =
            |values: Vec<f32>| Tensor::from_data(TensorData::new(values, [channels]), self.device);
        Ok(Affine {
            scale: vector(scale),
            shift: vector(shift),
            increasing: vector(increasing),
        })
    }
}

/// Start frames of the patches of a `n_frames` log-mel: musicnn's non-overlapping 187-frame
/// patches (0, 187, 374, ... while a whole patch fits; the trailing remainder is dropped, as
/// musicnn does). A clip shorter than one patch (under 3 s) gets one patch at 0, which
/// [`patches`] zero-pads: 0 is the log-mel of silence (`log10(1 + 0)`), so the network hears the
/// clip followed by silence, where musicnn 0.1.0 would fail.
pub fn patch_starts(n_frames: usize) -> Vec<usize> {
    if n_frames < PATCH_FRAMES {
        return vec![0];
    }
    (0..=n_frames - PATCH_FRAMES)
        .step_by(PATCH_FRAMES)
        .collect()
}

/// At most `max` of `starts`, evenly spread over them (first and last included when `max >= 2`);
/// all of them when there are no more than `max`.
pub fn spread_patches(starts: &[usize], max: usize) -> Vec<usize> {
    let n = starts.len();
    if n <= max {
        return starts.to_vec();
    }
    match max {
        0 => Vec::new(),
        1 => vec![starts[n / 2]],
        _ => (0..max)
            .map(|i| starts[(i * (n - 1) + (max - 1) / 2) / (max - 1)])
            .collect(),
    }
}

/// The patches starting at `starts` of a log-mel stored band-major (`mel[m * n_frames + t]`, the
/// layout of `musicrec_features::LogMel`) as the network's `[starts.len(), 187, 96]` input;
/// frames past the end are zero (see [`patch_starts`]).
pub fn patches(
    mel: &[f32],
    n_mels: usize,
    n_frames: usize,
    starts: &[usize],
    device: &Device,
) -> Result<Tensor<3>, ModelError> {
    let shape = [starts.len(), 1, n_frames, n_mels];
    let input_error = |reason: String| Err(ModelError::Input { shape, reason });
    if n_mels != N_MELS {
        return input_error(format!("MusiCNN needs {N_MELS} mel bands, got {n_mels}"));
    }
    if mel.len() != n_mels * n_frames {
        return input_error(format!(
            "{} values do not make {n_mels} x {n_frames}",
            mel.len()
        ));
    }
    if starts.is_empty() {
        return input_error("no patches".into());
    }
    if let Some(&bad) = starts.iter().find(|&&s| s >= n_frames.max(1)) {
        return input_error(format!("patch start {bad} is past the last frame"));
    }
    let mut out = vec![0.0f32; starts.len() * PATCH_FRAMES * N_MELS];
    for (patch, &start) in out.chunks_exact_mut(PATCH_FRAMES * N_MELS).zip(starts) {
        let end = (start + PATCH_FRAMES).min(n_frames);
        for (m, band) in mel.chunks_exact(n_frames).enumerate() {
            for (t, &value) in band[start..end].iter().enumerate() {
                patch[t * N_MELS + m] = value;
            }
        }
    }
    Ok(Tensor::from_data(
        TensorData::new(out, [starts.len(), PATCH_FRAMES, N_MELS]),
        device,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tf_same_padding_puts_the_extra_row_after() {
        assert_eq!(tf_same_padding(128), (63, 64));
        assert_eq!(tf_same_padding(64), (31, 32));
        assert_eq!(tf_same_padding(32), (15, 16));
        assert_eq!(tf_same_padding(7), (3, 3));
    }

    #[test]
    fn patches_are_cut_like_musicnn() {
        // A 30 s clip at 16 kHz: 1 + 480000 / 256 = 1876 frames -> 10 patches.
        assert_eq!(patch_starts(1876).len(), 10);
        assert_eq!(patch_starts(1876)[9], 9 * 187);
        assert_eq!(patch_starts(187), vec![0]);
        assert_eq!(patch_starts(373), vec![0]);
        assert_eq!(patch_starts(374), vec![0, 187]);
        assert_eq!(patch_starts(10), vec![0]);
        assert_eq!(patch_starts(0), vec![0]);
    }

    #[test]
    fn spread_keeps_ends_and_spacing() {
        let all: Vec<usize> = (0..100).collect();
        assert_eq!(spread_patches(&all, 200), all);
        assert_eq!(spread_patches(&all[..5], 5), all[..5].to_vec());
        let ten = spread_patches(&all, 10);
        assert_eq!(ten.len(), 10);
        assert_eq!((ten[0], ten[9]), (0, 99));
        assert!(
            ten.windows(2).all(|w| (10..=12).contains(&(w[1] - w[0]))),
            "{ten:?}"
        );
        assert_eq!(spread_patches(&all, 1), vec![50]);
        assert!(spread_patches(&all, 0).is_empty());
    }

    #[test]
    fn patches_transpose_and_zero_pad() {
        let device = Device::flex();
        let (n_mels, n_frames) = (N_MELS, 200);
        let mel: Vec<f32> = (0..n_mels * n_frames).map(|i| i as f32).collect();
        let x = patches(&mel, n_mels, n_frames, &[0, 100], &device).unwrap();
        assert_eq!(x.dims(), [2, PATCH_FRAMES, N_MELS]);
        let v = x.into_data().try_into_vec::<f32>().unwrap();
        let at = |p: usize, t: usize, m: usize| v[(p * PATCH_FRAMES + t) * N_MELS + m];
        assert_eq!(at(0, 5, 7), (7 * n_frames + 5) as f32);
        assert_eq!(at(1, 99, 95), (95 * n_frames + 199) as f32);
        assert_eq!(at(1, 100, 3), 0.0, "past the end: silence");
        assert!(patches(&mel, n_mels, n_frames, &[200], &device).is_err());
        assert!(patches(&mel[1..], n_mels, n_frames, &[0], &device).is_err());
        assert!(patches(&mel, n_mels, n_frames, &[], &device).is_err());
    }
}

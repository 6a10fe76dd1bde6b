//! MusiCNN's front end on the CPU as fused tiles: for each patch, each of the five front-end
//! convolutions and each tile of a few output frames, an im2col of just that tile, one GEMM
//! (the `gemm` crate, which Burn's CPU backend uses too) and the max/min over frequency taken
//! straight from the GEMM's output, then bias, ReLU and batch norm.
//!
//! Why by hand: as Burn tensor ops the same computation materialises the whole im2col matrix and
//! the whole `[rows, filters]` product (12 MB and 9 MB per patch for the 7x38 convolution) and
//! then reduces over a middle axis, which cost more than the GEMM itself (a profile of
//! `bench_musicnn`: 42 % in the GEMM microkernel, 40 % in the two reductions and copies). No crate
//! offers a convolution fused with a max over one output axis; the tiles here stay in L2.

use rayon::prelude::*;

use super::musicnn::{N_MELS, PATCH_FRAMES};
use crate::host::Scratch;

/// One front-end convolution's weights on the host.
#[derive(Clone, Debug)]
pub(crate) struct HostConv {
    /// `[k_time * k_freq, filters]` row-major (TF's HWIO with the window axes flattened).
    pub kernel: Vec<f32>,
    pub k_time: usize,
    pub k_freq: usize,
    /// Time padding before the first frame (the rest of `k_time - 1` goes after).
    pub pad_before: usize,
    pub bias: Vec<f32>,
    /// The batch norm after the ReLU, folded: `y * scale + shift`.
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

impl HostConv {
    fn filters(&self) -> usize {
        self.bias.len()
    }

    fn freq_out(&self) -> usize {
        N_MELS - self.k_freq + 1
    }

    /// Output frames per tile: about 480 GEMM rows, so a tile's im2col and product fit in L2.
    fn tile_frames(&self) -> usize {
        (480 / self.freq_out()).clamp(1, PATCH_FRAMES)
    }
}

/// The front end of `n` patches `[n, 187, 96]` (already batch-normalised), row-major, as
/// `[n, 187, channels]` with the convolutions' filters side by side in `convs` order.
pub(crate) fn front_end(x: &[f32], n: usize, convs: &[HostConv]) -> Vec<f32> {
    debug_assert_eq!(x.len(), n * PATCH_FRAMES * N_MELS);
    let channels: usize = convs.iter().map(HostConv::filters).sum();
    let offsets: Vec<usize> = convs
        .iter()
        .scan(0, |offset, conv| {
            let start = *offset;
            *offset += conv.filters();
            Some(start)
        })
        .collect();
    // Every (patch, convolution, tile) is one task.
    let tasks: Vec<(usize, usize, usize)> = (0..n)
        .flat_map(|p| {
            convs.iter().enumerate().flat_map(move |(c, conv)| {
                (0..PATCH_FRAMES)
                    .step_by(conv.tile_frames())
                    .map(move |t0| (p, c, t0))
            })
        })
        .collect();
    // Each patch transposed to [96, 187] too: a temporal (k x 1) window is then one contiguous run.
    let mut transposed = vec![0.0f32; x.len()];
    for (patch, out) in x
        .chunks_exact(PATCH_FRAMES * N_MELS)
        .zip(transposed.chunks_exact_mut(PATCH_FRAMES * N_MELS))
    {
        for (t, line) in patch.chunks_exact(N_MELS).enumerate() {
            for (f, &v) in line.iter().enumerate() {
                out[f * PATCH_FRAMES + t] = v;
            }
        }
    }
    let tiles: Vec<Vec<f32>> = tasks
        .par_iter()
        .map_init(Scratch::default, |scratch, &(p, c, t0)| {
            let range = p * PATCH_FRAMES * N_MELS..(p + 1) * PATCH_FRAMES * N_MELS;
            tile(
                &x[range.clone()],
                &transposed[range],
                &convs[c],
                t0,
                scratch,
            )
        })
        .collect();
    let mut out = vec![0.0f32; n * PATCH_FRAMES * channels];
    for (&(p, c, t0), values) in tasks.iter().zip(&tiles) {
        let filters = convs[c].filters();
        for (dt, row) in values.chunks_exact(filters).enumerate() {
            let start = (p * PATCH_FRAMES + t0 + dt) * channels + offsets[c];
            out[start..start + filters].copy_from_slice(row);
        }
    }
    out
}

/// Output frames `t0..` (at most [`HostConv::tile_frames`]) of `conv` on one patch
/// `[187, 96]` (and the same patch transposed, `[96, 187]`): `[frames, filters]`.
fn tile(
    patch: &[f32],
    transposed: &[f32],
    conv: &HostConv,
    t0: usize,
    scratch: &mut Scratch,
) -> Vec<f32> {
    let frames = conv.tile_frames().min(PATCH_FRAMES - t0);
    let (freq_out, filters) = (conv.freq_out(), conv.filters());
    let k = conv.k_time * conv.k_freq;
    let rows = frames * freq_out;
    // im2col: row (t, f) holds the k_time x k_freq window at output frame t0 + t, band f;
    // frames outside the patch are the zero padding.
    scratch.columns.clear();
    scratch.columns.resize(rows * k, 0.0);
    if conv.k_freq == 1 {
        // A temporal window: k_time consecutive frames of one band.
        for t in 0..frames {
            // Window offsets dt whose source frame t0 + t + dt - pad_before lies in the patch.
            let first = (t0 + t).saturating_sub(conv.pad_before);
            let dt_lo = first + conv.pad_before - (t0 + t);
            let last = (t0 + t + conv.k_time - conv.pad_before).min(PATCH_FRAMES);
            if last <= first {
                continue;
            }
            for f in 0..freq_out {
                let at = (t * freq_out + f) * k + dt_lo;
                let line = &transposed[f * PATCH_FRAMES..(f + 1) * PATCH_FRAMES];
                scratch.columns[at..at + last - first].copy_from_slice(&line[first..last]);
            }
        }
    }
    for t in (0..frames).filter(|_| conv.k_freq > 1) {
        for dt in 0..conv.k_time {
            let Some(source) = (t0 + t + dt)
                .checked_sub(conv.pad_before)
                .filter(|&s| s < PATCH_FRAMES)
            else {
                continue;
            };
            let line = &patch[source * N_MELS..(source + 1) * N_MELS];
            for f in 0..freq_out {
                let at = (t * freq_out + f) * k + dt * conv.k_freq;
                scratch.columns[at..at + conv.k_freq].copy_from_slice(&line[f..f + conv.k_freq]);
            }
        }
    }
    scratch.product.resize(rows * filters, 0.0);
    crate::host::matmul_into(
        &mut scratch.product,
        &scratch.columns,
        &conv.kernel,
        rows,
        k,
    );
    // Max (or min, where the norm's scale is negative: it turns the lowest into the highest)
    // over frequency, then bias, ReLU and norm, which are monotone per filter.
    let mut out = vec![0.0f32; frames * filters];
    let mut lowest = vec![0.0f32; filters];
    for (t, row_out) in out.chunks_exact_mut(filters).enumerate() {
        let block = &scratch.product[t * freq_out * filters..(t + 1) * freq_out * filters];
        row_out.copy_from_slice(&block[..filters]);
        lowest.copy_from_slice(&block[..filters]);
        for band in block.chunks_exact(filters).skip(1) {
            for ((hi, lo), &v) in row_out.iter_mut().zip(lowest.iter_mut()).zip(band) {
                *hi = hi.max(v);
                *lo = lo.min(v);
            }
        }
        for (o, y) in row_out.iter_mut().enumerate() {
            let chosen = if conv.scale[o] >= 0.0 { *y } else { lowest[o] };
            *y = (chosen + conv.bias[o]).max(0.0) * conv.scale[o] + conv.shift[o];
        }
    }
    out
}

//! MusiCNN's front end on the CPU as fused tiles: for each patch, each of the five front-end
//! convolutions and each tile of output frames, GEMMs (the `gemm` crate, which Burn's CPU backend
//! uses too) and the max/min over frequency taken straight from their output, then bias, ReLU
//! and batch norm. The two timbral convolutions (four fifths of MusiCNN's multiply-adds) run in
//! the frequency domain ([`SpectralKernel`]), the three temporal ones as windows read in place.
//!
//! Why by hand: as Burn tensor ops the same computation materialises the whole im2col matrix and
//! the whole `[rows, filters]` product (12 MB and 9 MB per patch for the 7x38 convolution) and
//! then reduces over a middle axis, which cost more than the GEMM itself (a profile of
//! `bench_musicnn`: 42 % in the GEMM microkernel, 40 % in the two reductions and copies). No crate
//! offers a convolution fused with a max over one output axis; the tiles here stay in L2.

use rayon::prelude::*;

use super::musicnn::{N_MELS, PATCH_FRAMES};
use crate::host::{Scratch, Strided, matmul_into, matmul_strided};

/// One front-end convolution's weights on the host.
#[derive(Clone, Debug)]
pub(crate) struct HostConv {
    /// `[k_time * k_freq, filters]` row-major (TF's HWIO with the window axes flattened).
    kernel: Vec<f32>,
    k_time: usize,
    k_freq: usize,
    /// Time padding before the first frame (the rest of `k_time - 1` goes after).
    pad_before: usize,
    bias: Vec<f32>,
    /// The batch norm after the ReLU, folded: `y * scale + shift`.
    scale: Vec<f32>,
    shift: Vec<f32>,
    /// The timbral (wide-in-frequency) kernels in the frequency domain; `None` for the
    /// temporal (`k x 1`) ones.
    spectral: Option<SpectralKernel>,
}

impl HostConv {
    /// A front-end convolution from its kernel `[k_time * k_freq, filters]` (row-major), bias
    /// and folded batch norm.
    pub fn new(
        kernel: Vec<f32>,
        (k_time, k_freq): (usize, usize),
        pad_before: usize,
        bias: Vec<f32>,
        (scale, shift): (Vec<f32>, Vec<f32>),
    ) -> Self {
        let spectral = (k_freq > 1).then(|| SpectralKernel::new(&kernel, k_time, k_freq));
        Self {
            kernel,
            k_time,
            k_freq,
            pad_before,
            bias,
            scale,
            shift,
            spectral,
        }
    }

    fn filters(&self) -> usize {
        self.bias.len()
    }

    fn freq_out(&self) -> usize {
        N_MELS - self.k_freq + 1
    }

    /// Output frames per task.
    fn tile_frames(&self) -> usize {
        if self.spectral.is_some() {
            SPECTRAL_TILE
        } else {
            TEMPORAL_TILE
        }
    }

    /// Bias, ReLU and the folded batch norm of filter `o`, given the highest and lowest of its
    /// values over frequency: the norm's scale, where negative, makes the lowest the highest.
    fn activate(&self, o: usize, highest: f32, lowest: f32) -> f32 {
        let chosen = if self.scale[o] >= 0.0 {
            highest
        } else {
            lowest
        };
        (chosen + self.bias[o]).max(0.0) * self.scale[o] + self.shift[o]
    }
}

/// Output frames per spectral task: its spectra (`96 x frames x 204` values, 2.4 MB) stay near
/// L2 while each GEMM call still has enough rows (16, 32 and 64 measured within noise of each
/// other).
const SPECTRAL_TILE: usize = 32;

/// Output frames per temporal task: every band's GEMM gets this many rows.
const TEMPORAL_TILE: usize = 48;

/// Real DFT bins of a mel row: 0..=48.
const BINS: usize = N_MELS / 2 + 1;

/// `cos` and `sin` of `2 pi k n / 96`, from a table of the 96 angles (a kernel's spectra take
/// about 2.5 million of them).
struct Twiddles([(f64, f64); N_MELS]);

impl Twiddles {
    fn new() -> Self {
        Self(std::array::from_fn(|i| {
            let angle = 2.0 * std::f64::consts::PI * i as f64 / N_MELS as f64;
            (angle.cos(), angle.sin())
        }))
    }

    fn cos(&self, k: usize, n: usize) -> f64 {
        self.0[(k * n) % N_MELS].0
    }

    fn sin(&self, k: usize, n: usize) -> f64 {
        self.0[(k * n) % N_MELS].1
    }
}

/// A timbral kernel (`k_time x k_freq`, one input channel) in the frequency domain.
///
/// Why: a timbral convolution is, for each output frame and filter, a correlation along the 96
/// mel bands summed over `k_time` frames, and only its maximum over bands is kept. In the
/// frequency domain (a real DFT of length 96: the valid correlation never wraps) each frame's
/// correlation is one complex product per bin, summed over the `k_time` frames, and the 96 real
/// spectral values map back to the `freq_out` valid bands by one small matrix. Per (frame,
/// filter) that is `7 * 49 * 4 + 96 * freq_out` multiply-adds instead of
/// `freq_out * 7 * k_freq`: 7.0k instead of 15.7k for 7x38 and 4.2k instead of 14.1k for 7x67.
/// Both stages are GEMMs. (An FFT library does not help: the transforms are of 96 points, and the
/// work is in the products.)
///
/// A row's spectrum is 96 reals: the real parts of bins 0..=48, then the imaginary parts of
/// bins 1..=47 (those of bins 0 and 48 are zero for real input).
#[derive(Clone, Debug)]
struct SpectralKernel {
    /// `[96 bands, 96 spectral values]`: a mel row times this is its spectrum.
    forward: Vec<f32>,
    /// Per bin, the spectrum-to-correlation products: rows are the `k_time` real parts of the
    /// input's bin (then, for complex bins, its `k_time` imaginary parts), columns the filters.
    /// `to_real` gives the real part of the correlation's bin, `to_imag` (complex bins only)
    /// its imaginary part.
    to_real: Vec<Vec<f32>>,
    to_imag: Vec<Vec<f32>>,
    /// `[freq_out, 96]`: the inverse DFT at the valid bands, divided by 96.
    inverse: Vec<f32>,
}

impl SpectralKernel {
    fn new(kernel: &[f32], k_time: usize, k_freq: usize) -> Self {
        let filters = kernel.len() / (k_time * k_freq);
        let freq_out = N_MELS - k_freq + 1;
        let angle = Twiddles::new();
        let mut forward = vec![0.0f32; N_MELS * N_MELS];
        for n in 0..N_MELS {
            for k in 0..BINS {
                forward[n * N_MELS + k] = angle.cos(k, n) as f32;
            }
            for k in 1..BINS - 1 {
                forward[n * N_MELS + spectral_imag(k)] = -angle.sin(k, n) as f32;
            }
        }
        let mut to_real = Vec::with_capacity(BINS);
        let mut to_imag = Vec::with_capacity(BINS);
        for k in 0..BINS {
            let complex = is_complex_bin(k);
            let rows = if complex { 2 * k_time } else { k_time };
            let (mut re, mut im) = (vec![0.0f32; rows * filters], vec![0.0f32; rows * filters]);
            for r in 0..k_time {
                for f in 0..filters {
                    // The filter's spectrum at bin k: c + i d.
                    let (mut c, mut d) = (0.0f64, 0.0f64);
                    for n in 0..k_freq {
                        let h = f64::from(kernel[(r * k_freq + n) * filters + f]);
                        c += h * angle.cos(k, n);
                        d -= h * angle.sin(k, n);
                    }
                    // Correlation: X conj(H) = (a + ib)(c - id) = (ac + bd) + i(bc - ad).
                    re[r * filters + f] = c as f32;
                    if complex {
                        re[(k_time + r) * filters + f] = d as f32;
                        im[r * filters + f] = -d as f32;
                        im[(k_time + r) * filters + f] = c as f32;
                    }
                }
            }
            to_real.push(re);
            to_imag.push(if complex { im } else { Vec::new() });
        }
        let mut inverse = vec![0.0f32; freq_out * N_MELS];
        for j in 0..freq_out {
            for k in 0..BINS {
                let weight = if is_complex_bin(k) { 2.0 } else { 1.0 };
                inverse[j * N_MELS + k] = (weight * angle.cos(k, j) / N_MELS as f64) as f32;
            }
            for k in 1..BINS - 1 {
                inverse[j * N_MELS + spectral_imag(k)] =
                    (-2.0 * angle.sin(k, j) / N_MELS as f64) as f32;
            }
        }
        Self {
            forward,
            to_real,
            to_imag,
            inverse,
        }
    }
}

/// Bins 1..=47 have an imaginary part; 0 and 48 (the Nyquist bin) are real.
fn is_complex_bin(k: usize) -> bool {
    k != 0 && k != BINS - 1
}

/// Where bin `k`'s imaginary part sits in a 96-value spectrum.
fn spectral_imag(k: usize) -> usize {
    BINS - 1 + k
}

/// What one worker thread reuses from task to task.
#[derive(Default)]
struct FrontScratch {
    host: Scratch,
    /// The spectra of the input frames a tile reads `[frames + k_time - 1, 96]` (fewer at the
    /// patch's edges).
    spectra: Vec<f32>,
    /// One bin's input rows for a tile `[frames, 2 * k_time]`.
    gathered: Vec<f32>,
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
        .map_init(FrontScratch::default, |scratch, &(p, c, t0)| {
            let range = p * PATCH_FRAMES * N_MELS..(p + 1) * PATCH_FRAMES * N_MELS;
            match &convs[c].spectral {
                Some(kernel) => spectral_tile(&x[range], &convs[c], kernel, t0, scratch),
                None => temporal_tile(&transposed[range], &convs[c], t0, &mut scratch.host),
            }
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

/// Output frames `t0..` (at most [`HostConv::tile_frames`]) of the timbral `conv` on one patch
/// `[187, 96]`, through the frequency domain ([`SpectralKernel`]): `[frames, filters]`.
fn spectral_tile(
    patch: &[f32],
    conv: &HostConv,
    kernel: &SpectralKernel,
    t0: usize,
    scratch: &mut FrontScratch,
) -> Vec<f32> {
    let frames = conv.tile_frames().min(PATCH_FRAMES - t0);
    let (freq_out, filters, k_time) = (conv.freq_out(), conv.filters(), conv.k_time);
    // The spectra of the input frames this tile reads, `first..last`; the padding is zero.
    let first = t0.saturating_sub(conv.pad_before);
    let last = (t0 + frames + k_time - 1 - conv.pad_before).min(PATCH_FRAMES);
    scratch.spectra.resize((last - first) * N_MELS, 0.0);
    matmul_into(
        &mut scratch.spectra,
        &patch[first * N_MELS..last * N_MELS],
        &kernel.forward,
        last - first,
        N_MELS,
    );
    // Per spectral value m, the correlation's spectrum for every (frame, filter): `[96,
    // frames, filters]`, so that each bin's GEMM writes one contiguous block and the inverse
    // below is one GEMM over the whole tile.
    let plane = frames * filters;
    let correlation = &mut scratch.host.columns;
    correlation.resize(N_MELS * plane, 0.0);
    for k in 0..BINS {
        let complex = is_complex_bin(k);
        let width = if complex { 2 * k_time } else { k_time };
        // Row t: bin k of input frames t0 + t + r - pad_before, r < k_time (real parts, then
        // imaginary parts); frames outside the patch are zero.
        scratch.gathered.clear();
        scratch.gathered.resize(frames * width, 0.0);
        for t in 0..frames {
            for r in 0..k_time {
                let Some(source) = (t0 + t + r)
                    .checked_sub(conv.pad_before)
                    .filter(|&s| s < PATCH_FRAMES)
                else {
                    continue;
                };
                let spectrum = &scratch.spectra[(source - first) * N_MELS..][..N_MELS];
                scratch.gathered[t * width + r] = spectrum[k];
                if complex {
                    scratch.gathered[t * width + k_time + r] = spectrum[spectral_imag(k)];
                }
            }
        }
        let weights = [
            Some(&kernel.to_real[k]),
            complex.then_some(&kernel.to_imag[k]),
        ];
        for (m, weights) in [k, spectral_imag(k)].into_iter().zip(weights) {
            let Some(weights) = weights else { continue };
            matmul_into(
                &mut correlation[m * plane..(m + 1) * plane],
                &scratch.gathered,
                weights,
                frames,
                width,
            );
        }
    }
    // Back to the valid bands (`[freq_out, frames * filters]`), then the max (or min) over them.
    let product = &mut scratch.host.product;
    product.resize(freq_out * plane, 0.0);
    matmul_into(product, &kernel.inverse, correlation, freq_out, N_MELS);
    let mut highest = vec![0.0f32; plane];
    let mut lowest = vec![0.0f32; plane];
    extremes(product, plane, &mut highest, &mut lowest);
    (0..plane)
        .map(|i| conv.activate(i % filters, highest[i], lowest[i]))
        .collect()
}

/// The highest and lowest value of each column of `block` (`rows x columns`, row-major).
fn extremes(block: &[f32], columns: usize, highest: &mut [f32], lowest: &mut [f32]) {
    const LANES: usize = 16;
    let rows = block.len() / columns;
    // Sixteen columns at a time, their extremes held in registers down all the rows, and
    // comparisons rather than `f32::max`, whose NaN rule costs three more instructions a value
    // (this loop was 14 % of a forward pass); the inputs are finite.
    let whole = columns / LANES * LANES;
    for c in (0..whole).step_by(LANES) {
        let mut hi: [f32; LANES] = block[c..c + LANES].try_into().expect("16 values");
        let mut lo = hi;
        for row in 1..rows {
            let values = &block[row * columns + c..][..LANES];
            for l in 0..LANES {
                hi[l] = if values[l] > hi[l] { values[l] } else { hi[l] };
                lo[l] = if values[l] < lo[l] { values[l] } else { lo[l] };
            }
        }
        highest[c..c + LANES].copy_from_slice(&hi);
        lowest[c..c + LANES].copy_from_slice(&lo);
    }
    for c in whole..columns {
        let column = block[c..].iter().step_by(columns).take(rows);
        highest[c] = column.clone().copied().fold(f32::MIN, f32::max);
        lowest[c] = column.copied().fold(f32::MAX, f32::min);
    }
}

/// Output frames `t0..` (at most [`HostConv::tile_frames`]) of the temporal (`k x 1`) `conv`
/// on one patch, given transposed (`[96, 187]`: each band's frames are one contiguous run):
/// `[frames, filters]`.
///
/// Each band's frames, zero-padded, are copied once; band by band, the GEMM then reads its
/// im2col rows straight from them (row `t` is the window starting at frame `t`: row and column
/// strides both 1), so no `frames x k` im2col matrix is written.
fn temporal_tile(
    transposed: &[f32],
    conv: &HostConv,
    t0: usize,
    scratch: &mut Scratch,
) -> Vec<f32> {
    let frames = conv.tile_frames().min(PATCH_FRAMES - t0);
    let (bands, filters, k) = (conv.freq_out(), conv.filters(), conv.k_time);
    // Band f's input frames t0 - pad_before .. t0 + frames - 1 + k - pad_before, zero outside.
    let span = frames + k - 1;
    scratch.columns.clear();
    scratch.columns.resize(bands * span, 0.0);
    let first = t0.saturating_sub(conv.pad_before);
    let last = (t0 + span - conv.pad_before).min(PATCH_FRAMES);
    let lead = first + conv.pad_before - t0;
    for (f, line) in scratch.columns.chunks_exact_mut(span).enumerate() {
        line[lead..lead + last - first]
            .copy_from_slice(&transposed[f * PATCH_FRAMES + first..f * PATCH_FRAMES + last]);
    }
    // `[frames, bands, filters]`.
    scratch.product.resize(frames * bands * filters, 0.0);
    for f in 0..bands {
        let windows = Strided {
            rows: frames,
            cols: k,
            row_stride: 1,
            col_stride: 1,
        };
        let out = Strided {
            rows: frames,
            cols: filters,
            row_stride: bands * filters,
            col_stride: 1,
        };
        matmul_strided(
            (&mut scratch.product[f * filters..], out),
            (&scratch.columns[f * span..(f + 1) * span], windows),
            (&conv.kernel, Strided::row_major(k, filters)),
        );
    }
    let mut out = vec![0.0f32; frames * filters];
    let mut highest = vec![0.0f32; filters];
    let mut lowest = vec![0.0f32; filters];
    for (t, row_out) in out.chunks_exact_mut(filters).enumerate() {
        let block = &scratch.product[t * bands * filters..(t + 1) * bands * filters];
        extremes(block, filters, &mut highest, &mut lowest);
        for (o, y) in row_out.iter_mut().enumerate() {
            *y = conv.activate(o, highest[o], lowest[o]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1) (no rand crate in this one's dependencies).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// The timbral convolution as written: every window, every band, then the max or min.
    fn direct(patch: &[f32], conv: &HostConv) -> Vec<f32> {
        let (filters, freq_out) = (conv.filters(), conv.freq_out());
        let mut out = vec![0.0f32; PATCH_FRAMES * filters];
        for t in 0..PATCH_FRAMES {
            for o in 0..filters {
                let (mut highest, mut lowest) = (f32::MIN, f32::MAX);
                for j in 0..freq_out {
                    let mut sum = 0.0f64;
                    for r in 0..conv.k_time {
                        let Some(source) = (t + r)
                            .checked_sub(conv.pad_before)
                            .filter(|&s| s < PATCH_FRAMES)
                        else {
                            continue;
                        };
                        for i in 0..conv.k_freq {
                            sum += f64::from(patch[source * N_MELS + j + i])
                                * f64::from(conv.kernel[(r * conv.k_freq + i) * filters + o]);
                        }
                    }
                    highest = highest.max(sum as f32);
                    lowest = lowest.min(sum as f32);
                }
                out[t * filters + o] = conv.activate(o, highest, lowest);
            }
        }
        out
    }

    /// The largest error of `got` against `expected`, relative to 1 + |expected|.
    fn worst_error(got: &[f32], expected: &[f32]) -> f32 {
        assert_eq!(got.len(), expected.len());
        got.iter()
            .zip(expected)
            .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
            .fold(0.0f32, f32::max)
    }

    /// Scales of both signs: the negative ones take the minimum over bands.
    fn scales(filters: usize) -> Vec<f32> {
        (0..filters)
            .map(|o| if o % 3 == 0 { -0.7 } else { 1.3 })
            .collect()
    }

    #[test]
    fn temporal_convolution_matches_the_direct_sum() {
        let filters = 5;
        let patch = values(PATCH_FRAMES * N_MELS, 6);
        let mut transposed = vec![0.0f32; patch.len()];
        for (t, line) in patch.chunks_exact(N_MELS).enumerate() {
            for (f, &v) in line.iter().enumerate() {
                transposed[f * PATCH_FRAMES + t] = v;
            }
        }
        // MusiCNN's three (TF's `same` padding) and a short odd one.
        for (k_time, pad_before, seed) in [(128, 63, 7), (64, 31, 8), (32, 15, 9), (7, 3, 10)] {
            let conv = HostConv::new(
                values(k_time * filters, seed),
                (k_time, 1),
                pad_before,
                values(filters, seed + 10),
                (scales(filters), values(filters, seed + 20)),
            );
            assert!(conv.spectral.is_none());
            let mut scratch = Scratch::default();
            let got: Vec<f32> = (0..PATCH_FRAMES)
                .step_by(conv.tile_frames())
                .flat_map(|t0| temporal_tile(&transposed, &conv, t0, &mut scratch))
                .collect();
            let worst = worst_error(&got, &direct(&patch, &conv));
            assert!(worst < 2e-5, "{k_time}x1: worst error {worst:.2e}");
        }
    }

    #[test]
    fn spectral_timbral_convolution_matches_the_direct_sum() {
        let filters = 9;
        let patch = values(PATCH_FRAMES * N_MELS, 1);
        for (k_freq, seed) in [(38, 2), (67, 3), (2, 4), (96, 5)] {
            let k_time = 7;
            let conv = HostConv::new(
                values(k_time * k_freq * filters, seed),
                (k_time, k_freq),
                3,
                values(filters, seed + 10),
                (scales(filters), values(filters, seed + 20)),
            );
            let kernel = conv
                .spectral
                .as_ref()
                .expect("a timbral kernel is spectral");
            let mut scratch = FrontScratch::default();
            let spectral: Vec<f32> = (0..PATCH_FRAMES)
                .step_by(conv.tile_frames())
                .flat_map(|t0| spectral_tile(&patch, &conv, kernel, t0, &mut scratch))
                .collect();
            let worst = worst_error(&spectral, &direct(&patch, &conv));
            // Sums of up to 672 products of values below 1: f32 rounding is ~1e-6 of them.
            assert!(worst < 2e-5, "7x{k_freq}: worst error {worst:.2e}");
        }
    }
}

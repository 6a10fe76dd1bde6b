//! The log-mel extractor: centred STFT (periodic Hann, zero padding), power spectrum, sparse mel
//! projection and `power_to_db`, computed frame by frame into the output so the complex STFT is never
//! held in memory. Plans, window and filterbank are built once per config and shared across threads.
//!
//! Why rustfft directly and not realfft: realfft computes one real FFT as a half-length complex FFT
//! plus a twiddle post-pass, and that scalar post-pass cost more than the FFT itself here. We use the
//! sibling identity instead: two real frames go into one complex FFT (frame t as the real part, frame
//! t+1 as the imaginary part) and are separated by conjugate symmetry, which needs no twiddles and is
//! fused with the power computation. Measured: 15% fewer instructions for the whole `features` run.

use std::sync::Arc;

use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use wide::f32x8;

use crate::config::LogScale;
use crate::filterbank::{SparseFilterbank, mel_filterbank};
use crate::{FeatureError, MelConfig};

/// Shortest stretch of signal one thread computes on its own: 30 s clips, which batch jobs already
/// spread over the threads one per file, are computed in one pass.
const MIN_PART_SECS: f64 = 20.0;

/// Values per task when a long spectrogram's log scale is computed on several threads.
const SCALE_RUN: usize = 1 << 16;

/// librosa `power_to_db` defaults: `amin` floors the power before the log, `ref` is 1.0 (so no offset).
const AMIN: f32 = 1e-10;

/// A log-mel spectrogram: row-major `[n_mels][n_frames]` dB values (row `m` is mel band `m` over time),
/// the layout of librosa's output and of the `.npy` files.
#[derive(Clone, Debug, PartialEq)]
pub struct LogMel {
    pub n_mels: usize,
    pub n_frames: usize,
    pub data: Vec<f32>,
}

impl LogMel {
    /// The dB value of band `mel` at frame `frame`.
    pub fn get(&self, mel: usize, frame: usize) -> f32 {
        self.data[mel * self.n_frames + frame]
    }

    /// All frames of band `mel`.
    pub fn band(&self, mel: usize) -> &[f32] {
        &self.data[mel * self.n_frames..(mel + 1) * self.n_frames]
    }
}

/// Computes log-mel spectrograms for one [`MelConfig`]. Build once, call [`MelExtractor::log_mel`] from
/// any number of threads: it holds only immutable state (FFT plan, window, sparse filterbank).
#[derive(Clone)]
pub struct MelExtractor {
    config: MelConfig,
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    filterbank: SparseFilterbank,
}

impl std::fmt::Debug for MelExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelExtractor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MelExtractor {
    /// Validates `cfg` and prepares the FFT plan, window and filterbank.
    pub fn new(cfg: &MelConfig) -> Result<Self, FeatureError> {
        cfg.validate()?;
        let fft = FftPlanner::<f32>::new().plan_fft_forward(cfg.n_fft);
        // Periodic Hann (scipy get_window("hann", n, fftbins=True)), computed in f64 like scipy.
        let n = cfg.n_fft as f64;
        let window = (0..cfg.n_fft)
            .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n).cos()) as f32)
            .collect();
        let dense = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax);
        let filterbank = SparseFilterbank::from_dense(&dense, cfg.n_mels, cfg.n_bins());
        Ok(Self {
            config: cfg.clone(),
            fft,
            window,
            filterbank,
        })
    }

    /// The configuration this extractor computes.
    pub fn config(&self) -> &MelConfig {
        &self.config
    }

    /// Log-mel spectrogram (dB) of mono `samples` already at `config().sample_rate`, equal to librosa's
    /// `power_to_db(melspectrogram(y=samples, ...), ref=1.0, amin=1e-10, top_db=...)`.
    ///
    /// A long signal (at least [`MIN_PART_SECS`] per thread) is cut into runs of frames computed on the
    /// threads of the caller's rayon pool; the result is bit for bit the same on any number of threads.
    pub fn log_mel(&self, samples: &[f32]) -> LogMel {
        let n_mels = self.filterbank.n_mels();
        let n_frames = self.config.n_frames(samples.len());
        let mut data = vec![0.0f32; n_mels * n_frames];
        let part_min = (MIN_PART_SECS * f64::from(self.config.sample_rate)) as usize;
        let parts = match rayon::current_num_threads() {
            1 => 1,
            threads => threads.min(samples.len() / part_min.max(1)),
        };
        if parts < 2 {
            self.mel_power(samples, 0..n_frames, &mut data);
        } else {
            // Runs start at even frames, so that every frame is paired in the FFT with the same
            // neighbour as in one pass over the signal (the pairing decides the rounding).
            let step = n_frames.div_ceil(parts).next_multiple_of(2);
            let starts: Vec<usize> = (0..n_frames).step_by(step).collect();
            let blocks: Vec<Vec<f32>> = starts
                .par_iter()
                .map(|&start| {
                    let frames = start..(start + step).min(n_frames);
                    let mut block = vec![0.0f32; n_mels * frames.len()];
                    self.mel_power(samples, frames, &mut block);
                    block
                })
                .collect();
            for (&start, block) in starts.iter().zip(&blocks) {
                let len = block.len() / n_mels;
                for (row, band) in data.chunks_exact_mut(n_frames).zip(block.chunks_exact(len)) {
                    row[start..start + len].copy_from_slice(band);
                }
            }
        }
        if parts < 2 {
            self.scale(&mut data);
        } else {
            self.scale_in_parallel(&mut data);
        }
        LogMel {
            n_mels,
            n_frames,
            data,
        }
    }

    /// [`Self::scale`] on the threads of the caller's rayon pool, in runs of [`SCALE_RUN`] values;
    /// the same bits as one pass (each value is scaled alone; the maximum is a maximum).
    fn scale_in_parallel(&self, data: &mut [f32]) {
        match self.config.log_scale {
            LogScale::PowerToDb => {
                let max_db = data
                    .par_chunks_mut(SCALE_RUN)
                    .map(power_to_db_values_dispatched)
                    .reduce(|| f32::NEG_INFINITY, f32::max);
                if let Some(top_db) = self.config.top_db {
                    data.par_chunks_mut(SCALE_RUN)
                        .for_each(|run| floor_at(run, max_db - top_db));
                }
            }
            LogScale::Musicnn => data
                .par_chunks_mut(SCALE_RUN)
                .for_each(|run| self.scale(run)),
        }
    }

    /// Mel power of `frames` into `out`, row-major `[n_mels][frames.len()]`.
    fn mel_power(&self, samples: &[f32], frames: std::ops::Range<usize>, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.mel_power_avx2(samples, frames, out) };
        }
        self.mel_power_portable(samples, frames, out)
    }

    /// [`Self::mel_power`] compiled for AVX2: the build targets baseline x86-64 (SSE2), where the
    /// windowing (real frames interleaved into complex ones) and power loops vectorise poorly; with
    /// AVX2 they take 8 lanes. Only the instruction selection differs: Rust never fuses a multiply
    /// and an add, so the results are bit-identical to the portable build. (rustfft picks AVX itself.)
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn mel_power_avx2(&self, samples: &[f32], frames: std::ops::Range<usize>, out: &mut [f32]) {
        self.mel_power_portable(samples, frames, out)
    }

    #[inline(always)]
    fn mel_power_portable(&self, samples: &[f32], frames: std::ops::Range<usize>, out: &mut [f32]) {
        let cfg = &self.config;
        // Buffers reused by every frame: no allocation inside the loop.
        let n_fft = cfg.n_fft;
        let stride = frames.len();
        let mut packed = vec![Complex::<f32>::default(); n_fft];
        let mut scratch = vec![Complex::<f32>::default(); self.fft.get_inplace_scratch_len()];
        let mut power_a = self.filterbank.power_buffer();
        let mut power_b = self.filterbank.power_buffer();

        let pad = n_fft / 2;
        let start_of = |t: usize| (t * cfg.hop_length) as isize - pad as isize;
        let mut t = frames.start;
        while t < frames.end {
            let has_b = t + 1 < frames.end;
            self.window_pair(
                samples,
                start_of(t),
                has_b.then(|| start_of(t + 1)),
                &mut packed,
            );
            self.fft.process_with_scratch(&mut packed, &mut scratch);
            // With Z = FFT(a + i b): A[k] = (Z[k] + conj Z[N-k]) / 2, B[k] = (Z[k] - conj Z[N-k]) / 2i,
            // so |A[k]|^2 = |Z[k] + conj Z[N-k]|^2 / 4 and |B[k]|^2 = |Z[k] - conj Z[N-k]|^2 / 4.
            let z0 = packed[0];
            power_a[0] = z0.re * z0.re;
            power_b[0] = z0.im * z0.im;
            let n_bins = cfg.n_bins();
            let mirrored = packed[n_fft - n_bins + 1..].iter().rev();
            for (((z, r), pa), pb) in packed[1..n_bins]
                .iter()
                .zip(mirrored)
                .zip(&mut power_a[1..n_bins])
                .zip(&mut power_b[1..n_bins])
            {
                let (sum_re, sum_im) = (z.re + r.re, z.im - r.im);
                let (dif_re, dif_im) = (z.re - r.re, z.im + r.im);
                *pa = 0.25 * (sum_re * sum_re + sum_im * sum_im);
                *pb = 0.25 * (dif_re * dif_re + dif_im * dif_im);
            }
            if has_b {
                self.filterbank.apply_strided_pair(
                    &power_a,
                    &power_b,
                    &mut out[t - frames.start..],
                    stride,
                );
            } else {
                self.filterbank
                    .apply_strided(&power_a, &mut out[t - frames.start..], stride);
            }
            t += 2;
        }
    }

    /// The configured log scale, in place.
    fn scale(&self, data: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.scale_avx2(data) };
        }
        self.scale_portable(data)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn scale_avx2(&self, data: &mut [f32]) {
        self.scale_portable(data)
    }

    #[inline(always)]
    fn scale_portable(&self, data: &mut [f32]) {
        match self.config.log_scale {
            LogScale::PowerToDb => power_to_db_in_place(data, self.config.top_db),
            LogScale::Musicnn => musicnn_log_in_place(data),
        }
    }

    /// [`Self::log_mel`] on one thread without the AVX2 dispatch, for the test that compares the two.
    #[cfg(test)]
    fn log_mel_portable(&self, samples: &[f32]) -> LogMel {
        let n_mels = self.filterbank.n_mels();
        let n_frames = self.config.n_frames(samples.len());
        let mut data = vec![0.0f32; n_mels * n_frames];
        self.mel_power_portable(samples, 0..n_frames, &mut data);
        self.scale_portable(&mut data);
        LogMel {
            n_mels,
            n_frames,
            data,
        }
    }

    /// Writes `window * frame` of the frame starting at `start_a` into the real parts of `packed` and of
    /// the one at `start_b` (or zeros) into the imaginary parts. Samples outside the signal are zero
    /// (librosa's `center=True, pad_mode="constant"`).
    #[inline(always)]
    fn window_pair(
        &self,
        samples: &[f32],
        start_a: isize,
        start_b: Option<isize>,
        packed: &mut [Complex<f32>],
    ) {
        let n = packed.len();
        let inside = |start: isize| start >= 0 && start as usize + n <= samples.len();
        if let Some(start_b) = start_b
            && inside(start_a)
            && inside(start_b)
        {
            let a = &samples[start_a as usize..start_a as usize + n];
            let b = &samples[start_b as usize..start_b as usize + n];
            for (((z, &x), &y), &w) in packed.iter_mut().zip(a).zip(b).zip(&self.window) {
                *z = Complex {
                    re: x * w,
                    im: y * w,
                };
            }
            return;
        }
        let sample = |start: isize, i: usize| -> f32 {
            let idx = start + i as isize;
            if idx >= 0 && (idx as usize) < samples.len() {
                samples[idx as usize]
            } else {
                0.0
            }
        };
        for (i, (z, &w)) in packed.iter_mut().zip(&self.window).enumerate() {
            let im = start_b.map_or(0.0, |start_b| sample(start_b, i) * w);
            *z = Complex {
                re: sample(start_a, i) * w,
                im,
            };
        }
    }
}

/// librosa `power_to_db(S, ref=1.0, amin=1e-10, top_db)`: `10*log10(max(S, amin))`, then floored at
/// `max - top_db`. Eight values at a time with `wide`'s vectorised `ln` (Cephes `logf`): libm's scalar
/// `log10f` was a sixth of all instructions. `(10 / ln 10) * ln(x)` differs from `log10f` by ~1e-5 dB.
#[inline(always)]
fn power_to_db_in_place(data: &mut [f32], top_db: Option<f32>) {
    let max_db = power_to_db_values(data);
    if let Some(top_db) = top_db {
        floor_at(data, max_db - top_db);
    }
}

/// The first half of [`power_to_db_in_place`]: `10*log10(max(x, amin))` in place; returns the
/// largest value.
#[inline(always)]
fn power_to_db_values(data: &mut [f32]) -> f32 {
    const LANES: usize = 8;
    let db_per_neper = f32x8::splat(10.0 / std::f32::consts::LN_10);
    let amin = f32x8::splat(AMIN);
    let mut max_db = f32x8::splat(f32::NEG_INFINITY);
    for chunk in data.chunks_mut(LANES) {
        let mut lanes = [AMIN; LANES];
        lanes[..chunk.len()].copy_from_slice(chunk);
        let db = f32x8::from(lanes).max(amin).ln() * db_per_neper;
        chunk.copy_from_slice(&db.to_array()[..chunk.len()]);
        max_db = max_db.max(db);
    }
    max_db
        .to_array()
        .into_iter()
        .fold(f32::NEG_INFINITY, f32::max)
}

#[inline(always)]
fn floor_at(data: &mut [f32], floor: f32) {
    for x in data.iter_mut() {
        *x = x.max(floor);
    }
}

/// [`power_to_db_values`] with 8-lane AVX2 (see [`MelExtractor::mel_power_avx2`]).
fn power_to_db_values_dispatched(data: &mut [f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2(data: &mut [f32]) -> f32 {
            power_to_db_values(data)
        }
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2(data) };
    }
    power_to_db_values(data)
}

/// musicnn's `log10(10000 * x + 1)` of `x` rounded to float16 ([`LogScale::Musicnn`]). `half` does the
/// IEEE round-to-nearest-even numpy's `astype(float16)` does, subnormals included; the rest is
/// float32 as in numpy. Since the log only ever sees one of 65 536 float16 values, it is looked up in
/// a table of the very same float32 expression (bit-identical to computing it per cell): the scalar
/// libm `log10f` per cell was 15% of the musicnn preset's time. The batch conversion uses F16C
/// where the CPU has it.
#[inline(always)]
fn musicnn_log_in_place(data: &mut [f32]) {
    let table = musicnn_log_table();
    let mut halves = [half::f16::ZERO; 1024];
    for chunk in data.chunks_mut(halves.len()) {
        let halves = &mut halves[..chunk.len()];
        halves.convert_from_f32_slice(chunk);
        for (x, h) in chunk.iter_mut().zip(halves.iter()) {
            *x = table[usize::from(h.to_bits())];
        }
    }
}

/// `log10(10000 * min(h, f16::MAX) + 1)` in float32 for every float16 bit pattern `h`.
fn musicnn_log_table() -> &'static [f32] {
    static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=u16::MAX)
            .map(|bits| {
                let rounded = half::f16::from_bits(bits).min(half::f16::MAX).to_f32();
                (10_000.0 * rounded + 1.0).log10()
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, sr: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / sr as f32).sin())
            .collect()
    }

    #[test]
    fn sine_energy_lands_in_the_band_containing_its_frequency() {
        let cfg = MelConfig::librosa();
        let ex = MelExtractor::new(&cfg).unwrap();
        let mel = ex.log_mel(&sine(1000.0, cfg.sample_rate, 22_050));
        assert_eq!(mel.n_mels, 128);
        assert_eq!(mel.n_frames, 1 + 22_050 / 512);
        let mid = mel.n_frames / 2;
        let loudest = (0..mel.n_mels)
            .max_by(|&a, &b| mel.get(a, mid).total_cmp(&mel.get(b, mid)))
            .unwrap();
        // Band centres of the Slaney scale: find the one nearest 1 kHz.
        let centres: Vec<f64> = (0..cfg.n_mels + 2)
            .map(|i| {
                let top = crate::filterbank::hz_to_mel(cfg.sample_rate as f64 / 2.0);
                crate::filterbank::mel_to_hz(top * i as f64 / (cfg.n_mels + 1) as f64)
            })
            .collect();
        let expected = (0..cfg.n_mels)
            .min_by(|&a, &b| {
                (centres[a + 1] - 1000.0)
                    .abs()
                    .total_cmp(&(centres[b + 1] - 1000.0).abs())
            })
            .unwrap();
        assert!(
            loudest.abs_diff(expected) <= 1,
            "loudest band {loudest}, expected {expected}"
        );
    }

    #[test]
    fn top_db_floors_output_and_none_keeps_amin_floor() {
        let mut cfg = MelConfig::librosa();
        let ex = MelExtractor::new(&cfg).unwrap();
        let mel = ex.log_mel(&sine(440.0, cfg.sample_rate, 8000));
        let max = mel.data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min = mel.data.iter().copied().fold(f32::INFINITY, f32::min);
        assert!((max - min - 80.0).abs() < 1e-3, "range {}", max - min);

        cfg.top_db = None;
        let silent = MelExtractor::new(&cfg).unwrap().log_mel(&[0.0; 4096]);
        assert!(
            silent.data.iter().all(|&x| (x + 100.0).abs() < 1e-4),
            "{:?}",
            &silent.data[..4]
        );
    }

    #[test]
    fn empty_and_short_inputs_give_padded_frames() {
        let ex = MelExtractor::new(&MelConfig::choi()).unwrap();
        let empty = ex.log_mel(&[]);
        assert_eq!(
            (empty.n_mels, empty.n_frames, empty.data.len()),
            (96, 1, 96)
        );
        let short = ex.log_mel(&sine(300.0, 12_000, 100));
        assert_eq!(short.n_frames, 1);
        assert!(short.data.iter().all(|x| x.is_finite()));
    }

    #[test]
    #[allow(clippy::excessive_precision)] // the exact float16 value, as numpy prints it
    fn musicnn_log_rounds_to_float16_first() {
        let mut data = [0.0, 1.0, 1e-4, 0.1, 1e-9, 1e6, f16_neighbour_midpoint()];
        musicnn_log_in_place(&mut data);
        assert_eq!(data[0], 0.0);
        assert!((data[1] - 10_001f32.log10()).abs() < 1e-6);
        // 1e-4 is not a float16: it becomes 1.0001659393310547e-4 (numpy's astype(float16)).
        assert_eq!(
            data[2],
            (10_000.0 * 1.000_165_939_331_054_7e-4_f32 + 1.0).log10()
        );
        // Below float16's smallest subnormal half-way point (2.98e-8): zero.
        assert_eq!(data[4], 0.0);
        // Beyond float16's range: saturated at 65504, not infinity.
        assert_eq!(data[5], (10_000.0 * 65_504.0f32 + 1.0).log10());
        // A tie between two float16 values goes to the even one (1.0, mantissa 0).
        assert_eq!(data[6], data[1]);
    }

    #[test]
    fn musicnn_log_table_equals_the_expression_per_cell() {
        // The table lookup must give the very bits the per-cell expression gives, for values across
        // float16's whole range, its subnormals, beyond it, and zero.
        let mut data: Vec<f32> = (0..4000)
            .map(|i| 1e-9f32 * 1.013f32.powi(i))
            .chain([0.0, 5.96e-8, 6.1e-5, 65_504.0, 65_520.0, 1e9, f32::INFINITY])
            .collect();
        let expected: Vec<u32> = data
            .iter()
            .map(|&x| {
                let rounded = half::f16::from_f32(x).min(half::f16::MAX).to_f32();
                (10_000.0 * rounded + 1.0).log10().to_bits()
            })
            .collect();
        musicnn_log_in_place(&mut data);
        let got: Vec<u32> = data.iter().map(|x| x.to_bits()).collect();
        assert_eq!(got, expected);
    }

    /// Half-way between 1.0 and the next float16 (1 + 2^-10): exactly representable in f32.
    fn f16_neighbour_midpoint() -> f32 {
        1.0 + 2f32.powi(-11)
    }

    #[test]
    fn avx2_build_equals_portable_build_bit_for_bit() {
        // Noise plus a sine, long enough for both the edge (padded) and the inner frame paths, and
        // an odd frame count so the last frame has no partner in the paired FFT.
        let mut state = 12_345u32;
        let signal: Vec<f32> = sine(440.0, 16_000, 40_000)
            .into_iter()
            .map(|x| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                0.5 * x + (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        for cfg in [
            MelConfig::librosa(),
            MelConfig::choi(),
            MelConfig::musicnn(),
        ] {
            let ex = MelExtractor::new(&cfg).unwrap();
            let (dispatched, portable) = (ex.log_mel(&signal), ex.log_mel_portable(&signal));
            assert_eq!(dispatched.n_frames % 2, 1, "{cfg:?}");
            let bits = |m: &LogMel| m.data.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&dispatched), bits(&portable), "{cfg:?}");
        }
    }

    #[test]
    fn a_long_signal_gives_the_same_bits_on_several_threads() {
        // 65 s plus an odd tail: 3 runs of frames on 3 threads, the last of odd length.
        let mut state = 7u32;
        for cfg in [
            MelConfig::librosa(),
            MelConfig::choi(),
            MelConfig::musicnn(),
        ] {
            let signal: Vec<f32> =
                sine(523.0, cfg.sample_rate, 65 * cfg.sample_rate as usize + 777)
                    .into_iter()
                    .map(|x| {
                        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        0.3 * x + (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
                    })
                    .collect();
            let ex = MelExtractor::new(&cfg).unwrap();
            let on = |threads: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| ex.log_mel(&signal))
            };
            let (serial, parallel) = (on(1), on(3));
            let bits = |m: &LogMel| m.data.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(serial.n_frames, parallel.n_frames, "{cfg:?}");
            assert!(bits(&serial) == bits(&parallel), "{cfg:?}");
        }
    }

    #[test]
    fn output_does_not_depend_on_thread() {
        fn shareable<T: Send + Sync>() {}
        shareable::<MelExtractor>();
        let ex = MelExtractor::new(&MelConfig::librosa()).unwrap();
        let signal = sine(3000.0, 22_050, 30_000);
        let here = ex.log_mel(&signal);
        let there = std::thread::scope(|s| s.spawn(|| ex.log_mel(&signal)).join().unwrap());
        assert_eq!(here, there);
    }
}

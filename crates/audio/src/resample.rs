//! Sample-rate conversion with libsoxr (the `soxr` crate's bindings to the system library) at
//! soxr's HQ recipe, i.e. exactly what librosa's default `librosa.resample(...,
//! res_type="soxr_hq")` runs (python-soxr is the same libsoxr 0.1.3), then librosa's length.
//!
//! Why libsoxr and not rubato (the previous resampler, a windowed-sinc FFT resampler with 320
//! taps at the lower rate, Blackman-Harris window): chosen by measurement against librosa on
//! every common rate pair (8, 11.025, 16, 22.05, 44.1, 48 kHz to the 12, 16 and 22.05 kHz of the
//! presets, and two upsamplings; `scripts/golden/resample.py`, `tests/resample_golden.rs`).
//! Log-mel |difference| p99 against librosa: rubato 0.21 to 9.4 dB (16 -> 22.05 kHz: 7.6 dB,
//! 11.025 -> 16 kHz: 9.4 dB; its transition band just below the lower Nyquist differs from
//! soxr's), libsoxr at most 4.2e-5 dB: with the same recipe it computes what librosa computes.
//! Speed: 25-60 ms per 30 s of input (500-1200x real time) on one core. It needs `libsoxr-dev`
//! and `pkg-config` at build time (.ci/apt/audio.txt); libsoxr is LGPL-2.1, linked dynamically.
//! A long signal is resampled in segments on the caller's rayon pool (see [`resample`]).

use rayon::prelude::*;
use soxr::Soxr;
use soxr::format::Mono;
use soxr::params::{QualityRecipe, QualitySpec, RuntimeSpec};

use crate::AudioError;

/// Input fed to libsoxr per call: bounds its internal buffering, not the result.
const CHUNK: usize = 1 << 16;

/// Output length librosa gives: `int(np.ceil(len * (to / from)))`, computed in f64 exactly as
/// numpy does so that the two agree even where the rounding is at the last bit.
pub fn resampled_len(input_len: usize, from_hz: u32, to_hz: u32) -> usize {
    (input_len as f64 * (f64::from(to_hz) / f64::from(from_hz))).ceil() as usize
}

/// What python-soxr returns before librosa pads it: `(size_t)(len * to / from + 0.5)`.
fn soxr_len(input_len: usize, from_hz: u32, to_hz: u32) -> usize {
    (input_len as f64 * f64::from(to_hz) / f64::from(from_hz) + 0.5) as usize
}

/// Resamples mono `samples` from `from_hz` to `to_hz` as librosa's `soxr_hq` does; returns
/// exactly [`resampled_len`] samples (soxr's rounded length, zero-padded to librosa's ceiling).
/// A signal of at least 20 s per thread of the caller's rayon pool is cut into that many
/// segments, resampled at once; the result equals one pass within 3e-7.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, AudioError> {
    if from_hz != 0 && to_hz != 0 && from_hz != to_hz {
        // Guards callers that build samples themselves.
        crate::decode::check_sample_values(samples).map_err(|_| {
            AudioError::Resample("the input holds non-finite or absurdly large samples".into())
        })?;
    }
    resample_checked(samples, from_hz, to_hz)
}

/// [`resample`] of samples already known to be finite and in range: decoded audio is checked by
/// the decoder, and checking it again cost a pass over the whole signal.
pub(crate) fn resample_checked(
    samples: &[f32],
    from_hz: u32,
    to_hz: u32,
) -> Result<Vec<f32>, AudioError> {
    if from_hz == 0 || to_hz == 0 {
        return Err(AudioError::Resample(format!(
            "sample rates must be positive (from {from_hz} Hz to {to_hz} Hz)"
        )));
    }
    if from_hz == to_hz {
        return Ok(samples.to_vec());
    }
    let out_len = resampled_len(samples.len(), from_hz, to_hz);
    if samples.is_empty() {
        return Ok(Vec::new());
    }
    let keep = soxr_len(samples.len(), from_hz, to_hz).min(out_len);
    let mut out = vec![0.0f32; out_len];
    let threads = rayon::current_num_threads();
    let segment_min = (crate::decode::MIN_SEGMENT_SECS * f64::from(from_hz)) as usize;
    let segments = threads.min(samples.len() / segment_min.max(1));
    if segments < 2 {
        soxr_into(samples, from_hz, to_hz, 0, &mut out[..keep])?;
        return Ok(out);
    }
    // A long signal on several threads: segments cut at multiples of `period` input samples,
    // where input and output sample times coincide, each resampled with `margin` input samples
    // of context on both sides (far more than the filter's length), whose output is dropped.
    // soxr's filter is linear phase and its delay is compensated, so each segment's output is
    // the serial output up to rounding (`tests/resample_golden.rs`).
    let gcd = gcd(from_hz, to_hz);
    let (period, out_period) = ((from_hz / gcd) as usize, (to_hz / gcd) as usize);
    let margin = MARGIN.div_ceil(period) * period;
    let step = (samples.len() / segments).div_ceil(period) * period;
    let mut pieces: Vec<(usize, &mut [f32])> = Vec::with_capacity(segments);
    let mut rest = &mut out[..keep];
    let mut start = 0;
    while !rest.is_empty() {
        let end_out = if start + step < samples.len() {
            ((start + step) / period * out_period).min(keep)
        } else {
            keep
        };
        let begin_out = start / period * out_period;
        let (piece, tail) = rest.split_at_mut(end_out - begin_out);
        pieces.push((start, piece));
        rest = tail;
        start += step;
    }
    pieces
        .into_par_iter()
        .map(|(start, piece)| {
            let from = start.saturating_sub(margin);
            let to = (start + step + margin).min(samples.len());
            // The output of the context before `start` is dropped; the piece follows it.
            let skip = (start - from) / period * out_period;
            soxr_into(&samples[from..to], from_hz, to_hz, skip, piece)
        })
        .collect::<Result<(), AudioError>>()?;
    // `out` already holds zeros past soxr's length: librosa's `fix_length` pad.
    Ok(out)
}

/// Input samples of context on each side of a segment resampled on its own thread.
const MARGIN: usize = 1 << 14;

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Resamples all of `samples` with one soxr instance: its first `discard` output samples are
/// dropped, the next ones fill `out` as far as soxr produces them.
fn soxr_into(
    samples: &[f32],
    from_hz: u32,
    to_hz: u32,
    discard: usize,
    out: &mut [f32],
) -> Result<(), AudioError> {
    let soxr_error = |err: soxr::Error| AudioError::Resample(AudioError::one_line(err));
    let mut resampler = Soxr::<Mono<f32>>::new_with_params(
        f64::from(from_hz),
        f64::from(to_hz),
        QualitySpec::new(QualityRecipe::high()),
        // One thread: callers parallelise across files, and long signals across segments.
        RuntimeSpec::new(1),
    )
    .map_err(soxr_error)?;
    let mut dropped = vec![0.0f32; discard.min(CHUNK)];
    let mut to_discard = discard;
    let mut produced = 0;
    let mut input = samples;
    while produced < out.len() {
        let target = if to_discard > 0 {
            &mut dropped[..to_discard.min(CHUNK)]
        } else {
            &mut out[produced..]
        };
        let made = if input.is_empty() {
            let drained = resampler.drain(target).map_err(soxr_error)?;
            if drained == 0 {
                break;
            }
            drained
        } else {
            let chunk = &input[..input.len().min(CHUNK)];
            let done = resampler.process(chunk, target).map_err(soxr_error)?;
            input = &input[done.input_frames..];
            if done.input_frames == 0 && done.output_frames == 0 {
                break;
            }
            done.output_frames
        };
        if to_discard > 0 {
            to_discard -= made;
        } else {
            produced += made;
        }
    }
    Ok(())
}

//! Model windows over a clip's log-mel: fixed-length slices of `frames` frames.
//!
//! - A clip of at most `frames` frames gives one window, padded at the end with [`PadMode`].
//! - A longer clip is cut into windows starting every `hop` frames; when the last one would stop short
//!   of the clip's end, one more window aligned to the end is added, so every frame is covered and no
//!   window of a long clip is padded.
//! - Training draws several windows per clip (all of them, or [`window_at`] at random starts); for a
//!   track's prediction or embedding, the outputs of all its windows are averaged ([`mean_of`]).
//!
//! Padding default, [`PadMode::Floor`]: the clip's own minimum dB value. With `top_db = 80` (both
//! presets) that is exactly the log-mel floor, `max - 80 dB`, i.e. what silence looks like in this
//! clip, so padding reads as silence rather than as an artificial edge.

use musicrec_features::LogMel;

/// The dB value used when a log-mel has no frame to take a floor from: librosa's `10*log10(amin)`.
pub const EMPTY_FLOOR_DB: f32 = -100.0;

/// How a clip shorter than the window is filled up.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum PadMode {
    /// The clip's minimum value (its dB floor; see the module doc).
    #[default]
    Floor,
    /// A fixed dB value.
    Constant(f32),
    /// Repeat the clip from its start (loops short clips).
    Wrap,
}

/// Window length, step and padding, in frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowConfig {
    pub frames: usize,
    pub hop: usize,
    pub pad: PadMode,
}

impl WindowConfig {
    /// Non-overlapping windows of `frames` frames, floor padding.
    pub fn new(frames: usize) -> Self {
        Self {
            frames,
            hop: frames,
            pad: PadMode::Floor,
        }
    }
}

/// Frames covering `secs` seconds at `sample_rate` with `hop_length` (rounded to nearest, at least 1).
pub fn frames_for_secs(secs: f64, sample_rate: u32, hop_length: usize) -> usize {
    ((secs * sample_rate as f64 / hop_length as f64).round() as usize).max(1)
}

/// Start frames of the windows of a clip of `n_frames` frames (see the module doc).
///
/// # Panics
/// If `frames` or `hop` is 0.
pub fn window_starts(n_frames: usize, frames: usize, hop: usize) -> Vec<usize> {
    assert!(
        frames > 0 && hop > 0,
        "window frames and hop must be positive"
    );
    if n_frames <= frames {
        return vec![0];
    }
    let last = n_frames - frames;
    let mut starts: Vec<usize> = (0..=last).step_by(hop).collect();
    if *starts.last().expect("at least start 0") != last {
        starts.push(last);
    }
    starts
}

/// All windows of `mel` (see the module doc).
pub fn windows(mel: &LogMel, cfg: &WindowConfig) -> Vec<LogMel> {
    window_starts(mel.n_frames, cfg.frames, cfg.hop)
        .into_iter()
        .map(|start| window_at(mel, start, cfg.frames, cfg.pad))
        .collect()
}

/// The `frames`-frame window of `mel` starting at frame `start`; frames past the clip's end are
/// padded with `pad`.
pub fn window_at(mel: &LogMel, start: usize, frames: usize, pad: PadMode) -> LogMel {
    let pad_value = match pad {
        PadMode::Floor => mel
            .data
            .iter()
            .copied()
            .reduce(f32::min)
            .unwrap_or(EMPTY_FLOOR_DB),
        PadMode::Constant(v) => v,
        // Only used when there is nothing to repeat.
        PadMode::Wrap => EMPTY_FLOOR_DB,
    };
    let wrap = matches!(pad, PadMode::Wrap) && mel.n_frames > 0;
    let mut data = Vec::with_capacity(mel.n_mels * frames);
    for band in 0..mel.n_mels {
        let row = &mel.data[band * mel.n_frames..(band + 1) * mel.n_frames];
        for t in start..start + frames {
            let value = if t < mel.n_frames {
                row[t]
            } else if wrap {
                row[t % mel.n_frames]
            } else {
                pad_value
            };
            data.push(value);
        }
    }
    LogMel {
        n_mels: mel.n_mels,
        n_frames: frames,
        data,
    }
}

/// Element-wise mean of equally long vectors (per-window predictions or embeddings of one track).
/// Empty input gives an empty vector.
///
/// # Panics
/// If the vectors differ in length.
pub fn mean_of(vectors: &[Vec<f32>]) -> Vec<f32> {
    let Some(first) = vectors.first() else {
        return Vec::new();
    };
    let mut sum = vec![0f64; first.len()];
    for v in vectors {
        assert_eq!(v.len(), sum.len(), "window outputs differ in length");
        for (s, x) in sum.iter_mut().zip(v) {
            *s += *x as f64;
        }
    }
    sum.into_iter()
        .map(|s| (s / vectors.len() as f64) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 mels x n frames: band 0 holds the frame index, band 1 its negative.
    fn ramp(n: usize) -> LogMel {
        let mut data: Vec<f32> = (0..n).map(|t| t as f32).collect();
        data.extend((0..n).map(|t| -(t as f32)));
        LogMel {
            n_mels: 2,
            n_frames: n,
            data,
        }
    }

    #[test]
    fn starts_cover_the_clip() {
        assert_eq!(window_starts(5, 10, 10), vec![0]);
        assert_eq!(window_starts(10, 10, 10), vec![0]);
        assert_eq!(window_starts(25, 10, 10), vec![0, 10, 15]);
        assert_eq!(window_starts(30, 10, 10), vec![0, 10, 20]);
        assert_eq!(window_starts(14, 10, 2), vec![0, 2, 4]);
        assert_eq!(window_starts(15, 10, 2), vec![0, 2, 4, 5]);
    }

    #[test]
    fn short_clip_padded_with_its_floor() {
        let mel = ramp(3);
        let w = window_at(&mel, 0, 5, PadMode::Floor);
        assert_eq!(w.n_frames, 5);
        // Floor = min over the clip = -2.
        assert_eq!(&w.data[..5], &[0.0, 1.0, 2.0, -2.0, -2.0]);
        assert_eq!(&w.data[5..], &[0.0, -1.0, -2.0, -2.0, -2.0]);
        let c = window_at(&mel, 0, 4, PadMode::Constant(-80.0));
        assert_eq!(&c.data[..4], &[0.0, 1.0, 2.0, -80.0]);
        let r = window_at(&mel, 0, 7, PadMode::Wrap);
        assert_eq!(&r.data[..7], &[0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0]);
        let empty = LogMel {
            n_mels: 2,
            n_frames: 0,
            data: vec![],
        };
        assert!(
            window_at(&empty, 0, 3, PadMode::Floor)
                .data
                .iter()
                .all(|&v| v == EMPTY_FLOOR_DB)
        );
    }

    #[test]
    fn long_clip_cut_without_padding() {
        let mel = ramp(25);
        let ws = windows(&mel, &WindowConfig::new(10));
        assert_eq!(ws.len(), 3);
        assert_eq!(ws[2].data[0], 15.0);
        assert_eq!(ws[2].data[9], 24.0);
        assert_eq!(ws[2].data[10], -15.0);
        assert!(ws.iter().all(|w| w.data.len() == 20));
    }

    #[test]
    fn mean_of_windows() {
        assert_eq!(mean_of(&[vec![1.0, 2.0], vec![3.0, 6.0]]), vec![2.0, 4.0]);
        assert!(mean_of(&[]).is_empty());
        assert_eq!(frames_for_secs(3.0, 22_050, 512), 129);
    }
}

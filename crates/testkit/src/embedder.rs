//! A real, small [`TrackEmbedder`] for tests and measurements: decodes with musicrec-audio and
//! describes the audio by the mean and standard deviation, over 2048-sample frames, of the log
//! energy in three crude bands (one-pole low-pass, its residual, first difference) and of the
//! zero-crossing rate. Honest statistics of the real signal, no model needed.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use musicrec_catalog::{ModelInfo, TrackEmbedder, TrackEmbedding};

/// GTZAN's genres, used as the "model's" genre list.
pub const GENRES: [&str; 10] = crate::data::GTZAN_GENRES;

const FRAME: usize = 2048;
const FEATURES: usize = 4;
/// Mean and standard deviation of each feature.
pub const DIM: usize = 2 * FEATURES;

/// Frame-statistics embedder; counts how often it embeds.
pub struct FrameStatsEmbedder {
    id: String,
    delay: Duration,
    calls: AtomicUsize,
}

impl FrameStatsEmbedder {
    /// `delay` is added to every call (to make a scan slow enough to interrupt).
    pub fn new(id: &str, delay: Duration) -> Self {
        Self {
            id: id.to_owned(),
            delay,
            calls: AtomicUsize::new(0),
        }
    }

    /// Number of `embed` calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl TrackEmbedder for FrameStatsEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn model_info(&self) -> ModelInfo {
        ModelInfo {
            genres: GENRES.iter().map(|g| (*g).to_owned()).collect(),
            embedding_dim: DIM,
            config: serde_json::json!({ "kind": "frame-stats", "frame": FRAME }),
        }
    }

    fn embed(&self, path: &Path) -> Result<TrackEmbedding, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let audio = musicrec_audio::decode_file(path).map_err(|e| e.to_string())?;
        if audio.samples.len() < FRAME {
            return Err(format!("shorter than one {FRAME}-sample frame"));
        }
        let mut sums = [0f64; FEATURES];
        let mut squares = [0f64; FEATURES];
        let mut frames = 0f64;
        let mut low = 0f32;
        for frame in audio.samples.chunks_exact(FRAME) {
            let (mut e_low, mut e_mid, mut e_high, mut crossings) = (0f64, 0f64, 0f64, 0usize);
            let mut previous = frame[0];
            for &x in frame {
                low += 0.05 * (x - low);
                e_low += f64::from(low * low);
                e_mid += f64::from((x - low) * (x - low));
                e_high += f64::from((x - previous) * (x - previous));
                if (x >= 0.0) != (previous >= 0.0) {
                    crossings += 1;
                }
                previous = x;
            }
            let n = FRAME as f64;
            let features = [
                (e_low / n + 1e-10).ln(),
                (e_mid / n + 1e-10).ln(),
                (e_high / n + 1e-10).ln(),
                crossings as f64 / n,
            ];
            for (i, f) in features.iter().enumerate() {
                sums[i] += f;
                squares[i] += f * f;
            }
            frames += 1.0;
        }
        let mut embedding = Vec::with_capacity(DIM);
        for i in 0..FEATURES {
            let mean = sums[i] / frames;
            embedding.push(mean as f32);
            embedding.push((squares[i] / frames - mean * mean).max(0.0).sqrt() as f32);
        }
        // A fixed linear read-out + softmax: a valid distribution that depends on the audio.
        let logits: Vec<f64> = (0..GENRES.len())
            .map(|g| {
                embedding
                    .iter()
                    .enumerate()
                    .map(|(d, &v)| f64::from(v) * ((g + 1) as f64 * (d + 1) as f64).sin())
                    .sum()
            })
            .collect();
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let total: f64 = exp.iter().sum();
        Ok(TrackEmbedding {
            embedding,
            genre_probs: exp.iter().map(|e| (e / total) as f32).collect(),
            duration_secs: audio.duration_secs(),
            warning: None,
        })
    }
}

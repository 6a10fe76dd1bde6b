//! A scan's throughput: files the model processed and the seconds of audio in them, timed from
//! the first file the model started ([`ScanMeter`], filled by wrapping the embedder in
//! [`Metered`]); the progress line and the summary of a scan say it as "tracks/min" and
//! "x real time".

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::{ModelInfo, TrackEmbedder, TrackEmbedding};

/// Throughput of a scan: files the model processed and the seconds of audio in them, timed from
/// the first file the model started.
#[derive(Debug, Default)]
pub struct ScanMeter {
    started: OnceLock<Instant>,
    finished: Mutex<Option<Instant>>,
    files: AtomicU64,
    audio_ms: AtomicU64,
}

impl ScanMeter {
    /// Files processed (embedded or failed).
    pub fn files(&self) -> u64 {
        self.files.load(Ordering::Relaxed)
    }

    /// Seconds of audio embedded.
    pub fn audio_secs(&self) -> f64 {
        self.audio_ms.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Wall time from the first file started to the last one finished (or to now while running).
    fn elapsed(&self, until_now: bool) -> Option<Duration> {
        let started = *self.started.get()?;
        let end = if until_now {
            Instant::now()
        } else {
            self.finished.lock().ok().and_then(|f| *f)?
        };
        Some(end.saturating_duration_since(started))
    }

    /// "12.3 tracks/min, 45x real time" up to the last file finished (`until_now`: up to now,
    /// for a progress line while running), or `None` before the first file is done.
    pub fn rate(&self, until_now: bool) -> Option<String> {
        let secs = self.elapsed(until_now)?.as_secs_f64();
        let files = self.files();
        if files == 0 || secs <= 0.0 {
            return None;
        }
        Some(format!(
            "{:.1} tracks/min, {:.0}x real time",
            files as f64 * 60.0 / secs,
            self.audio_secs() / secs
        ))
    }

    /// The summary's throughput clause: "; 3 files through the model in 8.1 s (37.0 tracks/min,
    /// 49x real time)", or empty when the model processed nothing.
    pub fn summary(&self) -> String {
        match (self.elapsed(false), self.rate(false)) {
            (Some(elapsed), Some(rate)) => format!(
                "; {} files through the model in {:.1} s ({rate})",
                self.files(),
                elapsed.as_secs_f64()
            ),
            _ => String::new(),
        }
    }
}

/// A [`TrackEmbedder`] that counts what the wrapped one processes into a shared [`ScanMeter`].
pub struct Metered<'a, E: ?Sized> {
    inner: &'a E,
    meter: Arc<ScanMeter>,
}

impl<'a, E: TrackEmbedder + ?Sized> Metered<'a, E> {
    pub fn new(inner: &'a E) -> Self {
        Self {
            inner,
            meter: Arc::default(),
        }
    }

    /// The meter, for a progress bar and the summary.
    pub fn meter(&self) -> Arc<ScanMeter> {
        Arc::clone(&self.meter)
    }
}

impl<E: TrackEmbedder + ?Sized> TrackEmbedder for Metered<'_, E> {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn model_info(&self) -> ModelInfo {
        self.inner.model_info()
    }

    fn embed(&self, path: &Path) -> Result<TrackEmbedding, String> {
        self.meter.started.get_or_init(Instant::now);
        let result = self.inner.embed(path);
        if let Ok(embedding) = &result {
            let ms = (embedding.duration_secs.max(0.0) * 1000.0).round() as u64;
            self.meter.audio_ms.fetch_add(ms, Ordering::Relaxed);
        }
        self.meter.files.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut finished) = self.meter.finished.lock() {
            *finished = Some(Instant::now());
        }
        result
    }
}

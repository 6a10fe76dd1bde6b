//! Progress on stderr: every progress bar belongs to one [`MultiProgress`], and log lines (tracing)
//! are written with the bars suspended, so a warning never lands in the middle of a bar. Bars are
//! drawn only when stderr is a terminal; log lines carry ANSI colours only then too.
//!
//! Also the scan's throughput meter ([`Metered`]): files per minute and audio seconds per wall
//! second, in the progress line and the summary of `scan` and `quickstart`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use musicrec_catalog::{CatalogStore, ModelInfo, ScanReport, TrackEmbedder, TrackEmbedding};
use musicrec_embed::ModelEmbedder;
use musicrec_embed::scan::ScanSetup;

/// Whether stderr gets colours and bars: a terminal, and `NO_COLOR` unset (no-color.org).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The process's bars: drawn on stderr when it is a terminal, hidden otherwise.
fn bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(|| {
        MultiProgress::with_draw_target(if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        })
    })
}

/// The writer tracing logs through: stderr, with the progress bars cleared while a line is
/// written and redrawn after it.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        bars().suspend(|| std::io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Throughput of a scan: files the model processed and the seconds of audio in them, timed from
/// the first file the model started.
#[derive(Debug, Default)]
pub struct Meter {
    started: OnceLock<Instant>,
    finished: Mutex<Option<Instant>>,
    files: AtomicU64,
    audio_ms: AtomicU64,
}

impl Meter {
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

    /// "12.3 tracks/min, 45x real time", or `None` before the first file is done.
    fn rate(&self, until_now: bool) -> Option<String> {
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

    /// The summary's throughput clause: "in 8.1 s (37.0 tracks/min, 49x real time)", or empty
    /// when the model processed nothing.
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

/// A [`TrackEmbedder`] that counts what the wrapped one processes into a shared [`Meter`].
pub struct Metered<'a, E: ?Sized> {
    inner: &'a E,
    meter: Arc<Meter>,
}

impl<'a, E: TrackEmbedder + ?Sized> Metered<'a, E> {
    pub fn new(inner: &'a E) -> Self {
        Self {
            inner,
            meter: Arc::default(),
        }
    }

    /// The meter, for the progress bar and the summary.
    pub fn meter(&self) -> Arc<Meter> {
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

/// The scan's progress bar: files done of files to process, throughput, elapsed and ETA.
pub fn scan_bar(meter: Arc<Meter>) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{msg:>14} {bar:30} {pos}/{len} files  {throughput}  {elapsed} (eta {eta})",
    )
    .expect("static template is valid")
    .with_key(
        "throughput",
        move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&meter.rate(true).unwrap_or_default());
        },
    );
    let bar = bars().add(ProgressBar::no_length());
    bar.set_style(style);
    bar
}

/// The one-line summary of a scan, as `scan` and `quickstart` print it: every file found is
/// counted once (added, updated, moved, unchanged, failed, or skipped as failed before), plus the
/// stored tracks whose file is gone (`missing`, as `stats` calls them), then the throughput.
pub fn scan_summary(report: &musicrec_catalog::ScanReport, meter: &Meter) -> String {
    format!(
        "{} files: {} added, {} updated, {} moved, {} unchanged, {} missing, {} failed{}{}",
        report.found,
        report.added,
        report.updated,
        report.moved,
        report.unchanged,
        report.pruned,
        report.failed,
        if report.skipped_failed > 0 {
            format!(
                ", {} skipped as failed before (--retry-failed retries them)",
                report.skipped_failed
            )
        } else {
            String::new()
        },
        meter.summary(),
    )
}

/// Why a scan could do nothing, if it could not: no music file under the folders, or not one
/// of them readable. `scan` and `quickstart` exit with status 2 then.
pub fn scan_did_nothing(
    report: &musicrec_catalog::ScanReport,
    dirs: &[std::path::PathBuf],
) -> Option<String> {
    let folders = || {
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if report.found == 0 {
        return Some(format!(
            "no music files found in {} (looked for {})",
            folders(),
            musicrec_catalog::AUDIO_EXTENSIONS.join(", ")
        ));
    }
    let readable = report.added + report.updated + report.moved + report.unchanged;
    (readable == 0).then(|| {
        format!(
            "none of the {} music files in {} could be read (`musicrec scan --failed` lists why)",
            report.found,
            folders()
        )
    })
}

/// Scans `dirs` into `store` as `setup` says, with the scan bar drawn, and lists the files that
/// failed on stderr; gives the report and the throughput meter.
pub fn scan_folders(
    store: &mut dyn CatalogStore,
    dirs: &[PathBuf],
    setup: &ScanSetup,
) -> anyhow::Result<(ScanReport, Arc<Meter>)> {
    let (report, meter) = metered(&setup.embedder, |metered, progress| {
        musicrec_catalog::scan(store, dirs, metered, &setup.options, progress)
    })?;
    print_failures(&report.failures);
    for (file, warning) in &report.warnings {
        eprintln!("warning: {}: {warning}", file.display());
    }
    Ok((report, meter))
}

/// Runs `scan` with `embedder` metered and the scan bar drawn; gives its result and the meter.
pub fn metered<R, E>(
    embedder: &ModelEmbedder,
    scan: impl FnOnce(&Metered<'_, ModelEmbedder>, &ProgressBar) -> Result<R, E>,
) -> anyhow::Result<(R, Arc<Meter>)>
where
    anyhow::Error: From<E>,
{
    let metered = Metered::new(embedder);
    let progress = scan_bar(metered.meter());
    let result = scan(&metered, &progress)?;
    progress.finish_and_clear();
    Ok((result, metered.meter()))
}

/// Lists the files a scan could not read, with the reason, on stderr.
pub fn print_failures(failures: &[(PathBuf, String)]) {
    for (file, reason) in failures {
        eprintln!("failed: {}: {reason}", file.display());
    }
}

/// A bar of `len` files drawn with `template` on stderr when it is a terminal.
pub fn files_bar(len: u64, template: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(ProgressStyle::with_template(template).expect("static template is valid"));
    bar
}

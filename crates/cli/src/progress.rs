//! Progress on stderr: every progress bar belongs to one [`MultiProgress`], and log lines (tracing)
//! are written with the bars suspended, so a warning never lands in the middle of a bar. Bars are
//! drawn only when stderr is a terminal; log lines carry ANSI colours only then too.
//!
//! Also the scan's bar, with the throughput of `musicrec_catalog`'s [`ScanMeter`] in it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use musicrec_catalog::{CatalogStore, Metered, ScanMeter, ScanReport};
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

/// The scan's progress bar: files done of files to process, throughput, elapsed and ETA.
pub fn scan_bar(meter: Arc<ScanMeter>) -> ProgressBar {
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

/// Scans `dirs` into `store` as `setup` says, with the scan bar drawn, and lists the files that
/// failed on stderr; gives the report and the throughput meter.
pub fn scan_folders(
    store: &mut dyn CatalogStore,
    dirs: &[PathBuf],
    setup: &ScanSetup,
) -> anyhow::Result<(ScanReport, Arc<ScanMeter>)> {
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
) -> anyhow::Result<(R, Arc<ScanMeter>)>
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

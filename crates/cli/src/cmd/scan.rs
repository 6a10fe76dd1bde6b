//! `musicrec scan`: embed every audio file under music folders into the catalog (incremental,
//! resumable: all logic in `musicrec_catalog::scan`), or list the files that failed. With
//! `--worker` and a PostgreSQL catalog, this process is one of any number of workers sharing
//! the catalog's job queue (`musicrec_catalog_pg::queue`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use indicatif::ProgressBar;
use musicrec_catalog::{CatalogStore, ScanReport};
use musicrec_catalog_pg::{JobOutcome, WorkerOptions};
use musicrec_embed::ModelEmbedder;
use musicrec_embed::scan::{ScanSetup, check_folders};

use crate::progress::{Meter, Metered, scan_bar, scan_did_nothing, scan_summary};

/// Embed music folders into the catalog, or list recorded failures.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
A rescan only embeds new and changed files: unchanged files are not even opened, moved files keep \
their embedding, deleted ones are flagged missing (kept, with their likes, until they come \
back). A killed scan loses only the files in flight; run the same command again to finish it.

The summary counts every file found once (added, updated, moved, unchanged, failed, or skipped as \
failed before), the stored tracks now missing, and the throughput: files per minute and seconds \
of audio per second (x real time). Files that cannot be read are listed on stderr with the \
reason and recorded (`--failed` lists them again); tag warnings show with -v.

Exit status: 0 when the scan ran, even if some files failed; 2 when nothing could be done (no \
catalog or model, no music files found, or not one file readable).

Examples:
  musicrec scan ~/Music                      # MusiCNN (pretrained on the Million Song Dataset)
  musicrec scan ~/Music --model cnn          # the small built-in CNN: fast, less accurate
  musicrec scan ~/Music --model models/my-genres   # MusiCNN + a genre head (train --backbone)
  musicrec scan ~/Music --model models/crnn
  musicrec scan ~/Music /mnt/usb/music --model models/crnn --jobs 2 --db library.db
  musicrec scan --failed

Many machines, one PostgreSQL catalog (every worker queues the folders it is given, then takes \
jobs until none is left; a killed worker's jobs go to the others when its lease expires):
  musicrec scan /mnt/music --model models/crnn --db postgres://musicrec@dbhost/musicrec --worker
  musicrec scan --model models/crnn --db postgres://musicrec@dbhost/musicrec --worker")]
pub struct Args {
    /// Music folders to scan.
    #[arg(value_name = "DIR", required_unless_present_any = ["failed", "worker"])]
    dirs: Vec<PathBuf>,
    /// Catalog: an SQLite file, or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// `musicnn` (default: MusiCNN with the built-in genre head), `musicnn-tags` (MusiCNN, its
    /// 50 tags as genres), `cnn` (the small built-in CNN), a genre head directory (`train
    /// --backbone`) or a model directory (`train --arch`).
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
    /// MusiCNN patches (3 s each) analysed per track: at most N, evenly spread, or `full`.
    #[arg(long, value_name = "N|full", default_value = "20")]
    analysis: musicrec_train::Analysis,
    /// Worker threads [default: one per core].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Retry files that failed before even if they did not change.
    #[arg(long)]
    retry_failed: bool,
    /// List the files that failed (with reasons) instead of scanning.
    #[arg(long, conflicts_with_all = ["dirs", "model", "jobs", "retry_failed", "worker"])]
    failed: bool,
    /// Be one of many workers on a PostgreSQL catalog's job queue: queue the DIRs given (if
    /// any), then claim, embed and store files until no job is pending.
    #[arg(long)]
    worker: bool,
    /// With --worker: seconds a claimed job stays this worker's without progress before other
    /// workers may take it over.
    #[arg(long, value_name = "SECS", default_value_t = 300, requires = "worker")]
    lease_secs: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.failed {
        return list_failures(args.db.as_deref());
    }
    let setup = ScanSetup::new(
        args.model.as_deref(),
        args.analysis,
        args.jobs,
        args.retry_failed,
    )?;
    check_folders(&args.dirs)?;
    if args.worker {
        return run_worker(&args, &setup);
    }
    let (db, mut store) = musicrec_app::store::open_or_create(args.db.as_deref())?;
    let (report, meter) = scan_folders(store.as_mut(), &args.dirs, &setup)?;
    if report.found > 0 || report.pruned > 0 {
        outln!(
            "{} (catalog {}, model {})",
            scan_summary(&report, &meter),
            db.describe(),
            embedder_id(&setup.embedder),
        )?;
    }
    if let Some(reason) = scan_did_nothing(&report, &args.dirs) {
        eprintln!("error: {reason}");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Scans `dirs` into `store` as `setup` says, with the scan bar drawn, and lists the files that
/// failed on stderr; gives the report and the throughput meter.
pub(crate) fn scan_folders(
    store: &mut dyn CatalogStore,
    dirs: &[PathBuf],
    setup: &ScanSetup,
) -> anyhow::Result<(ScanReport, Arc<Meter>)> {
    let (report, meter) = metered(&setup.embedder, |metered, progress| {
        musicrec_catalog::scan(store, dirs, metered, &setup.options, progress)
    })?;
    print_failures(&report.failures);
    Ok((report, meter))
}

/// Runs `scan` with `embedder` metered and the scan bar drawn; gives its result and the meter.
fn metered<R, E>(
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
fn print_failures(failures: &[(PathBuf, String)]) {
    for (file, reason) in failures {
        eprintln!("failed: {}: {reason}", file.display());
    }
}

/// `--worker`: one worker of the PostgreSQL job queue.
fn run_worker(args: &Args, setup: &ScanSetup) -> anyhow::Result<ExitCode> {
    let db = musicrec_app::store::Db::from_arg(args.db.as_deref())?;
    let musicrec_app::store::Db::Postgres(url) = &db else {
        bail!(
            "--worker shares a job queue in PostgreSQL: pass --db postgres://..., not {}",
            db.describe()
        );
    };
    if args.lease_secs == 0 {
        bail!("--lease-secs must be at least 1");
    }
    let mut store = musicrec_app::store::open_postgres(url)?;
    let worker = WorkerOptions {
        threads: setup.options.jobs,
        lease: Duration::from_secs(args.lease_secs),
        ..WorkerOptions::default()
    };
    let ((queued, report), meter) = metered(&setup.embedder, |metered, progress| {
        musicrec_catalog_pg::run_worker(
            &mut store,
            url,
            metered,
            &args.dirs,
            &setup.options,
            &worker,
            progress,
        )
    })?;
    if let Some(queued) = queued {
        outln!(
            "{} files: {} queued, {} unchanged, {} back after missing, {} missing{}",
            queued.found,
            queued.queued,
            queued.unchanged,
            queued.refreshed,
            queued.pruned,
            if queued.skipped_failed > 0 {
                format!(
                    ", {} skipped as failed before (--retry-failed retries them)",
                    queued.skipped_failed
                )
            } else {
                String::new()
            }
        )?;
    }
    print_failures(&report.failures);
    outln!(
        "worker {}: {} embedded, {} moved, {} refreshed, {} failed, {} claims lost to other \
         workers{}; queue empty (catalog {}, model {})",
        worker.name,
        report.count(JobOutcome::Embedded),
        report.count(JobOutcome::Moved),
        report.count(JobOutcome::Refreshed),
        report.count(JobOutcome::Failed),
        report.lost_claims,
        meter.summary(),
        db.describe(),
        embedder_id(&setup.embedder),
    )?;
    // Failed files are listed above and recorded: the worker did its job (exit status 0).
    Ok(ExitCode::SUCCESS)
}

fn embedder_id(embedder: &ModelEmbedder) -> &str {
    musicrec_catalog::TrackEmbedder::model_id(embedder)
}

fn list_failures(db: Option<&str>) -> anyhow::Result<ExitCode> {
    let store = musicrec_app::store::open_existing(db)?;
    let failures = store.failed()?;
    if failures.is_empty() {
        outln!("no recorded failures")?;
    }
    for failure in &failures {
        outln!(
            "{}\t{}\t{}",
            failure.path.display(),
            failure.model_id,
            failure.reason
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

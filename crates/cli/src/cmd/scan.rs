//! `musicrec scan`: embed every audio file under music folders into the catalog (incremental,
//! resumable: all logic in `musicrec_catalog::scan`), or list the files that failed. With
//! `--worker` and a PostgreSQL catalog, this process is one of any number of workers sharing
//! the catalog's job queue (`musicrec_catalog_pg::queue`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use musicrec_catalog::ScanOptions;
use musicrec_catalog_pg::{JobOutcome, WorkerOptions};

use crate::embedder::ModelEmbedder;

/// Embed music folders into the catalog, or list recorded failures.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
A rescan only embeds new and changed files: unchanged files are not even opened, moved files keep \
their embedding, deleted ones are flagged missing. A killed scan loses only the files in flight; \
run the same command again to finish it.

Examples:
  musicrec scan ~/Music                      # the built-in model
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
    /// Trained model directory (`musicrec train --out`) [default: the built-in model].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
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
    let embedder = ModelEmbedder::load_or_built_in(args.model.as_deref())?;
    let options = ScanOptions {
        jobs: args.jobs.unwrap_or(0),
        retry_failed: args.retry_failed,
        ..ScanOptions::default()
    };
    if args.worker {
        return run_worker(&args, &embedder, &options);
    }
    let (db, mut store) = crate::store::open_or_create(args.db.as_deref())?;
    let progress = progress_bar();
    let report =
        musicrec_catalog::scan(store.as_mut(), &args.dirs, &embedder, &options, &progress)?;
    progress.finish_and_clear();
    for (file, reason) in &report.failures {
        eprintln!("failed: {}: {reason}", file.display());
    }
    println!(
        "{} files: {} added, {} updated, {} moved, {} unchanged, {} pruned, {} failed{} (catalog {}, model {})",
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
        db.describe(),
        embedder_id(&embedder),
    );
    Ok(if report.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `--worker`: one worker of the PostgreSQL job queue.
fn run_worker(
    args: &Args,
    embedder: &ModelEmbedder,
    options: &ScanOptions,
) -> anyhow::Result<ExitCode> {
    let db = crate::store::Db::from_arg(args.db.as_deref())?;
    let crate::store::Db::Postgres(url) = &db else {
        bail!(
            "--worker shares a job queue in PostgreSQL: pass --db postgres://..., not {}",
            db.describe()
        );
    };
    if args.lease_secs == 0 {
        bail!("--lease-secs must be at least 1");
    }
    let mut store = crate::store::open_postgres(url)?;
    let worker = WorkerOptions {
        threads: options.jobs,
        lease: Duration::from_secs(args.lease_secs),
        ..WorkerOptions::default()
    };
    let progress = progress_bar();
    let (queued, report) = musicrec_catalog_pg::run_worker(
        &mut store, url, embedder, &args.dirs, options, &worker, &progress,
    )?;
    progress.finish_and_clear();
    if let Some(queued) = queued {
        println!(
            "{} files: {} queued, {} unchanged, {} back after missing, {} pruned{}",
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
        );
    }
    for (file, reason) in &report.failures {
        eprintln!("failed: {}: {reason}", file.display());
    }
    println!(
        "worker {}: {} embedded, {} moved, {} refreshed, {} failed, {} claims lost to other \
         workers; queue empty (catalog {}, model {})",
        worker.name,
        report.count(JobOutcome::Embedded),
        report.count(JobOutcome::Moved),
        report.count(JobOutcome::Refreshed),
        report.count(JobOutcome::Failed),
        report.lost_claims,
        db.describe(),
        embedder_id(embedder),
    );
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn embedder_id(embedder: &ModelEmbedder) -> &str {
    musicrec_catalog::TrackEmbedder::model_id(embedder)
}

fn list_failures(db: Option<&str>) -> anyhow::Result<ExitCode> {
    let store = crate::store::open_existing(db)?;
    let failures = store.failed()?;
    if failures.is_empty() {
        println!("no recorded failures");
    }
    for failure in &failures {
        println!(
            "{}\t{}\t{}",
            failure.path.display(),
            failure.model_id,
            failure.reason
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar() -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} {bar:40} {pos}/{len} files  {elapsed} (eta {eta})")
            .expect("static template is valid"),
    );
    bar
}

//! `musicrec scan`: embed every audio file under music folders into the catalog (incremental,
//! resumable: all logic in `musicrec_catalog::scan`), or list the files that failed. With
//! `--worker` and a PostgreSQL catalog, this process is one of any number of workers sharing
//! the catalog's job queue (`musicrec_catalog_pg::queue`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use musicrec_catalog_pg::{JobOutcome, WorkerOptions};
use musicrec_embed::ModelEmbedder;
use musicrec_embed::scan::{ScanSetup, check_folders};

use crate::progress::{metered, print_failures, scan_folders};

/// Embed music folders into the catalog, or list recorded failures.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
A rescan only embeds new and changed files: unchanged files are not even opened, moved files keep \
their embedding, deleted ones are flagged missing (kept, with their likes, until they come \
back). A killed scan loses only the files in flight; run the same command again to finish it.

The summary counts every file found once (added, updated, moved, unchanged, failed, or skipped as \
failed before), the stored tracks now missing, and the throughput: files per minute and seconds \
of audio per second (x real time). Files that cannot be read are listed on stderr with the \
reason and recorded (`--failed` lists them again); tag warnings show with -v. A truncated file is \
analysed as far as it can be read when that lasts --min-duration seconds: it is embedded, and \
listed as `warning: FILE: truncated ...` on stderr and by `--failed` (PATH, `warning`, reason).

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
    /// Worker threads: files in parallel, and a long file (20 s or more per thread) in segments
    /// [default: one per core].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Retry files that failed before even if they did not change.
    #[arg(long)]
    retry_failed: bool,
    /// A truncated file whose readable part lasts at least this long is embedded from that part
    /// and listed as a warning (stderr, `--failed`); a shorter one fails.
    #[arg(long, value_name = "SECS", default_value_t = musicrec_embed::DEFAULT_MIN_DURATION_SECS)]
    min_duration: f64,
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
    let mut setup = ScanSetup::new(
        args.model.as_deref(),
        args.analysis,
        args.jobs,
        args.retry_failed,
    )?;
    setup.embedder = setup.embedder.with_min_duration(args.min_duration);
    check_folders(&args.dirs)?;
    if args.worker {
        return run_worker(&args, &setup);
    }
    let (db, mut store) = musicrec_app::store::open_or_create(args.db.as_deref())?;
    let (report, meter) = scan_folders(store.as_mut(), &args.dirs, &setup)?;
    if report.found > 0 || report.pruned > 0 {
        outln!(
            "{} (catalog {}, model {})",
            report.summary(&meter),
            db.describe(),
            embedder_id(&setup.embedder),
        )?;
    }
    if let Some(reason) = report.did_nothing(&args.dirs) {
        eprintln!("error: {reason}");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
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
        outln!("{}", queued.summary())?;
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
    let warned = store.warned()?;
    if failures.is_empty() && warned.is_empty() {
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
    // Embedded, but not whole: listed apart, so that a script reading the failures above is
    // not told that these tracks are missing from the catalog.
    for track in &warned {
        let warning = track.warning.as_deref().unwrap_or_default();
        outln!("{}\twarning\t{warning}", track.path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

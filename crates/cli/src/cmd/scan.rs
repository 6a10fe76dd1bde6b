//! `musicrec scan`: embed every audio file under music folders into the catalog (incremental,
//! resumable: all logic in `musicrec_catalog::scan`), or list the files that failed.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use musicrec_catalog::ScanOptions;

use crate::embedder::ModelEmbedder;

/// Embed music folders into the catalog, or list recorded failures.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
A rescan only embeds new and changed files: unchanged files are not even opened, moved files keep \
their embedding, deleted ones are flagged missing. A killed scan loses only the files in flight; \
run the same command again to finish it.

Examples:
  musicrec scan ~/Music --model models/crnn
  musicrec scan ~/Music /mnt/usb/music --model models/crnn --jobs 2 --db library.db
  musicrec scan --failed")]
pub struct Args {
    /// Music folders to scan.
    #[arg(value_name = "DIR", required_unless_present = "failed")]
    dirs: Vec<PathBuf>,
    /// Catalog database [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// Trained model directory (`musicrec train --out`). Required for now: a shipped default model
    /// comes later.
    #[arg(long, value_name = "DIR", required_unless_present = "failed")]
    model: Option<PathBuf>,
    /// Worker threads [default: one per core].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Retry files that failed before even if they did not change.
    #[arg(long)]
    retry_failed: bool,
    /// List the files that failed (with reasons) instead of scanning.
    #[arg(long, conflicts_with_all = ["dirs", "model", "jobs", "retry_failed"])]
    failed: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.failed {
        return list_failures(args.db.as_deref());
    }
    let model_dir = args.model.as_deref().context("--model is required")?;
    let embedder = ModelEmbedder::load(model_dir)
        .with_context(|| format!("cannot load model {}", model_dir.display()))?;
    let (db, mut store) = crate::store::open_or_create(args.db.as_deref())?;
    let options = ScanOptions {
        jobs: args.jobs.unwrap_or(0),
        retry_failed: args.retry_failed,
        ..ScanOptions::default()
    };
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

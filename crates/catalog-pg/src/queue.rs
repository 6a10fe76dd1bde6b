//! The scan job queue: many `musicrec scan --worker` processes, on any machines that see the
//! same files under the same paths, share the table `scan_jobs` of one PostgreSQL catalog.
//!
//! - **Enqueue** ([`enqueue`]): a worker given folders walks them (a stat per file, as the
//!   SQLite scan) and, in one transaction under an advisory lock (concurrent enqueuers wait
//!   instead of deadlocking), inserts a job per file that needs work: not stored with the same
//!   size and mtime and an embedding of this model, and not failed before unchanged. It is
//!   idempotent: an unchanged file already queued or done is not queued again; a changed one is
//!   re-queued. Tracks that came back are un-flagged, and tracks under the folders whose file is
//!   gone are flagged missing (the same rules as `musicrec_catalog::scan`).
//! - **Claim** ([`ScanQueue::claim`]): `SELECT ... FOR UPDATE SKIP LOCKED` picks pending jobs
//!   whose lease is free or expired; the claim sets `claimed_by`, a lease on the database clock
//!   and a fresh `claim_id` from a sequence (a fencing token).
//! - **Complete** ([`ScanQueue::complete`]): one transaction locks the job row, checks that the
//!   claim is still this worker's (same `claim_id`, still pending), applies the file's
//!   [`ScanUpdate`] with the store's own update code, marks the job done and extends the
//!   lease of the worker's other claims. A worker that was too slow (its lease expired and
//!   another worker re-claimed the job) finds a different `claim_id` and writes nothing; so each
//!   job is done exactly once, and embedding rows, keyed (track, model), exist once per track.
//! - **Crash**: a killed worker's claims simply expire; other workers, which keep polling while
//!   jobs are pending, take them over. A file that was claimed [`WorkerOptions::max_attempts`]
//!   times without completing (it keeps killing workers) is recorded as failed instead.
//! - **Moves**: a file new to the catalog whose content belongs to a stored, embedded track
//!   whose file is gone becomes a move; the completing transaction re-checks under a row lock
//!   that no other worker moved that track meanwhile, else the file is embedded instead.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use indicatif::ProgressBar;
use musicrec_catalog::scan::{FileJob, KnownFile, list_audio_files, process_file};
use musicrec_catalog::{
    CatalogError, CatalogStore, ModelInfo, Result, ScanOptions, ScanUpdate, TrackEmbedder, TrackId,
};
use postgres::{Client, NoTls};
use rayon::prelude::*;

use crate::PostgresStore;
use musicrec_catalog::one_line;

use crate::error::db_error;
use crate::store::{apply_updates_in, check_updates, now_ms, parse_hash, prepare, utf8_path};

/// Advisory lock serialising enqueue transactions.
const ENQUEUE_LOCK_KEY: i64 = 0x4d52_4543_0002;

/// Walked files are sent to the database in chunks of this many.
const ENQUEUE_CHUNK: usize = 10_000;

/// What [`enqueue`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnqueueReport {
    /// Audio files found under the folders.
    pub found: usize,
    /// Jobs inserted or re-queued (new or changed files).
    pub queued: u64,
    /// Files stored unchanged with this model's embedding (no job).
    pub unchanged: u64,
    /// Unchanged tracks that were flagged missing and are back.
    pub refreshed: u64,
    /// Files skipped because they failed before and did not change.
    pub skipped_failed: u64,
    /// Stored tracks under the folders whose file is gone, now flagged missing.
    pub pruned: usize,
    /// Files that could not be stat-ed (recorded as failures).
    pub unreadable: usize,
}

impl EnqueueReport {
    /// One line for a worker that enqueued: "12 files: 3 queued, 9 unchanged, 0 back after
    /// missing, 0 missing" and the files skipped as failed before.
    pub fn summary(&self) -> String {
        format!(
            "{} files: {} queued, {} unchanged, {} back after missing, {} missing{}",
            self.found,
            self.queued,
            self.unchanged,
            self.refreshed,
            self.pruned,
            musicrec_catalog::skipped_failed_clause(self.skipped_failed)
        )
    }
}

/// How a worker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// Name recorded in `claimed_by`/`done_by` (default: host name and process id).
    pub name: String,
    /// Embedding threads in this process (0 = one per core).
    pub threads: usize,
    /// Jobs claimed at once (0 = twice the threads).
    pub batch: usize,
    /// How long a claim stays this worker's without progress; the lease of the remaining claims
    /// is extended at every completed file.
    pub lease: Duration,
    /// Pause between claim attempts while all pending jobs are leased by other workers.
    pub poll: Duration,
    /// Claims of one job after which it is recorded as failed instead of processed.
    pub max_attempts: i32,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            name: default_worker_name(),
            threads: 0,
            batch: 0,
            lease: Duration::from_secs(300),
            poll: Duration::from_secs(1),
            max_attempts: 3,
        }
    }
}

/// `host:pid`.
pub fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "worker".into());
    format!("{host}:{}", std::process::id())
}

/// What a completed job turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobOutcome {
    /// Embedded (new or changed file).
    Embedded,
    /// A stored track found under a new path.
    Moved,
    /// Same content as stored; size/mtime refreshed.
    Refreshed,
    /// Recorded as a scan failure.
    Failed,
}

impl JobOutcome {
    fn of(update: &ScanUpdate) -> Self {
        match update {
            ScanUpdate::Embedded { .. } => JobOutcome::Embedded,
            ScanUpdate::Moved { .. } => JobOutcome::Moved,
            ScanUpdate::Refreshed { .. } | ScanUpdate::Missing { .. } => JobOutcome::Refreshed,
            ScanUpdate::Failed { .. } => JobOutcome::Failed,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Embedded => "embedded",
            JobOutcome::Moved => "moved",
            JobOutcome::Refreshed => "refreshed",
            JobOutcome::Failed => "failed",
        }
    }
}

/// What one worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Jobs this worker completed, in commit order, with their outcome.
    pub completed: Vec<(PathBuf, JobOutcome)>,
    /// Claims whose result was discarded because the lease had passed to another worker.
    pub lost_claims: usize,
    /// Failures of this worker: path and one-line reason.
    pub failures: Vec<(PathBuf, String)>,
}

impl WorkerReport {
    /// Completed jobs with this outcome.
    pub fn count(&self, outcome: JobOutcome) -> usize {
        self.completed.iter().filter(|(_, o)| *o == outcome).count()
    }
}

/// A job this worker holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The file, size and mtime as enqueued, and the stored track at that path.
    pub job: FileJob,
    /// Fencing token of this claim.
    pub claim_id: i64,
    /// How many times the job has been claimed, this claim included.
    pub attempts: i32,
}

/// How [`ScanQueue::complete`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Result stored and job marked done.
    Done,
    /// The claim was no longer this worker's; nothing was written.
    LostClaim,
    /// The move's source track was moved by someone else; nothing was written (embed instead).
    MoveConflict,
}

/// Queue counts for one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    /// Jobs not done yet.
    pub pending: u64,
    /// Pending jobs nobody holds a live lease on.
    pub claimable: u64,
    /// Jobs done.
    pub done: u64,
}

/// One worker's handle on the queue of one model.
pub struct ScanQueue<'a> {
    store: &'a mut PostgresStore,
    model_id: String,
    worker: String,
    lease: Duration,
}

impl<'a> ScanQueue<'a> {
    /// The queue of `model_id` (registered already) as seen by worker `worker`.
    pub fn new(
        store: &'a mut PostgresStore,
        model_id: &str,
        worker: &str,
        lease: Duration,
    ) -> Self {
        Self {
            store,
            model_id: model_id.to_owned(),
            worker: worker.to_owned(),
            lease,
        }
    }

    /// Claims up to `max` pending jobs that nobody holds a live lease on, in path order.
    pub fn claim(&mut self, max: usize) -> Result<Vec<Claim>> {
        let (client, cache, label) = self.store.inner_mut();
        let err = |e| db_error(label, e);
        let lease_secs = self.lease.as_secs_f64();
        let max = i64::try_from(max.max(1)).unwrap_or(i64::MAX);
        let st = prepare(
            client,
            cache,
            label,
            "UPDATE scan_jobs j SET claimed_by = $2,
                 lease_until = now() + make_interval(secs => $3),
                 claim_id = nextval('scan_claim_ids'), attempts = j.attempts + 1
             FROM (SELECT path FROM scan_jobs
                   WHERE model_id = $1 AND state = 'pending'
                     AND (lease_until IS NULL OR lease_until < now())
                   ORDER BY path LIMIT $4 FOR UPDATE SKIP LOCKED) free
             WHERE j.model_id = $1 AND j.path = free.path
             RETURNING j.path, j.size_bytes, j.mtime_ns, j.claim_id, j.attempts",
        )?;
        let rows = client
            .query(&st, &[&self.model_id, &self.worker, &lease_secs, &max])
            .map_err(err)?;
        let paths: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let st = prepare(
            client,
            cache,
            label,
            "SELECT t.path, t.id, t.content_hash,
                 EXISTS (SELECT 1 FROM embeddings e WHERE e.track_id = t.id AND e.model_id = $2)
             FROM tracks t WHERE t.path = ANY($1)",
        )?;
        let mut known = std::collections::HashMap::new();
        for row in client.query(&st, &[&paths, &self.model_id]).map_err(err)? {
            known.insert(
                row.get::<_, String>(0),
                KnownFile {
                    id: TrackId(row.get(1)),
                    content_hash: parse_hash(row.get(2), label)?,
                    has_embedding: row.get(3),
                },
            );
        }
        let mut claims: Vec<Claim> = rows
            .iter()
            .map(|row| {
                let path: String = row.get(0);
                Claim {
                    job: FileJob {
                        known: known.get(&path).copied(),
                        path: PathBuf::from(path),
                        size_bytes: row.get::<_, i64>(1).max(0) as u64,
                        mtime_ns: row.get(2),
                    },
                    claim_id: row.get(3),
                    attempts: row.get(4),
                }
            })
            .collect();
        claims.sort_by(|a, b| a.job.path.cmp(&b.job.path));
        Ok(claims)
    }

    /// Stores `update` for `claim` and marks the job done, in one transaction, if the claim is
    /// still this worker's; extends the lease of `still_held` (this worker's other claims).
    /// `move_source` is the path the moved track had when the move was decided.
    pub fn complete(
        &mut self,
        claim: &Claim,
        update: &ScanUpdate,
        move_source: Option<&Path>,
        still_held: &[&Claim],
    ) -> Result<Completion> {
        let (client, cache, label) = self.store.inner_mut();
        let err = |e| db_error(label, e);
        check_updates(
            client,
            cache,
            label,
            &self.model_id,
            std::slice::from_ref(update),
        )?;
        let mut tx = client.transaction().map_err(err)?;
        let path = utf8_path(&claim.job.path)?;
        let st = prepare(
            &mut tx,
            cache,
            label,
            "SELECT claim_id, state FROM scan_jobs WHERE model_id = $1 AND path = $2 FOR UPDATE",
        )?;
        let row = tx.query_opt(&st, &[&self.model_id, &path]).map_err(err)?;
        let ours = row.is_some_and(|r| {
            r.get::<_, Option<i64>>(0) == Some(claim.claim_id) && r.get::<_, &str>(1) == "pending"
        });
        if !ours {
            return Ok(Completion::LostClaim);
        }
        if let (ScanUpdate::Moved { track, .. }, Some(source)) = (update, move_source) {
            let st = prepare(
                &mut tx,
                cache,
                label,
                "SELECT path FROM tracks WHERE id = $1 FOR UPDATE",
            )?;
            let current = tx.query_opt(&st, &[&track.0]).map_err(err)?;
            if current.map(|r| r.get::<_, String>(0)).as_deref() != source.to_str() {
                return Ok(Completion::MoveConflict);
            }
        }
        apply_updates_in(
            &mut tx,
            cache,
            label,
            &self.model_id,
            std::slice::from_ref(update),
        )?;
        let st = prepare(
            &mut tx,
            cache,
            label,
            "UPDATE scan_jobs SET state = 'done', done_at = $3, done_by = $4, outcome = $5,
                 lease_until = NULL
             WHERE model_id = $1 AND path = $2",
        )?;
        tx.execute(
            &st,
            &[
                &self.model_id,
                &path,
                &now_ms(),
                &self.worker,
                &JobOutcome::of(update).as_str(),
            ],
        )
        .map_err(err)?;
        if !still_held.is_empty() {
            let paths: Vec<&str> = still_held
                .iter()
                .filter_map(|c| c.job.path.to_str())
                .collect();
            let ids: Vec<i64> = still_held.iter().map(|c| c.claim_id).collect();
            let st = prepare(
                &mut tx,
                cache,
                label,
                "UPDATE scan_jobs SET lease_until = now() + make_interval(secs => $4)
                 WHERE model_id = $1 AND path = ANY($2) AND claim_id = ANY($3)
                   AND state = 'pending'",
            )?;
            tx.execute(
                &st,
                &[&self.model_id, &paths, &ids, &self.lease.as_secs_f64()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(Completion::Done)
    }

    /// Pending, claimable and done jobs of this model.
    pub fn counts(&mut self) -> Result<QueueCounts> {
        let (client, _, label) = self.store.inner_mut();
        let row = client
            .query_one(
                "SELECT count(*) FILTER (WHERE state = 'pending'),
                        count(*) FILTER (WHERE state = 'pending'
                            AND (lease_until IS NULL OR lease_until < now())),
                        count(*) FILTER (WHERE state = 'done')
                 FROM scan_jobs WHERE model_id = $1",
                &[&self.model_id],
            )
            .map_err(|e| db_error(label, e))?;
        let n = |i: usize| row.get::<_, i64>(i).max(0) as u64;
        Ok(QueueCounts {
            pending: n(0),
            claimable: n(1),
            done: n(2),
        })
    }
}

/// Walks `roots` and queues every file that needs work for `model_id` (see the module doc).
pub fn enqueue(
    store: &mut PostgresStore,
    model_id: &str,
    roots: &[PathBuf],
    options: &ScanOptions,
) -> Result<EnqueueReport> {
    if roots.is_empty() {
        return Err(CatalogError::Invalid("no folder to scan".into()));
    }
    if store.model(model_id)?.is_none() {
        return Err(CatalogError::UnknownModel(model_id.to_owned()));
    }
    let walk = list_audio_files(roots, options)?;
    let canonical_roots: Vec<String> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .filter_map(|r| r.to_str().map(|s| s.trim_end_matches('/').to_owned() + "/"))
        .collect();
    let mut report = EnqueueReport {
        found: walk.files.len(),
        ..EnqueueReport::default()
    };
    let mut unreadable = Vec::new();
    let (mut paths, mut sizes, mut mtimes) = (Vec::new(), Vec::new(), Vec::new());
    for (path, stat) in &walk.files {
        match stat {
            Ok((size, mtime)) => {
                paths.push(utf8_path(path)?.to_owned());
                sizes.push(i64::try_from(*size).unwrap_or(i64::MAX));
                mtimes.push(*mtime);
            }
            Err(reason) => unreadable.push(ScanUpdate::Failed {
                path: path.clone(),
                size_bytes: None,
                mtime_ns: None,
                reason: reason.clone(),
                stale_track: None,
            }),
        }
    }
    report.unreadable = unreadable.len();

    let (client, cache, label) = store.inner_mut();
    let err = |e| db_error(label, e);
    let mut tx = client.transaction().map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ENQUEUE_LOCK_KEY])
        .map_err(err)?;
    apply_updates_in(&mut tx, cache, label, model_id, &unreadable)?;
    tx.batch_execute(
        "CREATE TEMP TABLE walked (path TEXT PRIMARY KEY, size_bytes BIGINT, mtime_ns BIGINT)
         ON COMMIT DROP",
    )
    .map_err(err)?;
    for start in (0..paths.len()).step_by(ENQUEUE_CHUNK) {
        let end = (start + ENQUEUE_CHUNK).min(paths.len());
        tx.execute(
            "INSERT INTO walked SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])",
            &[
                &&paths[start..end],
                &&sizes[start..end],
                &&mtimes[start..end],
            ],
        )
        .map_err(err)?;
    }
    tx.batch_execute("ANALYZE walked").map_err(err)?;
    let now = now_ms();
    // Unchanged and embedded: no job. Back after being missing: un-flag.
    let unchanged_sql = "FROM walked w JOIN tracks t ON t.path = w.path
        AND t.size_bytes = w.size_bytes AND t.mtime_ns = w.mtime_ns
        WHERE EXISTS (SELECT 1 FROM embeddings e WHERE e.track_id = t.id AND e.model_id = $1)";
    report.unchanged = tx
        .query_one(
            format!("SELECT count(*) {unchanged_sql}").as_str(),
            &[&model_id],
        )
        .map_err(err)?
        .get::<_, i64>(0)
        .max(0) as u64;
    report.refreshed = tx
        .execute(
            "UPDATE tracks t SET missing_since = NULL, updated_at = $2
             FROM walked w
             WHERE t.path = w.path AND t.size_bytes = w.size_bytes AND t.mtime_ns = w.mtime_ns
               AND t.missing_since IS NOT NULL
               AND EXISTS (SELECT 1 FROM embeddings e
                           WHERE e.track_id = t.id AND e.model_id = $1)",
            &[&model_id, &now],
        )
        .map_err(err)?;
    if report.refreshed > 0 {
        tx.execute(crate::store::BUMP_REVISION, &[]).map_err(err)?;
    }
    let failed_before = "EXISTS (SELECT 1 FROM scan_failures f WHERE f.path = w.path
        AND f.model_id = $1 AND f.size_bytes = w.size_bytes AND f.mtime_ns = w.mtime_ns)";
    if !options.retry_failed {
        report.skipped_failed = tx
            .query_one(
                format!("SELECT count(*) FROM walked w WHERE {failed_before}").as_str(),
                &[&model_id],
            )
            .map_err(err)?
            .get::<_, i64>(0)
            .max(0) as u64;
    }
    // New or changed files; a done job is queued again only when its file needs work again,
    // and a pending job keeps its claim unless the file changed under it.
    report.queued = tx
        .execute(
            format!(
                "INSERT INTO scan_jobs (model_id, path, size_bytes, mtime_ns, enqueued_at)
                 SELECT $1, w.path, w.size_bytes, w.mtime_ns, $2 FROM walked w
                 WHERE NOT EXISTS (SELECT 1 FROM tracks t
                        WHERE t.path = w.path AND t.size_bytes = w.size_bytes
                          AND t.mtime_ns = w.mtime_ns
                          AND EXISTS (SELECT 1 FROM embeddings e
                                      WHERE e.track_id = t.id AND e.model_id = $1))
                   AND ($3 OR NOT {failed_before})
                 ORDER BY w.path
                 ON CONFLICT (model_id, path) DO UPDATE SET
                    size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns,
                    state = 'pending', claimed_by = NULL, claim_id = NULL, lease_until = NULL,
                    attempts = 0, enqueued_at = excluded.enqueued_at, done_at = NULL,
                    done_by = NULL, outcome = NULL
                 WHERE scan_jobs.state = 'done'
                    OR scan_jobs.size_bytes <> excluded.size_bytes
                    OR scan_jobs.mtime_ns <> excluded.mtime_ns"
            )
            .as_str(),
            &[&model_id, &now, &options.retry_failed],
        )
        .map_err(err)?;
    // Prune: present tracks under the roots that the walk did not find and that are gone.
    let rows = tx
        .query(
            "SELECT t.id, t.path FROM tracks t
             WHERE t.missing_since IS NULL
               AND EXISTS (SELECT 1 FROM unnest($1::text[]) r WHERE starts_with(t.path, r))
               AND NOT EXISTS (SELECT 1 FROM walked w WHERE w.path = t.path)",
            &[&canonical_roots],
        )
        .map_err(err)?;
    let pruned: Vec<ScanUpdate> = rows
        .iter()
        .map(|r| (TrackId(r.get(0)), PathBuf::from(r.get::<_, String>(1))))
        .filter(|(_, path)| !walk.unreadable.iter().any(|dir| path.starts_with(dir)))
        .filter(|(_, path)| is_gone(path))
        .map(|(track, _)| ScanUpdate::Missing { track })
        .collect();
    report.pruned = pruned.len();
    apply_updates_in(&mut tx, cache, label, model_id, &pruned)?;
    tx.commit().map_err(err)?;
    tracing::info!(
        "enqueue: {} found, {} queued, {} unchanged, {} back, {} skipped (failed before), {} pruned",
        report.found,
        report.queued,
        report.unchanged,
        report.refreshed,
        report.skipped_failed,
        report.pruned
    );
    Ok(report)
}

/// True only when the file system says the path does not exist.
fn is_gone(path: &Path) -> bool {
    matches!(path.try_exists(), Ok(false))
}

/// Finds move sources for the worker's threads on a connection of their own.
struct MoveFinder {
    client: Mutex<Client>,
    model_id: String,
    label: String,
    /// Tracks this process already handed out as a move source.
    taken: Mutex<HashSet<TrackId>>,
}

impl MoveFinder {
    /// A stored track with this content and an embedding whose file is gone, and its path.
    fn find(&self, hash: &blake3::Hash) -> Option<(TrackId, PathBuf)> {
        let rows = {
            let mut client = self.client.lock().unwrap_or_else(|e| e.into_inner());
            client.query(
                "SELECT t.id, t.path FROM tracks t
                 WHERE t.content_hash = $1
                   AND EXISTS (SELECT 1 FROM embeddings e
                               WHERE e.track_id = t.id AND e.model_id = $2)
                 ORDER BY t.missing_since IS NULL, t.id",
                &[&hash.to_hex().as_str(), &self.model_id],
            )
        };
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                // Without the lookup the file is embedded rather than moved: slower, not wrong.
                tracing::warn!("move lookup failed: {}", db_error(&self.label, e));
                return None;
            }
        };
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        for row in rows {
            let (id, path) = (TrackId(row.get(0)), PathBuf::from(row.get::<_, String>(1)));
            if !taken.contains(&id) && is_gone(&path) {
                taken.insert(id);
                return Some((id, path));
            }
        }
        None
    }
}

/// Runs one worker: registers the embedder's model, queues `roots` (when given), then claims,
/// embeds and completes jobs until no job of the model is pending. `progress` advances per
/// completed job.
pub fn run_worker<E: TrackEmbedder + ?Sized>(
    store: &mut PostgresStore,
    url: &str,
    embedder: &E,
    roots: &[PathBuf],
    scan_options: &ScanOptions,
    options: &WorkerOptions,
    progress: &ProgressBar,
) -> Result<(Option<EnqueueReport>, WorkerReport)> {
    let model_id = embedder.model_id().to_owned();
    let model = embedder.model_info();
    store.register_model(&model_id, &model)?;
    let enqueued = if roots.is_empty() {
        None
    } else {
        progress.set_message("walking folders");
        Some(enqueue(store, &model_id, roots, scan_options)?)
    };
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let batch = if options.batch == 0 {
        2 * threads
    } else {
        options.batch
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("musicrec-worker-{i}"))
        .build()
        .map_err(|e| {
            CatalogError::Invalid(format!("cannot start worker threads: {}", one_line(e)))
        })?;
    let label = store.label().to_owned();
    let lookup = postgres::Config::from_str(url)
        .map_err(|e| CatalogError::Invalid(format!("bad PostgreSQL URL {label}: {}", one_line(e))))?
        .connect(NoTls)
        .map_err(|e| db_error(&label, e))?;
    let moves = MoveFinder {
        client: Mutex::new(lookup),
        model_id: model_id.clone(),
        label: label.clone(),
        taken: Mutex::new(HashSet::new()),
    };
    let mut queue = ScanQueue::new(store, &model_id, &options.name, options.lease);
    let mut report = WorkerReport::default();
    progress.set_message("embedding");
    loop {
        let claims = queue.claim(batch)?;
        if claims.is_empty() {
            let counts = queue.counts()?;
            progress.set_length(progress.position() + counts.pending);
            if counts.pending == 0 {
                break;
            }
            // Others hold every pending job: wait, and take over the ones whose lease expires.
            std::thread::sleep(options.poll);
            continue;
        }
        work_batch(
            &mut queue,
            &pool,
            embedder,
            &model,
            &moves,
            claims,
            options,
            progress,
            &mut report,
        )?;
    }
    Ok((enqueued, report))
}

/// Processes `claims` on the pool while this thread completes them one by one.
#[allow(clippy::too_many_arguments)]
fn work_batch<E: TrackEmbedder + ?Sized>(
    queue: &mut ScanQueue<'_>,
    pool: &rayon::ThreadPool,
    embedder: &E,
    model: &ModelInfo,
    moves: &MoveFinder,
    claims: Vec<Claim>,
    options: &WorkerOptions,
    progress: &ProgressBar,
    report: &mut WorkerReport,
) -> Result<()> {
    let (sender, receiver) = mpsc::channel::<(usize, ScanUpdate, Option<PathBuf>)>();
    let mut pending: Vec<Option<&Claim>> = claims.iter().map(Some).collect();
    std::thread::scope(|scope| {
        let claims = &claims;
        let work = scope.spawn(move || {
            pool.install(|| {
                claims
                    .par_iter()
                    .enumerate()
                    .for_each_with(sender, |sender, (i, claim)| {
                        let (update, source) =
                            process_claim(embedder, model, moves, claim, options);
                        // A failed send means the completing thread stopped on an error.
                        let _ = sender.send((i, update, source));
                    });
            });
        });
        let mut outcome = Ok(());
        for (i, update, source) in receiver.iter() {
            if outcome.is_err() {
                continue;
            }
            pending[i] = None;
            let held: Vec<&Claim> = pending.iter().flatten().copied().collect();
            outcome = complete_one(
                queue, embedder, model, &claims[i], update, source, &held, report,
            )
            .map(|()| progress.inc(1));
        }
        let _ = work.join();
        outcome
    })
}

fn process_claim<E: TrackEmbedder + ?Sized>(
    embedder: &E,
    model: &ModelInfo,
    moves: &MoveFinder,
    claim: &Claim,
    options: &WorkerOptions,
) -> (ScanUpdate, Option<PathBuf>) {
    if claim.attempts > options.max_attempts {
        let update = ScanUpdate::Failed {
            path: claim.job.path.clone(),
            size_bytes: Some(claim.job.size_bytes),
            mtime_ns: Some(claim.job.mtime_ns),
            reason: format!(
                "claimed {} times without finishing (a worker died on it each time?)",
                claim.attempts - 1
            ),
            stale_track: claim.job.known.map(|k| k.id),
        };
        return (update, None);
    }
    let source = Mutex::new(None);
    let update = process_file(embedder, model, &claim.job, &|hash| {
        let (id, path) = moves.find(hash)?;
        *source.lock().unwrap_or_else(|e| e.into_inner()) = Some(path);
        Some(id)
    });
    let source = source.into_inner().unwrap_or_else(|e| e.into_inner());
    (update, source)
}

#[allow(clippy::too_many_arguments)]
fn complete_one<E: TrackEmbedder + ?Sized>(
    queue: &mut ScanQueue<'_>,
    embedder: &E,
    model: &ModelInfo,
    claim: &Claim,
    update: ScanUpdate,
    source: Option<PathBuf>,
    held: &[&Claim],
    report: &mut WorkerReport,
) -> Result<()> {
    let mut result = queue.complete(claim, &update, source.as_deref(), held)?;
    let mut update = update;
    if result == Completion::MoveConflict {
        // Another worker moved that track first: this file is embedded as a new one.
        update = process_file(embedder, model, &claim.job, &|_| None);
        result = queue.complete(claim, &update, None, held)?;
    }
    match result {
        Completion::Done => {
            if let ScanUpdate::Failed { path, reason, .. } = &update {
                report.failures.push((path.clone(), reason.clone()));
            }
            report
                .completed
                .push((claim.job.path.clone(), JobOutcome::of(&update)));
        }
        Completion::LostClaim => report.lost_claims += 1,
        Completion::MoveConflict => {
            return Err(CatalogError::Invalid(
                "a move conflict after embedding instead of moving".into(),
            ));
        }
    }
    Ok(())
}

//! The library scan: folders in, one embedding per audio file out, committed track by track.
//!
//! Phases:
//! 1. **Walk** the roots (walkdir) and stat every audio file.
//! 2. **Plan** against [`crate::CatalogStore::scan_index`]: a file with the same path, size and
//!    mtime as a stored track that already has this model's embedding is *unchanged* and is not
//!    even opened; a file that failed before and did not change is skipped (unless
//!    [`ScanOptions::retry_failed`]); everything else becomes a job.
//! 3. **Work**, in a rayon pool of [`ScanOptions::jobs`] threads: hash the file (blake3); same
//!    content at the same path only refreshes size/mtime; a new path whose content belongs to a
//!    stored track whose file is gone is a *move* (the row, its embeddings and feedback keep
//!    their id); otherwise tags are read (lofty) and the [`TrackEmbedder`] embeds it.
//! 4. **Write**: one writer (this thread) receives results from a channel and commits whatever
//!    has arrived, in one transaction per batch. A killed scan therefore loses only the tracks
//!    in flight, and the rerun finds the committed ones unchanged: nothing is lost or stored
//!    twice (paths are unique, embeddings keyed by track and model).
//! 5. **Prune**: stored tracks under the scanned roots whose file no longer exists (and that no
//!    move claimed) are flagged missing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::UNIX_EPOCH;

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::error::one_line;
use crate::store::{FileFacts, ScanUpdate};
use crate::{CatalogError, CatalogStore, ModelInfo, Result, TrackEmbedding, TrackId};

pub use musicrec_audio::AUDIO_EXTENSIONS;

/// Most results the writer commits in one transaction.
const MAX_BATCH: usize = 64;

/// A model that turns one audio file into an embedding and genre probabilities.
pub trait TrackEmbedder: Sync {
    /// Identifies the model (weights and configuration) that produced an embedding.
    fn model_id(&self) -> &str;
    /// Genres, embedding size and configuration, stored with the model id.
    fn model_info(&self) -> ModelInfo;
    /// Decodes and embeds `path`; `Err` is a one-line reason (undecodable, too short, ...).
    fn embed(&self, path: &Path) -> std::result::Result<TrackEmbedding, String>;
}

/// How to scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Worker threads; 0 = one per core.
    pub jobs: usize,
    /// Extensions to scan (case-insensitive, with or without dot); empty = [`AUDIO_EXTENSIONS`].
    pub extensions: Vec<String>,
    /// Follow symbolic links (to files and folders); when false, links are skipped.
    pub follow_links: bool,
    /// Retry files whose failure is recorded even when they did not change.
    pub retry_failed: bool,
}

/// What a scan did. Every audio file found is counted exactly once in
/// `added + updated + moved + unchanged + failed + skipped_failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Files found under the roots that pass the extension filter.
    pub found: usize,
    /// New tracks embedded.
    pub added: usize,
    /// Stored tracks (re-)embedded: content changed, or no embedding for this model yet.
    pub updated: usize,
    /// Stored tracks found under a new path (embedding kept).
    pub moved: usize,
    /// Stored tracks left as they were (at most their size/mtime refreshed).
    pub unchanged: usize,
    /// Stored tracks under the roots whose file is gone, now flagged missing.
    pub pruned: usize,
    /// Files that failed in this scan (reasons in `failures` and in the catalog).
    pub failed: usize,
    /// Files skipped because they failed before and did not change.
    pub skipped_failed: usize,
    /// This scan's failures: path and one-line reason.
    pub failures: Vec<(PathBuf, String)>,
    /// Files this scan embedded with a warning (truncated, analysed as far as readable): path
    /// and the warning, also kept with the track ([`crate::CatalogStore::warned`]).
    pub warnings: Vec<(PathBuf, String)>,
}

impl ScanReport {
    /// The one-line summary of a scan, as `scan` and `quickstart` print it: every file found is
    /// counted once (added, updated, moved, unchanged, failed, or skipped as failed before), plus
    /// the stored tracks whose file is gone (`missing`, as `stats` calls them), then the
    /// throughput ([`crate::ScanMeter::summary`]).
    pub fn summary(&self, meter: &crate::ScanMeter) -> String {
        format!(
            "{} files: {} added, {} updated, {} moved, {} unchanged, {} missing, {} failed{}{}",
            self.found,
            self.added,
            self.updated,
            self.moved,
            self.unchanged,
            self.pruned,
            self.failed,
            skipped_failed_clause(self.skipped_failed as u64),
            meter.summary(),
        )
    }

    /// Why the scan of `roots` could do nothing, if it could not: no music file under the
    /// folders, or not one of them readable (`scan` and `quickstart` exit with status 2 then).
    pub fn did_nothing(&self, roots: &[PathBuf]) -> Option<String> {
        let folders = || {
            roots
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.found == 0 {
            return Some(format!(
                "no music files found in {} (looked for {})",
                folders(),
                AUDIO_EXTENSIONS.join(", ")
            ));
        }
        let readable = self.added + self.updated + self.moved + self.unchanged;
        (readable == 0).then(|| {
            format!(
                "none of the {} music files in {} could be read (`musicrec scan --failed` lists why)",
                self.found,
                folders()
            )
        })
    }
}

/// A summary's clause for files skipped because they failed before: ", 3 skipped as failed
/// before (--retry-failed retries them)", or empty for none.
pub fn skipped_failed_clause(skipped: u64) -> String {
    if skipped > 0 {
        format!(", {skipped} skipped as failed before (--retry-failed retries them)")
    } else {
        String::new()
    }
}

/// A file that needs more than a stat.
#[derive(Debug)]
struct Job {
    path: PathBuf,
    size_bytes: u64,
    mtime_ns: i64,
    known: Option<KnownTrack>,
}

#[derive(Debug, Clone, Copy)]
struct KnownTrack {
    id: TrackId,
    content_hash: blake3::Hash,
    has_embedding: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Added,
    Updated,
    Moved,
    Unchanged,
    Failed,
}

/// A stored track with this model's embedding whose path was not found by the walk: a possible
/// source of a move.
#[derive(Debug)]
struct MoveSource {
    id: TrackId,
    path: PathBuf,
    missing: bool,
}

/// Scans `roots` with `embedder` into `store` (see the module doc). `progress` gets the number
/// of files to process as its length and advances as results are committed; styling and
/// finishing it is the caller's.
pub fn scan<S, E>(
    store: &mut S,
    roots: &[PathBuf],
    embedder: &E,
    options: &ScanOptions,
    progress: &ProgressBar,
) -> Result<ScanReport>
where
    S: CatalogStore + ?Sized,
    E: TrackEmbedder + ?Sized,
{
    if roots.is_empty() {
        return Err(CatalogError::Invalid("no folder to scan".into()));
    }
    let model_id = embedder.model_id().to_owned();
    let model = embedder.model_info();
    store.register_model(&model_id, &model)?;

    let roots = roots
        .iter()
        .map(|root| {
            std::fs::canonicalize(root).map_err(|cause| CatalogError::Io {
                path: root.clone(),
                cause,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let extensions = extension_filter(&options.extensions);
    progress.set_message("walking folders");
    let walk = walk(&roots, &extensions, options.follow_links);

    let mut report = ScanReport {
        found: walk.files.len(),
        ..ScanReport::default()
    };
    let index = store.scan_index(&model_id)?;
    let stored: HashMap<&Path, &crate::IndexedTrack> =
        index.tracks.iter().map(|t| (t.path.as_path(), t)).collect();
    let failed_before: HashMap<&Path, (u64, i64)> = index
        .failures
        .iter()
        .map(|f| (f.path.as_path(), (f.size_bytes, f.mtime_ns)))
        .collect();

    let mut immediate = Vec::new();
    let mut jobs = Vec::new();
    for (path, stat) in &walk.files {
        let (size_bytes, mtime_ns) = match stat {
            Ok(stat) => *stat,
            Err(reason) => {
                report.failed += 1;
                report.failures.push((path.clone(), reason.clone()));
                immediate.push(failed(path, None, reason.clone(), None));
                continue;
            }
        };
        if !options.retry_failed
            && failed_before.get(path.as_path()) == Some(&(size_bytes, mtime_ns))
        {
            report.skipped_failed += 1;
            continue;
        }
        let known = stored.get(path.as_path());
        if let Some(track) = known
            && track.has_embedding
            && track.file.size_bytes == size_bytes
            && track.file.mtime_ns == mtime_ns
        {
            report.unchanged += 1;
            if track.missing {
                // Back after being missing (e.g. a drive mounted again).
                immediate.push(ScanUpdate::Refreshed {
                    track: track.id,
                    file: track.file,
                });
            }
            continue;
        }
        jobs.push(Job {
            path: path.clone(),
            size_bytes,
            mtime_ns,
            known: known.map(|t| KnownTrack {
                id: t.id,
                content_hash: t.file.content_hash,
                has_embedding: t.has_embedding,
            }),
        });
    }
    if !immediate.is_empty() {
        store.apply_scan_updates(&model_id, &immediate)?;
    }

    let mut sources: HashMap<blake3::Hash, Vec<MoveSource>> = HashMap::new();
    for track in &index.tracks {
        if track.has_embedding && !walk.files.contains_key(&track.path) {
            sources
                .entry(track.file.content_hash)
                .or_default()
                .push(MoveSource {
                    id: track.id,
                    path: track.path.clone(),
                    missing: track.missing,
                });
        }
    }
    let moves = MoveClaims {
        sources: Mutex::new(sources),
        claimed: Mutex::new(HashSet::new()),
    };

    progress.set_length(jobs.len() as u64);
    progress.set_position(0);
    progress.set_message("embedding");
    let context = JobContext {
        embedder,
        model: &model,
        moves: &moves,
    };
    run_jobs(
        store,
        &model_id,
        &jobs,
        &context,
        options.jobs,
        progress,
        &mut report,
    )?;

    // Prune: only files that are really gone, under the roots just walked, outside folders the
    // walk could not read, and not claimed by a move.
    let claimed = moves
        .claimed
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let pruned: Vec<ScanUpdate> = index
        .tracks
        .iter()
        .filter(|t| !t.missing && !claimed.contains(&t.id))
        .filter(|t| !walk.files.contains_key(&t.path))
        .filter(|t| roots.iter().any(|root| t.path.starts_with(root)))
        .filter(|t| !walk.unreadable.iter().any(|dir| t.path.starts_with(dir)))
        .filter(|t| is_gone(&t.path))
        .map(|t| ScanUpdate::Missing { track: t.id })
        .collect();
    report.pruned = pruned.len();
    for chunk in pruned.chunks(1000) {
        store.apply_scan_updates(&model_id, chunk)?;
    }
    tracing::info!(
        "scan: {} found, {} added, {} updated, {} moved, {} unchanged, {} pruned, {} failed, {} skipped (failed before)",
        report.found,
        report.added,
        report.updated,
        report.moved,
        report.unchanged,
        report.pruned,
        report.failed,
        report.skipped_failed
    );
    Ok(report)
}

/// Runs the jobs on a pool while this thread writes their results.
fn run_jobs<S, E>(
    store: &mut S,
    model_id: &str,
    jobs: &[Job],
    context: &JobContext<'_, E>,
    threads: usize,
    progress: &ProgressBar,
    report: &mut ScanReport,
) -> Result<()>
where
    S: CatalogStore + ?Sized,
    E: TrackEmbedder + ?Sized,
{
    if jobs.is_empty() {
        return Ok(());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("musicrec-scan-{i}"))
        .build()
        .map_err(|e| {
            CatalogError::Invalid(format!("cannot start scan workers: {}", one_line(e)))
        })?;
    // Bounded: workers wait when the writer falls behind instead of piling up results.
    let (sender, receiver) = mpsc::sync_channel::<(ScanUpdate, Outcome)>(2 * MAX_BATCH);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let stop = &stop;
        let workers = scope.spawn(move || {
            pool.install(|| {
                jobs.par_iter().for_each_with(sender, |sender, job| {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // A send fails only when the writer has stopped.
                    if sender.send(context.run(job)).is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                });
            });
        });
        let mut batch: Vec<(ScanUpdate, Outcome)> = Vec::with_capacity(MAX_BATCH);
        let mut updates: Vec<ScanUpdate> = Vec::with_capacity(MAX_BATCH);
        let written = loop {
            let Ok(first) = receiver.recv() else {
                break Ok(());
            };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            updates.clear();
            updates.extend(batch.iter().map(|(update, _)| update.clone()));
            if let Err(err) = store.apply_scan_updates(model_id, &updates) {
                stop.store(true, Ordering::Relaxed);
                break Err(err);
            }
            for (update, outcome) in batch.drain(..) {
                if let ScanUpdate::Embedded { path, output, .. } = &update
                    && let Some(warning) = &output.warning
                {
                    report.warnings.push((path.clone(), warning.clone()));
                }
                match outcome {
                    Outcome::Added => report.added += 1,
                    Outcome::Updated => report.updated += 1,
                    Outcome::Moved => report.moved += 1,
                    Outcome::Unchanged => report.unchanged += 1,
                    Outcome::Failed => {
                        report.failed += 1;
                        if let ScanUpdate::Failed { path, reason, .. } = update {
                            report.failures.push((path, reason));
                        }
                    }
                }
                progress.inc(1);
            }
        };
        // Dropping the receiver makes every pending send fail, so the workers wind down.
        drop(receiver);
        if workers.join().is_err() {
            return Err(CatalogError::Invalid(
                "a scan worker thread panicked".into(),
            ));
        }
        written
    })
}

/// What every job needs besides the job itself.
struct JobContext<'a, E: ?Sized> {
    embedder: &'a E,
    model: &'a ModelInfo,
    moves: &'a MoveClaims,
}

struct MoveClaims {
    sources: Mutex<HashMap<blake3::Hash, Vec<MoveSource>>>,
    claimed: Mutex<HashSet<TrackId>>,
}

impl MoveClaims {
    /// Takes a stored track with this content whose file is gone, so that no other file claims it.
    fn claim(&self, hash: &blake3::Hash) -> Option<TrackId> {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let candidates = sources.get_mut(hash)?;
        let position = candidates
            .iter()
            .position(|c| c.missing || is_gone(&c.path))?;
        let source = candidates.swap_remove(position);
        self.claimed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(source.id);
        Some(source.id)
    }
}

impl<E: TrackEmbedder + ?Sized> JobContext<'_, E> {
    fn run(&self, job: &Job) -> (ScanUpdate, Outcome) {
        let file = FileJob {
            path: job.path.clone(),
            size_bytes: job.size_bytes,
            mtime_ns: job.mtime_ns,
            known: job.known.map(|k| KnownFile {
                id: k.id,
                content_hash: k.content_hash,
                has_embedding: k.has_embedding,
            }),
        };
        let update = process_file(self.embedder, self.model, &file, &|hash| {
            self.moves.claim(hash)
        });
        let outcome = match &update {
            ScanUpdate::Embedded { .. } if job.known.is_some() => Outcome::Updated,
            ScanUpdate::Embedded { .. } => Outcome::Added,
            ScanUpdate::Moved { .. } => Outcome::Moved,
            ScanUpdate::Refreshed { .. } | ScanUpdate::Missing { .. } => Outcome::Unchanged,
            ScanUpdate::Failed { .. } => Outcome::Failed,
        };
        (update, outcome)
    }
}

/// One audio file to process outside [`scan()`]'s own planning, e.g. by a job-queue worker of
/// another backend that claimed it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileJob {
    /// Absolute path.
    pub path: PathBuf,
    /// Size in bytes when it was listed.
    pub size_bytes: u64,
    /// Modification time (Unix nanoseconds) when it was listed.
    pub mtime_ns: i64,
    /// The stored track at this path, if any.
    pub known: Option<KnownFile>,
}

/// What the catalog knows about the track stored at a [`FileJob`]'s path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownFile {
    /// Its row.
    pub id: TrackId,
    /// Its stored content hash.
    pub content_hash: blake3::Hash,
    /// Whether the scanning model has an embedding for it.
    pub has_embedding: bool,
}

/// The per-file work of a scan, as one self-contained [`ScanUpdate`]: hash the file; same
/// content as the stored, embedded track only refreshes size/mtime; a path new to the catalog
/// whose content `claim_move` attributes to a stored track whose file is gone is a move (the
/// callback must hand each source track out at most once); otherwise tags are read and
/// `embedder` embeds it (a panic or a wrongly shaped output becomes `Failed`).
pub fn process_file<E: TrackEmbedder + ?Sized>(
    embedder: &E,
    model: &ModelInfo,
    job: &FileJob,
    claim_move: &dyn Fn(&blake3::Hash) -> Option<TrackId>,
) -> ScanUpdate {
    let stale_track = job.known.map(|k| k.id);
    let fail = |reason: String| {
        failed(
            &job.path,
            Some((job.size_bytes, job.mtime_ns)),
            reason,
            stale_track,
        )
    };
    let content_hash = match hash_file(&job.path) {
        Ok(hash) => hash,
        Err(err) => return fail(format!("cannot read the file: {}", one_line(err))),
    };
    let file = FileFacts {
        content_hash,
        size_bytes: job.size_bytes,
        mtime_ns: job.mtime_ns,
    };
    match job.known {
        Some(known) if known.has_embedding && known.content_hash == content_hash => {
            return ScanUpdate::Refreshed {
                track: known.id,
                file,
            };
        }
        None => {
            if let Some(track) = claim_move(&content_hash) {
                return ScanUpdate::Moved {
                    track,
                    path: job.path.clone(),
                    file,
                    tags: crate::read_tags(&job.path),
                };
            }
        }
        Some(_) => {}
    }
    // Quietly: the reason is stored for `scan --failed`; the panic hook would otherwise print
    // the panic (and a backtrace) in the middle of the progress output.
    let output = match musicrec_audio::catch_unwind_quietly(|| embedder.embed(&job.path)) {
        Ok(Ok(output)) => output,
        Ok(Err(reason)) => return fail(one_line(reason)),
        Err(message) => return fail(format!("embedder panicked: {message}")),
    };
    if let Err(reason) = check_shape(model, &output) {
        return fail(reason);
    }
    ScanUpdate::Embedded {
        path: job.path.clone(),
        file,
        tags: crate::read_tags(&job.path),
        output,
    }
}

/// The output must fit the model, or the whole batch would be refused by the store.
fn check_shape(model: &ModelInfo, output: &TrackEmbedding) -> std::result::Result<(), String> {
    if output.embedding.len() != model.embedding_dim {
        return Err(format!(
            "embedder returned {} values, the model declares {}",
            output.embedding.len(),
            model.embedding_dim
        ));
    }
    if output.genre_probs.len() != model.genres.len() {
        return Err(format!(
            "embedder returned {} genre probabilities for {} genres",
            output.genre_probs.len(),
            model.genres.len()
        ));
    }
    if !output
        .embedding
        .iter()
        .chain(&output.genre_probs)
        .all(|v| v.is_finite())
    {
        return Err("embedder returned a non-finite value".into());
    }
    Ok(())
}

fn failed(
    path: &Path,
    stat: Option<(u64, i64)>,
    reason: String,
    stale_track: Option<TrackId>,
) -> ScanUpdate {
    ScanUpdate::Failed {
        path: path.to_path_buf(),
        size_bytes: stat.map(|s| s.0),
        mtime_ns: stat.map(|s| s.1),
        reason,
        stale_track,
    }
}

fn hash_file(path: &Path) -> std::io::Result<blake3::Hash> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize())
}

/// True only when the file system says the path does not exist (an error asking is not "gone").
fn is_gone(path: &Path) -> bool {
    matches!(path.try_exists(), Ok(false))
}

fn extension_filter(requested: &[String]) -> HashSet<String> {
    if requested.is_empty() {
        return AUDIO_EXTENSIONS.iter().map(|e| (*e).to_owned()).collect();
    }
    requested
        .iter()
        .map(|e| e.trim().trim_start_matches('.').to_lowercase())
        .filter(|e| !e.is_empty())
        .collect()
}

/// Audio files found under some folders, as [`scan()`] walks them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioFiles {
    /// Canonical path -> (size in bytes, mtime in Unix ns), or why the file could not be stat-ed.
    pub files: BTreeMap<PathBuf, std::result::Result<(u64, i64), String>>,
    /// Folders the walk could not enter (nothing under them should be flagged missing).
    pub unreadable: Vec<PathBuf>,
}

/// Walks `roots` (canonicalised here; an unreadable root is an error) with the extension and
/// link settings of `options`, exactly as [`scan()`] does, for callers that plan work their own
/// way (e.g. a job queue).
pub fn list_audio_files(roots: &[PathBuf], options: &ScanOptions) -> Result<AudioFiles> {
    let roots = roots
        .iter()
        .map(|root| {
            std::fs::canonicalize(root).map_err(|cause| CatalogError::Io {
                path: root.clone(),
                cause,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let walk = walk(
        &roots,
        &extension_filter(&options.extensions),
        options.follow_links,
    );
    Ok(AudioFiles {
        files: walk.files,
        unreadable: walk.unreadable,
    })
}

/// Size and mtime of each file, or why they could not be read.
type FileStat = std::result::Result<(u64, i64), String>;

struct Walk {
    /// Audio files by canonical path (sorted, so scans are reproducible).
    files: BTreeMap<PathBuf, FileStat>,
    /// Folders the walk could not enter: nothing under them is pruned.
    unreadable: Vec<PathBuf>,
}

fn walk(roots: &[PathBuf], extensions: &HashSet<String>, follow_links: bool) -> Walk {
    let mut files = BTreeMap::new();
    let mut unreadable = Vec::new();
    for root in roots {
        for entry in walkdir::WalkDir::new(root).follow_links(follow_links) {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let path = err.path().unwrap_or(root).to_path_buf();
                    tracing::warn!("{}: cannot read: {}", path.display(), one_line(&err));
                    unreadable.push(path);
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let has_audio_extension = entry
                .path()
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e.to_lowercase()));
            if !has_audio_extension {
                continue;
            }
            let path = entry.path().to_path_buf();
            let stat = if path.to_str().is_none() {
                Err("the path is not valid UTF-8; rename the file".to_owned())
            } else {
                entry
                    .metadata()
                    .map_err(|e| format!("cannot stat the file: {}", one_line(e)))
                    .map(|meta| (meta.len(), mtime_ns(&meta)))
            };
            files.insert(path, stat);
        }
    }
    Walk { files, unreadable }
}

/// Modification time in Unix nanoseconds (negative before 1970; 0 where the platform has none).
fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    match meta.modified() {
        Ok(time) => match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_nanos()).unwrap_or(i64::MAX),
        },
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_counts_every_file_once_and_says_why_nothing_was_done() {
        let report = ScanReport {
            found: 5,
            added: 2,
            unchanged: 1,
            failed: 1,
            skipped_failed: 1,
            ..ScanReport::default()
        };
        let meter = crate::ScanMeter::default();
        assert_eq!(
            report.summary(&meter),
            "5 files: 2 added, 0 updated, 0 moved, 1 unchanged, 0 missing, 1 failed, 1 skipped as \
             failed before (--retry-failed retries them)"
        );
        let roots = [PathBuf::from("/a"), PathBuf::from("/b")];
        assert_eq!(report.did_nothing(&roots), None);
        let unreadable = ScanReport {
            found: 2,
            failed: 2,
            ..ScanReport::default()
        };
        assert_eq!(
            unreadable.did_nothing(&roots).unwrap(),
            "none of the 2 music files in /a, /b could be read (`musicrec scan --failed` lists why)"
        );
        let empty = ScanReport::default().did_nothing(&roots).unwrap();
        assert!(
            empty.starts_with("no music files found in /a, /b (looked for "),
            "{empty}"
        );
    }

    #[test]
    fn extension_filter_normalises_and_defaults() {
        let default = extension_filter(&[]);
        assert!(default.contains("flac") && default.contains("mp3") && !default.contains("wma"));
        let custom = extension_filter(&[".FLAC".into(), " mp3 ".into(), String::new()]);
        assert_eq!(custom.len(), 2);
        assert!(custom.contains("flac") && custom.contains("mp3"));
    }

    #[test]
    fn shape_check_names_the_mismatch() {
        let model = ModelInfo {
            genres: vec!["a".into(), "b".into()],
            embedding_dim: 3,
            config: serde_json::json!({}),
        };
        let mut output = TrackEmbedding {
            embedding: vec![0.0; 3],
            genre_probs: vec![0.5, 0.5],
            duration_secs: 1.0,
            warning: None,
        };
        assert!(check_shape(&model, &output).is_ok());
        output.embedding.push(1.0);
        assert!(
            check_shape(&model, &output)
                .unwrap_err()
                .contains("4 values")
        );
        output.embedding.pop();
        output.genre_probs[0] = f32::NAN;
        assert!(
            check_shape(&model, &output)
                .unwrap_err()
                .contains("non-finite")
        );
    }
}

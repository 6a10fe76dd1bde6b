//! The scan job queue with real processes and real clips: three workers scan one folder at
//! once, one is killed midway, and every track ends up embedded exactly once. Plus the lease
//! fencing in isolation: a worker whose lease passed to another writes nothing.
//!
//! Workers are this test binary run again (`current_exe`) with `MUSICREC_PG_TEST_WORKER` set:
//! the same test function then runs one worker with the no-model frame-statistics embedder and
//! prints each job it completed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use musicrec_catalog::scan::FileJob;
use musicrec_catalog::{
    CatalogStore, FileFacts, ScanOptions, ScanUpdate, TrackEmbedder, TrackEmbedding, TrackTags,
};
use musicrec_catalog_pg::{
    Completion, PostgresStore, ScanQueue, WorkerOptions, enqueue, run_worker,
};
use musicrec_testkit::data::{copy_clips, gtzan_mini};
use musicrec_testkit::embedder::{self, FrameStatsEmbedder};
use musicrec_testkit::pg::PgServer;

const WORKER_URL: &str = "MUSICREC_PG_TEST_WORKER";
const WORKER_NAME: &str = "MUSICREC_PG_TEST_WORKER_NAME";
const WORKER_ROOT: &str = "MUSICREC_PG_TEST_WORKER_ROOT";
const MODEL: &str = "frame-stats-test";
const DONE_PREFIX: &str = "WORKER-COMPLETED\t";

/// Child mode: one worker; prints every completed job.
fn run_as_worker(url: &str) {
    let name = std::env::var(WORKER_NAME).unwrap();
    let root = PathBuf::from(std::env::var(WORKER_ROOT).unwrap());
    let mut store = PostgresStore::connect(url).unwrap();
    // Slow enough per file that a worker is always caught holding claims.
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::from_millis(150));
    let options = WorkerOptions {
        name: name.clone(),
        threads: 1,
        batch: 2,
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        max_attempts: 3,
    };
    let (_, report) = run_worker(
        &mut store,
        url,
        &embedder,
        &[root],
        &ScanOptions::default(),
        &options,
        &ProgressBar::hidden(),
    )
    .unwrap();
    for (path, outcome) in &report.completed {
        println!("{DONE_PREFIX}{}\t{outcome:?}", path.display());
    }
    println!("{DONE_PREFIX}lost\t{}", report.lost_claims);
}

#[test]
fn three_workers_one_killed_every_track_embedded_exactly_once() {
    if let Ok(url) = std::env::var(WORKER_URL) {
        run_as_worker(&url);
        return;
    }
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let Some(server) = PgServer::shared() else {
        return;
    };
    let url = server.new_database("workers");
    let library = tempfile::tempdir().unwrap();
    let clips: BTreeSet<PathBuf> = copy_clips(&gtzan, library.path(), 0..3)
        .into_iter()
        .collect();
    assert_eq!(clips.len(), 30);
    let spawn = |name: &str| {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "three_workers_one_killed_every_track_embedded_exactly_once",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WORKER_URL, &url)
            .env(WORKER_NAME, name)
            .env(WORKER_ROOT, library.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let started = Instant::now();
    let mut victim = spawn("victim");
    let survivors = [spawn("survivor-1"), spawn("survivor-2")];

    // Kill the victim once it has finished some jobs while it holds others.
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let caught = loop {
        if started.elapsed() > Duration::from_secs(60) {
            break false;
        }
        let row = db
            .query_opt(
                "SELECT count(*) FILTER (WHERE done_by = 'victim'),
                        count(*) FILTER (WHERE claimed_by = 'victim' AND state = 'pending')
                 FROM scan_jobs",
                &[],
            )
            .ok()
            .flatten();
        if row.is_some_and(|row| row.get::<_, i64>(0) >= 2 && row.get::<_, i64>(1) >= 1) {
            break true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    victim.kill().unwrap();
    victim.wait().unwrap();
    assert!(
        caught,
        "the victim never completed 2 jobs while holding another"
    );
    let held_at_kill: Vec<PathBuf> = db
        .query(
            "SELECT path FROM scan_jobs WHERE claimed_by = 'victim' AND state = 'pending'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| PathBuf::from(r.get::<_, String>(0)))
        .collect();
    assert!(!held_at_kill.is_empty(), "the victim died holding claims");

    // Each survivor's completed jobs, from its own report. Both pipes of both survivors are
    // drained while they run (a thread each, `wait_with_output`), so that a survivor blocked on
    // a full pipe can never stall the other or this test.
    let outputs: Vec<_> = survivors
        .into_iter()
        .map(|child| std::thread::spawn(move || child.wait_with_output().unwrap()))
        .collect();
    let mut completed_by: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for (i, output) in outputs.into_iter().enumerate() {
        let name = format!("survivor-{}", i + 1);
        let output = output.join().unwrap();
        let out = String::from_utf8_lossy(&output.stdout);
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{name} failed:\n{out}\n{err}\n{}",
            server.log()
        );
        let paths = out
            .lines()
            // With --nocapture, libtest's "test NAME ... " may precede the first line.
            .filter_map(|l| l.split_once(DONE_PREFIX).map(|(_, rest)| rest))
            .filter(|l| !l.starts_with("lost\t"))
            .map(|l| PathBuf::from(l.split('\t').next().unwrap()))
            .collect();
        completed_by.insert(name, paths);
    }
    eprintln!("3 workers, 30 clips, one killed: {:?}", started.elapsed());

    // The queue: every file done exactly once, the victim's held claims by a survivor.
    let rows = db
        .query("SELECT path, state, done_by, attempts FROM scan_jobs", &[])
        .unwrap();
    assert_eq!(rows.len(), 30);
    let mut done_by_db: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for row in &rows {
        assert_eq!(row.get::<_, &str>(1), "done");
        done_by_db
            .entry(row.get::<_, String>(2))
            .or_default()
            .push(PathBuf::from(row.get::<_, String>(0)));
    }
    let jobs: BTreeSet<PathBuf> = rows
        .iter()
        .map(|r| PathBuf::from(r.get::<_, String>(0)))
        .collect();
    assert_eq!(jobs, clips);
    for path in &held_at_kill {
        let row = rows
            .iter()
            .find(|r| Some(r.get::<_, &str>(0)) == path.to_str())
            .unwrap();
        assert!(
            row.get::<_, &str>(2).starts_with("survivor"),
            "{path:?} taken over"
        );
        assert!(row.get::<_, i32>(3) >= 2, "{path:?} was claimed again");
    }
    // Each survivor's own account equals the database's, and nobody completed a job twice.
    let mut all_reported = Vec::new();
    for (name, mut paths) in completed_by {
        paths.sort();
        let mut in_db = done_by_db.remove(&name).unwrap_or_default();
        in_db.sort();
        assert_eq!(paths, in_db, "{name}");
        all_reported.extend(paths);
    }
    let victim_done = done_by_db.remove("victim").unwrap_or_default();
    assert!(victim_done.len() >= 2);
    assert!(
        done_by_db.is_empty(),
        "only the three workers completed jobs"
    );
    all_reported.extend(victim_done);
    all_reported.sort();
    let unique: BTreeSet<_> = all_reported.iter().cloned().collect();
    assert_eq!(
        all_reported.len(),
        unique.len(),
        "a job was completed twice"
    );
    assert_eq!(unique, clips);

    // The catalog: one track and one embedding per clip, nothing failed.
    let store = PostgresStore::connect(&url).unwrap();
    let set = store.load_embeddings(MODEL).unwrap();
    assert_eq!(set.len(), 30);
    let paths: BTreeSet<PathBuf> = set.tracks.iter().map(|t| t.path.clone()).collect();
    assert_eq!(paths, clips);
    // Per clip: one track row holding one embedding of the model.
    let per_clip: BTreeMap<PathBuf, i64> = db
        .query(
            "SELECT t.path, count(e.track_id) FROM tracks t
             LEFT JOIN embeddings e ON e.track_id = t.id AND e.model_id = $1
             GROUP BY t.path",
            &[&MODEL],
        )
        .unwrap()
        .iter()
        .map(|r| (PathBuf::from(r.get::<_, String>(0)), r.get(1)))
        .collect();
    assert_eq!(
        per_clip,
        clips
            .iter()
            .map(|c| (c.clone(), 1))
            .collect::<BTreeMap<_, _>>()
    );
    // And the catalog was written exactly once per clip: every committed result bumps the
    // revision once (the enqueue had nothing to un-flag or prune), so a second write of any
    // file, a late worker's discarded result included, would show here.
    assert_eq!(store.revision().unwrap(), clips.len() as u64);
    let stats = store.stats().unwrap();
    assert_eq!((stats.tracks, stats.failures), (30, 0));
    // The embeddings are the embedder's, computed from the real audio.
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::ZERO);
    let first = set.tracks[0].path.clone();
    assert_eq!(
        set.embedding(0),
        embedder.embed(&first).unwrap().embedding.as_slice()
    );

    // A rescan finds nothing to do.
    let mut store = store;
    let report = enqueue(
        &mut store,
        MODEL,
        &[library.path().to_path_buf()],
        &ScanOptions::default(),
    )
    .unwrap();
    assert_eq!((report.found, report.queued, report.unchanged), (30, 0, 30));
}

fn update_for(path: &str) -> ScanUpdate {
    ScanUpdate::Embedded {
        path: path.into(),
        file: FileFacts {
            content_hash: blake3::hash(path.as_bytes()),
            size_bytes: 4,
            mtime_ns: 1,
        },
        tags: TrackTags::default(),
        output: TrackEmbedding {
            embedding: vec![0.5; embedder::DIM],
            genre_probs: vec![0.1; embedder::GENRES.len()],
            duration_secs: 1.0,
            warning: None,
        },
    }
}

#[test]
fn an_expired_claim_passes_to_another_worker_and_the_first_writes_nothing() {
    if std::env::var(WORKER_URL).is_ok() {
        return; // a worker child runs only the test above
    }
    let Some(server) = PgServer::shared() else {
        return;
    };
    let url = server.new_database("fencing");
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("a.wav"), b"not audio").unwrap();
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::ZERO);
    let (mut slow, mut fast) = (
        PostgresStore::connect(&url).unwrap(),
        PostgresStore::connect(&url).unwrap(),
    );
    slow.register_model(MODEL, &embedder.model_info()).unwrap();
    let report = enqueue(
        &mut slow,
        MODEL,
        &[folder.path().to_path_buf()],
        &ScanOptions::default(),
    )
    .unwrap();
    assert_eq!(report.queued, 1);
    // Enqueueing again (another worker starting) adds nothing.
    assert_eq!(
        enqueue(
            &mut fast,
            MODEL,
            &[folder.path().to_path_buf()],
            &ScanOptions::default()
        )
        .unwrap()
        .queued,
        0
    );

    let mut slow_queue = ScanQueue::new(&mut slow, MODEL, "slow", Duration::from_millis(300));
    let slow_claims = slow_queue.claim(5).unwrap();
    assert_eq!(slow_claims.len(), 1);
    let path = slow_claims[0].job.path.to_str().unwrap().to_owned();
    {
        let mut fast_queue = ScanQueue::new(&mut fast, MODEL, "fast", Duration::from_secs(60));
        assert!(fast_queue.claim(5).unwrap().is_empty(), "leased to slow");
        std::thread::sleep(Duration::from_millis(500));
        let fast_claims = fast_queue.claim(5).unwrap();
        assert_eq!(fast_claims.len(), 1, "the expired lease is taken over");
        assert_eq!(fast_claims[0].attempts, 2);
        assert_ne!(fast_claims[0].claim_id, slow_claims[0].claim_id);
        let FileJob { known, .. } = &fast_claims[0].job;
        assert!(known.is_none());
        // The slow worker finishes late: its result is discarded.
        let mut slow_queue = ScanQueue::new(&mut slow, MODEL, "slow", Duration::from_millis(300));
        assert_eq!(
            slow_queue
                .complete(&slow_claims[0], &update_for(&path), None, &[])
                .unwrap(),
            Completion::LostClaim
        );
        assert_eq!(
            slow.stats().unwrap().tracks,
            0,
            "nothing written by the late worker"
        );
        let mut fast_queue = ScanQueue::new(&mut fast, MODEL, "fast", Duration::from_secs(60));
        assert_eq!(
            fast_queue
                .complete(&fast_claims[0], &update_for(&path), None, &[])
                .unwrap(),
            Completion::Done
        );
        assert_eq!(
            fast_queue
                .complete(&fast_claims[0], &update_for(&path), None, &[])
                .unwrap(),
            Completion::LostClaim,
            "a done job is not completed twice"
        );
        let counts = fast_queue.counts().unwrap();
        assert_eq!((counts.pending, counts.done), (0, 1));
    }
    assert_eq!(fast.stats().unwrap().tracks, 1);
}

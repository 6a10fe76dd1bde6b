//! Scaling benchmark of the PostgreSQL catalog (docs/scaling-out.md explains the numbers):
//!
//! 1. A catalog of N synthetic tracks (default 1 000 000, dim 32 like the shipped CRNN, 10
//!    genres; musicrec-recommend's seeded generator) written with `import_new_tracks` (COPY
//!    BINARY), after timing `apply_scan_updates` on a slice to show why.
//! 2. `load_embeddings` into memory: time and peak RSS growth (VmHWM after resetting it).
//! 3. The in-memory index (`index_from_embedding_set`) and top-5 recommendation latency over
//!    random seeds; `revision` latency (a server's refresh poll).
//! 4. Scan throughput on the gtzan-mini clips with 1 and with 2 worker processes (this binary
//!    run again), each worker one embedding thread, the no-model frame-statistics embedder.
//!
//! Run: `cargo bench -p musicrec-catalog-pg --bench pg_scale --profile test`
//! (env: `PG_BENCH_TRACKS`, `PG_BENCH_URL` to use an existing server's empty database instead
//! of a private one, `PG_BENCH_SKIP_SCAN=1`).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use musicrec_catalog::scan::{FileJob, list_audio_files, process_file};
use musicrec_catalog::{
    CatalogStore, FileFacts, ModelInfo, ScanOptions, ScanUpdate, TrackEmbedder, TrackEmbedding,
    TrackTags,
};
use musicrec_catalog_pg::{PostgresStore, WorkerOptions, run_worker};
use musicrec_recommend::synthetic::{SyntheticCatalog, SyntheticSpec};
use musicrec_recommend::{RecommendRequest, index_from_embedding_set};
use musicrec_testkit::data::gtzan_mini;
use musicrec_testkit::embedder::FrameStatsEmbedder;
use musicrec_testkit::pg::PgServer;

const WORKER_ENV: &str = "PG_BENCH_WORKER_URL";
const DIM: usize = 32;
const SCAN_MODEL: &str = "frame-stats-bench";

fn vm_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn update(i: usize, catalog: &SyntheticCatalog, genres: usize) -> ScanUpdate {
    let path = PathBuf::from(format!("/music/a{:04}/t{i:07}.flac", i % 5000));
    ScanUpdate::Embedded {
        file: FileFacts {
            content_hash: blake3::hash(&(i as u64).to_le_bytes()),
            size_bytes: 4_000_000 + i as u64,
            mtime_ns: 1_700_000_000_000_000_000 + i as i64,
        },
        path,
        tags: TrackTags {
            artist: Some(format!("Artist {:04}", i % 5000)),
            title: Some(format!("Song {i}")),
            album: None,
            genre: None,
            year: None,
        },
        output: TrackEmbedding {
            embedding: catalog.vectors[i * DIM..(i + 1) * DIM].to_vec(),
            genre_probs: catalog.genre_probs[i * genres..(i + 1) * genres].to_vec(),
            duration_secs: 30.0,
            warning: None,
        },
    }
}

fn catalog_bench(url: &str, n: usize) {
    let spec = SyntheticSpec {
        tracks: n,
        dim: DIM,
        ..SyntheticSpec::default()
    };
    let start = Instant::now();
    let catalog = SyntheticCatalog::generate(&spec);
    eprintln!("generated {n} synthetic tracks in {:.1?}", start.elapsed());
    let genres = catalog.genre_names.len();
    let model = ModelInfo {
        genres: catalog.genre_names.clone(),
        embedding_dim: DIM,
        config: serde_json::json!({ "synthetic": spec.seed }),
    };
    let mut store = PostgresStore::connect(url).unwrap();
    store.register_model("synthetic", &model).unwrap();

    // Row-by-row upserts (what workers do, one file at a time) on a slice, for comparison.
    let slice = 5_000.min(n / 10).max(1);
    let updates: Vec<_> = (0..slice).map(|i| update(i, &catalog, genres)).collect();
    let start = Instant::now();
    for chunk in updates.chunks(500) {
        store.apply_scan_updates("synthetic", chunk).unwrap();
    }
    let per_sec = slice as f64 / start.elapsed().as_secs_f64();
    println!(
        "apply_scan_updates: {slice} tracks in {:.2?} ({per_sec:.0} tracks/s; 1M would take {:.0} s)",
        start.elapsed(),
        1e6 / per_sec
    );
    let start = Instant::now();
    let chunk = 100_000;
    let mut imported = 0;
    for first in (slice..n).step_by(chunk) {
        let updates: Vec<_> = (first..(first + chunk).min(n))
            .map(|i| update(i, &catalog, genres))
            .collect();
        imported += store.import_new_tracks("synthetic", &updates).unwrap();
    }
    let elapsed = start.elapsed();
    println!(
        "import_new_tracks (COPY BINARY): {imported} tracks in {elapsed:.1?} ({:.0} tracks/s)",
        imported as f64 / elapsed.as_secs_f64()
    );
    drop(catalog);
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client.batch_execute("VACUUM ANALYZE").unwrap();
    let size: String = client
        .query_one(
            "SELECT pg_size_pretty(pg_database_size(current_database()))",
            &[],
        )
        .unwrap()
        .get(0);
    println!("database size: {size}");

    for round in 0..2 {
        // Reset the peak-RSS counter so VmHWM measures this load alone.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (rss_before, _) = (vm_kib("VmRSS:"), vm_kib("VmHWM:"));
        let start = Instant::now();
        let set = store.load_embeddings("synthetic").unwrap();
        let load = start.elapsed();
        let peak = vm_kib("VmHWM:");
        let start = Instant::now();
        let index = index_from_embedding_set(&set).unwrap();
        let build = start.elapsed();
        let after_index = vm_kib("VmHWM:");
        println!(
            "load_embeddings #{round}: {} tracks in {load:.2?}, peak RSS +{} MiB (set: embeddings {} MiB); \
             index build {build:.2?}, peak RSS +{} MiB with the index",
            set.len(),
            peak.saturating_sub(rss_before) / 1024,
            set.embeddings.len() * 4 / (1 << 20),
            after_index.saturating_sub(rss_before) / 1024
        );
        if round == 1 {
            let mut latencies = Vec::new();
            for q in 0..200u64 {
                let seed = set.tracks[(q as usize * 7919) % set.len()].id.0;
                let start = Instant::now();
                let result = index
                    .recommend(&RecommendRequest::new(vec![seed], 5))
                    .unwrap();
                latencies.push(start.elapsed());
                assert_eq!(result.tracks.len(), 5);
            }
            latencies.sort();
            println!(
                "top-5 recommend over {} tracks (auto search mode): median {:.2?}, p95 {:.2?}",
                set.len(),
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.95)
            );
        }
        drop(index);
        drop(set);
    }
    let mut latencies = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        store.revision().unwrap();
        latencies.push(start.elapsed());
    }
    latencies.sort();
    println!(
        "revision (refresh poll): median {:.2?}",
        percentile(&latencies, 0.5)
    );
}

fn worker_main(url: &str) {
    let root = PathBuf::from(std::env::var("PG_BENCH_ROOT").unwrap());
    let mut store = PostgresStore::connect(url).unwrap();
    let delay_ms: u64 = std::env::var("PG_BENCH_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let embedder = FrameStatsEmbedder::new(SCAN_MODEL, Duration::from_millis(delay_ms));
    let options = WorkerOptions {
        threads: 1,
        batch: 2,
        poll: Duration::from_millis(100),
        ..WorkerOptions::default()
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
    println!("completed {}", report.completed.len());
}

fn scan_bench(server: &PgServer, clips: &std::path::Path) {
    let files = list_audio_files(&[clips.to_path_buf()], &ScanOptions::default()).unwrap();
    let n = files.files.len();
    // Baseline: the same per-file work in one thread, no database.
    let embedder = FrameStatsEmbedder::new(SCAN_MODEL, Duration::ZERO);
    let model = embedder.model_info();
    let start = Instant::now();
    for (path, stat) in &files.files {
        let (size_bytes, mtime_ns) = stat.clone().unwrap();
        let job = FileJob {
            path: path.clone(),
            size_bytes,
            mtime_ns,
            known: None,
        };
        process_file(&embedder, &model, &job, &|_| None);
    }
    let base = start.elapsed();
    println!(
        "scan baseline, one thread, no database: {n} clips in {base:.2?} ({:.1} files/s)",
        n as f64 / base.as_secs_f64()
    );
    // Without and with a stand-in for model inference (a sleep per file, no CPU): the first
    // shows the queue's overhead on this 2-core machine, the second how workers overlap.
    for (workers, delay_ms) in [(1, 0), (2, 0), (1, 50), (2, 50)] {
        let url = server.new_database(&format!("scan{workers}_{delay_ms}"));
        let start = Instant::now();
        let children: Vec<_> = (0..workers)
            .map(|w| {
                Command::new(std::env::current_exe().unwrap())
                    .env(WORKER_ENV, &url)
                    .env("PG_BENCH_ROOT", clips)
                    .env("PG_BENCH_WORKER_NAME", format!("w{w}"))
                    .env("PG_BENCH_DELAY_MS", delay_ms.to_string())
                    .output_spawn()
            })
            .collect();
        let mut done = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            done += text
                .lines()
                .find_map(|l| l.strip_prefix("completed "))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
        }
        let elapsed = start.elapsed();
        assert_eq!(done, n);
        let store = PostgresStore::connect(&url).unwrap();
        assert_eq!(store.load_embeddings(SCAN_MODEL).unwrap().len(), n);
        println!(
            "scan with {workers} worker process(es), 1 thread each, +{delay_ms} ms sleep per file: \
             {n} clips in {elapsed:.2?} ({:.1} files/s)",
            n as f64 / elapsed.as_secs_f64()
        );
    }
}

trait SpawnPiped {
    fn output_spawn(&mut self) -> std::process::Child;
}

impl SpawnPiped for Command {
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

fn main() {
    if let Ok(url) = std::env::var(WORKER_ENV) {
        worker_main(&url);
        return;
    }
    let n: usize = std::env::var("PG_BENCH_TRACKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let server = PgServer::start().expect("PostgreSQL is needed for this benchmark");
    println!(
        "machine: {} cores (shared with other work), PostgreSQL in a private cluster (fsync off)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let url = std::env::var("PG_BENCH_URL").unwrap_or_else(|_| server.new_database("bench"));
    catalog_bench(&url, n);
    if std::env::var("PG_BENCH_SKIP_SCAN").is_err()
        && let Some(clips) = gtzan_mini()
    {
        scan_bench(&server, &clips);
    }
}

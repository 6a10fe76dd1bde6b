//! Measures the catalog: scan throughput of the frame-statistics test embedder on a folder of
//! audio, and the time to load N synthetic embeddings (dim 68) from an SQLite file.
//!
//! ```text
//! cargo run --release -p musicrec-catalog --example catalog_bench -- <music dir> [jobs] [N...]
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use musicrec_catalog::{
    CatalogStore, FileFacts, ModelInfo, ScanOptions, ScanUpdate, TrackEmbedding, TrackTags, scan,
};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_testkit::embedder::FrameStatsEmbedder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let music = PathBuf::from(
        args.next()
            .ok_or("usage: catalog_bench <music dir> [jobs] [N...]")?,
    );
    let jobs: usize = args.next().map(|j| j.parse()).transpose()?.unwrap_or(0);
    let sizes: Vec<usize> = args.map(|n| n.parse()).collect::<Result<_, _>>()?;
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    let dir = tempfile::tempdir()?;

    let mut store = SqliteStore::open(dir.path().join("scan.db"))?;
    let embedder = FrameStatsEmbedder::new("frame-stats", Duration::ZERO);
    let options = ScanOptions {
        jobs,
        ..ScanOptions::default()
    };
    let start = Instant::now();
    let report = scan(
        &mut store,
        std::slice::from_ref(&music),
        &embedder,
        &options,
        &ProgressBar::hidden(),
    )?;
    let first = start.elapsed();
    let calls_before_rescan = embedder.calls();
    let start = Instant::now();
    let again = scan(
        &mut store,
        &[music],
        &embedder,
        &options,
        &ProgressBar::hidden(),
    )?;
    let second = start.elapsed();
    println!(
        "scan (jobs={jobs}): {} tracks embedded, {} failed in {first:.2?} = {:.0} tracks/min; \
         rescan ({} unchanged, {} decoded) in {second:.2?}",
        report.added,
        report.failed,
        report.added as f64 / first.as_secs_f64() * 60.0,
        again.unchanged,
        embedder.calls() - calls_before_rescan
    );

    const DIM: usize = 68;
    let genres: Vec<String> = (0..10).map(|g| format!("genre{g}")).collect();
    for n in sizes {
        let path = dir.path().join(format!("synthetic-{n}.db"));
        let mut store = SqliteStore::open(&path)?;
        let info = ModelInfo {
            genres: genres.clone(),
            embedding_dim: DIM,
            config: serde_json::json!({}),
        };
        store.register_model("synthetic", &info)?;
        let start = Instant::now();
        for chunk in (0..n).collect::<Vec<_>>().chunks(5000) {
            let updates: Vec<ScanUpdate> = chunk
                .iter()
                .map(|&i| synthetic(i, DIM, genres.len()))
                .collect();
            store.apply_scan_updates("synthetic", &updates)?;
        }
        let inserted = start.elapsed();
        drop(store);
        // A fresh connection, as `musicrec recommend` would open it.
        let start = Instant::now();
        let store = SqliteStore::open(&path)?;
        let set = store.load_embeddings("synthetic")?;
        let loaded = start.elapsed();
        assert_eq!(set.len(), n);
        println!(
            "{n} embeddings (dim {DIM}, {} genres): insert {inserted:.2?}, open + load {loaded:.2?}, file {:.1} MiB",
            genres.len(),
            std::fs::metadata(&path)?.len() as f64 / (1 << 20) as f64
        );
    }
    Ok(())
}

fn synthetic(i: usize, dim: usize, n_genres: usize) -> ScanUpdate {
    let path = PathBuf::from(format!("/music/a{:04}/t{i:07}.flac", i % 1000));
    ScanUpdate::Embedded {
        file: FileFacts {
            content_hash: blake3::hash(&i.to_le_bytes()),
            size_bytes: 5_000_000,
            mtime_ns: i as i64,
        },
        path,
        tags: TrackTags {
            artist: Some(format!("Artist {}", i % 1000)),
            title: Some(format!("Song {i}")),
            ..TrackTags::default()
        },
        output: TrackEmbedding {
            embedding: (0..dim)
                .map(|d| ((i * 31 + d) % 97) as f32 / 97.0)
                .collect(),
            genre_probs: (0..n_genres)
                .map(|g| if g == i % n_genres { 0.55 } else { 0.05 })
                .collect(),
            duration_secs: 200.0,
            warning: None,
        },
    }
}

//! Writes a synthetic catalog for the load benchmark (`scripts/bench/server.sh`): `N` tracks
//! with seeded synthetic embeddings and genre probabilities (musicrec_recommend::synthetic),
//! stored through the catalog API as `ScanUpdate::Embedded` rows that all point at one dummy
//! audio file (the benchmark never streams audio).
//!
//! Usage: cargo run --release -p musicrec-server --example bench_catalog -- DB [N] [DIM]

use std::path::PathBuf;

use musicrec_catalog::{CatalogStore, FileFacts, ModelInfo, ScanUpdate, TrackEmbedding, TrackTags};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_recommend::synthetic::{SyntheticCatalog, SyntheticSpec};

const MODEL: &str = "synthetic-bench";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let db = PathBuf::from(args.next().ok_or("usage: bench_catalog DB [N] [DIM]")?);
    let n: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let dim: usize = args.next().map_or(Ok(32), |a| a.parse())?;
    if db.exists() {
        return Err(format!("{} exists; remove it first", db.display()).into());
    }
    let synthetic = SyntheticCatalog::generate(&SyntheticSpec {
        tracks: n,
        dim,
        ..SyntheticSpec::default()
    });
    let mut store = SqliteStore::open(&db)?;
    store.register_model(
        MODEL,
        &ModelInfo {
            genres: synthetic.genre_names.clone(),
            embedding_dim: dim,
            config: serde_json::json!({ "kind": "synthetic", "tracks": n }),
        },
    )?;
    let dummy = std::env::temp_dir().join("musicrec-bench-dummy.wav");
    let genres = synthetic.genre_names.len();
    for start in (0..n).step_by(5000) {
        let updates: Vec<ScanUpdate> = (start..(start + 5000).min(n))
            .map(|i| ScanUpdate::Embedded {
                // Distinct paths (the catalog keys tracks by path); none of them is read.
                path: dummy.with_file_name(format!("musicrec-bench/{i:06}.wav")),
                file: FileFacts {
                    content_hash: blake3::hash(&(i as u64).to_le_bytes()),
                    size_bytes: 1,
                    mtime_ns: 0,
                },
                tags: TrackTags {
                    artist: Some(format!("Artist {}", i % 5000)),
                    title: Some(format!("Track {i}")),
                    ..TrackTags::default()
                },
                output: TrackEmbedding {
                    embedding: synthetic.vectors[i * dim..(i + 1) * dim].to_vec(),
                    genre_probs: synthetic.genre_probs[i * genres..(i + 1) * genres].to_vec(),
                    duration_secs: 30.0,
                    warning: None,
                },
            })
            .collect();
        store.apply_scan_updates(MODEL, &updates)?;
    }
    let set = store.load_embeddings(MODEL)?;
    let first = set.tracks.first().map_or(0, |t| t.id.0);
    let last = set.tracks.last().map_or(0, |t| t.id.0);
    println!("{} tracks, dim {dim}, ids {first}..={last}", set.len());
    Ok(())
}

//! Times top-5 recommendations for 5 seeds over a stored embedding matrix, in every search mode.
//! Driven by `scripts/bench/topk.py`, which writes the data, runs NumPy's brute force on the same
//! matrix and prints the ratios:
//!
//!     cargo run --release -p musicrec-recommend --example bench_topk -- DIR N DIM
//!
//! DIR holds `vectors.f32` (N x DIM little-endian f32, row-major) and `seeds.i64` (Q x 5 row ids).
//! Prints one JSON line per mode with per-query times (ms) and the returned ids.

use std::path::PathBuf;
use std::time::Instant;

use musicrec_recommend::{EmbeddingIndex, RecommendRequest, SearchMode};

fn read_le<const W: usize, T>(path: &PathBuf, from: fn([u8; W]) -> T) -> Vec<T> {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    bytes
        .chunks_exact(W)
        .map(|c| from(c.try_into().expect("chunk of W bytes")))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, n, dim] = args.as_slice() else {
        return Err("usage: bench_topk DIR N DIM".into());
    };
    let dir = PathBuf::from(dir);
    let (n, dim): (usize, usize) = (n.parse()?, dim.parse()?);
    let vectors = read_le(&dir.join("vectors.f32"), f32::from_le_bytes);
    let seeds = read_le(&dir.join("seeds.i64"), i64::from_le_bytes);
    let t = Instant::now();
    let index = EmbeddingIndex::new((0..n as i64).collect(), dim, vectors)?;
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    index.prepare_quantized();
    let quantize_ms = t.elapsed().as_secs_f64() * 1e3;
    eprintln!(
        "index built in {build_ms:.0} ms, int8 copy in {quantize_ms:.0} ms, threads {}",
        rayon::current_num_threads()
    );

    let modes = [
        ("exact", SearchMode::Exact),
        ("int8+rescore32", SearchMode::Quantized { candidates: 32 }),
        ("int8+rescore128", SearchMode::Quantized { candidates: 128 }),
        ("auto", SearchMode::Auto),
    ];
    for (name, mode) in modes {
        let mut times = Vec::new();
        let mut results = Vec::new();
        for (q, query_seeds) in seeds.chunks_exact(5).enumerate() {
            let mut request = RecommendRequest::new(query_seeds.to_vec(), 5);
            request.search = mode;
            if q == 0 {
                index.recommend(&request)?; // warm-up: page faults, thread pool
            }
            let t = Instant::now();
            let rec = index.recommend(&request)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            results.push(
                rec.tracks
                    .iter()
                    .map(|h| h.id.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        let times: Vec<String> = times.iter().map(|t| format!("{t:.4}")).collect();
        let results: Vec<String> = results.iter().map(|r| format!("[{r}]")).collect();
        println!(
            "{{\"mode\":\"{name}\",\"times_ms\":[{}],\"ids\":[{}],\"quantize_ms\":{quantize_ms:.1}}}",
            times.join(","),
            results.join(",")
        );
    }
    Ok(())
}

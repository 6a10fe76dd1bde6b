//! Load generator for `scripts/bench/server-memory.sh`: sends exactly `REQUESTS` searches
//! (`GET /api/tracks?q=Artist N`, N varying) over `CONCURRENCY` keep-alive connections on
//! loopback, and samples the server's resident memory and thread count (`/proc/PID/status`)
//! every 50 ms meanwhile. Prints one line of statuses, latency and memory.
//!
//! A Rust generator rather than wrk: it stops after an exact number of requests and samples the
//! server while it runs.
//!
//! Usage: cargo run --release -p musicrec-server --example load -- BASE_URL PID [REQUESTS] [CONCURRENCY]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// VmRSS (MiB) and Threads of a process, from /proc/PID/status.
fn rss_and_threads(pid: u32) -> Option<(f64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")? as f64 / 1024.0, field("Threads:")?))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: load BASE_URL PID [REQUESTS] [CONCURRENCY]";
    let base = args.next().ok_or(usage)?;
    let pid: u32 = args.next().ok_or(usage)?.parse()?;
    let requests: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(300), |a| a.parse())?;

    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .build_http();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let (mut peak_rss, mut peak_threads) = (0.0f64, 0u64);
            while !done.load(Ordering::Relaxed) {
                if let Some((rss, threads)) = rss_and_threads(pid) {
                    peak_rss = peak_rss.max(rss);
                    peak_threads = peak_threads.max(threads);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (peak_rss, peak_threads)
        })
    };
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, next, base) = (client.clone(), next.clone(), base.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let uri = format!("{base}/api/tracks?q=Artist%20{}&per_page=50", i % 997);
                let sent = Instant::now();
                let status = match client.get(uri.parse().expect("a URL")).await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.into_body().collect().await;
                        status
                    }
                    Err(_) => 0,
                };
                latencies.push(sent.elapsed());
                *statuses.entry(status).or_default() += 1;
            }
            (statuses, latencies)
        }));
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut latencies = Vec::new();
    for worker in workers {
        let (s, l) = worker.await?;
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
        latencies.extend(l);
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let (peak_rss, peak_threads) = sampler.await?;
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    let statuses: Vec<String> = statuses
        .iter()
        .map(|(s, n)| {
            if *s == 0 {
                format!("connection error: {n}")
            } else {
                format!("{s}: {n}")
            }
        })
        .collect();
    println!(
        "{requests} requests, {concurrency} concurrent, {:.1} s ({:.0} req/s); statuses {}; latency p50 {:.1} ms p99 {:.1} ms; server peak {peak_rss:.1} MiB resident, {peak_threads} threads",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        statuses.join(", "),
        pct(0.5),
        pct(0.99),
    );
    Ok(())
}

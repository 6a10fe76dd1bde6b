//! The server alone, without the `musicrec` CLI (which pulls in the model stack): what the load
//! benchmark runs. Same code path as `musicrec serve --db DB --addr ADDR`.
//!
//! Usage: cargo run --release -p musicrec-server --example serve -- DB [ADDR]

use musicrec_catalog_sqlite::SqliteStore;
use musicrec_server::{ServeConfig, run};

/// The allocator `musicrec` itself uses (crates/cli/src/main.rs), with its default purging as
/// `musicrec serve` keeps it, so that the memory benchmark measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let db = args.next().ok_or("usage: serve DB [ADDR]")?;
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()?;
    let store = SqliteStore::open(&db)?;
    run(
        Box::new(store),
        ServeConfig {
            addr,
            token: std::env::var("MUSICREC_TOKEN").ok(),
            model: Default::default(),
            refresh_every: None,
            upstream: None,
        },
    )?;
    Ok(())
}

//! The server alone, without the `musicrec` CLI (which pulls in the model stack): what the load
//! benchmark runs. Same code path as `musicrec serve --db DB --addr ADDR`.
//!
//! Usage: cargo run --release -p musicrec-server --example serve -- DB [ADDR]

use musicrec_catalog_sqlite::SqliteStore;
use musicrec_server::{ServeConfig, run};

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
            model: None,
            refresh_every: None,
        },
    )?;
    Ok(())
}

//! `musicrec serve`: the web page, the JSON API and the OpenSubsonic similar-songs calls over the
//! catalog (musicrec-server). This module only parses arguments and opens the catalog.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use musicrec_train::ModelDirConfig;

use crate::embedder::model_id_of;

/// Serve the web page and the HTTP API.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Binds 127.0.0.1 by default. Any other address needs a token (--token or MUSICREC_TOKEN) that \
every /api and /rest call must carry: `Authorization: Bearer TOKEN` or `?token=TOKEN` (Subsonic \
clients: the token as password). Open the page with http://HOST:PORT/?token=TOKEN.

Examples:
  musicrec serve
  musicrec serve --db ~/music.db --addr 127.0.0.1:9000
  MUSICREC_TOKEN=$(openssl rand -hex 16) musicrec serve --addr 0.0.0.0:8080")]
pub struct Args {
    /// Catalog database [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Token every API call must carry (required for a non-loopback --addr).
    #[arg(long, env = "MUSICREC_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Model directory whose embeddings to serve [default: the catalog's only model, or the
    /// one with the most embedded tracks].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Seconds between checks for a changed catalog (0: only on POST /api/reload).
    #[arg(long, default_value_t = 30)]
    refresh_secs: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let model = match &args.model {
        Some(dir) => {
            let config = ModelDirConfig::read(dir)?;
            Some(model_id_of(dir, &config.arch)?)
        }
        None => None,
    };
    let store = crate::store::open_existing(args.db.as_deref())?;
    musicrec_server::run(
        store,
        musicrec_server::ServeConfig {
            addr: args.addr,
            token: args.token,
            model,
            refresh_every: (args.refresh_secs > 0).then(|| Duration::from_secs(args.refresh_secs)),
        },
    )
    .context("musicrec serve")?;
    Ok(ExitCode::SUCCESS)
}

//! `musicrec serve`: the web page, the JSON API and the OpenSubsonic similar-songs calls over the
//! catalog (musicrec-server). This module only parses arguments and opens the catalog.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

/// Serve the web page and the HTTP API.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Binds 127.0.0.1 by default. Any other address needs a token (--token or MUSICREC_TOKEN) that \
every /api and /rest call must carry: `Authorization: Bearer TOKEN` or `?token=TOKEN` (Subsonic \
clients: the token as password). A token has at least 16 characters; `musicrec serve --new-token` prints a random one. Open the page with http://HOST:PORT/?token=TOKEN (the page then keeps it for the tab and removes it from the address bar), or open http://HOST:PORT/ and enter it once.

Companion mode (--upstream): musicrec sits in front of your Subsonic server (Navidrome, Supysonic, \
...) holding the same music, scanned into the catalog. Point your player at musicrec with your \
account on that server: every call is forwarded to it (browsing, search, streaming, cover art, \
playlists), and getSimilarSongs, getSimilarSongs2, getSonicSimilarTracks and findSonicPath are \
answered by musicrec with that server's songs. musicrec reads the server's library at start and \
every --upstream-refresh-mins as --upstream-user (password in MUSICREC_UPSTREAM_PASSWORD) and \
matches its songs to catalog tracks by path, else by artist, title and duration; GET /api/upstream \
lists the songs it could not match. The matching is kept in the catalog, so a restart answers at \
once. Players' /rest calls are then checked by that server (their own \
account there), not against --token; /api calls still need the token. Only http:// upstreams.

Examples:
  musicrec serve
  musicrec serve --db ~/music.db --addr localhost:9000
  MUSICREC_TOKEN=$(musicrec serve --new-token) musicrec serve --addr 0.0.0.0:8080
  MUSICREC_UPSTREAM_PASSWORD=... musicrec serve --upstream http://localhost:4533 --upstream-user me")]
pub struct Args {
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// Address to listen on: IP:PORT or HOST:PORT (e.g. localhost:8733).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_addr)]
    addr: SocketAddr,
    /// Token every API call must carry (required for a non-loopback --addr; 16 characters or more).
    #[arg(long, env = "MUSICREC_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Print a new random token (for --token or MUSICREC_TOKEN) and exit.
    #[arg(long)]
    new_token: bool,
    /// Model whose embeddings to serve: `musicnn`, `cnn` or a directory, as for `scan`
    /// [default: the default model (MusiCNN) when the catalog holds its embeddings, else the
    /// catalog's only model, or the one with the most embedded tracks; as `recommend` chooses].
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
    /// Seconds between checks for a changed catalog (0: only on POST /api/reload).
    #[arg(long, default_value_t = 30)]
    refresh_secs: u64,
    /// Companion mode: the Subsonic server to sit in front of, as http://HOST:PORT (see below).
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// The user musicrec reads the upstream's library as; its password comes from the
    /// environment variable MUSICREC_UPSTREAM_PASSWORD, never the command line.
    #[arg(long, value_name = "USER", env = "MUSICREC_UPSTREAM_USER")]
    upstream_user: Option<String>,
    /// Minutes between reads of the upstream's library (songs added there are matched then).
    #[arg(long, value_name = "MINUTES", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    upstream_refresh_mins: u64,
}

/// The companion-mode settings, if --upstream is given.
fn upstream_config(args: &Args) -> anyhow::Result<Option<musicrec_server::UpstreamConfig>> {
    let Some(url) = &args.upstream else {
        return Ok(None);
    };
    let user = args
        .upstream_user
        .clone()
        .context("--upstream needs --upstream-user (or MUSICREC_UPSTREAM_USER)")?;
    let password = std::env::var("MUSICREC_UPSTREAM_PASSWORD").map_err(|_| {
        anyhow::anyhow!(
            "--upstream needs the upstream password in the environment variable MUSICREC_UPSTREAM_PASSWORD"
        )
    })?;
    Ok(Some(musicrec_server::UpstreamConfig {
        url: url.clone(),
        user,
        password,
        refresh_every: Duration::from_secs(60 * args.upstream_refresh_mins),
    }))
}

/// `IP:PORT`, or `HOST:PORT` resolved (an IPv4 address first, as `localhost` should bind
/// 127.0.0.1 rather than only ::1).
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if !text.contains(':') {
        return Err(format!(
            "`{text}` has no port: write HOST:PORT, e.g. localhost:8080"
        ));
    }
    let resolved: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{text}`: {e}"))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| format!("`{text}` resolves to no address"))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.new_token {
        outln!(
            "{}",
            musicrec_server::auth::new_token().context("no random numbers")?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let upstream = upstream_config(&args)?;
    let store = musicrec_app::store::open_existing(args.db.as_deref())?;
    let model = crate::models::request(args.model.as_deref())?;
    musicrec_server::run(
        store,
        musicrec_server::ServeConfig {
            addr: args.addr,
            token: args.token,
            model,
            refresh_every: (args.refresh_secs > 0).then(|| Duration::from_secs(args.refresh_secs)),
            upstream,
        },
    )
    .context("musicrec serve")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_addr;

    #[test]
    fn addresses_are_ip_port_or_a_host_name_with_a_port() {
        assert_eq!(
            parse_addr("127.0.0.1:8733").unwrap(),
            "127.0.0.1:8733".parse().unwrap()
        );
        assert_eq!(parse_addr("[::1]:80").unwrap(), "[::1]:80".parse().unwrap());
        let local = parse_addr("localhost:8733").unwrap();
        assert!(local.ip().is_loopback(), "{local}");
        assert_eq!(local.port(), 8733);
        assert!(parse_addr("localhost").unwrap_err().contains("no port"));
        assert!(
            parse_addr("no-such-host.invalid:80")
                .unwrap_err()
                .contains("cannot resolve")
        );
    }
}

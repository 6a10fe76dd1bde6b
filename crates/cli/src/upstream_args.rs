//! `--to-upstream-playlist NAME` of `mix` and `recommend`: the songs a command printed also go,
//! in order, into a playlist on a Subsonic server (Navidrome, Supysonic, ...) that holds the same
//! music, as `musicrec serve --upstream`'s `POST /api/upstream/playlist` does, but without a
//! server: the upstream's library is read now and matched to these songs only
//! ([`musicrec_server::push_playlist`]).

use std::time::Duration;

use anyhow::{Context, bail};
use musicrec_catalog::{CatalogStore, TrackId};
use musicrec_server::upstream::tag_key;
use musicrec_server::{CatalogSong, Upstream, UpstreamConfig, UpstreamError, push_playlist};

use crate::playlist::Song;

/// Where the upstream password is read from (never the command line).
const PASSWORD_ENV: &str = "MUSICREC_UPSTREAM_PASSWORD";
/// Songs without an upstream match named in the report line.
const NAMED_MISSING: usize = 3;

/// The upstream-playlist options, flattened into a command's arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct UpstreamPlaylistArgs {
    /// Also put these songs, in order, into the playlist NAME on the Subsonic server --upstream
    /// (Navidrome, Supysonic, ...) holding the same music: created, or replaced if
    /// --upstream-user has one of that name. Songs are matched by path, else by artist, title
    /// and duration; the password comes from MUSICREC_UPSTREAM_PASSWORD.
    #[arg(long, value_name = "NAME")]
    pub to_upstream_playlist: Option<String>,
    /// The Subsonic server for --to-upstream-playlist, as http://HOST:PORT.
    #[arg(long, value_name = "URL", requires = "to_upstream_playlist")]
    pub upstream: Option<String>,
    /// The user on --upstream who owns the playlist; the password comes from the environment
    /// variable MUSICREC_UPSTREAM_PASSWORD, never the command line.
    #[arg(long, value_name = "USER", env = "MUSICREC_UPSTREAM_USER")]
    pub upstream_user: Option<String>,
}

impl UpstreamPlaylistArgs {
    /// The playlist name and how to reach the upstream, when --to-upstream-playlist is given;
    /// an error that says what is missing. Call it before the work, so that a mistake is
    /// reported before anything is printed.
    pub fn config(&self) -> anyhow::Result<Option<(String, UpstreamConfig)>> {
        let Some(name) = &self.to_upstream_playlist else {
            return Ok(None);
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("--to-upstream-playlist: the playlist name is empty");
        }
        let Some(url) = &self.upstream else {
            bail!(
                "--to-upstream-playlist needs the Subsonic server: add --upstream http://HOST:PORT"
            );
        };
        let user = self
            .upstream_user
            .clone()
            .filter(|u| !u.trim().is_empty())
            .context(
                "--to-upstream-playlist needs the user on the upstream: add --upstream-user USER (or set MUSICREC_UPSTREAM_USER)",
            )?;
        let password = std::env::var(PASSWORD_ENV).map_err(|_| {
            anyhow::anyhow!(
                "--to-upstream-playlist needs the password of {user} on the upstream in the environment variable {PASSWORD_ENV}"
            )
        })?;
        Ok(Some((
            name.to_owned(),
            UpstreamConfig {
                url: url.clone(),
                user,
                password,
                // Read once: no refresh.
                refresh_every: Duration::from_secs(3600),
            },
        )))
    }

    /// With --to-upstream-playlist: creates or replaces the playlist with `songs` (in order) and
    /// says so in one line on stderr; without it, nothing.
    pub fn push(&self, store: &dyn CatalogStore, songs: &[Song]) -> anyhow::Result<()> {
        let Some((name, config)) = self.config()? else {
            return Ok(());
        };
        if songs.is_empty() {
            bail!("no songs to put in the upstream playlist {name:?}");
        }
        let mut tracks = Vec::with_capacity(songs.len());
        for song in songs {
            tracks.push(match store.track(TrackId(song.id))? {
                Some(track) => CatalogSong::of(track),
                None => CatalogSong {
                    id: song.id,
                    path: song.path.clone(),
                    key: tag_key(song.artist.as_deref(), song.title.as_deref()),
                    duration: song.duration_secs,
                },
            });
        }
        let url = config.url.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the HTTP client's runtime")?;
        let pushed = runtime
            .block_on(async {
                let upstream = Upstream::new(config)?;
                push_playlist(&upstream, &name, &tracks).await
            })
            .map_err(|e| {
                let hint = match &e {
                    UpstreamError::Failed { code: 40, .. } => {
                        " (check --upstream-user and MUSICREC_UPSTREAM_PASSWORD)"
                    }
                    UpstreamError::Unreachable { .. } | UpstreamError::Http { .. } => {
                        " (is the server running, and is --upstream its http://HOST:PORT?)"
                    }
                    UpstreamError::NoSongsOnUpstream { .. } => {
                        " (songs are matched by their path below its music folder, else by artist, title and duration: does it hold the same files?)"
                    }
                    _ => "",
                };
                anyhow::anyhow!("cannot make the playlist {name:?} on {url}: {e}{hint}")
            })?;
        let names: Vec<String> = pushed
            .skipped
            .iter()
            .take(NAMED_MISSING)
            .filter_map(|id| songs.iter().find(|s| s.id == *id))
            .map(Song::name)
            .collect();
        let missing = match pushed.skipped.len() {
            0 => String::new(),
            n => format!(
                " ({n} not on the upstream: {}{})",
                names.join(", "),
                if n > names.len() { ", ..." } else { "" }
            ),
        };
        eprintln!(
            "playlist {:?} on {url}: {} with {} songs{missing}",
            pushed.name,
            if pushed.replaced {
                "replaced"
            } else {
                "created"
            },
            pushed.songs,
        );
        Ok(())
    }
}

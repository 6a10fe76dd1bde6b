//! `musicrec mpd`: keeps a Music Player Daemon's queue going with songs like the ones it plays, or
//! queues a one-shot mix like the current song (`--mix K`). The MPD client and the radio are
//! `musicrec_mpd`'s; this turns the flags into its settings and prints its events (songs queued
//! on stdout, the rest on stderr).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use musicrec_app::RecommendMethod;
use musicrec_mpd::{Event, Mode, Settings};

/// Keep an MPD queue going with songs like the ones it plays, or queue a mix like the current song.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Without --mix, musicrec runs until stopped: it waits for MPD's player and queue events (no \
polling), and whenever fewer than --queue songs wait after the current one it appends songs like \
the last five of the queue, one line per song on stdout. Songs in the queue, songs played since \
it started, songs MPD refused and (with --user) the user's disliked songs are not queued; \
the dislikes also steer the choice away (Rocchio), while liked songs may come back. When MPD goes \
away it says so and reconnects (after 1 s, doubling up to 30 s); an MPD not up yet is waited for the same way. The catalog is read once at \
start: restart it after a scan.

--mix K queues K songs like the current one (or the last of the queue when nothing plays) and exits.

MPD names songs by paths relative to its music_directory; the catalog holds absolute paths. \
musicrec learns the folder from --music-dir, else from MPD's `config` (answered over a unix \
socket only: --host /run/mpd/socket), else from the first queued song whose path in the catalog \
ends with MPD's (this needs no setting, and works over TCP too). Catalog songs outside that \
folder are skipped with a note; so are queue songs that are not in the catalog.

Connection: --host and --port, else MPD_HOST and MPD_PORT, else localhost:6600. A host of the form \
PASSWORD@HOST sends the password; a host starting with / is a unix socket.

Examples:
  musicrec mpd                                  # keep 3 songs waiting after the current one
  musicrec mpd --queue 5 --method genre --max-per-artist 2 --user ann
  musicrec mpd --mix 20                         # 20 songs like the one playing, then exit
  musicrec mpd --host /run/mpd/socket           # the music folder comes from MPD's config
  MPD_HOST=secret@media musicrec mpd --music-dir /srv/music --db /srv/music.db")]
pub struct Args {
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// MPD's host name or address, PASSWORD@HOST, or a unix socket's path.
    #[arg(
        long,
        value_name = "HOST",
        env = "MPD_HOST",
        default_value = "localhost"
    )]
    host: String,
    /// MPD's TCP port.
    #[arg(long, value_name = "PORT", env = "MPD_PORT", default_value_t = 6600)]
    port: u16,
    /// Keep at least N songs waiting after the current one (3: a listener who skips a few does
    /// not run dry, and few songs are queued that a change of mind leaves behind).
    #[arg(long, value_name = "N", default_value_t = 3, conflicts_with = "mix")]
    queue: usize,
    /// Queue K songs like the current one (or the last of the queue) and exit.
    #[arg(long, value_name = "K")]
    mix: Option<usize>,
    /// similarity (method 1: embeddings only) or genre (method 2: plus genre probabilities).
    #[arg(long, default_value = "similarity", value_parser = ["similarity", "genre"])]
    method: String,
    /// At most N songs by one artist among the songs waiting (untagged files count by folder).
    #[arg(long, value_name = "N")]
    max_per_artist: Option<usize>,
    /// Model whose embeddings to use, as for `recommend` [default: as for `recommend`].
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
    /// Steer away from this user's dislikes (`musicrec feedback`), which are never queued; their
    /// liked songs may be.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// MPD's music_directory as this machine sees it (needed over TCP when no catalog path ends
    /// with an MPD path, e.g. when the catalog was scanned through a different mount).
    #[arg(long, value_name = "DIR")]
    music_dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.mix == Some(0) {
        bail!("--mix must be at least 1");
    }
    if args.queue == 0 {
        bail!("--queue must be at least 1");
    }
    if args.max_per_artist == Some(0) {
        bail!("--max-per-artist must be at least 1");
    }
    let (store, model) = crate::models::load(args.db.as_deref(), args.model.as_deref())?;
    let method = if args.method == "genre" {
        if model.set.model.genres.is_empty() {
            let id = &model.model_id;
            bail!("--method genre needs genre probabilities, and model {id} has no genres");
        }
        RecommendMethod::Genre
    } else {
        RecommendMethod::Similarity
    };
    let settings = Settings {
        host: args.host,
        port: args.port,
        mode: match args.mix {
            Some(songs) => Mode::Mix { songs },
            None => Mode::KeepGoing {
                waiting: args.queue,
            },
        },
        method,
        max_per_artist: args.max_per_artist,
        user: args.user,
        music_dir: args.music_dir,
    };
    // A closed stdout stops the radio; `main` finds the `StdoutError` among the causes.
    musicrec_mpd::run(&model, store.as_ref(), &settings, |event| {
        match &event {
            Event::Queued { .. } => outln!("{event}")?,
            event if event.is_note() => eprintln!("note: {event}"),
            event => eprintln!("{event}"),
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

//! `musicrec feedback`: records a user's like or dislike of a catalog track (the user is created
//! on their first rating). Later `musicrec recommend --user NAME` moves towards liked and away
//! from disliked songs and never returns a disliked one.

use std::process::ExitCode;

use musicrec_catalog::Rating;

/// Record that a user likes or dislikes a song.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
TRACK is a file path, a catalog id, or \"artist - title\" (or a title) as tagged.

Examples:
  musicrec feedback --user ann --track ~/Music/a.mp3 --like
  musicrec feedback --user ann --track \"Miles Davis - So What\" --dislike")]
pub struct Args {
    /// The listener (created on their first rating).
    #[arg(long, value_name = "NAME")]
    user: String,
    /// The song.
    #[arg(long, value_name = "TRACK")]
    track: String,
    /// They like it.
    #[arg(long, conflicts_with = "dislike", required_unless_present = "dislike")]
    like: bool,
    /// They do not like it (it will not be recommended to them again).
    #[arg(long)]
    dislike: bool,
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut store = musicrec_app::store::open_existing(args.db.as_deref())?;
    let rating = if args.like {
        Rating::Like
    } else {
        Rating::Dislike
    };
    let track = musicrec_app::rate_track(store.as_mut(), &args.user, &args.track, rating)?;
    outln!(
        "{} {} {} [id {}]",
        args.user.trim(),
        if args.like { "likes" } else { "dislikes" },
        track.display_name(),
        track.id
    )?;
    Ok(ExitCode::SUCCESS)
}

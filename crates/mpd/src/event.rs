//! What the radio tells its front end while it works.
//!
//! Each event displays as the line `musicrec mpd` prints for it (the CLI prints
//! [`Event::Queued`] on standard output, the others on standard error, notes after `note: `),
//! so that another front end can show the same words.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How MPD's music directory became known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MusicDirSource {
    /// MPD's `config` command (answered over a unix socket only).
    Config,
    /// The one catalog path that ends with the path MPD gave for this song.
    CatalogPath { uri: String },
}

/// Something the radio did or noticed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// The listener whose dislikes steer the choice has rated nothing (yet).
    NoRatings { user: String },
    /// The daemon starts: it keeps `waiting` songs after the current one.
    KeepingGoing { waiting: usize, address: String },
    /// MPD's music directory is known now (it was not given).
    MusicDir { dir: PathBuf, from: MusicDirSource },
    /// A queue song is not in the catalog (or not embedded with this model): it is skipped.
    NotInCatalog { uri: String },
    /// Several catalog tracks end with a queue song's path, and the music directory is unknown.
    Ambiguous { uri: String },
    /// No queue song is in the catalog: there is nothing to choose songs like.
    NoSeeds,
    /// A catalog track lies outside MPD's music directory: MPD cannot play it, it is skipped.
    OutsideMusicDir {
        path: PathBuf,
        music_dir: Option<PathBuf>,
    },
    /// MPD queued a song (`name`: "Artist - Title" when the track has both tags).
    Queued { uri: String, name: Option<String> },
    /// MPD would not add a song (not in its database yet?): it is not offered again.
    Refused { uri: String, message: String },
    /// The daemon found fewer songs to queue than were missing.
    RunningOut,
    /// A mix found fewer songs than asked for.
    MixShort { queued: usize, asked: usize },
    /// MPD cannot be reached (not up yet): the daemon tries again after `retry_in`.
    Waiting {
        address: String,
        error: String,
        retry_in: Duration,
    },
    /// The connection to MPD was lost: the daemon reconnects after `retry_in`.
    Lost {
        address: String,
        error: String,
        retry_in: Duration,
    },
    /// The daemon reached MPD again.
    Reconnected { address: String },
}

impl Event {
    /// Whether the event is a note (printed after `note: `) rather than a report of progress.
    pub fn is_note(&self) -> bool {
        !matches!(
            self,
            Event::KeepingGoing { .. } | Event::Queued { .. } | Event::Reconnected { .. }
        )
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::NoRatings { user } => {
                write!(f, "{user} has rated nothing yet: nothing to steer by")
            }
            Event::KeepingGoing { waiting, address } => write!(
                f,
                "keeping {waiting} songs waiting in MPD's queue at {address} (Ctrl-C ends)"
            ),
            Event::MusicDir { dir, from } => {
                write!(f, "MPD's music directory is {} (", dir.display())?;
                match from {
                    MusicDirSource::Config => f.write_str("from MPD's config)"),
                    MusicDirSource::CatalogPath { uri } => {
                        write!(f, "the catalog's path of {uri})")
                    }
                }
            }
            Event::NotInCatalog { uri } => {
                write!(f, "{uri} is not in the catalog (with this model): skipped")
            }
            Event::Ambiguous { uri } => write!(
                f,
                "several catalog tracks end with {uri}: skipped (give --music-dir)"
            ),
            Event::NoSeeds => f.write_str(
                "none of the queue's songs is in the catalog: nothing to choose songs like",
            ),
            Event::OutsideMusicDir { path, music_dir } => {
                let dir = music_dir
                    .as_ref()
                    .map_or("unknown".to_owned(), |d| d.display().to_string());
                write!(
                    f,
                    "{} is outside MPD's music directory ({dir}): skipped",
                    path.display()
                )
            }
            Event::Queued {
                uri,
                name: Some(name),
            } => write!(f, "queued {name}  ({uri})"),
            Event::Queued { uri, name: None } => write!(f, "queued {uri}"),
            Event::Refused { uri, message } => write!(
                f,
                "MPD did not add {uri} ({message}: is its database up to date?); skipped"
            ),
            Event::RunningOut => {
                f.write_str("the catalog has no more songs that fit: the queue may run out")
            }
            Event::MixShort { queued, asked } => write!(
                f,
                "{queued} of {asked} songs queued: the catalog has no more that fit"
            ),
            Event::Waiting {
                address,
                error,
                retry_in,
            } => write!(
                f,
                "MPD at {address} is not reachable ({error}); retrying in {} s",
                retry_in.as_secs()
            ),
            Event::Lost {
                address,
                error,
                retry_in,
            } => write!(
                f,
                "lost MPD at {address} ({error}); reconnecting in {} s",
                retry_in.as_secs()
            ),
            Event::Reconnected { address } => write!(f, "reconnected to MPD at {address}"),
        }
    }
}

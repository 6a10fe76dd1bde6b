//! Why [`crate::run`] stopped.

use musicrec_app::AppError;
use musicrec_catalog::CatalogError;

use crate::{Address, MpdError};

/// What an event callback returns when it cannot go on (a closed standard output, say): the
/// radio stops and returns it as [`Error::Events`].
pub type EventError = Box<dyn std::error::Error + Send + Sync>;

/// Why the radio stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The settings contradict themselves or the model (a count of 0, a method the radio does
    /// not rank by, genres the model lacks).
    #[error("{0}")]
    Invalid(String),
    /// The MPD host cannot be used.
    #[error("{0}")]
    Host(String),
    /// The first connection failed (a mix, or an error no reconnection cures).
    #[error("cannot reach MPD at {address}")]
    Unreachable {
        address: Address,
        #[source]
        source: MpdError,
    },
    /// A reconnection failed in a way no further attempt cures.
    #[error("MPD at {address}")]
    Reconnect {
        address: Address,
        #[source]
        source: MpdError,
    },
    /// MPD refused a command, or the connection failed in the middle of a mix.
    #[error(transparent)]
    Mpd(#[from] MpdError),
    /// The catalog failed (reading the listener's ratings).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The ranking failed.
    #[error("recommendation failed")]
    Recommend(#[source] AppError),
    /// `--mix`: MPD plays nothing and its queue is empty.
    #[error("MPD plays nothing and its queue is empty: play a song to make a mix like it")]
    NothingPlays,
    /// `--mix`: the song to make a mix like is not in the catalog.
    #[error("{uri} is not in the catalog: scan MPD's music folder with `musicrec scan DIR` first")]
    SeedNotInCatalog { uri: String },
    /// `--mix`: not one song could be queued.
    #[error("no song could be queued (see the notes above)")]
    NothingQueued,
    /// The event callback failed; the radio stopped.
    #[error("{0}")]
    Events(#[source] EventError),
}

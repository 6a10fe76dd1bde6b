//! musicrec's companion for the Music Player Daemon: keeps an MPD queue going with songs like the
//! ones it plays (as blissify does), or queues a one-shot mix like the current song. [`run`] takes
//! a loaded model ([`musicrec_app::ModelIndex`]), the catalog (only read) and [`Settings`], and
//! reports what it does as [`Event`]s to a callback: the front end decides how to show them.
//!
//! It owns MPD's text protocol ([`Connection`], [`Address`]: TCP or unix socket, password,
//! commands, `idle`), the mapping of MPD's song URIs to catalog tracks and back (MPD's music
//! directory given, read from MPD's `config`, or learned from the catalog), the daemon loop
//! (reconnecting with a backoff of 1 s doubling up to 30 s) and the choice of the songs to queue
//! ([`choose_tracks`]), whose ranking is [`musicrec_app::recommend()`], the service the CLI and the
//! server share.
//!
//! Sits above `app`, `catalog` and `recommend`; it must not import the CLI (`musicrec`) or the
//! server (`musicrec-server`).

mod choose;
mod error;
mod event;
mod library;
mod protocol;
mod radio;

pub use choose::{Choice, choose_tracks, seeds_from_queue};
pub use error::{Error, EventError};
pub use event::{Event, MusicDirSource};
pub use protocol::{Address, Connection, MpdError, quote};
pub use radio::{Mode, Settings, run};

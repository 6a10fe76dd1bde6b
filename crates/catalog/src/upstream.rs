//! The songs of another music server (a Subsonic server musicrec is the companion of) and the
//! catalog track each one is, kept so that a restart serves the upstream's ids at once and each
//! sync only records what changed. Keyed by the upstream (its URL and user) and its song id: a
//! song renamed or retagged upstream keeps its id and is updated in place, never duplicated.

use crate::{Result, TrackId};

/// An upstream song and the catalog track it was matched to.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamSong {
    /// The upstream's song id.
    pub upstream_id: String,
    /// The catalog track, when matched.
    pub track: Option<TrackId>,
    /// How it was matched (`path`, `tags`), when it was.
    pub matched_by: Option<String>,
    /// The upstream's description of the song (a Subsonic `Child`, as JSON text), answered to
    /// clients as the upstream gave it.
    pub song_json: String,
}

/// What a sync changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpstreamSync {
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    pub unchanged: u64,
}

/// The stored upstream songs of a catalog.
pub trait UpstreamStore {
    /// Every stored song of `upstream`, by upstream id.
    fn upstream_songs(&self, upstream: &str) -> Result<Vec<UpstreamSong>>;

    /// Makes the stored songs of `upstream` exactly `songs` in one transaction: new ids added,
    /// changed ones updated, ids no longer listed removed. Refuses a list with an id twice.
    fn sync_upstream_songs(
        &mut self,
        upstream: &str,
        songs: &[UpstreamSong],
    ) -> Result<UpstreamSync>;
}

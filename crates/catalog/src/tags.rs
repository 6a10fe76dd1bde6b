//! Track tags (artist, title, album, genre, year) read with lofty.
//!
//! Tags are optional metadata: a file lofty cannot parse (or without tags, like most WAVs)
//! yields empty [`TrackTags`], never an error, because the audio itself may still be fine.

use std::path::Path;

use lofty::config::ParseOptions;
use lofty::file::TaggedFileExt;
use lofty::probe::Probe;
use lofty::tag::Accessor;

use crate::TrackTags;

/// Reads the primary tag (or the first tag present) of `path`.
pub fn read_tags(path: &Path) -> TrackTags {
    // Lofty logs odd tags as warnings that do not name the file; this span puts the name on each
    // of its lines. At WARN level so that it is on whenever those warnings are shown.
    let _file = tracing::warn_span!("tags", file = %path.display()).entered();
    let probe = match Probe::open(path).map(|probe| probe.guess_file_type()) {
        Ok(Ok(probe)) => probe,
        Ok(Err(err)) => {
            tracing::debug!("{}: no tags: {err}", path.display());
            return TrackTags::default();
        }
        Err(err) => {
            tracing::debug!("{}: no tags: {err}", path.display());
            return TrackTags::default();
        }
    };
    // Audio properties (duration, bitrate) come from the decoder; skipping them here saves
    // a frame scan on some MP3s.
    let tagged = match probe
        .options(ParseOptions::new().read_properties(false))
        .read()
    {
        Ok(tagged) => tagged,
        Err(err) => {
            tracing::debug!("{}: no tags: {err}", path.display());
            return TrackTags::default();
        }
    };
    let Some(tag) = tagged.primary_tag().or_else(|| tagged.first_tag()) else {
        return TrackTags::default();
    };
    let text = |value: Option<std::borrow::Cow<'_, str>>| {
        value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    };
    TrackTags {
        artist: text(tag.artist()),
        title: text(tag.title()),
        album: text(tag.album()),
        genre: text(tag.genre()),
        year: tag.date().map(|date| i32::from(date.year)),
    }
}

//! The catalog's tracks by path, and MPD's music directory (once known): MPD URI <-> track id.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use musicrec_catalog::{EmbeddingSet, TrackId, TrackSummary};

use crate::{Event, MusicDirSource};

pub(crate) struct Library<'a> {
    pub(crate) set: &'a EmbeddingSet,
    by_path: HashMap<&'a Path, usize>,
    pub(crate) music_dir: Option<PathBuf>,
    /// Lookups made (a queue is looked up at every event; a suffix search scans the catalog).
    known: HashMap<String, Known>,
    /// The music directory just learned, to be told (see [`Library::news`]).
    news: Option<Event>,
}

/// A queue song as the catalog knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Known {
    Track(i64),
    /// Not in the catalog (or not embedded with the model in use).
    Unknown,
    /// Several catalog tracks end with the song's path, and the music directory is unknown.
    Ambiguous,
}

impl<'a> Library<'a> {
    pub(crate) fn new(set: &'a EmbeddingSet, music_dir: Option<&Path>) -> Self {
        let by_path = set
            .tracks
            .iter()
            .enumerate()
            .map(|(row, t)| (t.path.as_path(), row))
            .collect();
        Self {
            set,
            by_path,
            music_dir: music_dir.map(canonical),
            known: HashMap::new(),
            news: None,
        }
    }

    /// Takes MPD's music directory when none was given (and keeps the news to tell).
    pub(crate) fn set_music_dir(&mut self, dir: &Path, from: MusicDirSource) {
        if self.music_dir.is_none() {
            let dir = canonical(dir);
            self.news = Some(Event::MusicDir {
                dir: dir.clone(),
                from,
            });
            self.music_dir = Some(dir);
            self.known.clear();
        }
    }

    /// The [`Event::MusicDir`] of a music directory learned since the last call.
    pub(crate) fn news(&mut self) -> Option<Event> {
        self.news.take()
    }

    pub(crate) fn track(&self, row: usize) -> &'a TrackSummary {
        &self.set.tracks[row]
    }

    /// The catalog track of an MPD song URI.
    pub(crate) fn lookup(&mut self, uri: &str) -> Known {
        if let Some(&known) = self.known.get(uri) {
            return known;
        }
        let known = self.find(uri);
        self.known.insert(uri.to_owned(), known);
        known
    }

    fn find(&mut self, uri: &str) -> Known {
        if uri.contains("://") {
            return Known::Unknown; // a stream
        }
        let relative = Path::new(uri);
        if relative.is_absolute() {
            // MPD gives local files outside its music directory as absolute paths.
            return self.by_path(relative).map_or(Known::Unknown, Known::Track);
        }
        if let Some(dir) = &self.music_dir {
            let path = dir.join(relative);
            if let Some(id) = self.by_path(&path) {
                return Known::Track(id);
            }
        }
        // A catalog path that ends with MPD's: needs no configuration, and teaches the directory.
        let mut matches = self
            .set
            .tracks
            .iter()
            .filter(|t| t.path.ends_with(relative));
        let (Some(first), second) = (matches.next(), matches.next()) else {
            return Known::Unknown;
        };
        if second.is_some() {
            return Known::Ambiguous;
        }
        if self.music_dir.is_none()
            && let Some(dir) = first.path.ancestors().nth(relative.components().count())
        {
            let dir = dir.to_path_buf();
            let from = MusicDirSource::CatalogPath {
                uri: uri.to_owned(),
            };
            self.set_music_dir(&dir, from);
        }
        Known::Track(first.id.0)
    }

    fn by_path(&self, path: &Path) -> Option<i64> {
        let row = match self.by_path.get(path) {
            Some(&row) => row,
            None => *self.by_path.get(canonical(path).as_path())?,
        };
        Some(self.track(row).id.0)
    }

    /// The catalog path of a track.
    pub(crate) fn path(&self, id: i64) -> Option<&'a Path> {
        let row = self.set.row_of(TrackId(id))?;
        Some(self.track(row).path.as_path())
    }

    /// The URI MPD knows a catalog track by: its path under the music directory.
    pub(crate) fn uri(&self, id: i64) -> Option<String> {
        let relative = self.path(id)?.strip_prefix(self.music_dir.as_ref()?).ok()?;
        let parts: Option<Vec<&str>> = relative
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect();
        Some(parts?.join("/"))
    }

    /// "Artist - Title" when the track has both tags (else its URI says more than its file name).
    pub(crate) fn name(&self, id: i64) -> Option<String> {
        let track = self.track(self.set.row_of(TrackId(id))?);
        match (&track.artist, &track.title) {
            (Some(artist), Some(title)) => Some(format!("{artist} - {title}")),
            _ => None,
        }
    }
}

/// `path` with links resolved when it exists here (catalog paths are canonical).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choose::tests::set;

    #[test]
    fn uris_map_to_tracks_and_back_and_teach_the_music_directory() {
        let set = set();
        let mut library = Library::new(&set, None);
        assert_eq!(library.uri(1), None, "no music directory yet");
        assert_eq!(library.lookup("a/1.wav"), Known::Track(1));
        assert_eq!(
            library.news(),
            Some(Event::MusicDir {
                dir: PathBuf::from("/nonexistent/music"),
                from: MusicDirSource::CatalogPath {
                    uri: "a/1.wav".into()
                },
            })
        );
        assert_eq!(library.news(), None);
        assert_eq!(library.uri(4).as_deref(), Some("b/4.wav"));
        assert_eq!(library.lookup("b/5.wav"), Known::Track(5));
        assert_eq!(
            library.lookup("/nonexistent/music/b/6.wav"),
            Known::Track(6)
        );
        assert_eq!(library.lookup("c/7.wav"), Known::Unknown);
        assert_eq!(library.lookup("http://radio/stream"), Known::Unknown);
        assert_eq!(library.name(2).as_deref(), Some("a - song 2"));
    }

    #[test]
    fn a_path_several_tracks_end_with_is_ambiguous_without_the_directory() {
        let mut set = set();
        set.tracks[3].path = PathBuf::from("/elsewhere/a/1.wav");
        let mut library = Library::new(&set, None);
        assert_eq!(library.lookup("a/1.wav"), Known::Ambiguous);
        let mut library = Library::new(&set, Some(Path::new("/elsewhere")));
        assert_eq!(library.lookup("a/1.wav"), Known::Track(4));
        assert_eq!(library.news(), None, "a given directory is not news");
    }
}

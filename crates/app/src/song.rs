//! Songs as front ends show them, and M3U playlists in and out: the rows of `recommend`, `mix`
//! and `path` (table, JSON, M3U), and the songs a playlist file names (`--seeds-from`).

use std::path::{Path, PathBuf};

use musicrec_catalog::{CatalogStore, EmbeddingSet, TrackId};
use serde::Serialize;

use crate::error::{AppError, Result};

/// A catalog song as front ends show it; its JSON form is the API's.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Song {
    pub id: i64,
    pub path: PathBuf,
    pub artist: Option<String>,
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    pub genre: Option<String>,
    #[serde(skip)]
    pub duration_secs: Option<f64>,
}

impl Song {
    /// A track of `set` (its tags, path and top genre) with an optional score. Generic in the
    /// error so that callers collecting songs into their own result type need no conversion.
    pub fn of<E: From<AppError>>(
        store: &dyn CatalogStore,
        set: &EmbeddingSet,
        id: TrackId,
        score: Option<f32>,
    ) -> Result<Song, E> {
        let row = set.row_of(id).ok_or_else(|| {
            AppError::NotFound(format!("track {id} vanished from the embedding set"))
        })?;
        let track = &set.tracks[row];
        Ok(Song {
            id: id.0,
            path: track.path.clone(),
            artist: track.artist.clone(),
            title: track.title.clone(),
            score,
            genre: set.top_genre(row).map(|g| set.model.genres[g].clone()),
            duration_secs: store
                .track(id)
                .map_err(AppError::from)?
                .and_then(|t| t.duration_secs),
        })
    }

    /// "artist - title" when both are tagged, else the file name.
    pub fn name(&self) -> String {
        match (&self.artist, &self.title) {
            (Some(artist), Some(title)) => format!("{artist} - {title}"),
            _ => file_name(&self.path),
        }
    }
}

/// The file name of `path` (the whole path when it has none), as songs without tags are named.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// An M3U playlist as [`m3u`] writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M3u {
    pub text: String,
    /// Songs outside the base folder, written with their absolute paths.
    pub outside: usize,
}

/// Extended M3U: `#EXTINF:<seconds>,<artist - title>` then the path: absolute, or relative to
/// `base` (an absolute, canonical folder) when given: a playlist kept beside the music, or read
/// by a player whose library root differs. A song outside `base` keeps its absolute path.
pub fn m3u(songs: &[Song], base: Option<&Path>) -> M3u {
    let mut outside = 0;
    let mut text = String::from("#EXTM3U\n");
    for song in songs {
        let secs = song.duration_secs.map_or(-1, |d| d.round() as i64);
        text.push_str(&format!("#EXTINF:{secs},{}\n", song.name()));
        let path = match base.map(|dir| song.path.strip_prefix(dir)) {
            Some(Ok(relative)) => relative,
            Some(Err(_)) => {
                outside += 1;
                song.path.as_path()
            }
            None => song.path.as_path(),
        };
        text.push_str(&format!("{}\n", path.display()));
    }
    M3u { text, outside }
}

/// The songs an M3U/M3U8 playlist names, in order: comment and `#EXT` lines skipped, `file://`
/// URLs and paths relative to the playlist's folder made absolute. Web URLs are skipped.
pub fn read_m3u(file: &Path) -> Result<Vec<PathBuf>> {
    let bytes = std::fs::read(file)
        .map_err(|e| AppError::NotFound(format!("cannot read playlist {}: {e}", file.display())))?;
    // M3U of old players is Latin-1 more often than not; M3U8 is UTF-8.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect());
    let folder = file.parent().unwrap_or(Path::new("."));
    Ok(text
        .lines()
        .map(|line| line.trim_start_matches('\u{feff}').trim())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let path = match line.strip_prefix("file://") {
                Some(rest) => PathBuf::from(percent_decode(rest)),
                None if line.contains("://") => return None,
                None => PathBuf::from(line.replace('\\', "/")),
            };
            Some(if path.is_absolute() {
                path
            } else {
                folder.join(path)
            })
        })
        .collect())
}

/// `%20` and friends in a `file://` URL; an invalid escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song(path: &str) -> Song {
        Song {
            id: 1,
            path: PathBuf::from(path),
            artist: Some("A".into()),
            title: Some("T".into()),
            score: None,
            genre: None,
            duration_secs: Some(29.6),
        }
    }

    #[test]
    fn m3u_round_trips_with_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let inside = base.join("sub/a b.flac");
        let songs = [song(inside.to_str().unwrap()), song("/elsewhere/c.mp3")];
        let written = m3u(&songs, Some(&base));
        assert_eq!(
            written.text,
            "#EXTM3U\n#EXTINF:30,A - T\nsub/a b.flac\n#EXTINF:30,A - T\n/elsewhere/c.mp3\n"
        );
        assert_eq!(written.outside, 1);
        let list = base.join("mix.m3u8");
        std::fs::write(
            &list,
            format!(
                "\u{feff}{}file:///x/d%20e.ogg\nhttp://radio/stream\n\n",
                written.text
            ),
        )
        .unwrap();
        assert_eq!(
            read_m3u(&list).unwrap(),
            [
                inside,
                PathBuf::from("/elsewhere/c.mp3"),
                PathBuf::from("/x/d e.ogg")
            ]
        );
        assert!(read_m3u(&base.join("none.m3u")).is_err());
    }
}

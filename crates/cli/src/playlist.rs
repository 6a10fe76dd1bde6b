//! Songs as commands print them, and M3U playlists in and out: the rows of `recommend`, `mix` and
//! `path` (table, JSON, M3U), and the seeds a `--seeds-from FILE.m3u` names.

use std::path::{Path, PathBuf};

use anyhow::Context;
use musicrec_catalog::{CatalogStore, EmbeddingSet, TrackId};
use serde::Serialize;

use crate::table::{Align, Column, Fit};

/// A catalog song as commands print it; its JSON form is the API's.
#[derive(Serialize, Debug, Clone)]
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
    /// A track of `set` (its tags, path and top genre) with an optional score.
    pub fn of(
        store: &dyn CatalogStore,
        set: &EmbeddingSet,
        id: TrackId,
        score: Option<f32>,
    ) -> anyhow::Result<Song> {
        let row = set
            .row_of(id)
            .with_context(|| format!("track {id} vanished from the embedding set"))?;
        let track = &set.tracks[row];
        Ok(Song {
            id: id.0,
            path: track.path.clone(),
            artist: track.artist.clone(),
            title: track.title.clone(),
            score,
            genre: set.top_genre(row).map(|g| set.model.genres[g].clone()),
            duration_secs: store.track(id)?.and_then(|t| t.duration_secs),
        })
    }

    /// "artist - title" when both are tagged, else the file name.
    pub fn name(&self) -> String {
        match (&self.artist, &self.title) {
            (Some(artist), Some(title)) => format!("{artist} - {title}"),
            _ => self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.path.display().to_string()),
        }
    }
}

/// The table of ranked songs (`recommend`, `mix`): rank, id, score, top genre, name, path.
pub fn print_ranked(songs: &[Song]) -> anyhow::Result<()> {
    const COLUMNS: [Column; 6] = [
        Column::new("#", Align::Right, Fit::Fixed),
        Column::new("id", Align::Right, Fit::Fixed),
        Column::new("score", Align::Right, Fit::Fixed),
        Column::new("genre", Align::Left, Fit::Fixed),
        Column::new("song", Align::Left, Fit::CutEnd),
        Column::new("path", Align::Left, Fit::CutStart),
    ];
    let rows: Vec<Vec<String>> = songs
        .iter()
        .enumerate()
        .map(|(rank, song)| {
            vec![
                (rank + 1).to_string(),
                song.id.to_string(),
                format!("{:.4}", song.score.unwrap_or(f32::NAN)),
                song.genre.clone().unwrap_or_else(|| "-".to_owned()),
                song.name(),
                song.path.display().to_string(),
            ]
        })
        .collect();
    print_rows(&COLUMNS, &rows)
}

/// `rows` under `columns`, fitted to the terminal.
pub fn print_rows(columns: &[Column], rows: &[Vec<String>]) -> anyhow::Result<()> {
    for line in crate::table::render(columns, rows, crate::table::output_width()) {
        outln!("{line}")?;
    }
    Ok(())
}

/// Extended M3U: `#EXTINF:<seconds>,<artist - title>` then the path: absolute, or relative to
/// `base` when given (a playlist kept beside the music, or read by a player whose library root
/// differs). A song outside `base` keeps its absolute path, with a note.
pub fn m3u(songs: &[Song], base: Option<&Path>) -> anyhow::Result<String> {
    let base = base
        .map(|dir| {
            std::fs::canonicalize(dir)
                .with_context(|| format!("--base {}: no such folder", dir.display()))
        })
        .transpose()?;
    let mut outside = 0;
    let mut out = String::from("#EXTM3U\n");
    for song in songs {
        let secs = song.duration_secs.map_or(-1, |d| d.round() as i64);
        out.push_str(&format!("#EXTINF:{secs},{}\n", song.name()));
        let path = match &base {
            Some(dir) => match song.path.strip_prefix(dir) {
                Ok(relative) => relative,
                Err(_) => {
                    outside += 1;
                    song.path.as_path()
                }
            },
            None => song.path.as_path(),
        };
        out.push_str(&format!("{}\n", path.display()));
    }
    if outside > 0 {
        eprintln!(
            "note: {outside} of {} songs lie outside --base {} and keep their absolute paths",
            songs.len(),
            base.as_deref().unwrap_or(Path::new("")).display()
        );
    }
    Ok(out)
}

/// The songs an M3U/M3U8 playlist names, in order: comment and `#EXT` lines skipped, `file://`
/// URLs and paths relative to the playlist's folder made absolute. Web URLs are skipped.
pub fn read_m3u(file: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let bytes =
        std::fs::read(file).with_context(|| format!("cannot read playlist {}", file.display()))?;
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
        let text = m3u(&songs, Some(&base)).unwrap();
        assert_eq!(
            text,
            "#EXTM3U\n#EXTINF:30,A - T\nsub/a b.flac\n#EXTINF:30,A - T\n/elsewhere/c.mp3\n"
        );
        let list = base.join("mix.m3u8");
        std::fs::write(
            &list,
            format!("\u{feff}{text}file:///x/d%20e.ogg\nhttp://radio/stream\n\n"),
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
        assert!(m3u(&songs, Some(Path::new("/no/such/dir"))).is_err());
    }
}

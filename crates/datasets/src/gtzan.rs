//! GTZAN layout: `<root>/<genre>/<genre>.NNNNN.{au,wav}`. Genres are the folder names; the track id is
//! `<genre>.NNNNN`. Audio files whose name does not follow the pattern are dropped (`bad_file_name`);
//! other files (`.mf` lists, cover art) are ignored.

use std::path::Path;

use crate::build::Loaded;
use crate::entry::{DropReason, DroppedTrack, Entry};
use crate::error::{DatasetError, Result};
use crate::folder::label_folders;
use crate::manifest::absolute;

/// Reads a GTZAN tree. Errors when `root` is not a folder or holds no genre folder with audio in it.
pub fn load_gtzan(root: &Path) -> Result<Loaded> {
    let root = absolute(root);
    let mut loaded = Loaded::default();
    for (genre, dir) in label_folders(&root)? {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| DatasetError::io(&dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && crate::is_audio_file(p))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let mut entry = Entry::new(path, genre.clone());
            match gtzan_track_id(&name, &genre) {
                Some(id) => {
                    entry.title = Some(id.clone());
                    entry.track_id = Some(id);
                    loaded.entries.push(entry);
                }
                None => loaded.dropped.push(DroppedTrack::with_detail(
                    &entry,
                    DropReason::BadFileName,
                    format!("'{name}' is not named {genre}.NNNNN.au or .wav"),
                )),
            }
        }
    }
    if loaded.entries.is_empty() {
        return Err(DatasetError::Empty(format!(
            "no GTZAN clips in {} (expected {}/<genre>/<genre>.NNNNN.wav or .au)",
            root.display(),
            root.display()
        )));
    }
    loaded.known_labels = loaded.labels_present();
    Ok(loaded)
}

/// `blues.00042.wav` in folder `blues` -> `blues.00042`.
fn gtzan_track_id(file_name: &str, genre: &str) -> Option<String> {
    let (stem, ext) = file_name.rsplit_once('.')?;
    if !matches!(ext.to_ascii_lowercase().as_str(), "wav" | "au") {
        return None;
    }
    let (name_genre, number) = stem.rsplit_once('.')?;
    (name_genre == genre && number.len() == 5 && number.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.to_string())
}

#[cfg(test)]
mod tests {
    use super::gtzan_track_id;

    #[test]
    fn file_names() {
        assert_eq!(
            gtzan_track_id("blues.00042.wav", "blues").as_deref(),
            Some("blues.00042")
        );
        assert_eq!(
            gtzan_track_id("jazz.00001.au", "jazz").as_deref(),
            Some("jazz.00001")
        );
        assert_eq!(gtzan_track_id("jazz.00001.au", "blues"), None);
        assert_eq!(gtzan_track_id("jazz.1.wav", "jazz"), None);
        assert_eq!(gtzan_track_id("jazz.0000a.wav", "jazz"), None);
        assert_eq!(gtzan_track_id("jazz.00001.mp3", "jazz"), None);
    }
}

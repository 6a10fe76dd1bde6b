//! Any folder with one sub-folder per label: `<root>/<label>/**/<file>.<audio ext>`. Files are found
//! recursively inside each label folder; audio files lying directly in `<root>` have no label and are
//! dropped (`bad_file_name`); hidden folders and non-audio files are ignored.

use std::path::{Path, PathBuf};

use crate::build::Loaded;
use crate::entry::{DropReason, DroppedTrack, Entry};
use crate::error::{DatasetError, Result};
use crate::manifest::absolute;

/// Reads a label-per-folder tree. Errors when `root` is not a folder or holds no audio in label folders.
pub fn load_folder(root: &Path) -> Result<Loaded> {
    let root = absolute(root);
    let mut loaded = Loaded::default();
    for (label, dir) in label_folders(&root)? {
        let mut files = Vec::new();
        for item in walkdir::WalkDir::new(&dir)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(e.path()))
        {
            let item = item.map_err(|e| {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| dir.clone());
                DatasetError::io(path, e.into())
            })?;
            if item.file_type().is_file() && crate::is_audio_file(item.path()) {
                files.push(item.into_path());
            }
        }
        files.sort();
        for path in files {
            let mut entry = Entry::new(path, label.clone());
            entry.title = entry
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned());
            loaded.entries.push(entry);
        }
    }
    for path in read_dir_sorted(&root)? {
        if path.is_file() && crate::is_audio_file(&path) {
            loaded.dropped.push(DroppedTrack {
                path,
                label: None,
                track_id: None,
                reason: DropReason::BadFileName,
                detail: "audio file directly in the root folder: not in a label sub-folder".into(),
            });
        }
    }
    if loaded.entries.is_empty() {
        return Err(DatasetError::Empty(format!(
            "no audio files in label sub-folders of {} (expected {}/<label>/<file>.wav, .mp3, ...)",
            root.display(),
            root.display()
        )));
    }
    loaded.known_labels = loaded.labels_present();
    Ok(loaded)
}

/// The non-hidden sub-folders of `root` as (label, path), sorted by name.
pub(crate) fn label_folders(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    if !root.is_dir() {
        return Err(DatasetError::InvalidOption(format!(
            "{} is not a folder",
            root.display()
        )));
    }
    Ok(read_dir_sorted(root)?
        .into_iter()
        .filter(|p| p.is_dir() && !is_hidden(p))
        .filter_map(|p| {
            let label = p.file_name()?.to_str()?.to_string();
            Some((label, p))
        })
        .collect())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DatasetError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

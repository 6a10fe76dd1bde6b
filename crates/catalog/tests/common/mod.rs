//! Shared test helpers: the real-audio embedder and access to ../shared/data.
#![allow(dead_code)]

pub mod embedder;

use std::path::{Path, PathBuf};

/// `gtzan-mini` from the shared data, or `None` (with a message) outside CI when it is missing.
/// Under `CI=true` a missing folder fails the test.
pub fn gtzan_mini() -> Option<PathBuf> {
    let base = std::env::var_os("MUSICREC_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let dir = base.join("gtzan-mini");
    if dir.join("blues/blues.00000.wav").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("shared test data missing under CI: {}", dir.display());
    }
    eprintln!("skipping: shared test data not found at {}", dir.display());
    None
}

/// Copies `per_genre` clips of every genre (ids 00000.. in order) into `dest/<genre>/`.
pub fn copy_clips(gtzan: &Path, dest: &Path, per_genre: usize) -> Vec<PathBuf> {
    let mut copied = Vec::new();
    for genre in embedder::GENRES {
        std::fs::create_dir_all(dest.join(genre)).unwrap();
        for id in 0..per_genre {
            let name = format!("{genre}.{id:05}.wav");
            let to = dest.join(genre).join(&name);
            std::fs::copy(gtzan.join(genre).join(&name), &to).unwrap();
            copied.push(to.canonicalize().unwrap());
        }
    }
    copied
}

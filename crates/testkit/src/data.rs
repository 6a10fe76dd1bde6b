//! The shared test data: `../shared/data` beside the repository, or `$MUSICREC_SHARED_DATA`.
//! When what a test needs is missing, the test fails under `CI=true` and is skipped (with a
//! message) elsewhere.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// GTZAN's ten genres, the folders of `gtzan-mini`.
pub const GTZAN_GENRES: [&str; 10] = [
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
];

/// Whether this is a CI run (`CI=true`), where missing test data or tools fail a test instead
/// of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The shared data folder when it holds every path of `required` (relative to it; none: the
/// folder itself must exist). Otherwise `None` with a "skipping" message, or under `CI=true` a
/// panic naming what is missing.
pub fn shared_data_with(required: &[&str]) -> Option<PathBuf> {
    let dir = std::env::var_os("MUSICREC_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let missing = if dir.is_dir() {
        required.iter().map(|p| dir.join(p)).find(|p| !p.exists())
    } else {
        Some(dir.clone())
    };
    let Some(missing) = missing else {
        return Some(dir);
    };
    assert!(
        !in_ci(),
        "shared test data not found at {} (set MUSICREC_SHARED_DATA); required under CI",
        missing.display()
    );
    eprintln!(
        "skipping: shared test data not found at {}",
        missing.display()
    );
    None
}

/// The shared data folder, which holds `gtzan-mini/` (see [`shared_data_with`]).
pub fn shared_data() -> Option<PathBuf> {
    shared_data_with(&["gtzan-mini"])
}

/// The `gtzan-mini` folder itself, with its clips in place (see [`shared_data_with`]).
pub fn gtzan_mini() -> Option<PathBuf> {
    shared_data_with(&["gtzan-mini/blues/blues.00000.wav"]).map(|dir| dir.join("gtzan-mini"))
}

/// Copies clips `ids` (`genre.00000.wav` is 0) of every genre of `gtzan` (a `gtzan-mini`
/// folder) into `dest/<genre>/`; returns the copies' canonical paths, genre by genre.
pub fn copy_clips(gtzan: &Path, dest: &Path, ids: Range<usize>) -> Vec<PathBuf> {
    let mut copied = Vec::new();
    for genre in GTZAN_GENRES {
        std::fs::create_dir_all(dest.join(genre)).unwrap();
        for id in ids.clone() {
            let name = format!("{genre}.{id:05}.wav");
            let to = dest.join(genre).join(&name);
            std::fs::copy(gtzan.join(genre).join(&name), &to).unwrap();
            copied.push(to.canonicalize().unwrap());
        }
    }
    copied
}

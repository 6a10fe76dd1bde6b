//! Where workflows write and cache: every report, stamp and table goes through
//! [`write_atomically`], so a killed run or a reader at the wrong moment never sees half a file.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes `bytes` to `path` through a synced temporary file in the same folder and a rename,
/// creating the folder if needed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    musicrec_atomic::write_bytes(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The platform cache folder's `musicrec/backbone-features`: the default backbone feature cache
/// of `train --backbone` and `eval-recs`.
pub fn backbone_feature_cache() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "musicrec")
        .map(|dirs| dirs.cache_dir().join("backbone-features"))
        .ok_or_else(|| {
            anyhow::anyhow!("no home folder for the backbone feature cache: pass --cache DIR")
        })
}

//! Files the commands write: every report, stamp and table goes through [`write_atomically`], so
//! a killed run or a reader at the wrong moment never sees half a file.

use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` through a synced temporary file in the same folder and a rename,
/// creating the folder if needed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    musicrec_atomic::write_bytes(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

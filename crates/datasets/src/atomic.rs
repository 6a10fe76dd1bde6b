//! Atomic file replacement (musicrec-atomic) with this crate's errors: a reader, or a rerun after
//! a kill, sees either the old file or the whole new one, never half of one.

use std::io::Write;
use std::path::Path;

use crate::error::{DatasetError, Result};

/// Writes whatever `fill` produces to `path` atomically, creating the parent folder if needed.
pub(crate) fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    musicrec_atomic::write_atomically(path, |out| fill(out).map_err(|e| DatasetError::io(path, e)))
        .map_err(|e| e.into_error(|io| DatasetError::io(io.path, io.source)))
}

//! Atomic file writes (musicrec-atomic) with this crate's errors, so a reader never sees half a
//! report or half a PNG.

use std::io::Write;
use std::path::Path;

use crate::EvalError;

/// Writes `path` through `fill`, creating missing parent folders.
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), EvalError>,
) -> Result<(), EvalError> {
    musicrec_atomic::write_atomically(path, fill).map_err(|e| {
        e.into_error(|io| EvalError::Io {
            path: io.path,
            source: io.source,
        })
    })
}

//! Atomic file replacement: write a temp file in the target's folder, then rename it over the target, so
//! a reader (or a rerun after a kill) sees either the old file or the whole new one, never half of one.

use std::io::Write;
use std::path::Path;

use crate::error::{DatasetError, Result};

/// Writes whatever `fill` produces to `path` atomically, creating the parent folder if needed.
pub(crate) fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".musicrec-tmp-");
    // tempfile creates 0600 files; a manifest is an ordinary document others may read.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| DatasetError::io(dir, e))?;
    {
        let mut buffered = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut buffered).map_err(|e| DatasetError::io(path, e))?;
        buffered.flush().map_err(|e| DatasetError::io(path, e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| DatasetError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| DatasetError::io(path, e.error))?;
    Ok(())
}

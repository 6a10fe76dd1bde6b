//! Atomic file replacement, the one copy every stage uses (reports, plots, manifests, feature
//! files, model files, decoded WAVs): the content goes to a temporary file in the target's folder,
//! is synced, and is renamed over the target, so a reader, or a rerun after a kill, sees either
//! the old file or the whole new one, never half of one.
//!
//! Built on `tempfile`'s `NamedTempFile::persist` (unique name, removed when the write fails).
//! The one thing added by hand: the temporary file is created with mode `0o666`, which the
//! process umask then restricts as for `File::create` (0644 under umask 022), instead of
//! tempfile's private 0600, because these files are ordinary outputs others may read.
//!
//! This crate owns only file writing; it imports no other musicrec crate.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The file system refused: creating the folder, the temporary file, writing, syncing or
/// renaming. `path` is the folder or the target, whichever was involved.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct IoError {
    /// The folder or file involved.
    pub path: PathBuf,
    /// What the file system said.
    #[source]
    pub source: std::io::Error,
}

/// Why an atomic write failed: the file system, or the caller's `fill`.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// The file system refused (see [`IoError`]).
    #[error(transparent)]
    Io(IoError),
    /// The caller's `fill` failed; its error, unchanged.
    #[error("{0}")]
    Fill(E),
}

impl<E> Error<E> {
    /// The caller's error type: `fill`'s error as it was, a file-system error through `io`.
    pub fn into_error(self, io: impl FnOnce(IoError) -> E) -> E {
        match self {
            Error::Io(err) => io(err),
            Error::Fill(err) => err,
        }
    }
}

/// Writes `path` atomically from what `fill` writes into a buffered writer, creating missing
/// parent folders.
pub fn write_atomically<E>(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), Error<E>> {
    write_with(path, |file| {
        let mut out = BufWriter::new(file);
        fill(&mut out).map_err(Error::Fill)?;
        out.flush()
            .map_err(|source| Error::Io(io_error(path, source)))
    })
}

/// Writes `bytes` to `path` atomically, creating missing parent folders.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_with::<IoError>(path, |file| {
        file.write_all(bytes)
            .map_err(|source| Error::Io(io_error(path, source)))
    })
    .map_err(|err| err.into_error(|io| io))
}

/// Writes `path` atomically from what `fill` writes into the temporary file itself (unbuffered
/// and seekable, for writers such as a WAV writer that patch a header at the end).
pub fn write_file_atomically<E>(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), Error<E>> {
    write_with(path, |file| fill(file).map_err(Error::Fill))
}

fn write_with<E>(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<(), Error<E>>,
) -> Result<(), Error<E>> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|source| Error::Io(io_error(dir, source)))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".musicrec-tmp-");
    // tempfile's default is 0600; 0666 is narrowed by the umask at creation, as `File::create`.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|source| Error::Io(io_error(dir, source)))?;
    fill(tmp.as_file_mut())?;
    tmp.as_file()
        .sync_all()
        .map_err(|source| Error::Io(io_error(path, source)))?;
    tmp.persist(path)
        .map_err(|err| Error::Io(io_error(path, err.error)))?;
    Ok(())
}

fn io_error(path: &Path, source: std::io::Error) -> IoError {
    IoError {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_content_and_creates_folders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/report.txt");
        write_atomically(&path, |out| out.write_all(b"hello")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        write_bytes(&path, b"replaced").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"replaced");
        // Only the target is left: no temporary file beside it.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    #[test]
    fn a_failing_fill_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        std::fs::write(&path, "old").unwrap();
        let err = write_atomically(&path, |out| {
            out.write_all(b"half")?;
            Err::<(), _>(std::io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert!(matches!(err, Error::Fill(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_folder_that_cannot_be_created_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let err = write_bytes(&file.join("out.txt"), b"y").unwrap_err();
        assert_eq!(err.path, file);
    }

    /// The process umask, read without changing it (`/proc/self/status`, Linux); 022 elsewhere.
    #[cfg(unix)]
    fn current_umask() -> u32 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("Umask:"))?;
                u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
            })
            .unwrap_or(0o022)
    }

    /// Files get the permissions `File::create` would give them (0666 narrowed by the umask),
    /// not tempfile's private 0600.
    #[cfg(unix)]
    #[test]
    fn files_get_ordinary_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let reference = dir.path().join("reference");
        File::create(&reference).unwrap();
        let expected = std::fs::metadata(&reference).unwrap().permissions().mode() & 0o777;
        let path = dir.path().join("out.bin");
        write_file_atomically(&path, |file| file.write_all(b"1")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        // 0644 under the usual umask 022, whatever the umask of the machine running the test.
        assert_eq!(
            mode, expected,
            "mode {mode:o}, File::create gives {expected:o}"
        );
        assert_eq!(0o666 & !current_umask(), expected);
    }
}

//! Command output on standard output that ends quietly when the reader goes away.
//!
//! `println!` panics when stdout is a closed pipe (`musicrec recommend ... | head -2`): Rust
//! ignores SIGPIPE, so the write fails with EPIPE instead of killing the process. As ripgrep does,
//! every command writes through [`outln!`] / [`out!`], which return the error; `main` sees a
//! [`StdoutError`] of kind `BrokenPipe` and exits 0 without a message. This was preferred to
//! restoring SIGPIPE's default disposition: a signal ends the process at once, mid-transaction and
//! without running destructors (temporary files, catalog writes), and it would also hit `serve`;
//! an error unwinds normally. Only stdout's own errors count, so that a broken pipe elsewhere
//! (a database connection) is still reported.

use std::fmt;
use std::io::Write;

/// A failed write to standard output.
#[derive(Debug)]
pub struct StdoutError(std::io::Error);

impl StdoutError {
    /// Whether the reader closed the pipe (EPIPE): the quiet end of a command, not a failure.
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == std::io::ErrorKind::BrokenPipe
    }
}

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cause is the source, printed after this by `{:#}`: said once.
        f.write_str("cannot write to standard output")
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Writes `args` (and a newline when `newline`) to stdout in one locked write.
pub fn write(args: fmt::Arguments<'_>, newline: bool) -> Result<(), StdoutError> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args).map_err(StdoutError)?;
    if newline {
        out.write_all(b"\n").map_err(StdoutError)?;
    }
    Ok(())
}

/// Whether `err` is, or was caused by, a write to a stdout whose reader went away.
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<StdoutError>()
            .is_some_and(StdoutError::is_closed_pipe)
    })
}

/// `println!` that returns `Result<(), StdoutError>` instead of panicking: use it with `?`.
macro_rules! outln {
    () => {
        $crate::stdout::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), true)
    };
}

/// `print!` that returns `Result<(), StdoutError>` instead of panicking: use it with `?`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), false)
    };
}

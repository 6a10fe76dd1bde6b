//! What every CLI test does with the built binary: run it, read what it printed, insist that it
//! succeeded or failed with one clear line. One copy, used by each test file through `mod common;`.

// Each test file is its own crate and uses its own subset of these.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_musicrec");

/// A command for the binary with stdin closed and the caller's `RUST_LOG` and `COLUMNS` removed, so
/// that what it prints is what a user with a default shell sees.
pub fn command() -> Command {
    let mut command = Command::new(BIN);
    command
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .env_remove("COLUMNS");
    command
}

/// Runs the binary with `args` and collects its output.
pub fn musicrec<S: AsRef<OsStr>>(args: &[S]) -> Output {
    command().args(args).output().expect("run musicrec")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

pub fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// Panics, showing the exit status and both streams, unless `out` is a success.
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({})\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// `out`, once [`assert_ok`] has passed.
pub fn ok(out: Output, what: &str) -> Output {
    assert_ok(&out, what);
    out
}

/// The standard output of `out`, once [`assert_ok`] has passed.
pub fn ok_stdout(out: Output, what: &str) -> String {
    assert_ok(&out, what);
    stdout(&out)
}

/// A path as the `&str` argument the binary takes (test paths are UTF-8).
pub fn s(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A failure whose message is one `error: ...` line containing every one of `needles`.
pub fn one_line_error(out: &Output, needles: &[&str]) {
    assert!(!out.status.success(), "succeeded: {}", stdout(out));
    let stderr = stderr(out);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "not one error line: {stderr}");
    for needle in needles {
        assert!(errors[0].contains(needle), "'{needle}' not in: {stderr}");
    }
}

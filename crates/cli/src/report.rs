//! One line per error for the terminal: each cause said once.
//!
//! Many error types put their cause in their own message *and* return it from `source()`
//! (thiserror's `#[from]`/`#[source]` do both, as do several dependencies), so anyhow's `{:#}`
//! prints it twice: "i/o error: No such file or directory (os error 2): No such file or directory
//! (os error 2)". Rather than audit every error type of every crate, the report drops a cause whose
//! text the line already holds.

/// `err` and its causes as one line, outermost first, separated by ": ", without repeats.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || line.contains(text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    /// As thiserror's `#[error("i/o error: {0}")] Io(#[from] io::Error)`: the cause twice.
    #[derive(Debug)]
    struct Wrapping(std::io::Error);

    impl std::fmt::Display for Wrapping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "i/o error: {}", self.0)
        }
    }

    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let io = std::io::Error::from_raw_os_error(2);
        let err = anyhow::Error::new(Wrapping(io)).context("cannot read song.flac");
        let line = one_line(&err);
        assert_eq!(line.matches("os error 2").count(), 1, "{line}");
        assert!(
            line.starts_with("cannot read song.flac: i/o error: "),
            "{line}"
        );
    }

    #[test]
    fn distinct_causes_are_all_kept_in_order() {
        let err = anyhow::anyhow!("the root cause")
            .context("the middle")
            .context("the top");
        assert_eq!(one_line(&err), "the top: the middle: the root cause");
    }
}

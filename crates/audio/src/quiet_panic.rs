//! Catching a panic without the default hook's report on stderr.
//!
//! Decoders and resamplers are third-party code fed untrusted bytes; a batch job turns a panic
//! in one of them into an error for that one file. `catch_unwind` alone still lets the panic
//! hook print "thread panicked at ..." (and a backtrace under `RUST_BACKTRACE`) for a failure
//! that is already reported cleanly, so the hook is told to keep quiet on threads inside
//! [`catch_unwind_quietly`] and hands the message back instead. Panics anywhere else are
//! reported by the previous hook exactly as before.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, PanicHookInfo, catch_unwind};
use std::sync::Once;

thread_local! {
    /// Depth of nested [`catch_unwind_quietly`] calls on this thread.
    static QUIET_DEPTH: Cell<u32> = const { Cell::new(0) };
    /// What the hook saw for the last quiet panic on this thread.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            if QUIET_DEPTH.with(Cell::get) > 0 {
                let message = describe(info);
                LAST_PANIC.with(|last| *last.borrow_mut() = Some(message));
            } else {
                previous(info);
            }
        }));
    });
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    let message = crate::AudioError::one_line(message);
    match info.location() {
        Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
        None => message,
    }
}

/// Runs `f`; a panic inside it becomes `Err(message)` (one line, with the source location)
/// and prints nothing. Meant for per-item isolation in batch work, not for normal control flow.
pub fn catch_unwind_quietly<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    QUIET_DEPTH.with(|depth| depth.set(depth.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET_DEPTH.with(|depth| depth.set(depth.get() - 1));
    result.map_err(|_| {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| "unknown panic".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_returns_its_message_and_location() {
        let err = catch_unwind_quietly(|| -> u32 { panic!("bad {}", "bytes") }).unwrap_err();
        assert!(err.starts_with("bad bytes (at "), "{err}");
        assert!(err.contains("quiet_panic.rs"), "{err}");
        assert_eq!(catch_unwind_quietly(|| 7), Ok(7));
        // Nested: the inner panic is reported by the inner call only.
        let outer = catch_unwind_quietly(|| catch_unwind_quietly(|| -> u32 { panic!("inner") }));
        assert!(
            matches!(outer, Ok(Err(ref m)) if m.starts_with("inner")),
            "{outer:?}"
        );
    }
}

//! Memory allocation tuned for Burn's CPU backend.
//!
//! Burn's flex backend allocates a fresh buffer for nearly every tensor op and frees it right after.
//! With glibc's malloc the large ones go back to the kernel at once and are page-faulted in again on
//! the next op (perf of a CRNN training step: ~20% of it in page faults, a third of the run in the
//! kernel), so the binary uses mimalloc (see `main.rs`), which keeps freed memory for reuse. By
//! default mimalloc still purges it after a delay (1 s in mimalloc v3), which the big buffers of a
//! 96x1366 CRNN step (several seconds long) keep hitting: turning purging off took the step from
//! 17.3 s to 9.0 s (`crates/model/examples/bench_step.rs`, 2 threads).

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the same index in mimalloc v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory in the process instead of returning it to the kernel: for jobs that run the
/// models and then exit.
pub fn keep_freed_memory() {
    // SAFETY: sets one of mimalloc's runtime options; any value is valid, -1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // mimalloc's default purge delay (1000 ms in v3, 10 ms in v2) identifies the option's index.
        // SAFETY: reads and sets mimalloc runtime options.
        let before = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert!(
            matches!(before, 10 | 1000),
            "option {}: {before}",
            super::MI_OPTION_PURGE_DELAY
        );
        super::keep_freed_memory();
        let after = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(after, -1);
    }
}

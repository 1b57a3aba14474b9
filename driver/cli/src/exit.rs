//! Ending a command without freeing what the process is about to lose anyway.
//!
//! A compiler of a 10,000-view project holds hundreds of thousands of allocations (the
//! database's memos, the parsed spec, schemas); freeing them one by one when a command ends
//! took 100–150 ms of a `check` (BENCHMARKS.md). The `viewdag` binary says it exits right
//! after the command ([`process_exits_after_command`]); then [`release`] leaks instead of
//! freeing, and the operating system reclaims the memory at once. Called in-process (tests,
//! embedders of `main_with_args`), nothing is leaked.

use std::sync::atomic::{AtomicBool, Ordering};

static EXITS_AFTER_COMMAND: AtomicBool = AtomicBool::new(false);

/// Declares that the process exits as soon as `main_with_args` returns (the binaries' `main`).
pub fn process_exits_after_command() {
    EXITS_AFTER_COMMAND.store(true, Ordering::Relaxed);
}

/// Drops `value`, or leaks it when the process exits right after the command.
pub fn release<T>(value: T) {
    match EXITS_AFTER_COMMAND.load(Ordering::Relaxed) {
        true => std::mem::forget(value),
        false => drop(value),
    }
}

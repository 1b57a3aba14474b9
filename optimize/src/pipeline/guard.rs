//! Running one rule safely: errors and panics become a failure message, never a crash.
//!
//! A panicking rule may leave shared state inconsistent only inside the rule itself; the
//! plan it was given is a clone the caller no longer uses, so `AssertUnwindSafe` is sound
//! for the pipeline.

use std::panic::{AssertUnwindSafe, catch_unwind};

use datafusion::error::Result;

/// Runs `apply`, turning an error or a panic into a message.
pub fn run_rule_guarded<T>(apply: impl FnOnce() -> Result<T>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(apply)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.strip_backtrace()),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(format!("the rule panicked: {message}"))
        }
    }
}

//! Running one rule safely: errors and panics become a [`RuleFailure`], never a crash.
//!
//! A panicking rule may leave shared state inconsistent only inside the rule itself; the
//! plan it was given is a clone the caller no longer uses, so `AssertUnwindSafe` is sound
//! for the pipeline.

use std::panic::{AssertUnwindSafe, catch_unwind};

use datafusion::error::{DataFusionError, Result};

/// Why a rule produced no plan (the message is the trace's and the diagnostic's).
#[derive(Debug, thiserror::Error)]
pub enum RuleFailure {
    /// The rule returned an error (DataFusion's message, without a backtrace).
    #[error("{}", .0.strip_backtrace())]
    Error(#[from] DataFusionError),
    /// The pipeline names a rule of this kind (`analyzer`, `logical`, `physical`) that is not
    /// registered.
    #[error("no {kind} rule `{key}` is registered")]
    Unregistered {
        /// The rule's kind.
        kind: &'static str,
        /// The name the pipeline gives it.
        key: String,
    },
    /// The rule panicked, with this message.
    #[error("the rule panicked: {0}")]
    Panicked(String),
    /// A physical rule changed the plan's output columns (names and types, rendered).
    #[error("the rule changed the plan's output schema from [{before}] to [{after}]")]
    SchemaChanged {
        /// The columns before the rule.
        before: String,
        /// The columns after it.
        after: String,
    },
}

/// Runs `apply`, turning an error or a panic into a [`RuleFailure`].
pub fn run_rule_guarded<T>(apply: impl FnOnce() -> Result<T>) -> Result<T, RuleFailure> {
    match catch_unwind(AssertUnwindSafe(apply)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(RuleFailure::Error(error)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(RuleFailure::Panicked(message))
        }
    }
}

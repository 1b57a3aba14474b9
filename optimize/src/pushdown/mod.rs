//! # Pushdown contracts
//!
//! When DataFusion pushes a filter into a scan it asks the provider how it will apply each
//! predicate: `Unsupported` (not at all: the filter must stay above the scan), `Inexact`
//! (it may drop some rows: the filter must *also* stay above the scan) or `Exact` (it
//! returns exactly the matching rows: the filter may leave the plan). A buggy rule that
//! drops a residual filter silently returns wrong rows. This module checks the contract.
//!
//! For every scan of P1, the candidate predicates are the scan's own `filters` and the
//! conjuncts of the filters directly above it (through aliases and column-only
//! projections). Each is classified by asking the provider about it alone, then placed
//! (at the scan, above it, or both) and judged:
//!
//! | classification | at scan only | above only | both |
//! |---|---|---|---|
//! | Exact | honoured | kept above (safe, not pushed) | honoured |
//! | Inexact | **violated** | kept above | honoured |
//! | Unsupported | **violated** | honoured | honoured |
//!
//! A predicate pushed into a scan whose own residual DataFusion simplified away because a
//! tighter bound on the same expression stays above (`x > 0` under `x > 4`) counts as
//! applied by that bound ([`implication`]); P2 then checks the tighter bound.
//!
//! P2 is checked too: every residual predicate P1 kept above a scan must be a conjunct of
//! some `FilterExec` in P2 (compared as physical expressions without column indices).
//!
//! An `Exact` answer cannot be checked from plans at all; [`exact_audit`] checks it against
//! the data when a task runs (count the rows the provider returns that fail the predicate).
//!
//! ## Invariants
//! - Reports are in plan order (depth-first, inputs left to right), predicates in the order
//!   they were found; nothing depends on hashing order.
//! - Classifying never fails the view: a provider that errors is reported as `Unsupported`
//!   with a note (the safe assumption).

pub mod exact_audit;
pub mod implication;
pub mod logical_contract;
pub mod physical_contract;
pub mod predicate_key;
pub mod report;

pub use exact_audit::{ExactClaim, ExactClaimAudit, exact_claims};
pub use logical_contract::verify_logical_pushdown;
pub use physical_contract::verify_physical_pushdown;
pub use report::{
    PredicatePlacement, PushdownClassification, PushdownPredicateReport, PushdownReport, PushdownVerdict, ScanPushdownReport,
    pushdown_diagnostics,
};

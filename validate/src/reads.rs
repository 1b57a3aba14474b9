//! What a view reads: the values [`crate::relations::view_reads`] computes and
//! [`crate::reads_memo`] keeps across processes (a leaf, so that both name them).

use viewdag_ir::{Diagnostic, SpecLocation};

/// One relation a view reads, with where the view names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub name: String,
    pub location: SpecLocation,
}

/// What a view reads, in the order it names them, plus the diagnostics found while
/// finding out (SQL that does not parse or is not a plain query). A view that failed to
/// parse reads nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewReads {
    pub reads: Vec<Read>,
    pub diagnostics: Vec<Diagnostic>,
    /// The view's definition failed to parse. (Whole-project queries read this rather than
    /// the definition itself, so an edit that keeps what a view reads re-runs none of them.)
    pub unparsed: bool,
}

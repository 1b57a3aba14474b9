//! What a view reads: the values [`crate::relations::view_reads`] computes and
//! [`crate::reads_memo`] keeps across processes (a leaf, so that both name them).

use viewdag_ir::{Diagnostic, FieldPath, SpecLocation};

/// One relation a view reads, with where the view names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub name: String,
    pub location: SpecLocation,
}

impl Read {
    /// Where the `sql` view `view` names a relation: its `sql` field, at `range` (bytes of
    /// the SQL text) when known.
    pub fn sql_location(view: &str, range: Option<(usize, usize)>) -> SpecLocation {
        let location = SpecLocation::view(view).with_field(FieldPath::from(["sql"]));
        match range {
            Some((start, end)) => location.with_range(start, end),
            None => location,
        }
    }
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

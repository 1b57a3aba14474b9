//! `V0223 too-few-items`: a list or map that needs entries has too few: a `project` with no
//! `columns`, a `sort` with no `by`, a `union` with fewer than two `inputs`, an `aggregate`
//! with neither `group_by` nor `measures`.

use viewdag_ir::{Code, Diagnostic, SpecLocation};

pub fn check(count: usize, minimum: usize, what: &str, view: &str, location: SpecLocation) -> Option<Diagnostic> {
    (count < minimum)
        .then(|| Diagnostic::new(Code::TooFewItems, location, format!("view `{view}` has {count} {what}; it needs at least {minimum}")))
}

//! `V0211 join-key-count`: a join must name at least one key pair, and each pair is exactly
//! `[left_column, right_column]`. An empty `on` is found here; a pair of the wrong length
//! is found while parsing (`viewdag_ir::parse`), since it cannot be deserialized.

use viewdag_ir::{Code, Diagnostic, SpecLocation};

pub fn check(key_pairs: usize, view: &str, location: SpecLocation) -> Option<Diagnostic> {
    (key_pairs == 0).then(|| {
        Diagnostic::new(Code::JoinKeyCount, location, format!("join view `{view}` has no `on` keys"))
            .with_note("a join matches rows by equal keys; a cross join is not supported")
            .with_suggestion("add `on: [[left_column, right_column]]`")
    })
}

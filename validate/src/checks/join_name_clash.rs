//! `V0204 join-name-clash`: both join sides have a non-key column of the same name. Only a
//! key pair with the same name on both sides is merged into one output column (like SQL
//! `USING`); any other shared name would give the output two columns of that name.
//! Semi and anti joins output the left side only and never clash.

use std::collections::BTreeSet;

use datafusion::common::DFSchema;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

pub fn check(
    view: &str,
    right: &str,
    left_schema: &DFSchema,
    right_schema: &DFSchema,
    merged_keys: &BTreeSet<String>,
    location: SpecLocation,
) -> Option<Diagnostic> {
    let left_names: BTreeSet<&String> = left_schema.fields().iter().map(|field| field.name()).collect();
    let clashes: Vec<String> = right_schema
        .fields()
        .iter()
        .map(|field| field.name())
        .filter(|name| left_names.contains(name) && !merged_keys.contains(*name))
        .map(|name| format!("`{name}`"))
        .collect();
    if clashes.is_empty() {
        return None;
    }
    Some(
        Diagnostic::new(Code::JoinNameClash, location, format!("both sides of join view `{view}` have column(s) {}", clashes.join(", ")))
            .with_note("only a key pair with the same name on both sides is merged into one column")
            .with_suggestion(format!("add a `project` view over `{right}` that renames {}", clashes.join(", "))),
    )
}

//! `V0221 union-name-mismatch` (a warning): a union's output columns are named after its
//! first input; a later input with a different name at the same position is usually a
//! column order mistake.

use datafusion::common::DFSchema;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

pub fn check(inputs: &[(&str, &DFSchema, SpecLocation)]) -> Vec<Diagnostic> {
    let Some((first_name, first_schema, _)) = inputs.first() else { return Vec::new() };
    let mut diagnostics = Vec::new();
    for (name, schema, location) in inputs.iter().skip(1) {
        let mismatched: Vec<String> = first_schema
            .fields()
            .iter()
            .zip(schema.fields().iter())
            .filter(|(first, other)| first.name() != other.name())
            .map(|(first, other)| format!("`{}` as `{}`", other.name(), first.name()))
            .collect();
        if !mismatched.is_empty() {
            diagnostics.push(
                Diagnostic::new(
                    Code::UnionNameMismatch,
                    location.clone(),
                    format!("union input `{name}` has differently named columns; they are output as the first input's ({first_name})"),
                )
                .with_note(format!("renamed: {}", mismatched.join(", ")))
                .with_suggestion(format!("rename the columns of `{name}` in a `project` view if the order is intended")),
            );
        }
    }
    diagnostics
}

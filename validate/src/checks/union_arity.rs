//! `V0219 union-arity`: a union matches columns by position, so every input needs as many
//! columns as the first one.

use datafusion::common::DFSchema;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// `inputs`: each input's name, schema and the location that names it in `inputs`.
pub fn check(inputs: &[(&str, &DFSchema, SpecLocation)]) -> Vec<Diagnostic> {
    let Some((first_name, first_schema, first_location)) = inputs.first() else { return Vec::new() };
    let arity = first_schema.fields().len();
    inputs
        .iter()
        .skip(1)
        .filter(|(_, schema, _)| schema.fields().len() != arity)
        .map(|(name, schema, location)| {
            Diagnostic::new(
                Code::UnionArity,
                location.clone(),
                format!("union input `{name}` has {} columns but `{first_name}` has {arity}", schema.fields().len()),
            )
            .with_label(first_location.clone(), format!("`{first_name}` has {arity} columns"))
            .with_note("union matches columns by position; every input needs the same number of columns")
        })
        .collect()
}

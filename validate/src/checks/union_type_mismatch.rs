//! `V0220 union-type-mismatch`: at some position, an input's column type has no common type
//! with the earlier inputs' (DataFusion's comparison coercion, as the union is planned).
//! Assumes the arities agree (`V0219` first).

use datafusion::common::DFSchema;
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use viewdag_ir::types::type_name;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

pub fn check(inputs: &[(&str, &DFSchema, SpecLocation)]) -> Vec<Diagnostic> {
    let Some((first_name, first_schema, first_location)) = inputs.first() else { return Vec::new() };
    let mut diagnostics = Vec::new();
    for (position, first_field) in first_schema.fields().iter().enumerate() {
        let mut common = first_field.data_type().clone();
        for (name, schema, location) in inputs.iter().skip(1) {
            let Some(field) = schema.fields().get(position) else { continue };
            match comparison_coercion(&common, field.data_type()) {
                Some(next) => common = next,
                None => diagnostics.push(
                    Diagnostic::new(
                        Code::UnionTypeMismatch,
                        location.clone(),
                        format!(
                            "union column {} is `{}` in `{first_name}` but `{}` in `{name}`",
                            position + 1,
                            type_name(first_field.data_type()),
                            type_name(field.data_type())
                        ),
                    )
                    .with_label(
                        first_location.clone(),
                        format!("`{}` is `{}` here", first_field.name(), type_name(first_field.data_type())),
                    )
                    .with_note(format!("`{}` and `{}` have no common type", first_field.name(), field.name()))
                    .with_suggestion(format!("cast `{}` in a `project` view over `{name}`", field.name())),
                ),
            }
        }
    }
    diagnostics
}

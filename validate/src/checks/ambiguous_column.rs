//! `V0206 ambiguous-column`: an expression over several inputs (a join's `filter`, a SQL
//! view) names a column that more than one input has, without saying which.

use datafusion::common::DFSchema;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// The diagnostic for the unqualified `name`, which several relations of `schema` have.
pub fn diagnostic(name: &str, schema: &DFSchema, location: SpecLocation) -> Diagnostic {
    let mut relations: Vec<String> =
        schema.iter().filter(|(_, field)| field.name() == name).filter_map(|(qualifier, _)| qualifier.map(ToString::to_string)).collect();
    relations.dedup();
    let mut diagnostic = Diagnostic::new(
        Code::AmbiguousColumn,
        location,
        match relations.as_slice() {
            [] => format!("column `{name}` is ambiguous"),
            _ => format!(
                "column `{name}` is ambiguous: {} all have it",
                relations.iter().map(|relation| format!("`{relation}`")).collect::<Vec<_>>().join(", ")
            ),
        },
    );
    if !relations.is_empty() {
        let options: Vec<String> = relations.iter().map(|relation| format!("`{relation}.{name}`")).collect();
        diagnostic = diagnostic.with_suggestion(format!("qualify the column with its relation: {}", options.join(" or ")));
    }
    diagnostic
}

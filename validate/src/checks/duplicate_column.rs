//! `V0222 duplicate-column`: a view would output two columns with the same name (a group
//! key and a measure both named `region`, `SELECT a.x, b.x` in a SQL view). Output tables
//! and downstream expressions need unique names.

use datafusion::common::DFSchema;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// Named output columns with where each is declared; reports every repeat of a name.
pub fn check(view: &str, columns: &[(String, SpecLocation)]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (index, (name, location)) in columns.iter().enumerate() {
        if let Some((_, first)) = columns[..index].iter().find(|(earlier, _)| earlier == name) {
            diagnostics.push(
                Diagnostic::new(Code::DuplicateColumn, location.clone(), format!("view `{view}` outputs column `{name}` twice"))
                    .with_label(first.clone(), "first defined here")
                    .with_suggestion("give each output column a distinct name"),
            );
        }
    }
    diagnostics
}

/// The same check on a planned schema (for SQL views), reported at `location`.
pub fn check_schema(view: &str, schema: &DFSchema, location: &SpecLocation) -> Vec<Diagnostic> {
    let mut seen: Vec<&String> = Vec::new();
    let mut diagnostics = Vec::new();
    for field in schema.fields() {
        if seen.contains(&field.name()) {
            if !diagnostics.iter().any(|diagnostic: &Diagnostic| diagnostic.message.contains(&format!("`{}`", field.name()))) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateColumn,
                        location.clone(),
                        format!("view `{view}` outputs column `{}` twice", field.name()),
                    )
                    .with_suggestion("give each output column a distinct name with `AS`"),
                );
            }
        } else {
            seen.push(field.name());
        }
    }
    diagnostics
}

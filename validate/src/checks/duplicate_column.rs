//! `V0222 duplicate-column`: a view would output two columns with the same name (a group
//! key and a measure both named `region`, `SELECT a.x, b.x` in a SQL view). Output tables
//! and downstream expressions need unique names.
//!
//! Linear in the number of columns (a view may have tens of thousands): names are looked up
//! in hash maps, never by scanning the columns before them.

use std::collections::{HashMap, HashSet};

use datafusion::common::DFSchema;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// Named output columns with where each is declared; reports every repeat of a name.
pub fn check(view: &str, columns: &[(String, SpecLocation)]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut firsts: HashMap<&str, &SpecLocation> = HashMap::with_capacity(columns.len());
    for (name, location) in columns {
        if let Some(first) = firsts.get(name.as_str()).copied() {
            diagnostics.push(
                Diagnostic::new(Code::DuplicateColumn, location.clone(), format!("view `{view}` outputs column `{name}` twice"))
                    .with_label(first.clone(), "first defined here")
                    .with_suggestion("give each output column a distinct name"),
            );
        } else {
            firsts.insert(name, location);
        }
    }
    diagnostics
}

/// The same check on a planned schema (for SQL views), reported at `location`.
pub fn check_schema(view: &str, schema: &DFSchema, location: &SpecLocation) -> Vec<Diagnostic> {
    let mut seen: HashSet<&str> = HashSet::with_capacity(schema.fields().len());
    let mut reported: HashSet<&str> = HashSet::new();
    let mut diagnostics = Vec::new();
    for field in schema.fields() {
        if !seen.insert(field.name()) && reported.insert(field.name()) {
            diagnostics.push(
                Diagnostic::new(Code::DuplicateColumn, location.clone(), format!("view `{view}` outputs column `{}` twice", field.name()))
                    .with_suggestion("give each output column a distinct name with `AS`"),
            );
        }
    }
    diagnostics
}

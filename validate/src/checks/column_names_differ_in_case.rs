//! `V0509 column-names-differ-in-case`: a table viewdag writes (an output, a materialized
//! view) has two columns — or two fields of one struct column — whose names differ only in
//! case (`Name`, `name`). Delta column names are case-insensitive, so deltalake refuses the
//! write ("Duplicate field name (case-insensitive)") at the end of every run; DataFusion
//! names are case-sensitive, so only tables are checked, not ephemeral views.

use datafusion::arrow::datatypes::{DataType, Fields, Schema};
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// One diagnostic per name that repeats another's up to case (at any struct depth).
pub fn check(table: &str, schema: &Schema, location: &SpecLocation) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    collect(table, schema.fields(), "", location, &mut diagnostics);
    diagnostics
}

fn collect(table: &str, fields: &Fields, prefix: &str, location: &SpecLocation, into: &mut Vec<Diagnostic>) {
    for (index, field) in fields.iter().enumerate() {
        let name = field.name();
        if let Some(first) = fields[..index].iter().find(|earlier| earlier.name().to_lowercase() == name.to_lowercase()) {
            into.push(
                Diagnostic::new(
                    Code::ColumnNamesDifferInCase,
                    location.clone(),
                    format!("{table} has columns `{prefix}{}` and `{prefix}{name}`, which a Delta table cannot tell apart", first.name()),
                )
                .with_note("Delta column names are case-insensitive")
                .with_suggestion("rename one of them"),
            );
        }
        if let DataType::Struct(children) = field.data_type() {
            collect(table, children, &format!("{prefix}{name}."), location, into);
        }
    }
}

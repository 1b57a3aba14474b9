//! `V0512 write-schema-mismatch`: a `merge` or `replace_where` output whose view's columns
//! do not fit the Delta table already at its path. Unlike an overwrite (which replaces the
//! table's columns when they change), a merge and a replace-where keep the table's other
//! rows, so they cannot rename a column or change its type: every run would fail at its end
//! with deltalake's "Field … not found" / "Cannot cast field" and nothing in the spec but a
//! change of mode could fix it. Found here instead, with the way out. The differences are
//! the append check's ([`super::append_schema_mismatch::schema_differences`]): new columns
//! need `schema_mode: merge`, types are compared as the table stores them, nullability is
//! left to the write.

use datafusion::arrow::datatypes::Schema;
use viewdag_ir::{Code, Diagnostic, FieldPath, OutputSpec, SchemaEvolution, SpecLocation, WriteMode};

use super::append_schema_mismatch::schema_differences;

pub fn check(output: &str, spec: &OutputSpec, view_schema: &Schema, table_schema: &Schema) -> Vec<Diagnostic> {
    let OutputSpec { view, path, mode, schema_mode, .. } = spec;
    let verb = match mode {
        WriteMode::Merge => "merges into",
        WriteMode::ReplaceWhere => "replaces rows of",
        WriteMode::Overwrite | WriteMode::Append => return Vec::new(),
    };
    // Nullability is not compared: a view's inferred nullability is conservative, and a
    // merge writes into the rows it keeps (a NULL key is `V0511`, a NULL in a non-null
    // column fails the write).
    let problems = schema_differences(view, view_schema, table_schema, *schema_mode == Some(SchemaEvolution::Merge), false);
    if problems.is_empty() {
        return Vec::new();
    }
    let mut diagnostic = Diagnostic::new(
        Code::WriteSchemaMismatch,
        SpecLocation::output(output).with_field(FieldPath::from(["mode"])),
        format!("output `{output}` {verb} the existing Delta table at `{path}`, whose columns do not fit view `{view}`"),
    );
    for problem in problems {
        diagnostic = diagnostic.with_note(problem);
    }
    vec![diagnostic.with_suggestion(
        "a merge or replace_where keeps the table's other rows, so it cannot rename a column or change its type: run once with `mode: overwrite` to replace the table's columns, write to a new path, or make the view match",
    )]
}

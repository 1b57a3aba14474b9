//! `V0503 append-schema-mismatch`: an output with `mode: append` whose view's schema differs
//! from the Delta table already at its path: a column the table has and the view lacks, a
//! new column the table does not have, a different type, or nulls into a non-null column.
//! Appending would fail at the end of a run; this finds it at compile time. Types are
//! compared as the table stores them, so a view whose column Delta stores as another Arrow
//! type (`timestamp[ns]`, `uint64`, a dictionary) appends to the table it wrote. With
//! `schema_mode: merge` the append adds new columns and writes NULL into a nullable column
//! the view lacks, so those are not differences. The driver loads the existing table's
//! schema (I/O) and passes it in.

use datafusion::arrow::datatypes::{DataType, Schema};
use viewdag_ir::delta_types::delta_stored_type;
use viewdag_ir::types::type_name;
use viewdag_ir::{Code, Diagnostic, FieldPath, OutputSpec, SchemaEvolution, SpecLocation, WriteMode};

use crate::fields_by_name::FieldsByName;

/// The type the table stores a column as (a view's `uint32` is written as `int64`, its
/// `timestamp[ns]` as `timestamp[us]`, …: `viewdag_ir::delta_types`); a type Delta cannot
/// store is compared as it is (`V0508` reports it).
fn storage_type(data_type: &DataType) -> DataType {
    delta_stored_type(data_type).unwrap_or_else(|_| data_type.clone())
}

pub fn check(output: &str, spec: &OutputSpec, view_schema: &Schema, table_schema: &Schema) -> Vec<Diagnostic> {
    let OutputSpec { view, path, mode, schema_mode, .. } = spec;
    if *mode != WriteMode::Append {
        return Vec::new();
    }
    let evolves = *schema_mode == Some(SchemaEvolution::Merge);
    let problems = schema_differences(view, view_schema, table_schema, evolves, true);
    if problems.is_empty() {
        return Vec::new();
    }
    let location = SpecLocation::output(output).with_field(FieldPath::from(["mode"]));
    let mut diagnostic = Diagnostic::new(
        Code::AppendSchemaMismatch,
        location,
        format!("output `{output}` appends to the existing Delta table at `{path}`, whose schema differs from view `{view}`"),
    );
    for problem in problems {
        diagnostic = diagnostic.with_note(problem);
    }
    vec![diagnostic.with_suggestion("use `mode: overwrite` to replace the table, or make the view match its columns")]
}

/// How the rows of `view` (its schema `view_schema`) do not fit the existing table's
/// `table_schema`, one sentence each: a column the table has and the view lacks, a new
/// column, another stored type, nulls into a non-null column. With `evolves`
/// (`schema_mode: merge`) the table gains the new columns and a nullable column the view
/// lacks is written as NULL; a type never changes in place. With `nullability`, a nullable
/// view column into a non-null table column is a difference too.
pub(crate) fn schema_differences(view: &str, view_schema: &Schema, table_schema: &Schema, evolves: bool, nullability: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let (view_fields, table_fields) = (FieldsByName::new(view_schema), FieldsByName::new(table_schema));
    for table_field in table_schema.fields() {
        match view_fields.get(table_field.name()) {
            None if evolves && table_field.is_nullable() => {}
            None => problems.push(format!("the table has column `{}`, which view `{view}` does not produce", table_field.name())),
            Some(view_field) => {
                if storage_type(view_field.data_type()) != storage_type(table_field.data_type()) {
                    problems.push(format!(
                        "column `{}` is `{}` in the table but `{}` in view `{view}`",
                        table_field.name(),
                        type_name(table_field.data_type()),
                        type_name(view_field.data_type())
                    ));
                }
                if nullability && !table_field.is_nullable() && view_field.is_nullable() {
                    problems
                        .push(format!("column `{}` is never null in the table, but view `{view}` may produce nulls", table_field.name()));
                }
            }
        }
    }
    if !evolves {
        for view_field in view_schema.fields() {
            if table_fields.get(view_field.name()).is_none() {
                problems.push(format!(
                    "view `{view}` produces column `{}`, which the table does not have (`schema_mode: merge` adds it)",
                    view_field.name()
                ));
            }
        }
    }
    problems
}

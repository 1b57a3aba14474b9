//! `V0501 contract-mismatch` and `V0502 partition-column-missing`: an output's schema
//! against its contract and its partition columns. Run on the view's output schema when
//! compiling, and again on the final plan's schema right before a task writes.

use datafusion::arrow::datatypes::Schema;
use viewdag_ir::delta_types::delta_stored_type;
use viewdag_ir::types::{parse_type_name, type_name, type_satisfies};
use viewdag_ir::{Code, Diagnostic, FieldPath, OutputSpec, SpecLocation};

use crate::fields_by_name::FieldsByName;

pub fn check_output(output: &str, spec: &OutputSpec, schema: &Schema) -> Vec<Diagnostic> {
    let OutputSpec { view, path: _, mode: _, partition_by, contract, .. } = spec;
    let mut diagnostics = Vec::new();
    let location = |field: FieldPath| SpecLocation::output(output).with_field(field);
    let fields = FieldsByName::new(schema);
    for (index, column) in partition_by.iter().enumerate() {
        if fields.get(column).is_none() {
            diagnostics.push(
                Diagnostic::new(
                    Code::PartitionColumnMissing,
                    location(FieldPath(vec!["partition_by".into(), index.to_string()])),
                    format!("output `{output}` partitions by `{column}`, which view `{view}` does not have"),
                )
                .with_note(format!("`{view}` has columns: {}", column_list(schema))),
            );
        }
    }
    let Some(contract) = contract else { return diagnostics };
    for (column, declared) in &contract.columns {
        let field_path = FieldPath(vec!["contract".into(), "columns".into(), column.clone()]);
        let expected = match parse_type_name(declared) {
            Ok(expected) => expected,
            Err(unknown) => {
                diagnostics.push(Diagnostic::new(Code::SourceSchemaType, location(field_path), unknown.to_string()));
                continue;
            }
        };
        let Some(field) = fields.get(column) else {
            diagnostics.push(
                Diagnostic::new(
                    Code::ContractMismatch,
                    location(field_path),
                    format!("output `{output}` promises column `{column}`, which view `{view}` does not have"),
                )
                .with_note(format!("`{view}` has columns: {}", column_list(schema))),
            );
            continue;
        };
        // The contract holds for the view's own type or for the type its table stores
        // (`uint32` is written as `int64`: either name is true of the output).
        let stored = delta_stored_type(field.data_type()).ok();
        let satisfied = type_satisfies(field.data_type(), &expected.data_type)
            || stored.as_ref().is_some_and(|stored| type_satisfies(stored, &expected.data_type));
        if !satisfied {
            diagnostics.push(Diagnostic::new(
                Code::ContractMismatch,
                location(field_path.clone()),
                format!(
                    "output `{output}` promises `{column}: {}`, but view `{view}` produces `{}`",
                    type_name(&expected.data_type),
                    type_name(field.data_type())
                ),
            ));
        }
        if !expected.nullable && field.is_nullable() {
            diagnostics.push(
                Diagnostic::new(
                    Code::ContractMismatch,
                    location(field_path),
                    format!("output `{output}` promises `{column}` is never null, but view `{view}` may produce nulls in it"),
                )
                .with_suggestion(format!(
                    "filter out nulls (`{column} IS NOT NULL`) or use `coalesce`, or drop `not null` from the contract"
                )),
            );
        }
    }
    if contract.strict {
        for field in schema.fields() {
            if !contract.columns.contains_key(field.name()) {
                diagnostics.push(Diagnostic::new(
                    Code::ContractMismatch,
                    location(FieldPath(vec!["contract".into()])),
                    format!("output `{output}` has a strict contract, but view `{view}` also produces column `{}`", field.name()),
                ));
            }
        }
    }
    diagnostics
}

fn column_list(schema: &Schema) -> String {
    schema.fields().iter().map(|field| field.name().as_str()).collect::<Vec<_>>().join(", ")
}

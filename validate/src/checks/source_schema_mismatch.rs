//! `V0305 source-schema-mismatch`: a source's declared `schema` disagrees with what the
//! data actually holds: a declared column the data lacks, a column whose declared type is
//! not the data's, or data columns the declaration leaves out. For Delta and Parquet the
//! data's schema comes from the provider; for CSV (whose declared types are used to read
//! it) the column names come from the file's header, and their order matters: CSV columns
//! are read by position, so a header in another order would put values in the wrong
//! columns.

use std::collections::HashSet;

use datafusion::arrow::datatypes::Schema;
use indexmap::IndexMap;
use viewdag_ir::suggestion::closest;
use viewdag_ir::types::{parse_type_name, type_name, type_satisfies};
use viewdag_ir::{Code, Diagnostic, FieldPath, SpecLocation};

use crate::fields_by_name::FieldsByName;

fn column_location(source: &str, column: &str) -> SpecLocation {
    SpecLocation::source(source).with_field(FieldPath(vec!["schema".into(), column.to_string()]))
}

/// Compares declared names and types with the provider's schema.
pub fn check(source: &str, declared: &IndexMap<String, String>, actual: &Schema) -> Vec<Diagnostic> {
    let names: Vec<String> = actual.fields().iter().map(|field| field.name().clone()).collect();
    let mut diagnostics = check_names(source, declared, &names);
    let fields = FieldsByName::new(actual);
    for (column, declared_type) in declared {
        let (Some(field), Ok(expected)) = (fields.get(column), parse_type_name(declared_type)) else { continue };
        if !type_satisfies(field.data_type(), &expected.data_type) {
            diagnostics.push(
                Diagnostic::new(
                    Code::SourceSchemaMismatch,
                    column_location(source, column),
                    format!(
                        "source `{source}` declares `{column}: {}`, but the data has `{}`",
                        type_name(&expected.data_type),
                        type_name(field.data_type())
                    ),
                )
                .with_suggestion(format!("declare `{column}: {}`", type_name(field.data_type()))),
            );
        }
    }
    diagnostics
}

/// Compares a CSV source's declared columns with its file's header: the same names, in the
/// same order (the declared types are applied by position).
pub fn check_csv_header(source: &str, declared: &IndexMap<String, String>, header: &[String]) -> Vec<Diagnostic> {
    let diagnostics = check_names(source, declared, header);
    if !diagnostics.is_empty() || declared.keys().eq(header.iter()) {
        return diagnostics;
    }
    let declared_order: Vec<&str> = declared.keys().map(String::as_str).collect();
    vec![
        Diagnostic::new(
            Code::SourceSchemaMismatch,
            SpecLocation::source(source).with_field(FieldPath::from(["schema"])),
            format!("source `{source}` declares its columns in another order than the file's header: {}", header.join(", ")),
        )
        .with_note(format!("declared: {}; CSV columns are read by position", declared_order.join(", ")))
        .with_suggestion(format!("declare the columns in the header's order: {}", header.join(", "))),
    ]
}

/// Compares declared column names with the data's (e.g. a CSV header).
pub fn check_names(source: &str, declared: &IndexMap<String, String>, actual: &[String]) -> Vec<Diagnostic> {
    let actual_names: Vec<&str> = actual.iter().map(String::as_str).collect();
    let present: HashSet<&str> = actual_names.iter().copied().collect();
    let mut diagnostics = Vec::new();
    for column in declared.keys() {
        if present.contains(column.as_str()) {
            continue;
        }
        let mut diagnostic = Diagnostic::new(
            Code::SourceSchemaMismatch,
            column_location(source, column),
            format!("source `{source}` declares column `{column}`, which the data does not have"),
        )
        .with_note(format!("the data has columns: {}", actual.join(", ")));
        if let Some(suggestion) = closest(column, &actual_names) {
            diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
        }
        diagnostics.push(diagnostic);
    }
    let undeclared: Vec<&str> = actual_names.iter().copied().filter(|name| !declared.contains_key(*name)).collect();
    if !undeclared.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                Code::SourceSchemaMismatch,
                SpecLocation::source(source).with_field(FieldPath::from(["schema"])),
                format!("source `{source}` has columns its declared schema leaves out: {}", undeclared.join(", ")),
            )
            .with_note("a declared schema lists every column of the data, in order"),
        );
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(columns: &[&str]) -> IndexMap<String, String> {
        columns.iter().map(|column| (column.to_string(), "utf8".to_string())).collect()
    }

    fn header(columns: &[&str]) -> Vec<String> {
        columns.iter().map(|column| column.to_string()).collect()
    }

    #[test]
    fn a_csv_header_in_another_order_is_a_mismatch() {
        assert!(check_csv_header("r", &declared(&["id", "name"]), &header(&["id", "name"])).is_empty());
        let found = check_csv_header("r", &declared(&["id", "name"]), &header(&["name", "id"]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("another order"), "{found:?}");
        // A missing column is reported as such, not as an order problem.
        let found = check_csv_header("r", &declared(&["id", "label"]), &header(&["name", "id"]));
        assert!(found.iter().all(|diagnostic| !diagnostic.message.contains("another order")), "{found:?}");
    }
}

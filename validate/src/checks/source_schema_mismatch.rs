//! `V0305 source-schema-mismatch`: a source's declared `schema` disagrees with what the
//! data actually holds: a declared column the data lacks, a column whose declared type is
//! not the data's, or data columns the declaration leaves out. For Delta and Parquet the
//! data's schema comes from the provider; for CSV (whose declared types are used to read
//! it) the column names come from the file's header.

use datafusion::arrow::datatypes::Schema;
use indexmap::IndexMap;
use viewdag_ir::parse::closest;
use viewdag_ir::types::{parse_type_name, type_name, type_satisfies};
use viewdag_ir::{Code, Diagnostic, FieldPath, SpecLocation};

fn column_location(source: &str, column: &str) -> SpecLocation {
    SpecLocation::source(source).with_field(FieldPath(vec!["schema".into(), column.to_string()]))
}

/// Compares declared names and types with the provider's schema.
pub fn check(source: &str, declared: &IndexMap<String, String>, actual: &Schema) -> Vec<Diagnostic> {
    let names: Vec<String> = actual.fields().iter().map(|field| field.name().clone()).collect();
    let mut diagnostics = check_names(source, declared, &names);
    for (column, declared_type) in declared {
        let (Ok(field), Ok(expected)) = (actual.field_with_name(column), parse_type_name(declared_type)) else { continue };
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

/// Compares declared column names with the data's (e.g. a CSV header).
pub fn check_names(source: &str, declared: &IndexMap<String, String>, actual: &[String]) -> Vec<Diagnostic> {
    let actual_names: Vec<&str> = actual.iter().map(String::as_str).collect();
    let mut diagnostics = Vec::new();
    for column in declared.keys() {
        if actual_names.contains(&column.as_str()) {
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

//! Validation of expectations (`expect:` on views and outputs) and of the write options of
//! `merge` and `replace_where` outputs, against the schema of the rows they check.
//!
//! Checks: every named column exists (`V0701 expectation-unknown-column`), a relationship's
//! target relation and column exist (`V0702 expectation-unknown-relation`), accepted values
//! are of the column's kind and a relationship's two columns can be compared
//! (`V0704 expectation-type-mismatch`), `row_count` bounds admit a count
//! (`V0705 expectation-empty-range`), predicates go
//! through the same expression checks as a filter's (`V0202`, `V0203`, `V0207`, `V0208`, …);
//! a view's expectations that no task checks are a warning (`V0703`); a merge needs a key
//! of existing columns (`V0506`); options are used only by the mode that reads them
//! (`V0507`), and `replace_where` is checked like a filter.
//!
//! ## Invariants
//! - [`view_expectation_diagnostics`] reads the view's own schema and, for relationships,
//!   the target's: an edit elsewhere re-runs nothing here.
//! - Positions are logical: `expect.<kind>.<index or column>` and, inside a predicate, the
//!   offending range.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use viewdag_ir::expectation::AcceptedValue;
use viewdag_ir::types::type_name;
use viewdag_ir::{
    Code, Diagnostic, ExpectationKind, ExpectationsSpec, FieldPath, OutputSpec, ProjectInput, SourceResolution, SpecLocation, SurfaceInput,
    ViewInput, WriteMode,
};
use viewdag_surface::planning_session;
use viewdag_validate::checks::non_boolean_predicate;
use viewdag_validate::{Relation, resolve_relation};

use crate::Db;
use crate::expressions::parse_typed_expression;
use crate::queries::view_schema;

/// The diagnostics of a view's `expect:` block (empty without one, or for a view with errors).
#[salsa::tracked(returns(ref))]
pub fn view_expectation_diagnostics(db: &dyn Db, view: ViewInput) -> Vec<Diagnostic> {
    let Some(expect) = view.definition(db).as_ref().and_then(|definition| definition.expect.clone()) else { return Vec::new() };
    let Ok(schema) = view_schema(db, view) else { return Vec::new() };
    let base = SpecLocation::view(view.name(db)).with_field(FieldPath::from(["expect"]));
    expectation_diagnostics(db, &base, &expect, schema, view.name(db))
}

/// The diagnostics of an output's `expect:` block and of its write options, over the
/// schema of the view it writes.
pub fn output_diagnostics(db: &dyn Db, output: &str, spec: &OutputSpec, schema: &DFSchema) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    if let Some(expect) = &spec.expect {
        let base = SpecLocation::output(output).with_field(FieldPath::from(["expect"]));
        diagnostics.extend(expectation_diagnostics(db, &base, expect, schema, &spec.view));
    }
    diagnostics.extend(write_option_diagnostics(db, output, spec, schema));
    diagnostics
}

fn expectation_diagnostics(db: &dyn Db, base: &SpecLocation, expect: &ExpectationsSpec, schema: &DFSchema, owner: &str) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let at = |field: &[String]| base.clone().with_field(base.field.join(&FieldPath(field.to_vec())));
    let has = |column: &str| schema.has_column_with_unqualified_name(column);
    let columns = || schema.fields().iter().map(|field| format!("`{}`", field.name())).collect::<Vec<_>>().join(", ");
    let unknown = |field: &[String], column: &str| {
        Diagnostic::new(
            Code::ExpectationUnknownColumn,
            at(field),
            format!("expectation names column `{column}`, which `{owner}` does not have"),
        )
        .with_note(format!("`{owner}` has columns: {}", columns()))
    };
    for expectation in expect.expectations() {
        match &expectation.kind {
            ExpectationKind::NotNull { column } | ExpectationKind::AcceptedValues { column, .. } if !has(column) => {
                diagnostics.push(unknown(&expectation.field, column));
            }
            ExpectationKind::AcceptedValues { column, values } => {
                let data_type = column_type(schema, column);
                for (index, value) in values.iter().enumerate() {
                    if let Some(problem) = accepted_value_problem(value, &data_type) {
                        let mut field = expectation.field.clone();
                        field.push(index.to_string());
                        diagnostics.push(Diagnostic::new(
                            Code::ExpectationTypeMismatch,
                            at(&field),
                            format!("expectation `{}`: accepted value {} {problem}", expectation.name, value.sql_literal()),
                        ));
                    }
                }
            }
            ExpectationKind::Unique { columns: keys } => {
                for (index, column) in keys.iter().enumerate() {
                    if !has(column) {
                        diagnostics.push(unknown(&[expectation.field[0].clone(), index.to_string()], column));
                    }
                }
            }
            ExpectationKind::Relationship { column, to, to_column } => {
                if !has(column) {
                    diagnostics.push(unknown(&expectation.field, column));
                }
                let target = target_columns(db, to);
                let target_type =
                    target.as_ref().and_then(|fields| fields.iter().find(|(name, _)| name == to_column)).map(|(_, data_type)| data_type);
                let problem = match (&target, target_type) {
                    (None, _) => Some(format!("relationship of `{column}` points at `{to}`, which no source or view declares")),
                    (Some(_), None) => {
                        Some(format!("relationship of `{column}` points at `{to}.{to_column}`, a column `{to}` does not have"))
                    }
                    (Some(_), Some(_)) => None,
                };
                if let Some(problem) = problem {
                    let mut field = expectation.field.clone();
                    field.push(if target.is_none() { "to" } else { "column" }.to_string());
                    diagnostics.push(Diagnostic::new(Code::ExpectationUnknownRelation, at(&field), problem));
                } else if let Some(target_type) = target_type
                    && has(column)
                {
                    let own_type = column_type(schema, column);
                    if !comparable(&own_type, target_type) {
                        diagnostics.push(
                            Diagnostic::new(
                                Code::ExpectationTypeMismatch,
                                at(&expectation.field),
                                format!(
                                    "expectation `{}` compares `{column}` (`{}`) with `{to}.{to_column}` (`{}`), which cannot be compared",
                                    expectation.name,
                                    type_name(&own_type),
                                    type_name(target_type)
                                ),
                            )
                            .with_suggestion(format!(
                                "cast one side in a `project` so both are of one type (e.g. `CAST({column} AS BIGINT)`)"
                            )),
                        );
                    }
                }
            }
            ExpectationKind::Predicate { predicate } => {
                diagnostics.extend(predicate_diagnostic(db, predicate, schema, &at(&expectation.field)));
            }
            ExpectationKind::RowCount { min: Some(min), max: Some(max) } if min > max => {
                diagnostics.push(
                    Diagnostic::new(
                        Code::ExpectationEmptyRange,
                        at(&expectation.field),
                        format!("expectation `row_count` wants at least {min} and at most {max} rows: no table passes it"),
                    )
                    .with_suggestion("swap `min` and `max`"),
                );
            }
            ExpectationKind::NotNull { .. } | ExpectationKind::RowCount { .. } => {}
        }
    }
    diagnostics
}

/// A predicate checked like a filter's: parses, names existing columns, is well typed and
/// boolean.
fn predicate_diagnostic(db: &dyn Db, predicate: &str, schema: &DFSchema, location: &SpecLocation) -> Option<Diagnostic> {
    let session = planning_session(db, SurfaceInput::get(db));
    match parse_typed_expression(&session.state, predicate, schema, location) {
        Err(diagnostic) => Some(diagnostic),
        Ok((_, data_type)) => non_boolean_predicate::check(&data_type, predicate, location),
    }
}

/// The columns (name, type) of a declared source or view (`None` when nothing has that
/// name; empty when it has no schema because it failed).
fn target_columns(db: &dyn Db, relation: &str) -> Option<Vec<(String, DataType)>> {
    let fields = |schema: &datafusion::arrow::datatypes::Schema| {
        schema.fields().iter().map(|field| (field.name().clone(), field.data_type().clone())).collect()
    };
    match resolve_relation(db, ProjectInput::get(db), relation.to_string())? {
        Relation::Source(source) => match source.resolution(db) {
            SourceResolution::Resolved { schema, .. } => Some(fields(schema)),
            SourceResolution::Failed(_) => Some(Vec::new()),
        },
        Relation::View(view) => match view_schema(db, view) {
            Ok(schema) => Some(fields(schema.inner())),
            Err(_) => Some(Vec::new()),
        },
    }
}

/// Whether a `relationships` column and its target compare as values: both numbers, both
/// text, both dates or timestamps, both booleans or both binary, with a common type
/// (`int64` and `float64` compare as `float64`). DataFusion would compare a number with
/// text as text, which never matches the way a key should.
fn comparable(left: &DataType, right: &DataType) -> bool {
    fn kind(data_type: &DataType) -> u8 {
        match data_type {
            DataType::Dictionary(_, value) => kind(value),
            numeric if numeric.is_numeric() => 0,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => 1,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) => 2,
            DataType::Boolean => 3,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => 4,
            _ => 5,
        }
    }
    kind(left) == kind(right) && kind(left) != 5 && comparison_coercion(left, right).is_some()
}

/// The type of `column` in `schema` (the caller checked it exists).
fn column_type(schema: &DFSchema, column: &str) -> DataType {
    schema.field_with_unqualified_name(column).map(|field| field.data_type().clone()).unwrap_or(DataType::Null)
}

/// Why `value` cannot be one of a column's accepted values, if it cannot: numbers for
/// numeric columns, text for text columns (and for dates and timestamps, when it is one),
/// `true`/`false` for booleans. `run` compares with SQL `IN`, which would otherwise fail
/// on every row or compare text with numbers.
fn accepted_value_problem(value: &AcceptedValue, data_type: &DataType) -> Option<String> {
    let column = || format!("the column is `{}`", type_name(data_type));
    let data_type = match data_type {
        DataType::Dictionary(_, value_type) => value_type.as_ref(),
        other => other,
    };
    let fits = match (value, data_type) {
        (AcceptedValue::Integer(_) | AcceptedValue::Float(_), numeric) if numeric.is_numeric() => true,
        (AcceptedValue::Text(_), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => true,
        (AcceptedValue::Bool(_), DataType::Boolean) => true,
        (AcceptedValue::Text(text), temporal) if temporal.is_temporal() => {
            let literal = datafusion::arrow::array::StringArray::from(vec![text.as_str()]);
            let options = datafusion::arrow::compute::CastOptions { safe: false, ..Default::default() };
            return datafusion::arrow::compute::cast_with_options(&literal, temporal, &options)
                .err()
                .map(|_| format!("is not a `{}` value", type_name(temporal)));
        }
        _ => false,
    };
    if fits {
        return None;
    }
    let kind = match value {
        AcceptedValue::Bool(_) => "a boolean",
        AcceptedValue::Integer(_) | AcceptedValue::Float(_) => "a number",
        AcceptedValue::Text(_) => "text",
    };
    Some(format!("is {kind}, but {}", column()))
}

fn write_option_diagnostics(db: &dyn Db, output: &str, spec: &OutputSpec, schema: &DFSchema) -> Vec<Diagnostic> {
    let OutputSpec { view, mode, unique_key, when_not_matched_by_source, replace_where, .. } = spec;
    let mut diagnostics = Vec::new();
    let at = |keys: Vec<String>| SpecLocation::output(output).with_field(FieldPath(keys));
    let misplaced = |key: &str, needs: &str| {
        Diagnostic::new(
            Code::WriteOptionMisplaced,
            at(vec![key.to_string()]),
            format!("output `{output}` sets `{key}`, which only `mode: {needs}` uses (its mode is `{}`)", mode_name(*mode)),
        )
    };
    if *mode != WriteMode::Merge {
        if !unique_key.is_empty() {
            diagnostics.push(misplaced("unique_key", "merge"));
        }
        if when_not_matched_by_source.is_some() {
            diagnostics.push(misplaced("when_not_matched_by_source", "merge"));
        }
    }
    if *mode != WriteMode::ReplaceWhere && replace_where.is_some() {
        diagnostics.push(misplaced("replace_where", "replace_where"));
    }
    match mode {
        WriteMode::Merge if unique_key.is_empty() => diagnostics.push(Diagnostic::new(
            Code::MergeKeyMissing,
            at(vec!["mode".into()]),
            format!("output `{output}` merges but names no `unique_key` to match rows by"),
        )),
        WriteMode::Merge => {
            for (index, column) in unique_key.iter().enumerate() {
                if !schema.has_column_with_unqualified_name(column) {
                    diagnostics.push(Diagnostic::new(
                        Code::MergeKeyMissing,
                        at(vec!["unique_key".into(), index.to_string()]),
                        format!("output `{output}` merges by `{column}`, which view `{view}` does not have"),
                    ));
                }
            }
        }
        WriteMode::ReplaceWhere => match replace_where {
            None => diagnostics.push(Diagnostic::new(
                Code::WriteOptionMisplaced,
                at(vec!["mode".into()]),
                format!("output `{output}` has `mode: replace_where` but no `replace_where` predicate"),
            )),
            Some(predicate) => diagnostics.extend(predicate_diagnostic(db, predicate, schema, &at(vec!["replace_where".into()]))),
        },
        WriteMode::Overwrite | WriteMode::Append => {}
    }
    diagnostics
}

fn mode_name(mode: WriteMode) -> &'static str {
    match mode {
        WriteMode::Overwrite => "overwrite",
        WriteMode::Append => "append",
        WriteMode::Merge => "merge",
        WriteMode::ReplaceWhere => "replace_where",
    }
}

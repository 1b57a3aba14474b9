//! Validation of expectations (`expect:` on views and outputs) and of the write options of
//! `merge` and `replace_where` outputs, against the schema of the rows they check.
//!
//! Checks: every named column exists (`V0701 expectation-unknown-column`), a relationship's
//! target relation and column exist (`V0702 expectation-unknown-relation`), predicates go
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

use datafusion::common::DFSchema;
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
                let target_has = target_columns(db, to).map(|names| names.iter().any(|name| name == to_column));
                let problem = match target_has {
                    None => Some(format!("relationship of `{column}` points at `{to}`, which no source or view declares")),
                    Some(false) => Some(format!("relationship of `{column}` points at `{to}.{to_column}`, a column `{to}` does not have")),
                    Some(true) => None,
                };
                if let Some(problem) = problem {
                    let mut field = expectation.field.clone();
                    field.push(if target_has.is_none() { "to" } else { "column" }.to_string());
                    diagnostics.push(Diagnostic::new(Code::ExpectationUnknownRelation, at(&field), problem));
                }
            }
            ExpectationKind::Predicate { predicate } => {
                diagnostics.extend(predicate_diagnostic(db, predicate, schema, &at(&expectation.field)));
            }
            ExpectationKind::NotNull { .. } | ExpectationKind::AcceptedValues { .. } | ExpectationKind::RowCount { .. } => {}
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

/// The column names of a declared source or view (`None` when nothing has that name, or
/// it has no schema because it failed).
fn target_columns(db: &dyn Db, relation: &str) -> Option<Vec<String>> {
    match resolve_relation(db, ProjectInput::get(db), relation.to_string())? {
        Relation::Source(source) => match source.resolution(db) {
            SourceResolution::Resolved { schema, .. } => Some(schema.fields().iter().map(|field| field.name().clone()).collect()),
            SourceResolution::Failed(_) => Some(Vec::new()),
        },
        Relation::View(view) => match view_schema(db, view) {
            Ok(schema) => Some(schema.fields().iter().map(|field| field.name().clone()).collect()),
            Err(_) => Some(Vec::new()),
        },
    }
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

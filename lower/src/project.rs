//! The project's check results as queries: each view's outcome with its diagnostics
//! (including the note of a blocked view), the tasks, and the whole project's sorted,
//! deduplicated diagnostics (parse, sources, structure, views, output contracts, existing
//! data: an append target's schema, a declared source schema against what was loaded).
//!
//! ## Invariants
//! - Per-view queries ([`view_check`]) read only per-view and per-name queries; only
//!   [`checked_project`] and [`task_views`] read the whole project.
//! - Nothing here plans an inlined plan: checking is O(size of the spec). A task whose plan
//!   would inline too deep a chain of views is reported here (`V0225`), before planning.

use std::collections::HashSet;
use std::sync::Arc;

use viewdag_ir::{Code, Diagnostic, ExistingDataInput, ProjectInput, SourceFormat, SourceResolution, SourceSpec, SpecLocation, ViewInput};
use viewdag_validate::checks::contract::check_output;
use viewdag_validate::checks::{append_schema_mismatch, column_names_differ_in_case, column_type_not_storable, source_schema_mismatch};
use viewdag_validate::{Relation, relation_index, resolve_relation, spec_structure};

use crate::definition_digest::view_definition_digest;
use crate::depth::{MAX_INLINED_DEPTH, inlined_depth, too_deep};
use crate::expectations::{output_diagnostics, view_expectation_diagnostics};
use crate::queries::{view_schema, view_signature};
use crate::{Db, ViewFailure};

/// How a view came out of validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewCheckStatus {
    /// The view validates; its definition digest identifies it and its inputs.
    Valid { definition_digest: String },
    /// The view has errors of its own (see the diagnostics).
    Failed,
    /// A relation upstream has errors; the view was not checked.
    Blocked { upstream: String },
}

impl ViewCheckStatus {
    pub fn is_valid(&self) -> bool {
        matches!(self, ViewCheckStatus::Valid { .. })
    }
}

/// One view's validation outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewCheck {
    pub view: ViewInput,
    pub name: String,
    pub materialized: bool,
    pub status: ViewCheckStatus,
    /// Errors, warnings and notes about this view (a blocked view: one note).
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

#[salsa::tracked(returns(ref))]
pub fn view_check(db: &dyn Db, view: ViewInput) -> ViewCheck {
    let name = view.name(db).clone();
    let materialized = view.definition(db).as_ref().is_some_and(|definition| definition.is_materialized());
    let (status, diagnostics) = match view_signature(db, view) {
        Ok(signature) => {
            let definition_digest = view_definition_digest(db, view).clone().unwrap_or_default();
            (ViewCheckStatus::Valid { definition_digest }, Arc::clone(&signature.warnings))
        }
        Err(ViewFailure::Invalid) => (ViewCheckStatus::Failed, Arc::new(Vec::new())),
        Err(ViewFailure::Errors(errors)) => (ViewCheckStatus::Failed, Arc::clone(errors)),
        Err(ViewFailure::Blocked { upstream }) => {
            let note = Diagnostic::new(
                Code::Blocked,
                SpecLocation::view(&name),
                format!("view `{name}` is not compiled because `{upstream}` has errors"),
            );
            (ViewCheckStatus::Blocked { upstream: upstream.clone() }, Arc::new(vec![note]))
        }
    };
    ViewCheck { view, name, materialized, status, diagnostics }
}

/// The views that execute: every materialized view (in declaration order), then every
/// output's view not listed yet (in output order). Unknown output views are skipped (the
/// structural checks report them).
#[salsa::tracked(returns(ref))]
pub fn task_views(db: &dyn Db, project: ProjectInput) -> Arc<[ViewInput]> {
    // Only looked up, never iterated.
    let mut seen = HashSet::new();
    let mut tasks = Vec::new();
    for view in project.views(db) {
        if view.definition(db).as_ref().is_some_and(|definition| definition.is_materialized()) && seen.insert(*view) {
            tasks.push(*view);
        }
    }
    for spec in project.outputs(db).values().flatten() {
        if let Some(Relation::View(view)) = resolve_relation(db, project, spec.view.clone())
            && seen.insert(view)
        {
            tasks.push(view);
        }
    }
    tasks.into()
}

/// The whole project's validation: every view's outcome in declaration order and every
/// diagnostic, sorted by logical location and deduplicated (a profile problem fails every
/// view with the same diagnostic: it is reported once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProject {
    pub views: Arc<[ViewCheck]>,
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

#[salsa::tracked(returns(ref))]
pub fn checked_project(db: &dyn Db, project: ProjectInput) -> CheckedProject {
    let mut diagnostics: Vec<Diagnostic> = project.parse_diagnostics(db).clone();
    for source in project.sources(db) {
        if source.declaration(db).is_some()
            && let SourceResolution::Failed(diagnostic) = source.resolution(db)
        {
            diagnostics.push(diagnostic.clone());
        }
    }
    let structure = spec_structure(db, project);
    diagnostics.extend(structure.diagnostics.iter().cloned());
    // Check in dependency order, so each view's inputs are already memoized and no query
    // recurses more than one level deep (a 100,000-view chain must not overflow the stack).
    let index = relation_index(db, project);
    for name in structure.dag.topological_order() {
        if let Some(view) = index.views.get(name) {
            view_check(db, *view);
            inlined_depth(db, *view);
        }
    }
    for view in task_views(db, project).iter() {
        let depth = inlined_depth(db, *view);
        if depth > MAX_INLINED_DEPTH {
            diagnostics.push(too_deep(view.name(db), depth));
        }
    }
    let views: Vec<ViewCheck> = project.views(db).iter().map(|view| view_check(db, *view).clone()).collect();
    for view in &views {
        diagnostics.extend(view.diagnostics.iter().cloned());
    }
    let written_by_outputs: HashSet<&str> = project.outputs(db).values().flatten().map(|spec| spec.view.as_str()).collect();
    for view in project.views(db) {
        diagnostics.extend(view_expectation_diagnostics(db, *view).iter().cloned());
        let Some(definition) = view.definition(db) else { continue };
        if definition.expect.as_ref().is_some_and(|expect| !expect.is_empty())
            && !definition.is_materialized()
            && !written_by_outputs.contains(view.name(db).as_str())
        {
            diagnostics.push(
                Diagnostic::new(
                    Code::ExpectationNotRun,
                    SpecLocation::view(view.name(db)).with_field(viewdag_ir::FieldPath::from(["expect"])),
                    format!("view `{}` is ephemeral and no output writes it: `run` checks its expectations nowhere", view.name(db)),
                )
                .with_suggestion("add `materialize: table`, or move the expectations to an output"),
            );
        }
    }
    for (output, spec) in project.outputs(db).iter() {
        let Some(spec) = spec else { continue };
        if let Some(Relation::View(view)) = resolve_relation(db, project, spec.view.clone())
            && let Ok(schema) = view_schema(db, view)
        {
            diagnostics.extend(check_output(output, spec, schema.inner()));
            let table = format!("output `{output}`");
            let location = SpecLocation::output(output).with_field(viewdag_ir::FieldPath::from(["view"]));
            diagnostics.extend(column_type_not_storable::check(&table, schema.inner(), &location));
            diagnostics.extend(column_names_differ_in_case::check(&table, schema.inner(), &location));
            diagnostics.extend(output_diagnostics(db, output, spec, schema));
        }
    }
    diagnostics.extend(viewdag_validate::project_path_diagnostics(db, project).iter().cloned());
    diagnostics.extend(existing_data_diagnostics(db, project));
    viewdag_ir::diagnostic::sort_diagnostics(&mut diagnostics);
    diagnostics.dedup();
    CheckedProject { views: views.into(), diagnostics: Arc::new(diagnostics) }
}

/// Compares existing data with the spec: `append` targets with their views' schemas, and
/// declared source schemas with the loaded providers' (Delta, Parquet) or the CSV headers.
fn existing_data_diagnostics(db: &dyn Db, project: ProjectInput) -> Vec<Diagnostic> {
    let Some(existing) = ExistingDataInput::try_get(db) else { return Vec::new() };
    let mut diagnostics = Vec::new();
    for (output, spec) in project.outputs(db).iter() {
        let Some(spec) = spec else { continue };
        let Some(table_schema) = existing.append_targets(db).get(output) else { continue };
        if let Some(Relation::View(view)) = resolve_relation(db, project, spec.view.clone())
            && let Ok(schema) = view_schema(db, view)
        {
            diagnostics.extend(append_schema_mismatch::check(output, spec, schema.inner(), table_schema));
        }
    }
    for source in project.sources(db) {
        let Some(SourceSpec { format, path: _, schema: Some(declared), version: _ }) = source.declaration(db) else { continue };
        let name = source.name(db);
        match (format, source.resolution(db)) {
            (SourceFormat::Csv, _) => {
                if let Some(header) = existing.csv_headers(db).get(name) {
                    diagnostics.extend(source_schema_mismatch::check_csv_header(name, declared, header));
                }
            }
            (_, SourceResolution::Resolved { schema, .. }) => diagnostics.extend(source_schema_mismatch::check(name, declared, schema)),
            (_, SourceResolution::Failed(_)) => {}
        }
    }
    diagnostics
}

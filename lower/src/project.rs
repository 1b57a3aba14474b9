//! The project's check results as queries: each view's outcome with its diagnostics
//! (including the note of a blocked view), the tasks, and the whole project's sorted,
//! deduplicated diagnostics (parse, sources, structure, views, output contracts, existing
//! data: an append target's schema, a declared source schema against what was loaded).
//!
//! ## Invariants
//! - Per-view queries ([`view_check`]) read only per-view and per-name queries; only
//!   [`project_global_diagnostics`], [`task_views`] and [`output_view_names`] read the whole
//!   project.
//! - The project's diagnostics are the union of parts an edit replaces piecewise: the
//!   global ones ([`project_global_diagnostics`]: unchanged by an edit that keeps what every
//!   view reads and the views' names), one per task (a checkpoint's warning,
//!   [`crate::materialization::task_diagnostic`]), one per
//!   chunk ([`chunk_check`]) and one per output ([`output_check`]); each per-view, per-task
//!   and per-output part is a function of its views and their upstream only.
//! - Results are collected chunk by chunk ([`crate::chunks`]): [`chunk_check`] holds one
//!   chunk's outcomes and diagnostics, so an edit re-collects one chunk and the project
//!   query re-reads one value per chunk, never every view's.
//! - Nothing here plans an inlined plan: checking is O(size of the spec).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use viewdag_ir::{Code, Diagnostic, ExistingDataInput, ProjectInput, SourceFormat, SourceResolution, SourceSpec, SpecLocation, ViewInput};
use viewdag_validate::checks::contract::check_output;
use viewdag_validate::checks::{
    append_schema_mismatch, column_names_differ_in_case, column_type_not_storable, source_schema_mismatch, write_schema_mismatch,
};
use viewdag_validate::{Relation, resolve_relation, spec_structure};

use crate::chunks::{ChunkOrder, chunk_members, view_chunks};
use crate::definition_digest::view_definition_digest;
use crate::expectations::{output_diagnostics, view_expectation_diagnostics};
use crate::materialization::{is_materialized, view_tables};
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
    let materialized = is_materialized(db, view);
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

/// The views that execute: every view with a table — declared or a checkpoint — (in
/// declaration order), then every output's view not listed yet (in output order). Unknown
/// output views are skipped (the structural checks report them).
#[salsa::tracked(returns(ref))]
pub fn task_views(db: &dyn Db, project: ProjectInput) -> Arc<[ViewInput]> {
    // Only looked up, never iterated.
    let mut seen = HashSet::new();
    let mut tasks = Vec::new();
    for view in &view_tables(db, project).with_tables {
        if seen.insert(*view) {
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

/// Whether `view` is one of [`task_views`]: materialized, or the view an output writes.
/// Asked per view, so a chunk that asks depends on its own views' definitions and the
/// outputs, not on every view's definition as [`task_views`] does.
pub fn is_task(db: &dyn Db, project: ProjectInput, view: ViewInput) -> bool {
    is_materialized(db, view)
        || (output_view_names(db, project).contains(view.name(db))
            && resolve_relation(db, project, view.name(db).clone()) == Some(Relation::View(view)))
}

/// The names of the views outputs write (a narrow projection of the outputs: a chunk
/// reading it is reused unless this set changed).
#[salsa::tracked(returns(ref))]
pub fn output_view_names(db: &dyn Db, project: ProjectInput) -> BTreeSet<String> {
    project.outputs(db).values().flatten().map(|spec| spec.view.clone()).collect()
}

/// One chunk of views (in declaration order): each view's outcome, and the diagnostics of
/// these views (their own, their expectations', and an ephemeral view's expectations that
/// no output runs), unsorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkCheck {
    pub views: Arc<[ViewCheck]>,
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

/// The chunk (declaration order) starting with `first`, checked. (Keyed by the project
/// too, so that the chunk's work is never reported as its first view's.)
#[salsa::tracked(returns(ref))]
pub fn chunk_check(db: &dyn Db, project: ProjectInput, first: ViewInput) -> ChunkCheck {
    let members = chunk_members(db, project, first, ChunkOrder::Declaration);
    let views: Vec<ViewCheck> = members.iter().map(|view| view_check(db, *view).clone()).collect();
    let mut diagnostics = Vec::new();
    for view in &views {
        diagnostics.extend(view.diagnostics.iter().cloned());
    }
    for view in members.iter() {
        diagnostics.extend(view_expectation_diagnostics(db, *view).iter().cloned());
        let Some(definition) = view.definition(db) else { continue };
        if definition.expect.as_ref().is_some_and(|expect| !expect.is_empty())
            && !is_materialized(db, *view)
            && !output_view_names(db, project).contains(view.name(db))
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
    ChunkCheck { views: views.into(), diagnostics: Arc::new(diagnostics) }
}

/// Checks the chunk (dependency order) starting with `first`, each view after the views it
/// reads: run chunk by chunk in dependency order, no query recurses more than one level
/// deep (a 100,000-view chain must not overflow the stack).
#[salsa::tracked]
pub fn chunk_warm(db: &dyn Db, project: ProjectInput, first: ViewInput) {
    warm_views(db, &chunk_members(db, project, first, ChunkOrder::Dependency));
}

/// Checks `views` in the order given — dependency order, each after what it reads — so no
/// query recurses more than one level deep.
pub fn warm_views(db: &dyn Db, views: &[ViewInput]) {
    for view in views {
        view_check(db, *view);
    }
}

/// Checks every view chunk by chunk in dependency order, so each view's inputs are
/// memoized before it is asked (no query recurses more than one level deep).
pub fn warm_in_dependency_order(db: &dyn Db, project: ProjectInput) {
    for first in view_chunks(db, project, ChunkOrder::Dependency).firsts.iter() {
        chunk_warm(db, project, *first);
    }
}

/// The project-wide diagnostics (unsorted): parse, sources, structure, paths, and declared
/// source schemas against what was loaded. None of them reads a view's definition beyond
/// what it reads ([`viewdag_validate::view_reads`]), so an edit that keeps every view's
/// reads and the views' names leaves them as they were.
#[salsa::tracked(returns(ref))]
pub fn project_global_diagnostics(db: &dyn Db, project: ProjectInput) -> Arc<Vec<Diagnostic>> {
    let mut diagnostics: Vec<Diagnostic> = project.parse_diagnostics(db).clone();
    for source in project.sources(db) {
        if source.declaration(db).is_some()
            && let SourceResolution::Failed(diagnostic) = source.resolution(db)
        {
            diagnostics.push(diagnostic.clone());
        }
    }
    diagnostics.extend(spec_structure(db).diagnostics.iter().cloned());
    diagnostics.extend(viewdag_validate::project_path_diagnostics(db, project).iter().cloned());
    diagnostics.extend(declared_source_schema_diagnostics(db, project));
    Arc::new(diagnostics)
}

/// One output's diagnostics (unsorted): its contract and expectations against its view's
/// schema, the columns a table can hold, and an existing target's schema. Empty when the
/// output's view does not resolve or validate (other checks report that).
#[salsa::tracked(returns(ref))]
pub fn output_check(db: &dyn Db, project: ProjectInput, output: String) -> Arc<Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let Some(Some(spec)) = project.outputs(db).get(&output) else { return Arc::new(diagnostics) };
    if let Some(Relation::View(view)) = resolve_relation(db, project, spec.view.clone())
        && let Ok(schema) = view_schema(db, view)
    {
        diagnostics.extend(check_output(&output, spec, schema.inner()));
        let table = format!("output `{output}`");
        let location = SpecLocation::output(&output).with_field(viewdag_ir::FieldPath::from(["view"]));
        diagnostics.extend(column_type_not_storable::check(&table, schema.inner(), &location));
        diagnostics.extend(column_names_differ_in_case::check(&table, schema.inner(), &location));
        diagnostics.extend(output_diagnostics(db, &output, spec, schema));
        if let Some(existing) = ExistingDataInput::try_get(db)
            && let Some(table_schema) = existing.target_schemas(db).get(&output)
        {
            diagnostics.extend(append_schema_mismatch::check(&output, spec, schema.inner(), table_schema));
            diagnostics.extend(write_schema_mismatch::check(&output, spec, schema.inner(), table_schema));
        }
    }
    Arc::new(diagnostics)
}

/// Compares declared source schemas with the loaded providers' (Delta, Parquet) or the CSV
/// headers. (An existing output target's schema is compared in [`output_check`].)
fn declared_source_schema_diagnostics(db: &dyn Db, project: ProjectInput) -> Vec<Diagnostic> {
    let Some(existing) = ExistingDataInput::try_get(db) else { return Vec::new() };
    let mut diagnostics = Vec::new();
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

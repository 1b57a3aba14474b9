//! Plans of what executes, as queries: a task's (or any asked view's) P0/P1/P2 outcome,
//! its task digest, and the project's compile result (the check plus the plans of the
//! views in scope).
//!
//! ## Invariants
//! - Only the views in scope are planned: the tasks (materialized views and outputs), or
//!   every view for [`PlanScope::AllViews`]. A view that does not validate is never planned.
//!   One exception, in every scope: a task declared `refresh: incremental` gets its P0
//!   lowered so `check` can tell whether its change can ever be derived (`V1001`).
//! - A task digest is O(1) given the view's definition digest: it decides whether a task is
//!   up to date without planning.

use std::collections::HashSet;
use std::sync::Arc;

use viewdag_ir::{Diagnostic, ProjectInput, SurfaceInput, ViewInput};
use viewdag_lower::{
    ChunkOrder, LowerResult, ViewCheckStatus, ViewFailure, chunk_check, chunk_members, is_task, output_check, project_global_diagnostics,
    task_diagnostic, task_views, view_check, view_chunks, view_definition_digest, view_plan, view_shape_digest, warm_in_dependency_order,
    warm_views,
};
use viewdag_surface::planning_session;
use viewdag_validate::{Relation, resolve_relation};

use crate::Db;
use crate::digests::p0_digest;
use crate::incremental::{output_refresh_diagnostics, view_refresh_diagnostics};
use crate::queries::{optimized_view, physical_view, resolved_optimizer_pipeline};

/// Which views a compile plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlanScope {
    /// Nothing: validation only (`viewdag check`).
    Nothing,
    /// The tasks: what `run` executes.
    Tasks,
    /// Every view (`compile --all-views`).
    AllViews,
}

/// The digests of a planned view (of its normalized plan texts and scanned identities, as
/// its plan bundle records them) and the warnings its optimizer phases gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedView {
    pub p0_digest: String,
    pub p1_digest: String,
    pub p2_digest: String,
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

/// A view's P0, P1 and P2. Fails exactly when its P2 fails.
#[salsa::tracked(returns(ref))]
pub fn planned_view(db: &dyn Db, view: ViewInput) -> LowerResult<PlannedView> {
    let physical = physical_view(db, view).clone()?;
    let lowered = view_plan(db, view).as_ref().map_err(Clone::clone)?;
    let optimized = optimized_view(db, view).as_ref().map_err(Clone::clone)?;
    let diagnostics = optimized.diagnostics.iter().chain(physical.diagnostics.iter()).cloned().collect();
    Ok(PlannedView {
        p0_digest: p0_digest(&lowered.plan, &lowered.scans, SurfaceInput::get(db).root(db)),
        p1_digest: optimized.digest.clone(),
        p2_digest: physical.digest.clone(),
        diagnostics: Arc::new(diagnostics),
    })
}

/// BLAKE3 over a view's definition digest, the planning surface's manifest hash and the
/// resolved optimizer pipeline (rule keys, fail modes, passes, pushdown policy): what a
/// task's plan is a function of, without planning it.
#[salsa::tracked(returns(ref))]
pub fn task_digest(db: &dyn Db, view: ViewInput) -> LowerResult<String> {
    let definition = view_definition_digest(db, view).clone()?;
    task_hash(db, b"viewdag task v1\0", &definition)
}

/// [`task_digest`] over the view's *shape* digest (`viewdag_lower::view_shape_digest`):
/// every source's data version left out. Equal task shapes plan the same query over the
/// data each scan reads; incremental refresh requires it unchanged since the last run.
#[salsa::tracked(returns(ref))]
pub fn task_shape_digest(db: &dyn Db, view: ViewInput) -> LowerResult<String> {
    let shape = view_shape_digest(db, view).clone()?;
    task_hash(db, b"viewdag task shape v1\0", &shape)
}

/// BLAKE3 over `domain`, a view's Merkle digest, the surface's manifest hash and the
/// resolved pipeline.
fn task_hash(db: &dyn Db, domain: &[u8], view_digest: &str) -> LowerResult<String> {
    let surface = SurfaceInput::get(db);
    let pipeline = resolved_optimizer_pipeline(db, surface).clone().map_err(ViewFailure::Errors)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update(domain);
    hasher.update(view_digest.as_bytes());
    hasher.update(b"\0surface ");
    hasher.update(planning_session(db, surface).manifest.hash.as_bytes());
    // The configuration holds only vectors, ordered maps and enums: its debug form is stable.
    hasher.update(format!("\0{:?}\0{:?}", pipeline.config, pipeline.pushdown).as_bytes());
    Ok(hasher.finalize().to_hex().to_string())
}

/// How one view came out of a compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewStatus {
    /// The view validates and was planned (a task, or every view with
    /// [`PlanScope::AllViews`]).
    Compiled { definition_digest: String, p0_digest: String, p1_digest: String, p2_digest: String },
    /// The view validates and was not planned (not a task, or [`PlanScope::Nothing`]).
    Checked { definition_digest: String },
    /// The view has errors of its own (see the diagnostics).
    Failed,
    /// A relation upstream has errors; the view was not compiled.
    Blocked { upstream: String },
}

impl ViewStatus {
    /// Whether the view validates (and, if it was planned, planned without error).
    pub fn is_valid(&self) -> bool {
        matches!(self, ViewStatus::Compiled { .. } | ViewStatus::Checked { .. })
    }

    /// The view's definition digest (Merkle: its definition and its inputs' digests).
    pub fn definition_digest(&self) -> Option<&str> {
        match self {
            ViewStatus::Compiled { definition_digest, .. } | ViewStatus::Checked { definition_digest } => Some(definition_digest),
            ViewStatus::Failed | ViewStatus::Blocked { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewOutcome {
    pub name: String,
    pub materialized: bool,
    pub status: ViewStatus,
}

/// One chunk of views (declaration order, `viewdag_lower::chunks`) compiled under a scope:
/// each view's outcome and its views' diagnostics (their check's, `refresh`'s and their
/// plans'), unsorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledChunk {
    pub views: Arc<[ViewOutcome]>,
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

/// The chunk starting with `first`: its check, and the plans of its views in `scope`.
#[salsa::tracked(returns(ref))]
pub fn compiled_chunk(db: &dyn Db, first: ViewInput, scope: PlanScope) -> CompiledChunk {
    let project = ProjectInput::get(db);
    let checked = chunk_check(db, project, first);
    let mut diagnostics = checked.diagnostics.as_ref().clone();
    // `refresh`: every view's own diagnostics (nothing planned unless a materialized view
    // declares `refresh: incremental`).
    for view in chunk_members(db, project, first, ChunkOrder::Declaration).iter() {
        diagnostics.extend(view_refresh_diagnostics(db, *view).iter().cloned());
    }
    let views: Vec<ViewOutcome> = checked
        .views
        .iter()
        .map(|check| {
            let in_scope = match scope {
                PlanScope::Nothing => false,
                PlanScope::Tasks => is_task(db, project, check.view),
                PlanScope::AllViews => true,
            };
            let planned = (in_scope && matches!(check.status, ViewCheckStatus::Valid { .. })).then(|| planned_view(db, check.view));
            match planned {
                Some(Ok(plans)) => diagnostics.extend(plans.diagnostics.iter().cloned()),
                Some(Err(ViewFailure::Errors(errors))) => diagnostics.extend(errors.iter().cloned()),
                Some(Err(_)) | None => {}
            }
            let status = match (&check.status, planned) {
                (ViewCheckStatus::Valid { definition_digest }, Some(Ok(plans))) => ViewStatus::Compiled {
                    definition_digest: definition_digest.clone(),
                    p0_digest: plans.p0_digest.clone(),
                    p1_digest: plans.p1_digest.clone(),
                    p2_digest: plans.p2_digest.clone(),
                },
                (ViewCheckStatus::Valid { .. }, Some(Err(ViewFailure::Blocked { upstream }))) => {
                    ViewStatus::Blocked { upstream: upstream.clone() }
                }
                (ViewCheckStatus::Valid { .. }, Some(Err(_))) => ViewStatus::Failed,
                (ViewCheckStatus::Valid { definition_digest }, None) => {
                    ViewStatus::Checked { definition_digest: definition_digest.clone() }
                }
                (ViewCheckStatus::Failed, _) => ViewStatus::Failed,
                (ViewCheckStatus::Blocked { upstream }, _) => ViewStatus::Blocked { upstream: upstream.clone() },
            };
            ViewOutcome { name: check.name.clone(), materialized: check.materialized, status }
        })
        .collect();
    CompiledChunk { views: views.into(), diagnostics: Arc::new(diagnostics) }
}

/// The project's compile: every view's outcome (declaration order, chunk by chunk) and
/// every diagnostic — the check's, the optimizer profile's and each planned view's —
/// sorted by logical location and deduplicated. Shared: a compile that changed nothing
/// copies none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledProject {
    /// Every view's outcome, chunk by chunk.
    pub views: ProjectViews,
    pub diagnostics: Arc<Vec<Diagnostic>>,
    /// What the result was assembled from: an edit of view definitions replaces the parts
    /// of the views it affects ([`recompiled_after_view_edits`]).
    pub parts: ProjectParts,
}

/// Every view's outcome in declaration order, held chunk by chunk: a compile shares each
/// chunk's outcomes with the chunk's query (an edit copies none of the chunks it did not
/// touch, and no outcome is copied into one flat list).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectViews {
    chunks: Arc<[CompiledChunk]>,
    len: usize,
}

impl ProjectViews {
    fn new(chunks: Arc<[CompiledChunk]>) -> Self {
        let len = chunks.iter().map(|chunk| chunk.views.len()).sum();
        ProjectViews { chunks, len }
    }

    /// The outcomes in declaration order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &ViewOutcome> + Clone {
        self.chunks.iter().flat_map(|chunk| chunk.views.iter())
    }

    /// The chunks, in declaration order.
    pub fn chunks(&self) -> &[CompiledChunk] {
        &self.chunks
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl From<Vec<ViewOutcome>> for ProjectViews {
    /// One chunk of these outcomes (a selection of a compile's views).
    fn from(views: Vec<ViewOutcome>) -> Self {
        ProjectViews::new(Arc::from(vec![CompiledChunk { views: views.into(), diagnostics: Arc::default() }]))
    }
}

/// The pieces a [`CompiledProject`] is assembled from, each a function of its own inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectParts {
    /// The compile's scope.
    pub scope: PlanScope,
    /// Each chunk's first view (declaration order), as `chunks` lists them.
    pub firsts: Arc<[ViewInput]>,
    /// Project-wide diagnostics (`viewdag_lower::project_global_diagnostics` and the
    /// optimizer profile's problems).
    pub global: Arc<Vec<Diagnostic>>,
    /// Each task with its depth diagnostic, in task order.
    pub tasks: Arc<[(ViewInput, Option<Diagnostic>)]>,
    /// Each output's view (when it resolves) and diagnostics, in output order.
    pub outputs: Arc<[OutputPart]>,
}

/// One output's part of the project's diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPart {
    pub view: Option<ViewInput>,
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

#[salsa::tracked(returns(ref))]
pub fn compiled_project(db: &dyn Db, project: ProjectInput, scope: PlanScope) -> CompiledProject {
    // Check in dependency order first, so each view's inputs are already memoized.
    warm_in_dependency_order(db, project);
    let firsts = Arc::clone(&view_chunks(db, project, ChunkOrder::Declaration).firsts);
    let tasks = task_views(db, project).iter().map(|task| (*task, task_diagnostic(db, *task))).collect();
    let outputs = project.outputs(db).keys().map(|output| output_part(db, project, output)).collect();
    let chunks = firsts.iter().map(|first| compiled_chunk(db, *first, scope).clone()).collect();
    let parts = ProjectParts { scope, firsts, global: global_part(db, project), tasks, outputs };
    assemble(parts, chunks)
}

/// The project-wide diagnostics: `viewdag_lower::project_global_diagnostics` and the
/// optimizer profile's problems.
fn global_part(db: &dyn Db, project: ProjectInput) -> Arc<Vec<Diagnostic>> {
    let mut global = project_global_diagnostics(db, project).as_ref().clone();
    // A profile problem (an unknown preset or rule) is reported even when nothing is planned.
    if let Err(problems) = resolved_optimizer_pipeline(db, SurfaceInput::get(db)) {
        global.extend(problems.iter().cloned());
    }
    Arc::new(global)
}

/// The view output `spec` writes, if its name resolves to a view.
fn output_view(db: &dyn Db, project: ProjectInput, spec: &viewdag_ir::OutputSpec) -> Option<ViewInput> {
    match resolve_relation(db, project, spec.view.clone()) {
        Some(Relation::View(view)) => Some(view),
        _ => None,
    }
}

/// Output `output`'s part: its check and its `refresh` diagnostics.
fn output_part(db: &dyn Db, project: ProjectInput, output: &str) -> OutputPart {
    let Some(Some(spec)) = project.outputs(db).get(output) else { return OutputPart { view: None, diagnostics: Arc::default() } };
    let resolved = output_view(db, project, spec);
    let mut diagnostics = output_check(db, project, output.to_string()).as_ref().clone();
    let valid = resolved.filter(|view| view_check(db, *view).status.is_valid());
    diagnostics.extend(output_refresh_diagnostics(db, output, spec, valid));
    OutputPart { view: resolved, diagnostics: Arc::new(diagnostics) }
}

/// The project's compile from its parts and chunks (`chunks[i]` starts with
/// `parts.firsts[i]`): the one way both a full compile and an edit's assemble it.
fn assemble(parts: ProjectParts, chunks: Vec<CompiledChunk>) -> CompiledProject {
    let mut diagnostics = parts.global.as_ref().clone();
    diagnostics.extend(parts.tasks.iter().filter_map(|(_, depth)| depth.clone()));
    for chunk in &chunks {
        diagnostics.extend(chunk.diagnostics.iter().cloned());
    }
    for output in parts.outputs.iter() {
        diagnostics.extend(output.diagnostics.iter().cloned());
    }
    viewdag_ir::diagnostic::sort_diagnostics(&mut diagnostics);
    diagnostics.dedup();
    CompiledProject { views: ProjectViews::new(chunks.into()), diagnostics: Arc::new(diagnostics), parts }
}

/// The project's compile after edits that changed only view definitions, each keeping what
/// the view reads, whether it is materialized and its name (so the global parts, the tasks,
/// the chunks and the outputs are what they were): `previous` (the compile before the
/// edits, of the same scope) with the parts of the `affected` views replaced — the chunks
/// holding one (`affected_chunks`, indexes into `previous.parts.firsts`), the tasks and the
/// outputs whose view is one. `affected` must hold every edited view and every view
/// downstream of one; `warm_order` those views and everything upstream of them in
/// dependency order (asked first, so no query recurses more than one level deep). Equal to
/// [`compiled_project`] of the same inputs: every part is a function of its views and their
/// upstream, and no other part's views changed.
pub fn recompiled_after_view_edits(
    db: &dyn Db,
    previous: &CompiledProject,
    affected: &HashSet<ViewInput>,
    affected_chunks: &[usize],
    warm_order: &[ViewInput],
) -> CompiledProject {
    let project = ProjectInput::get(db);
    warm_views(db, warm_order);
    let parts = &previous.parts;
    let tasks = parts
        .tasks
        .iter()
        .map(|(task, depth)| (*task, if affected.contains(task) { task_diagnostic(db, *task) } else { depth.clone() }))
        .collect();
    let outputs = project
        .outputs(db)
        .keys()
        .zip(parts.outputs.iter())
        .map(|(output, part)| match part.view {
            Some(view) if affected.contains(&view) => output_part(db, project, output),
            _ => part.clone(),
        })
        .collect();
    let mut chunks = previous.views.chunks().to_vec();
    for index in affected_chunks {
        chunks[*index] = compiled_chunk(db, parts.firsts[*index], parts.scope).clone();
    }
    assemble(ProjectParts { tasks, outputs, ..parts.clone() }, chunks)
}

/// The project's compile after edits that changed only views — definitions, what they read,
/// whether they are materialized, and which views there are (added, removed, renamed) — and
/// nothing else (no source, output, profile or setting): the shape's parts (the global
/// diagnostics, the chunks, the tasks) are asked again, each a pass over names or reusing
/// its per-view queries; of the per-view parts, those of views not `affected` are taken
/// from `previous`: a task's depth, an output's part whose view still resolves to the same
/// view, a chunk whose first view and members are what they were (`previous_chunk(first)`:
/// its position in `previous` and its members then). `affected` must hold every view whose
/// outcome can have changed (edited, added, with a read name added or removed, or whose
/// brokenness changed, and everything downstream of one); `warm_order` those views and
/// everything upstream of them in dependency order. Equal to [`compiled_project`] of the
/// same inputs.
pub fn reshaped_after_view_edits<'a>(
    db: &dyn Db,
    previous: &CompiledProject,
    affected: &HashSet<ViewInput>,
    warm_order: &[ViewInput],
    previous_chunk: impl Fn(ViewInput) -> Option<(usize, &'a [ViewInput])>,
) -> CompiledProject {
    let project = ProjectInput::get(db);
    warm_views(db, warm_order);
    let parts = &previous.parts;
    let previous_depths: std::collections::HashMap<ViewInput, &Option<Diagnostic>> =
        parts.tasks.iter().map(|(task, depth)| (*task, depth)).collect();
    let tasks = task_views(db, project)
        .iter()
        .map(|task| match previous_depths.get(task) {
            Some(depth) if !affected.contains(task) => (*task, (*depth).clone()),
            _ => (*task, task_diagnostic(db, *task)),
        })
        .collect();
    // The outputs are what they were; the view each resolves to may not be.
    let outputs = project
        .outputs(db)
        .iter()
        .zip(parts.outputs.iter())
        .map(|((output, spec), part)| {
            let resolved = spec.as_ref().and_then(|spec| output_view(db, project, spec));
            match resolved {
                Some(view) if part.view == Some(view) && !affected.contains(&view) => part.clone(),
                None if part.view.is_none() => part.clone(),
                _ => output_part(db, project, output),
            }
        })
        .collect();
    let firsts = Arc::clone(&view_chunks(db, project, ChunkOrder::Declaration).firsts);
    let chunks = firsts
        .iter()
        .map(|first| {
            let members = chunk_members(db, project, *first, ChunkOrder::Declaration);
            match previous_chunk(*first) {
                Some((position, before)) if *before == *members && !members.iter().any(|view| affected.contains(view)) => {
                    previous.views.chunks()[position].clone()
                }
                _ => compiled_chunk(db, *first, parts.scope).clone(),
            }
        })
        .collect();
    let parts = ProjectParts { scope: parts.scope, firsts, global: global_part(db, project), tasks, outputs };
    assemble(parts, chunks)
}

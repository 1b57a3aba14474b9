//! The read-only side of the host: a [`Snapshot`] of the [`Compiler`](crate::Compiler) as
//! its last compile left it (rust-analyzer's `Analysis` over its `AnalysisHost`). Every
//! question about a compiled project — schemas, plans, the DAG, tasks and their costs,
//! selection, expectations, refresh decisions, artifacts, docs data — is asked of a
//! snapshot; the file that owns the concern extends it (`impl Snapshot<'_>` in `costs.rs`,
//! `select.rs`, `refresh/`, …).
//!
//! ## Invariants
//! - A snapshot never sets a salsa input: it borrows the host's database and host state
//!   immutably, so while one lives the host cannot change (the borrow checker says so), and
//!   every answer it gives is about one revision.
//! - Only the host (`compiler.rs` and `compiler/`) sets inputs and binds tables; code outside
//!   the host reaches the host's state through a snapshot alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use viewdag_ir::{Diagnostic, OutputSpec, ProjectInput, SourceInput, SourceResolution, SpanIndex, SurfaceInput, ViewInput};
use viewdag_lower::{LowerResult, view_plan, view_schema};
use viewdag_optimize::digests::{logical_text, stage_digest};
use viewdag_optimize::{OptimizedView, PhysicalView, optimized_view, physical_view};
use viewdag_surface::planning_session;
use viewdag_validate::{Relation, Structure, resolve_relation, spec_structure};

use crate::database::Database;
use crate::source_watch::{SourceWatch, source_watches};
use crate::storage::StorageSettings;

/// The text of a spec file as last read, for rendering diagnostics.
#[derive(Debug, Clone)]
pub struct SpecSource {
    /// The spec's path.
    pub path: PathBuf,
    /// Its text (empty for a spec over the size limit).
    pub text: String,
    /// Where each entry and field of the text is.
    pub spans: Arc<SpanIndex>,
}

/// P0, P1 and P2 of one view.
#[derive(Debug, Clone)]
pub struct ViewPlans {
    /// P0's normalized text (indented, with schemas).
    pub p0_text: String,
    /// P0's stage digest, as the plan bundle records it.
    pub p0_digest: String,
    /// P1 with its pass trace and pushdown report.
    pub optimized: OptimizedView,
    /// P2 with its pass trace and pushdown report.
    pub physical: PhysicalView,
}

/// The host's database and state as of its last compile, read-only (see the module docs).
/// Obtained by [`Compiler::snapshot`](crate::Compiler::snapshot); cheap to make and to copy.
#[derive(Clone, Copy)]
pub struct Snapshot<'a> {
    pub(crate) db: &'a Database,
    /// The spec's directory (canonical): relative paths resolve against it.
    pub(crate) root: &'a Path,
    /// The spec as last read.
    pub(crate) spec: Option<&'a SpecSource>,
    /// The spec's outputs with a declaration, in declaration order.
    pub(crate) outputs: &'a [(String, OutputSpec)],
    /// The object-store settings of the last compile's spec.
    pub(crate) storage: &'a StorageSettings,
    pub(crate) project: Option<ProjectInput>,
    pub(crate) surface: Option<SurfaceInput>,
    /// The source inputs by name.
    pub(crate) sources: &'a HashMap<String, SourceInput>,
    /// How many threads work over many views may use (`Compiler::set_compile_jobs`).
    pub(crate) jobs: usize,
}

impl<'a> Snapshot<'a> {
    fn project(&self) -> ProjectInput {
        self.project.expect("inputs are set before compiling")
    }

    /// The salsa database, read-only: for callers that ask the stage crates' queries
    /// directly (tests, tools).
    pub fn database(&self) -> &'a dyn viewdag_artifact::Db {
        self.db
    }

    /// The spec's outputs, in declaration order (as of the last compile).
    pub fn outputs(&self) -> &'a [(String, OutputSpec)] {
        self.outputs
    }

    /// The view DAG's structure (for graphs and scheduling).
    pub fn structure(&self) -> &'a Structure {
        spec_structure(self.db)
    }

    /// The views of the current spec, in declaration order.
    pub fn view_names(&self) -> Vec<String> {
        self.project().views(self.db).iter().map(|view| view.name(self.db).clone()).collect()
    }

    /// The view `name` denotes (O(1): the memoized per-name lookup).
    pub(crate) fn view_input(&self, name: &str) -> Option<ViewInput> {
        match resolve_relation(self.db, self.project(), name.to_string()) {
            Some(Relation::View(view)) => Some(view),
            Some(Relation::Source(_)) | None => None,
        }
    }

    /// The output schema of a source (as loaded) or of a valid view; `None` for an unknown
    /// name, a source that failed to load or a view with errors.
    pub fn relation_schema(&self, name: &str) -> Option<SchemaRef> {
        match resolve_relation(self.db, self.project?, name.to_string())? {
            Relation::Source(source) => match source.resolution(self.db) {
                SourceResolution::Resolved { schema, .. } => Some(Arc::clone(schema)),
                SourceResolution::Failed(_) => None,
            },
            Relation::View(view) => view_schema(self.db, view).as_ref().ok().map(|schema| Arc::clone(schema.inner())),
        }
    }

    /// Whether `name` is a view with a table: `materialize: table`, or a checkpoint cutting a
    /// long chain of ephemeral views (`viewdag_lower::view_materialization`).
    pub fn is_materialized(&self, name: &str) -> bool {
        self.view_input(name).is_some_and(|view| viewdag_lower::is_materialized(self.db, view))
    }

    /// The views with a table — `materialize: table`, or a checkpoint — in declaration order.
    pub fn views_with_tables(&self) -> Vec<String> {
        let Some(project) = self.project else { return Vec::new() };
        viewdag_lower::view_tables(self.db, project).with_tables.iter().map(|view| view.name(self.db).clone()).collect()
    }

    /// The output schema of view `name`, or why it has none.
    pub fn view_schema(&self, name: &str) -> Option<LowerResult<SchemaRef>> {
        self.view_input(name).map(|view| view_schema(self.db, view).as_ref().map(|schema| Arc::clone(schema.inner())).map_err(Clone::clone))
    }

    /// P0, P1 and P2 of a view.
    pub fn view_plans(&self, name: &str) -> Option<LowerResult<ViewPlans>> {
        let view = self.view_input(name)?;
        Some((|| {
            let lowered = view_plan(self.db, view).clone()?;
            let optimized = optimized_view(self.db, view).clone()?;
            let physical = physical_view(self.db, view).clone()?;
            let p0_text = logical_text(&lowered.plan, SurfaceInput::get(self.db).root(self.db));
            Ok(ViewPlans { p0_digest: stage_digest(&p0_text, &lowered.scans), p0_text, optimized, physical })
        })())
    }

    /// What `watch` and the language server observe to see a source change: each source
    /// the checks let the spec read, by the one path whose changes mean new data
    /// ([`crate::source_watch`]: a Delta log, a file, or a directory inside the project).
    pub fn source_watches(&self) -> Vec<SourceWatch> {
        let Some(project) = self.project else { return Vec::new() };
        let declarations: Vec<(&str, viewdag_ir::SourceSpec)> = self
            .sources
            .iter()
            .filter_map(|(name, source)| source.declaration(self.db).clone().map(|declaration| (name.as_str(), declaration)))
            .collect();
        source_watches(self.root, project.profile(self.db), declarations.iter().map(|(name, declaration)| (*name, declaration)))
    }

    /// The surface manifest hash of the current profile.
    pub fn surface_hash(&self) -> String {
        self.surface_manifest().hash.clone()
    }

    /// The surface manifest of the current profile: every setting that can change a plan.
    pub fn surface_manifest(&self) -> Arc<viewdag_surface::SurfaceManifest> {
        Arc::clone(&planning_session(self.db, self.surface.expect("inputs are set")).manifest)
    }

    /// The resolved optimizer pipeline (after a compile), or the diagnostics resolving it gave.
    pub fn optimizer_pipeline(&self) -> Option<Result<viewdag_optimize::ResolvedOptimizerPipeline, Vec<Diagnostic>>> {
        let surface = self.surface?;
        Some(viewdag_optimize::resolved_optimizer_pipeline(self.db, surface).clone().map_err(|diagnostics| diagnostics.as_ref().clone()))
    }
}

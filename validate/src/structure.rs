//! Stage 2, structure: the view DAG, the relations by name and the structural checks,
//! reported all at once.
//!
//! The structure is a salsa input ([`StructureInput`]), not a query: the host sets it after
//! every input set that may change a name or what a view reads, and before any query asks
//! ([`spec_structure`]). It is computed whole ([`compute_structure`]) or, for an edit that
//! adds or removes views nothing reads or changes what such a view reads, patched in place
//! ([`Structure::patch`], in `structure_patch`): a query over the whole project would
//! re-read every view after such an edit, and salsa would verify every view's memo first.
//!
//! ## Invariants
//! - A structure equals [`compute_structure`] of the inputs it was set for, patched or not
//!   (the host asserts it in debug builds).
//! - Per-view queries read [`crate::resolve_relation`] (a narrow projection), never the
//!   structure itself, so a change of the structure re-runs none of them unless the relation
//!   a name denotes changed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use indexmap::IndexMap;
use viewdag_ir::dag::{RelationKind, RelationReads};
use viewdag_ir::{Diagnostic, OutputSpec, ProjectInput, Section, Severity, SourceInput, ViewDag, ViewInput};

use crate::Db;
use crate::checks::{
    CheckContext, cycle, duplicate_name, output_path_conflict, output_unknown_view, unknown_reference, view_name_not_path_component,
};
use crate::relations::{Read, RelationIndex, allowed_table_functions, view_reads};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure {
    /// Shared with readers that keep it (the editor's graph); patched in place when not.
    pub dag: Arc<ViewDag>,
    /// Structural diagnostics (and SQL-reading ones), sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Views that cannot be planned because of their own error: a parse error, a
    /// structural error, or SQL that could not be analyzed.
    pub broken_views: BTreeSet<String>,
    /// The views that declare `materialize: table` (each a task; chains of ephemeral views
    /// end at them).
    pub declared_tables: BTreeSet<String>,
    /// The project's sources and views by name.
    pub relations: RelationIndex,
    /// The views it describes, in declaration order.
    pub views: Vec<ViewInput>,
    /// Each name some view reads that no source or view declares, with the views reading it.
    pub unresolved: BTreeMap<String, BTreeSet<String>>,
    /// The other inputs it was computed from: the sources, the outputs, and the table
    /// functions SQL views may call (they decide what a SQL view reads).
    pub sources: Vec<SourceInput>,
    pub outputs: Arc<IndexMap<String, Option<OutputSpec>>>,
    pub table_functions: Vec<String>,
}

impl Default for Structure {
    fn default() -> Self {
        Structure {
            dag: Arc::new(ViewDag::build(&[])),
            diagnostics: Vec::new(),
            broken_views: BTreeSet::new(),
            declared_tables: BTreeSet::new(),
            relations: RelationIndex::default(),
            views: Vec::new(),
            unresolved: BTreeMap::new(),
            sources: Vec::new(),
            outputs: Arc::default(),
            table_functions: Vec::new(),
        }
    }
}

impl Structure {
    /// Whether this structure is the project's: computed from its current sources, views,
    /// outputs and table functions, every view reading what it read then and declaring a
    /// table as it did except `reread` (views whose reads or `materialize` may have changed
    /// since). Then nothing it depends on changed.
    pub fn is_current(&self, db: &dyn Db, project: ProjectInput, reread: &[ViewInput]) -> bool {
        reread.is_empty()
            && self.views == *project.views(db)
            && self.sources == *project.sources(db)
            && self.outputs == *project.outputs(db)
            && self.table_functions == *allowed_table_functions(db, project)
    }

    /// The first broken relation upstream of `view` (or `view` itself), if any.
    pub fn broken_upstream(&self, view: &str) -> Option<String> {
        if self.broken_views.contains(view) {
            return Some(view.to_string());
        }
        let mut stack = vec![view.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(current) = stack.pop() {
            for upstream in self.dag.reads(&current) {
                if self.broken_views.contains(&upstream) {
                    return Some(upstream);
                }
                if seen.insert(upstream.clone()) {
                    stack.push(upstream);
                }
            }
        }
        None
    }
}

/// The project's structure, as the host last set it.
#[salsa::input(singleton, debug)]
pub struct StructureInput {
    #[returns(ref)]
    pub structure: Structure,
}

/// The project's structure. The host sets it (see the module's invariants) before any
/// query asks.
pub fn spec_structure(db: &dyn Db) -> &Structure {
    StructureInput::get(db).structure(db)
}

/// The structure of the project's current inputs, computed whole.
pub fn compute_structure(db: &dyn Db, project: ProjectInput) -> Structure {
    let index = RelationIndex::build(db, project);
    let mut relations = Vec::new();
    let mut diagnostics = Vec::new();
    let mut broken_views = BTreeSet::new();
    let mut declared_tables = BTreeSet::new();
    for source in project.sources(db) {
        relations.push(RelationReads { name: source.name(db).clone(), kind: RelationKind::Source, reads: Vec::new() });
    }
    let mut view_reads_list: Vec<(&str, &[Read])> = Vec::new();
    for view in project.views(db) {
        let name = view.name(db);
        let reads = view_reads(db, *view);
        if reads.unparsed {
            broken_views.insert(name.clone());
        }
        if declares_table(db, *view) {
            declared_tables.insert(name.clone());
        }
        diagnostics.extend(reads.diagnostics.iter().cloned());
        relations.push(RelationReads {
            name: name.clone(),
            kind: RelationKind::View,
            reads: reads.reads.iter().map(|read| read.name.clone()).collect(),
        });
        view_reads_list.push((name.as_str(), reads.reads.as_slice()));
    }
    let dag = ViewDag::build(&relations);
    let context = CheckContext {
        project_sources: project.sources(db).iter().map(|source| source.name(db).as_str()).collect(),
        project_views: view_reads_list.iter().map(|(name, _)| *name).collect(),
        view_reads: &view_reads_list,
        index: &index,
        dag: &dag,
        outputs: project.outputs(db),
    };
    diagnostics.extend(run_structural_checks(&context));
    broken_views.extend(views_with_errors(&diagnostics).map(str::to_string));
    viewdag_ir::diagnostic::sort_diagnostics(&mut diagnostics);
    let mut unresolved: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (view, reads) in &view_reads_list {
        for read in reads.iter().filter(|read| !index.contains(&read.name)) {
            unresolved.entry(read.name.clone()).or_default().insert(view.to_string());
        }
    }
    Structure {
        dag: Arc::new(dag),
        diagnostics,
        broken_views,
        declared_tables,
        relations: index,
        views: project.views(db).clone(),
        unresolved,
        sources: project.sources(db).clone(),
        outputs: Arc::clone(project.outputs(db)),
        table_functions: allowed_table_functions(db, project).clone(),
    }
}

/// Whether `view` declares `materialize: table`.
pub fn declares_table(db: &dyn Db, view: ViewInput) -> bool {
    view.definition(db).as_ref().is_some_and(|definition| definition.is_materialized())
}

/// The views an error among `diagnostics` is located at.
pub(crate) fn views_with_errors(diagnostics: &[Diagnostic]) -> impl Iterator<Item = &str> {
    diagnostics.iter().filter_map(|diagnostic| match (&diagnostic.severity, &diagnostic.location.section, &diagnostic.location.entry) {
        (Severity::Error, Section::Views, Some(entry)) => Some(entry.as_str()),
        _ => None,
    })
}

/// Whether `view` cannot be planned because of its own error: [`spec_structure`]'s
/// `broken_views`, as the driver copies it into the view's input (`ViewInput::broken`) after
/// every change of what the views read — so a per-view query that reads it depends on its
/// own view's input alone, and an edit that keeps what every view reads is verified
/// without visiting the project. Every cycle has at least one broken member, so per-view
/// queries that stop at broken views never recurse around a cycle.
pub fn view_is_broken(db: &dyn Db, view: ViewInput) -> bool {
    view.broken(db)
}

fn run_structural_checks(context: &CheckContext) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    diagnostics.extend(duplicate_name::check(context));
    diagnostics.extend(view_name_not_path_component::check(context));
    diagnostics.extend(unknown_reference::check(context));
    diagnostics.extend(cycle::check(context));
    diagnostics.extend(output_unknown_view::check(context));
    diagnostics.extend(output_path_conflict::check(context));
    diagnostics
}

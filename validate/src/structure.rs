//! Stage 2, structure: the view DAG and the structural checks, reported all at once.

use std::collections::BTreeSet;
use std::sync::Arc;

use viewdag_ir::dag::{RelationKind, RelationReads};
use viewdag_ir::{Diagnostic, ProjectInput, Section, Severity, ViewDag};

use crate::Db;
use crate::checks::{
    CheckContext, cycle, duplicate_name, output_path_conflict, output_unknown_view, unknown_reference, view_name_not_path_component,
};
use crate::relations::{Read, relation_index, view_reads};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure {
    /// Shared: a patch of the project's compile keeps it without copying it.
    pub dag: Arc<ViewDag>,
    /// Structural diagnostics (and SQL-reading ones), sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Views that cannot be planned because of their own error: a parse error, a
    /// structural error, or SQL that could not be analyzed.
    pub broken_views: BTreeSet<String>,
}

impl Structure {
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

#[salsa::tracked(returns(ref))]
pub fn spec_structure(db: &dyn Db, project: ProjectInput) -> Structure {
    let index = relation_index(db, project);
    let mut relations = Vec::new();
    let mut diagnostics = Vec::new();
    let mut broken_views = BTreeSet::new();
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
        index,
        dag: &dag,
        outputs: project.outputs(db),
    };
    diagnostics.extend(run_structural_checks(&context));
    for diagnostic in &diagnostics {
        if diagnostic.severity == Severity::Error
            && diagnostic.location.section == Section::Views
            && let Some(entry) = &diagnostic.location.entry
        {
            broken_views.insert(entry.clone());
        }
    }
    viewdag_ir::diagnostic::sort_diagnostics(&mut diagnostics);
    Structure { dag: Arc::new(dag), diagnostics, broken_views }
}

/// Whether `view` cannot be planned because of its own error: [`spec_structure`]'s
/// `broken_views`, as the driver copies it into the view's input (`ViewInput::broken`) after
/// every change of what the views read — so a per-view query that reads it depends on its
/// own view's input alone, and an edit that keeps what every view reads is verified
/// without visiting the project. Every cycle has at least one broken member, so per-view
/// queries that stop at broken views never recurse around a cycle.
pub fn view_is_broken(db: &dyn Db, view: viewdag_ir::ViewInput) -> bool {
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

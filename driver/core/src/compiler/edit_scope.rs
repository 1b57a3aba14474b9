//! Compiling after an edit of view definitions in O(what the edit affects), not O(project).
//!
//! salsa verifies a whole-project query by walking every memo it read, once per revision:
//! after any edit, `compiled_project` visits every view's memos (70 ms at 10,000 views, 740 ms
//! at 100,000, for a one-character edit of a leaf). The host knows more than salsa does
//! about an edit: which view definitions it set, and whether each kept what the view reads,
//! whether it is materialized and its name. When that is all an edit (or a run of edits)
//! changed, the project's shape — names, the DAG, chunks, tasks, outputs, the global
//! diagnostics — is what it was, and only the views downstream of an edited one can have
//! changed. [`compile_project`] then patches the last result
//! ([`viewdag_optimize::recompiled_after_view_edits`]): the chunks, tasks and outputs
//! holding an affected view are asked again, every other part is reused without being
//! visited.
//!
//! An edit that adds, removes or renames views, or changes what a view reads or whether it
//! is materialized, changes the shape: the names, the DAG, the chunks and the tasks. When
//! that is all it changed (no source, output, profile or setting), the patch
//! ([`viewdag_optimize::reshaped_after_view_edits`]) asks the shape's queries again (each a
//! pass over names, not a check of every view), and of the per-view parts only those
//! holding an affected view or whose chunk's members changed.
//!
//! ## Invariants
//! - The patched result equals `compiled_project` of the same inputs (the soundness and
//!   incremental tests compare every edit with a fresh compile).
//! - A patch is taken only when every input set since the last result was logged
//!   ([`EditLog`]) as an edit of view definitions or of the set of views; any other input set —
//!   by a compile, a run binding a table, new optimizer extensions — leaves a gap in the
//!   log's chain of revisions (salsa's revision counts every set), and the next compile is a
//!   full one.
//! - [`ProjectIndex`] describes the shape and is rebuilt by a full compile and by a patch that
//!   changed the shape; a patch of definitions alone carries it forward.
//! - Affected = the edited views and every view downstream of one; after a change of shape
//!   also the views added, the views whose brokenness the structure changed, the readers of a
//!   name added (in the new DAG) or removed (in the old one), and everything downstream of
//!   those (in the new DAG). A view that was not affected and whose chunk kept its members
//!   keeps its chunk's previous result. Affected views and everything upstream of them are
//!   asked in dependency order before any chunk, so no query recurses more than one level
//!   deep (a long chain cannot overflow the stack).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use salsa::Revision;
use viewdag_ir::{ProjectInput, ViewDag, ViewInput};
use viewdag_lower::{ChunkOrder, chunk_members};
use viewdag_optimize::{CompiledProject, PlanScope, compiled_project, recompiled_after_view_edits, reshaped_after_view_edits};
use viewdag_validate::{Structure, spec_structure, view_difference};

use crate::compile_progress::CompileProgressSink;
use crate::database::Database;

/// What the inputs one compile set can have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EditScope {
    /// Only these views' definitions, each keeping its name, what it reads and whether it
    /// is materialized.
    Views(BTreeSet<String>),
    /// View definitions and the set of views: these views set, added, or with their
    /// brokenness changed (by name), and views removed; nothing else.
    Shape(BTreeSet<String>),
    /// Anything.
    Everything,
}

/// What the edits since a result changed, when only views did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ViewEdits {
    /// The views set, added or whose brokenness changed (names, some maybe gone since).
    edited: BTreeSet<String>,
    /// Whether the shape (names, what views read, materialization) may have changed.
    reshaped: bool,
}

/// The input sets of recent compiles, each from the revision before it to the revision
/// after it.
#[derive(Debug, Default)]
pub(crate) struct EditLog {
    entries: Vec<(Revision, Revision, EditScope)>,
}

impl EditLog {
    /// Records that the inputs set between revisions `from` and `to` changed `scope`.
    pub(crate) fn record(&mut self, from: Revision, to: Revision, scope: EditScope) {
        if from != to {
            self.entries.push((from, to, scope));
        }
    }

    /// What was edited from revision `since` to `now`, if every set in between is logged as
    /// an edit of views (a chain of entries from `since` to `now`).
    fn views_edited(&self, since: Revision, now: Revision) -> Option<ViewEdits> {
        let mut at = since;
        let mut edits = ViewEdits::default();
        for (from, to, scope) in &self.entries {
            if *from != at {
                continue;
            }
            match scope {
                EditScope::Views(views) => edits.edited.extend(views.iter().cloned()),
                EditScope::Shape(views) => {
                    edits.edited.extend(views.iter().cloned());
                    edits.reshaped = true;
                }
                EditScope::Everything => return None,
            }
            at = *to;
        }
        (at == now).then_some(edits)
    }

    /// Forgets the entries that end at or before `revision`.
    fn forget_until(&mut self, revision: Revision) {
        self.entries.retain(|(_, to, _)| *to > revision);
    }
}

/// The last compile's result, which the next compile may reuse or patch; shared with a
/// background check, which stores its own result here when it completes.
pub(crate) type AssemblySlot = Arc<Mutex<Option<Arc<Assembly>>>>;

/// A compile's result at a revision, with the shape it was assembled over.
#[derive(Debug)]
pub(crate) struct Assembly {
    revision: Revision,
    compiled: CompiledProject,
    index: Arc<ProjectIndex>,
}

/// How the next compile gets its result.
#[derive(Debug, Clone)]
pub(crate) enum CompilePlan {
    /// Nothing was set since the last result: it is the answer.
    Reuse(Arc<Assembly>),
    /// Only views changed since the last result: patch it.
    Patch { previous: Arc<Assembly>, edits: ViewEdits },
    /// Ask `compiled_project`, its per-view work warmed on `jobs` threads first (reporting
    /// to `progress`).
    Full { jobs: usize, progress: Option<CompileProgressSink> },
}

impl CompilePlan {
    /// Whether the compile's inputs have the shape of the last result (names, what each
    /// view reads, which views are materialized): nothing was set since it, or only view
    /// definitions that kept all of that.
    pub(crate) fn keeps_shape(&self) -> bool {
        match self {
            CompilePlan::Reuse(_) => true,
            CompilePlan::Patch { edits, .. } => !edits.reshaped,
            CompilePlan::Full { .. } => false,
        }
    }
}

/// How the compile at `db`'s current revision gets its result, given the last one in
/// `slot` and the edits logged since; forgets the log entries the slot's result covers.
/// A full compile may use `jobs` threads.
pub(crate) fn compile_plan(
    db: &Database,
    scope: PlanScope,
    slot: &AssemblySlot,
    log: &mut EditLog,
    jobs: usize,
    progress: Option<CompileProgressSink>,
) -> CompilePlan {
    let now = salsa::plumbing::current_revision(db);
    let Some(previous) = slot.lock().expect("assembly slot lock").clone() else { return CompilePlan::Full { jobs, progress } };
    log.forget_until(previous.revision);
    if previous.compiled.parts.scope != scope {
        return CompilePlan::Full { jobs, progress };
    }
    if previous.revision == now {
        return CompilePlan::Reuse(previous);
    }
    match log.views_edited(previous.revision, now) {
        Some(edits) => CompilePlan::Patch { previous, edits },
        None => CompilePlan::Full { jobs, progress },
    }
}

/// The project's compile under `scope` as `plan` says; stores the result in `slot`.
pub(crate) fn compile_project(
    db: &Database,
    project: ProjectInput,
    scope: PlanScope,
    plan: CompilePlan,
    slot: &AssemblySlot,
) -> CompiledProject {
    let revision = salsa::plumbing::current_revision(db);
    let (compiled, index) = match plan {
        CompilePlan::Reuse(previous) => return previous.compiled.clone(),
        CompilePlan::Patch { previous, edits } if !edits.reshaped => {
            let affected = previous.index.affected(spec_structure(db), &edits.edited);
            let chunks = previous.index.chunks_holding(&affected.views);
            let compiled = recompiled_after_view_edits(db, &previous.compiled, &affected.views, &chunks, &affected.warm_order);
            (compiled, Arc::clone(&previous.index))
        }
        CompilePlan::Patch { previous, edits } => {
            let index = Arc::new(ProjectIndex::build(db, project));
            let affected = index.affected_by_reshape(db, spec_structure(db), &previous.index, &edits);
            let previous_chunk = |first: ViewInput| previous.index.chunks.get(&first).map(|(position, members)| (*position, &members[..]));
            let compiled = reshaped_after_view_edits(db, &previous.compiled, &affected.views, &affected.warm_order, previous_chunk);
            (compiled, index)
        }
        CompilePlan::Full { jobs, progress } => {
            super::warm::warm_full_compile(db, project, scope, jobs, progress.as_ref());
            let compiled = compiled_project(db, project, scope).clone();
            (compiled, Arc::new(ProjectIndex::build(db, project)))
        }
    };
    *slot.lock().expect("assembly slot lock") = Some(Arc::new(Assembly { revision, compiled: compiled.clone(), index }));
    compiled
}

/// The project's shape as a patch needs it, shared with the queries it comes from (building
/// it copies nothing of size O(views)): the views in declaration order, each chunk's position
/// and members (declaration order), and — built when first asked — each view's chunk. Names
/// and the DAG are the structure's, read when asked: the structure is set with the views, so
/// it is the one this index describes until the next change of shape, when a new index is
/// built.
#[derive(Debug)]
pub(crate) struct ProjectIndex {
    /// The views in declaration order.
    views: Vec<ViewInput>,
    /// Each chunk's position and members, by its first view.
    chunks: HashMap<ViewInput, (usize, Arc<[ViewInput]>)>,
    chunk_of: OnceLock<HashMap<ViewInput, usize>>,
}

/// The views an edit affects and what to ask first.
struct Affected {
    views: HashSet<ViewInput>,
    warm_order: Vec<ViewInput>,
}

impl ProjectIndex {
    fn build(db: &Database, project: ProjectInput) -> ProjectIndex {
        let chunks = viewdag_lower::view_chunks(db, project, ChunkOrder::Declaration)
            .firsts
            .iter()
            .enumerate()
            .map(|(position, first)| (*first, (position, chunk_members(db, project, *first, ChunkOrder::Declaration))))
            .collect();
        ProjectIndex { views: project.views(db).clone(), chunks, chunk_of: OnceLock::new() }
    }

    /// The chunk holding `view`.
    fn chunk_of(&self, view: ViewInput) -> Option<usize> {
        let chunk_of = self
            .chunk_of
            .get_or_init(|| self.chunks.values().flat_map(|(position, members)| members.iter().map(|view| (*view, *position))).collect());
        chunk_of.get(&view).copied()
    }

    /// The views `edited` affects: each of them and every view downstream of one.
    fn affected(&self, structure: &Structure, edited: &BTreeSet<String>) -> Affected {
        affected_from(structure, edited.iter().cloned())
    }

    /// The views `edits` affect in this (the new) shape, `before` being the shape they were
    /// made on: the views set, added or whose brokenness changed, the readers of a view
    /// removed (the structure's sync adds them to the edits), the readers of every name
    /// added, and every view downstream of one.
    fn affected_by_reshape(&self, db: &Database, structure: &Structure, before: &ProjectIndex, edits: &ViewEdits) -> Affected {
        // Inputs are never reused for another name: a view added is an input only in the new
        // list. (A view named like a source is no relation of its own; taking it for one
        // only widens what is asked again.)
        let added: Vec<&String> = view_difference(&self.views, &before.views).added.iter().map(|view| view.name(db)).collect();
        let readers_of_added = added.iter().flat_map(|name| structure.dag.readers(name));
        let start = edits.edited.iter().chain(added.iter().copied()).cloned().chain(readers_of_added);
        affected_from(structure, start)
    }

    /// The chunks holding `views` (positions, ascending).
    fn chunks_holding(&self, views: &HashSet<ViewInput>) -> Vec<usize> {
        let chunks: BTreeSet<usize> = views.iter().filter_map(|view| self.chunk_of(*view)).collect();
        chunks.into_iter().collect()
    }
}

/// `start` (names, some maybe not views) and every view downstream of one in `structure`.
fn affected_from(structure: &Structure, start: impl Iterator<Item = String>) -> Affected {
    let dag = &structure.dag;
    let names = closure(dag, start, ViewDag::readers);
    // Everything they read, transitively: asked first, in dependency order.
    let warm = closure(dag, names.iter().cloned(), ViewDag::reads);
    let view = |name: &str| structure.relations.views.get(name).copied();
    let mut warm: Vec<(Option<usize>, &String, ViewInput)> =
        warm.iter().filter_map(|name| Some((dag.topological_position(name), name, view(name)?))).collect();
    // Views in a cycle (no position) last.
    warm.sort_by_key(|(position, name, _)| (position.is_none(), *position, *name));
    let views: HashSet<ViewInput> = names.iter().filter_map(|name| view(name)).collect();
    Affected { views, warm_order: warm.into_iter().map(|(.., view)| view).collect() }
}

/// `start` and every relation reached from it by `step` (the DAG's `reads` or `readers`), in
/// one walk.
fn closure(dag: &ViewDag, start: impl Iterator<Item = String>, step: fn(&ViewDag, &str) -> Vec<String>) -> BTreeSet<String> {
    let mut reached = BTreeSet::new();
    let mut stack: Vec<String> = start.collect();
    while let Some(name) = stack.pop() {
        if !reached.contains(&name) {
            stack.extend(step(dag, &name));
            reached.insert(name);
        }
    }
    reached
}

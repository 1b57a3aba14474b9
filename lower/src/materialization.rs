//! Which views have a table: those that declare `materialize: table`, and *checkpoints*,
//! where a long chain of ephemeral views is cut.
//!
//! An ephemeral view is planned into every plan that reads it, and DataFusion walks plans
//! recursively (optimizer rules, physical planning, display, drop, and the nested streams
//! that execute them), so a task inlining a chain of thousands of views would overflow the
//! stack. Rather than refuse such a project, [`view_tables`] materializes a view where a
//! chain reaches [`MAX_INLINED_DEPTH`] ephemeral views (Spark checkpoints long lineages the
//! same way): it becomes a task like a declared one, its readers scan its table, and it is
//! reported with a warning (`V0226`), so the author can declare a table where they prefer.
//!
//! ## Invariants
//! - A view's *depth* is 1 + the deepest depth among the views it reads that are
//!   ephemeral and not broken; a source, a view with a table or a broken view ends a chain.
//! - A checkpoint is a view that declares no table, whose depth reaches
//!   [`MAX_INLINED_DEPTH`], and whose rows some task needs: an output writes it, it has a
//!   table, or a needed view reads it (directly or through ephemeral views). So a project
//!   none of whose tasks inlines a chain of [`MAX_INLINED_DEPTH`] views gets no checkpoint,
//!   and no task's plan inlines more than [`MAX_INLINED_DEPTH`] views.
//! - A view no task needs may be deeper; planning it on its own (`explain`) fails with
//!   `V0225` before anything is built ([`Materialization::TooDeep`]).
//! - [`view_tables`] is a function of the structure alone (its DAG, broken views, declared
//!   tables and outputs), one pass in each direction over the DAG; per-view queries read
//!   the narrow projections [`view_materialization`] and [`is_materialized`], so a change of
//!   the project's tables re-runs a view's queries only if its own verdict changed.

use std::collections::HashMap;

use petgraph::Direction;
use petgraph::visit::NodeIndexable;
use viewdag_ir::dag::RelationKind;
use viewdag_ir::{Code, Diagnostic, ProjectInput, SpecLocation, ViewInput};
use viewdag_validate::spec_structure;

use crate::Db;

/// The deepest chain of ephemeral views one plan may inline. Planning a plan this deep
/// needs a deeper stack than a default 2 MiB thread in a debug build; the CLI plans on a
/// 256 MiB one.
pub const MAX_INLINED_DEPTH: usize = 512;

/// Whether a view has a table, and why; or why planning it alone is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Materialization {
    /// Planned into its readers' plans.
    Ephemeral,
    /// `materialize: table`.
    Declared,
    /// Materialized because a chain of [`MAX_INLINED_DEPTH`] ephemeral views ends here and
    /// a task needs its rows.
    Checkpoint,
    /// Ephemeral, no task needs it, and its plan would inline a chain this deep (more than
    /// [`MAX_INLINED_DEPTH`]).
    TooDeep(usize),
}

impl Materialization {
    pub fn has_table(self) -> bool {
        matches!(self, Materialization::Declared | Materialization::Checkpoint)
    }
}

/// Every view that is not [`Materialization::Ephemeral`], and the views with a table in
/// declaration order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewTables {
    /// Only looked up, never iterated.
    verdicts: HashMap<ViewInput, Materialization>,
    /// Every view with a table (declared or a checkpoint), in declaration order: the first
    /// tasks.
    pub with_tables: Vec<ViewInput>,
}

impl ViewTables {
    pub fn of(&self, view: ViewInput) -> Materialization {
        self.verdicts.get(&view).copied().unwrap_or(Materialization::Ephemeral)
    }

    /// The views whose verdict differs in `before` (in no particular order).
    pub fn changed_since(&self, before: &ViewTables) -> Vec<ViewInput> {
        let now = self.verdicts.iter().filter(|(view, verdict)| before.of(**view) != **verdict).map(|(view, _)| *view);
        let gone = before.verdicts.keys().filter(|view| !self.verdicts.contains_key(*view)).copied();
        now.chain(gone).collect()
    }
}

/// The project's tables: declared, and checkpoints (see the module's invariants).
#[salsa::tracked(returns(ref))]
pub fn view_tables(db: &dyn Db, _project: ProjectInput) -> ViewTables {
    let structure = spec_structure(db);
    let dag = &structure.dag;
    let graph = dag.graph();
    let bound = graph.node_bound();
    let view_node = |name: &str| dag.node_index(name).filter(|node| graph[*node].kind == RelationKind::View);
    let mut declared = vec![false; bound];
    let mut broken = vec![false; bound];
    let mut needed = vec![false; bound];
    for node in structure.declared_tables.iter().filter_map(|name| view_node(name)) {
        declared[node.index()] = true;
        needed[node.index()] = true;
    }
    for node in structure.broken_views.iter().filter_map(|name| view_node(name)) {
        broken[node.index()] = true;
    }
    for node in structure.outputs.values().flatten().filter_map(|spec| view_node(&spec.view)) {
        needed[node.index()] = true;
    }
    let order = dag.topological_nodes();
    // Depths with every view that reaches the limit cut (`reached`).
    let mut reached = vec![false; bound];
    chain_depths(
        graph,
        order,
        &broken,
        |node, depth| declared[node] || depth >= MAX_INLINED_DEPTH,
        |node, depth| reached[node] = depth >= MAX_INLINED_DEPTH,
    );
    // Needed: readers come after what they read, so a reverse pass sees every reader first.
    for node in order.iter().rev() {
        if needed[node.index()] {
            for input in graph.neighbors_directed(*node, Direction::Incoming) {
                needed[input.index()] = true;
            }
        }
    }
    let mut tables = ViewTables::default();
    let resolve = |node: petgraph::stable_graph::NodeIndex| structure.relations.views.get(&graph[node].name).copied();
    let mut with_tables: Vec<(usize, ViewInput)> = Vec::new();
    // Every declared view, broken or on a cycle too: each is a task (one that is skipped).
    for name in &structure.declared_tables {
        let (Some(view), Some(declared_at)) = (structure.relations.views.get(name), dag.declaration_index(name)) else { continue };
        tables.verdicts.insert(*view, Materialization::Declared);
        with_tables.push((declared_at, *view));
    }
    for node in order {
        let index = node.index();
        if reached[index] && needed[index] && !declared[index] {
            let Some(view) = resolve(*node) else { continue };
            tables.verdicts.insert(view, Materialization::Checkpoint);
            with_tables.push((graph[*node].declaration_index, view));
        }
    }
    // Depths with the checkpoints only: a view no task needs may be deeper than the limit.
    let is_table = |index: usize| declared[index] || (reached[index] && needed[index]);
    let mut too_deep = Vec::new();
    chain_depths(
        graph,
        order,
        &broken,
        |node, _| is_table(node),
        |node, depth| {
            if depth > MAX_INLINED_DEPTH && !is_table(node) {
                too_deep.push((node, depth));
            }
        },
    );
    for (index, depth) in too_deep {
        if let Some(view) = resolve(petgraph::stable_graph::NodeIndex::new(index)) {
            tables.verdicts.insert(view, Materialization::TooDeep(depth));
        }
    }
    with_tables.sort_unstable_by_key(|(declared_at, _)| *declared_at);
    tables.with_tables = with_tables.into_iter().map(|(_, view)| view).collect();
    tables
}

/// Each view's depth, in topological order: `depth_of(node, depth)` is told every view's
/// depth; a view for which `ends_chain(node, depth)` holds adds nothing to its readers'
/// depths, nor does a source or a broken view.
fn chain_depths(
    graph: &petgraph::stable_graph::StableDiGraph<viewdag_ir::dag::DagNode, ()>,
    order: &[petgraph::stable_graph::NodeIndex],
    broken: &[bool],
    ends_chain: impl Fn(usize, usize) -> bool,
    mut depth_of: impl FnMut(usize, usize),
) {
    // What each relation adds to its readers' depths.
    let mut adds = vec![0usize; broken.len()];
    for node in order {
        let index = node.index();
        if graph[*node].kind != RelationKind::View || broken[index] {
            continue;
        }
        let depth = 1 + graph.neighbors_directed(*node, Direction::Incoming).map(|input| adds[input.index()]).max().unwrap_or(0);
        depth_of(index, depth);
        adds[index] = if ends_chain(index, depth) { 0 } else { depth };
    }
}

/// `view`'s verdict: a narrow projection of [`view_tables`].
#[salsa::tracked(returns(copy))]
pub fn view_materialization(db: &dyn Db, view: ViewInput) -> Materialization {
    view_tables(db, ProjectInput::get(db)).of(view)
}

/// Whether `view` has a table (declared, or a checkpoint): it is a task, and its readers
/// scan its table. A narrow projection, so a reader that asks depends on this bit only.
#[salsa::tracked(returns(copy))]
pub fn is_materialized(db: &dyn Db, view: ViewInput) -> bool {
    view_materialization(db, view).has_table()
}

/// `V0225` for a view no task needs whose plan, asked for on its own, would inline a chain
/// of `depth` ephemeral views.
pub fn too_deep(name: &str, depth: usize) -> Diagnostic {
    Diagnostic::new(
        Code::PlanTooDeep,
        SpecLocation::view(name),
        format!("view `{name}` inlines a chain of {depth} ephemeral views; a plan may inline at most {MAX_INLINED_DEPTH}"),
    )
    .with_note("no task needs this view, so no view on its chain was materialized; DataFusion walks plans recursively")
    .with_suggestion("materialize a view in the middle of the chain (`materialize: table`), or write this view with an output")
}

/// `V0226` for a checkpoint: a view materialized because a chain of ephemeral views
/// reached the limit there.
pub fn checkpoint_warning(name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::ChainMaterialized,
        SpecLocation::view(name),
        format!(
            "view `{name}` is materialized automatically: a chain of {MAX_INLINED_DEPTH} ephemeral views ends at it, the most one plan may inline"
        ),
    )
    .with_note("it is a task like a view with `materialize: table`, and the views reading it scan its table")
    .with_suggestion("declare `materialize: table` on a view of this chain to choose where it is cut")
}

/// [`checkpoint_warning`] for `task`, if it is a checkpoint.
pub fn task_diagnostic(db: &dyn Db, task: ViewInput) -> Option<Diagnostic> {
    (view_materialization(db, task) == Materialization::Checkpoint).then(|| checkpoint_warning(task.name(db)))
}

//! Patching the structure in place after an edit of the views, in O(what the edit touched)
//! plus a few passes over view ids: the structure's DAG, relations and diagnostics after
//! views nothing reads are added or removed, or change what they read or whether they
//! declare a table.
//!
//! ## Invariants
//! - [`Structure::patch`] either leaves the structure equal to [`compute_structure`] of the
//!   project's current inputs, or changes nothing and returns `false` (then the host
//!   computes it whole). It is taken only when every source, output and profile setting is
//!   what the structure was computed with (the host's edit scope says so); it checks the rest:
//!   - no cycle and no name declared twice, before or after;
//!   - every view dropped (removed, or *re-read*: reading differently, or declaring a table
//!     differently) is read only by views also
//!     dropped, and no view that stays reads a name added (it would gain an edge);
//!   - the views that stay keep their relative order;
//!   - the views inserted (added, or reading differently) can be inserted one after
//!     another, each after the inserted views it reads;
//!   - when names are added or removed, no view that stays and no output names an unknown
//!     relation (its did-you-mean suggestion could change) or a name added or removed.
//! - Per-view diagnostics are located at their view, so a dropped view's are the ones
//!   located at it.
//!
//! [`compute_structure`]: crate::structure::compute_structure

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use viewdag_ir::dag::RelationKind;
use viewdag_ir::{Code, ProjectInput, Section, ViewInput};

use crate::Db;
use crate::checks::{unknown_reference, view_name_not_path_component};
use crate::relations::view_reads;
use crate::structure::{Structure, declares_table, views_with_errors};

/// The views only in `now` and the views only in `before`, two lists of the project's
/// views in declaration order, and the length of the prefix they share. An edit splices a
/// run of entries, so the lists share a prefix and a suffix: only what lies between is
/// compared (ids, not names).
pub fn view_difference(now: &[ViewInput], before: &[ViewInput]) -> ViewDifference {
    let prefix = now.iter().zip(before).take_while(|(now, before)| now == before).count();
    let (now_rest, before_rest) = (&now[prefix..], &before[prefix..]);
    let suffix = now_rest.iter().rev().zip(before_rest.iter().rev()).take_while(|(now, before)| now == before).count();
    let (now_middle, before_middle) = (&now_rest[..now_rest.len() - suffix], &before_rest[..before_rest.len() - suffix]);
    let only = |these: &[ViewInput], others: &[ViewInput]| {
        let others: HashSet<ViewInput> = others.iter().copied().collect();
        these.iter().copied().filter(|view| !others.contains(view)).collect::<Vec<_>>()
    };
    ViewDifference {
        added: only(now_middle, before_middle),
        removed: only(before_middle, now_middle),
        prefix,
        now_middle: now_middle.len(),
        before_middle: before_middle.len(),
    }
}

/// How two lists of views differ (see [`view_difference`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewDifference {
    /// Views only in the new list, in its order.
    pub added: Vec<ViewInput>,
    /// Views only in the old list, in its order.
    pub removed: Vec<ViewInput>,
    /// How many views both lists start with.
    prefix: usize,
    /// How long the differing middle is in each list.
    now_middle: usize,
    before_middle: usize,
}

impl Structure {
    /// Patches this structure for the project's current inputs, where the views in
    /// `reread` (set since it was computed, in both lists) may read differently; `false`
    /// (and nothing changed) when the edit is not one a patch handles (see the module's
    /// invariants).
    pub fn patch(&mut self, db: &dyn Db, project: ProjectInput, reread: &[ViewInput]) -> bool {
        let now = project.views(db);
        let difference = view_difference(now, &self.views);
        let Some(plan) = self.patch_plan(db, project, now, &difference, reread) else { return false };
        self.apply(db, project, now, &difference, plan);
        true
    }

    /// What to drop and insert, in order, and how old positions map to new ones, if the
    /// edit can be patched.
    fn patch_plan(
        &self,
        db: &dyn Db,
        project: ProjectInput,
        now: &[ViewInput],
        difference: &ViewDifference,
        reread: &[ViewInput],
    ) -> Option<PatchPlan> {
        if !self.dag.cycles().is_empty() || self.diagnostics.iter().any(|diagnostic| diagnostic.code == Code::DuplicateName) {
            return None;
        }
        let added: HashSet<ViewInput> = difference.added.iter().copied().collect();
        let removed: HashSet<ViewInput> = difference.removed.iter().copied().collect();
        let reread: Vec<ViewInput> = reread.iter().copied().filter(|view| !added.contains(view) && !removed.contains(view)).collect();
        // Dropped: removed, or reading differently. Each must be the view its name denotes.
        let dropped: Vec<(ViewInput, &String)> = difference.removed.iter().chain(&reread).map(|view| (*view, view.name(db))).collect();
        if dropped.iter().any(|(view, name)| self.relations.views.get(*name) != Some(view)) {
            return None;
        }
        let dropped_names: HashSet<&str> = dropped.iter().map(|(_, name)| name.as_str()).collect();
        if dropped.iter().any(|(_, name)| self.dag.readers(name).iter().any(|reader| !dropped_names.contains(reader.as_str()))) {
            return None;
        }
        // Readers before what they read: descending positions.
        let mut drop_order: Vec<(usize, String)> =
            dropped.iter().map(|(_, name)| Some((self.dag.topological_position(name)?, name.to_string()))).collect::<Option<_>>()?;
        drop_order.sort_unstable_by(|a, b| b.cmp(a));
        // The views that stay keep their order; old middle positions → new.
        let (renumbered, middle_now) = self.renumbering(now, difference)?;
        // Inserted: added, or reading differently, each after the inserted views it reads.
        let removed_names: HashSet<&str> = difference.removed.iter().map(|view| view.name(db).as_str()).collect();
        let added_names: HashSet<&str> = difference.added.iter().map(|view| view.name(db).as_str()).collect();
        if added_names.len() != difference.added.len() {
            return None;
        }
        for name in &added_names {
            let kept = self.relations.contains(name) && !removed_names.contains(name);
            let read_by_kept =
                self.unresolved.get(*name).is_some_and(|readers| readers.iter().any(|reader| !dropped_names.contains(reader.as_str())));
            if kept || read_by_kept {
                return None;
            }
        }
        let names_changed = added_names != removed_names;
        if names_changed {
            let unresolved_kept = self.unresolved.values().flatten().any(|reader| !dropped_names.contains(reader.as_str()));
            let output_touched = project.outputs(db).values().flatten().any(|spec| {
                !self.relations.views.contains_key(&spec.view)
                    || added_names.contains(spec.view.as_str())
                    || removed_names.contains(spec.view.as_str())
            });
            if unresolved_kept || output_touched {
                return None;
            }
        }
        // Where each goes: an added view where the new list has it, a view reading
        // differently where it was, renumbered.
        let sources = project.sources(db).len();
        let mut positions: HashMap<ViewInput, usize> = middle_now.into_iter().filter(|(view, _)| added.contains(view)).collect();
        for view in &reread {
            let declared = self.dag.declaration_index(view.name(db))?.checked_sub(sources)?;
            positions.insert(*view, renumbered.position(declared));
        }
        let inserted: Vec<ViewInput> = difference.added.iter().chain(&reread).copied().collect();
        let insert_order = insertion_order(db, &inserted)?.into_iter().map(|view| (view, sources + positions[&view])).collect();
        Some(PatchPlan { drop_order, renumbered, insert_order })
    }

    /// The new position of each old view position, if the views in both lists keep their
    /// order, and the new position of each view in the new list's differing middle.
    fn renumbering(&self, now: &[ViewInput], difference: &ViewDifference) -> Option<(Renumbering, HashMap<ViewInput, usize>)> {
        let ViewDifference { prefix, now_middle, before_middle, .. } = *difference;
        let before = &self.views[prefix..prefix + before_middle];
        let now = &now[prefix..prefix + now_middle];
        let position_now: HashMap<ViewInput, usize> = now.iter().enumerate().map(|(at, view)| (*view, prefix + at)).collect();
        let middle: Vec<Option<usize>> = before.iter().map(|view| position_now.get(view).copied()).collect();
        let kept: Vec<usize> = middle.iter().flatten().copied().collect();
        let renumbering = Renumbering { prefix, before_middle, shift: now_middle as isize - before_middle as isize, middle };
        kept.is_sorted().then_some((renumbering, position_now))
    }

    fn apply(&mut self, db: &dyn Db, project: ProjectInput, now: &[ViewInput], difference: &ViewDifference, plan: PatchPlan) {
        let sources = project.sources(db).len();
        let dag = Arc::make_mut(&mut self.dag);
        for (_, name) in &plan.drop_order {
            assert!(dag.remove_unread(name), "the patch plan drops only views nothing else reads");
            self.broken_views.remove(name);
            self.declared_tables.remove(name);
            self.diagnostics.retain(|diagnostic| {
                !(diagnostic.location.section == Section::Views && diagnostic.location.entry.as_deref() == Some(name.as_str()))
            });
            self.unresolved.retain(|_, readers| {
                readers.remove(name);
                !readers.is_empty()
            });
        }
        for view in &difference.removed {
            self.relations.views.remove(view.name(db));
        }
        let renumbering = &plan.renumbered;
        dag.renumber(|old| match old.checked_sub(sources) {
            Some(position) => sources + renumbering.position(position),
            None => old,
        });
        for view in &difference.added {
            self.relations.views.insert(view.name(db).clone(), *view);
        }
        for (view, declaration_index) in &plan.insert_order {
            let reads = view_reads(db, *view);
            let names = reads.reads.iter().map(|read| read.name.as_str());
            let inserted = dag.insert_unread(view.name(db), RelationKind::View, *declaration_index, names);
            assert!(inserted, "the patch plan inserts each view once, after what it reads");
        }
        // Each inserted view's diagnostics, now that every name is declared.
        let relations = &self.relations;
        let mut all_names = None;
        for (view, _) in &plan.insert_order {
            let name = view.name(db);
            let reads = view_reads(db, *view);
            let mut diagnostics = reads.diagnostics.clone();
            diagnostics.extend(view_name_not_path_component::check_name(name));
            diagnostics.extend(unknown_reference::check_view(name, &reads.reads, relations, &mut all_names, || {
                relations.sources.keys().chain(relations.views.keys()).map(String::as_str).collect()
            }));
            for read in reads.reads.iter().filter(|read| !relations.contains(&read.name)) {
                self.unresolved.entry(read.name.clone()).or_default().insert(name.clone());
            }
            if declares_table(db, *view) {
                self.declared_tables.insert(name.clone());
            }
            if reads.unparsed || views_with_errors(&diagnostics).next().is_some() {
                self.broken_views.insert(name.clone());
            }
            self.diagnostics.extend(diagnostics);
        }
        viewdag_ir::diagnostic::sort_diagnostics(&mut self.diagnostics);
        self.views = now.to_vec();
    }
}

/// What a patch does, in order.
struct PatchPlan {
    /// Views to take out of the DAG (by topological position, readers first).
    drop_order: Vec<(usize, String)>,
    renumbered: Renumbering,
    /// Views to insert with their declaration indexes, each after the inserted views it
    /// reads.
    insert_order: Vec<(ViewInput, usize)>,
}

/// Old view positions → new ones.
struct Renumbering {
    prefix: usize,
    before_middle: usize,
    shift: isize,
    /// Each old middle position's new position (`None`: removed).
    middle: Vec<Option<usize>>,
}

impl Renumbering {
    /// The new position of the view at old `position` (a removed view's: unchanged, it is
    /// no longer in the DAG).
    fn position(&self, position: usize) -> usize {
        if position < self.prefix {
            position
        } else if position < self.prefix + self.before_middle {
            self.middle[position - self.prefix].unwrap_or(position)
        } else {
            position.checked_add_signed(self.shift).expect("a view after the edit stays at a valid position")
        }
    }
}

/// `inserted` in an order where each comes after the inserted views it reads (declaration
/// order otherwise), or `None` if they read each other in a cycle.
fn insertion_order(db: &dyn Db, inserted: &[ViewInput]) -> Option<Vec<ViewInput>> {
    let by_name: HashMap<&str, ViewInput> = inserted.iter().map(|view| (view.name(db).as_str(), *view)).collect();
    let mut order = Vec::with_capacity(inserted.len());
    let mut placed: HashSet<ViewInput> = HashSet::new();
    while order.len() < inserted.len() {
        let ready = inserted.iter().find(|view| {
            !placed.contains(view)
                && view_reads(db, **view)
                    .reads
                    .iter()
                    .all(|read| by_name.get(read.name.as_str()).is_none_or(|upstream| placed.contains(upstream)))
        })?;
        placed.insert(*ready);
        order.push(*ready);
    }
    Some(order)
}

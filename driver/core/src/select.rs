//! Selecting views (`--select` / `--exclude` / `--state` on `check`, `compile`, `run`,
//! `explain` and `graph`): the driver's side of `viewdag_ir::selection` (the grammar and its resolution over
//! the view DAG), as functions of a [`Snapshot`]. What `run --select` does with the tasks
//! it did not select (bind their existing tables) is the host's (`compiler/tables.rs`).
//!
//! ## Invariants
//! - `state:modified` compares every view's definition digest with the one recorded in a
//!   previous `compile --out` directory's `manifest.json`; a view the state does not list
//!   (or lists without a digest, because it did not validate then) is modified.
//! - `run --select` runs the selected tasks only: a view's materialization when the view
//!   itself is selected, an output's task when the output is (selecting a view selects its
//!   outputs; selecting an output selects that output alone); a selected task reads an unselected
//!   materialized view's existing table (its latest version). When that table does not
//!   exist the reading tasks are skipped, with a warning naming it; nothing else is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use viewdag_artifact::{ENVELOPE_FILE_NAME, read_envelope};
use viewdag_ir::selection::{SelectedUnits, SelectionUniverse, Selector, select_units};

use crate::compiler::{CompileResponse, ViewStatus};
use crate::error::DriverError;
use crate::snapshot::Snapshot;

/// What to select: `--select` / `--exclude` / `--state` as plain data (the command line's
/// flags convert to it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Views to select (dbt's grammar: `name`, `+name`, `name+`, `2+name`, `tag:X`,
    /// `path:P`, `state:modified`; space = union, comma = intersection).
    pub select: Vec<String>,
    /// Views to leave out of the selection (same grammar).
    pub exclude: Vec<String>,
    /// A previous `compile --out` directory, for `state:modified`.
    pub state: Option<PathBuf>,
}

impl Selection {
    /// Whether nothing is selected or excluded (everything is selected).
    pub fn is_empty(&self) -> bool {
        self.select.is_empty() && self.exclude.is_empty()
    }
}

/// The definition digest of each view of a previous compile output directory.
pub fn recorded_definition_digests(dir: &Path) -> Result<BTreeMap<String, Option<String>>, DriverError> {
    let path = dir.join(ENVELOPE_FILE_NAME);
    let text = std::fs::read_to_string(&path).map_err(DriverError::read(&path))?;
    let envelope = read_envelope(&text).map_err(|error| DriverError::Unparsable { path, message: error.to_string() })?;
    Ok(envelope.views.into_iter().map(|(name, view)| (name, view.definition_digest)).collect())
}

/// A view's definition digest in a compile response (none for a view with errors).
pub fn definition_digest(status: &ViewStatus) -> Option<&str> {
    match status {
        ViewStatus::Compiled { definition_digest, .. } | ViewStatus::Checked { definition_digest } => Some(definition_digest),
        ViewStatus::Failed | ViewStatus::Blocked { .. } => None,
    }
}

impl Snapshot<'_> {
    /// The views `args` select in the last compile (`response`) — those selected and those
    /// of the outputs selected — or `None` when no `--select`/`--exclude` was given. A bad
    /// selector is an error.
    pub fn select_views(&self, response: &CompileResponse, args: &Selection) -> Result<Option<BTreeSet<String>>, DriverError> {
        Ok(self.select_units(response, args)?.map(|selected| selected.views.into_iter().collect()))
    }

    /// The views and outputs `args` select in the last compile (`response`), or `None` when
    /// no `--select`/`--exclude` was given (what `run --select` runs). A bad selector is an
    /// error.
    pub fn select_units(&self, response: &CompileResponse, args: &Selection) -> Result<Option<SelectedUnits>, DriverError> {
        if args.is_empty() {
            return Ok(None);
        }
        let select = Selector::parse(&args.select).map_err(DriverError::Selection)?;
        let exclude = Selector::parse(&args.exclude).map_err(DriverError::Selection)?;
        let modified = match &args.state {
            None => None,
            Some(dir) => {
                let recorded = recorded_definition_digests(dir)?;
                let modified: BTreeSet<String> = response
                    .views
                    .iter()
                    .filter(|view| match recorded.get(&view.name) {
                        None => true,
                        Some(before) => before.as_deref() != definition_digest(&view.status),
                    })
                    .map(|view| view.name.clone())
                    .collect();
                Some(modified)
            }
        };
        let tags = |view: &str| {
            self.view_input(view)
                .and_then(|input| input.definition(self.db).as_ref().map(|definition| definition.tags.clone()))
                .unwrap_or_default()
        };
        let outputs: Vec<(String, String, String)> =
            self.outputs.iter().map(|(name, spec)| (name.clone(), spec.view.clone(), spec.path.clone())).collect();
        let universe = SelectionUniverse { dag: &self.structure().dag, tags: &tags, outputs: &outputs, modified: modified.as_ref() };
        Ok(Some(select_units(&select, &exclude, &universe).map_err(DriverError::Selection)?))
    }

    /// A check response narrowed to `selected`: their outcomes, and the diagnostics of the
    /// selected views, of the outputs writing them, and of no entry in particular (syntax,
    /// profile, sources).
    pub fn restrict_to_selection(&self, response: &CompileResponse, selected: &BTreeSet<String>) -> CompileResponse {
        use viewdag_ir::Section;
        let selected_outputs: BTreeSet<&str> =
            self.outputs.iter().filter(|(_, spec)| selected.contains(&spec.view)).map(|(name, _)| name.as_str()).collect();
        let diagnostics = response
            .diagnostics
            .iter()
            .filter(|diagnostic| match (&diagnostic.location.section, diagnostic.location.entry.as_deref()) {
                (Section::Views, Some(view)) => selected.contains(view),
                (Section::Outputs, Some(output)) => selected_outputs.contains(output),
                _ => true,
            })
            .cloned()
            .collect();
        let views: Vec<_> = response.views.iter().filter(|view| selected.contains(&view.name)).cloned().collect();
        CompileResponse { diagnostics, views: views.into(), ..response.clone() }
    }

    /// `compile --select` after a check-only compile: plans the selected views that are
    /// tasks (every selected view with `all_views`) and marks them compiled, so exactly
    /// their bundles are written; the other views stay checked (the envelope still lists
    /// every view's definition digest).
    pub fn plan_selection(&self, response: &CompileResponse, selected: &BTreeSet<String>, all_views: bool) -> CompileResponse {
        let tasks: BTreeSet<String> = self.tasks().into_iter().map(|task| task.view).collect();
        let mut diagnostics = response.diagnostics.clone();
        let views: Vec<_> = response
            .views
            .iter()
            .map(|outcome| {
                let mut outcome = outcome.clone();
                let wanted = selected.contains(&outcome.name) && (all_views || tasks.contains(&outcome.name));
                if let (true, ViewStatus::Checked { definition_digest }) = (wanted, &outcome.status)
                    && let Some(view) = self.view_input(&outcome.name)
                {
                    match viewdag_optimize::planned_view(self.db, view) {
                        Ok(planned) => {
                            diagnostics.extend(planned.diagnostics.iter().cloned());
                            outcome.status = ViewStatus::Compiled {
                                definition_digest: definition_digest.clone(),
                                p0_digest: planned.p0_digest.clone(),
                                p1_digest: planned.p1_digest.clone(),
                                p2_digest: planned.p2_digest.clone(),
                            };
                        }
                        Err(viewdag_lower::ViewFailure::Errors(errors)) => {
                            diagnostics.extend(errors.iter().cloned());
                            outcome.status = ViewStatus::Failed;
                        }
                        Err(_) => outcome.status = ViewStatus::Failed,
                    }
                }
                outcome
            })
            .collect();
        if let Some(spec) = &self.spec {
            crate::compiler::sort_by_position(&mut diagnostics, &spec.spans);
        }
        diagnostics.dedup();
        CompileResponse { diagnostics, views: views.into(), ..response.clone() }
    }
}

/// The part of `dag` a graph of `selected` shows: the selected views and the sources they
/// read directly, with the edges among them.
pub fn selected_subgraph(dag: &viewdag_ir::ViewDag, selected: &BTreeSet<String>) -> viewdag_ir::ViewDag {
    use viewdag_ir::RelationKind;
    use viewdag_ir::dag::RelationReads;
    let shown = |name: &str| {
        selected.contains(name)
            || (dag.kind(name) == Some(RelationKind::Source) && dag.readers(name).iter().any(|reader| selected.contains(reader)))
    };
    let relations: Vec<RelationReads> = dag
        .nodes()
        .into_iter()
        .filter(|node| shown(&node.name))
        .map(|node| RelationReads {
            name: node.name.clone(),
            kind: node.kind,
            reads: dag.reads(&node.name).into_iter().filter(|read| shown(read)).collect(),
        })
        .collect();
    viewdag_ir::ViewDag::build(&relations)
}

//! The host's table bindings: a materialized view's readers scan the table its task wrote,
//! the table an unselected view already has (`run --select`), or the rows a memory run
//! collected (`lab`): binding sets the view's `materialized_table` input to that table's
//! provider identity, so its readers are re-planned against it (and only they are).
//!
//! ## Invariants
//! - Binding and unbinding are the only changes to `materialized_table`, and happen on the
//!   host's thread between tasks, never while a snapshot is alive.
//! - A provider identity stays a pure function of itself (surface's invariant): every
//!   in-memory binding gets an identity of its own (`memory-run-N:VIEW`, `N` counted per
//!   database), never reused for other rows, so a memoized plan that scans one is never
//!   served another run's rows. The identity is deterministic for a given sequence of
//!   memory runs and never reaches an artifact.
//! - Unbinding restores the views' own (Delta or placeholder) providers and forgets the
//!   in-memory tables.

use std::collections::{BTreeMap, BTreeSet};
use std::future::IntoFuture;
use std::sync::Arc;

use datafusion::datasource::MemTable;
use deltalake::DeltaTable;
use salsa::Setter;
use viewdag_ir::selection::SelectedUnits;
use viewdag_ir::{ProviderIdentity, SurfaceInput, ViewInput};
use viewdag_schedule::{Task, TaskId, TaskKind};
use viewdag_surface::planning_session;

use super::Compiler;
use crate::execute::TaskError;
use crate::execute::memory_sink::CollectedRows;
use crate::run::TaskOutcome;
use crate::run_state::RunState;
use crate::sources::delta_volume;
use crate::task_tables::TaskTableError;

/// Why a table could not be bound for its readers.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BindError {
    /// The materialized view is no longer declared.
    #[error("view `{0}` is gone")]
    ViewGone(String),
    /// The task's table does not open.
    #[error(transparent)]
    Unopened(#[from] TaskTableError),
    /// The table has no version yet.
    #[error("the table has no version")]
    NoVersion,
    /// The table cannot join the planning session.
    #[error("{0}")]
    Unreadable(deltalake::DeltaTableError),
    /// The table's provider cannot be made.
    #[error("{0}")]
    NoProvider(datafusion::error::DataFusionError),
}

/// The in-memory tables one memory run bound, to unbind when it ends.
#[derive(Debug)]
pub(crate) struct MemoryBindings {
    run: u64,
    bound: Vec<(ViewInput, ProviderIdentity)>,
}

impl Compiler {
    /// `run --select`: the selected tasks, in task order, and for every unselected
    /// materialized view a selected task reads but whose table does not exist, a warning
    /// (keyed by its task id, which the run then treats as failed). The others are bound
    /// to their existing tables.
    pub(crate) fn select_tasks(&mut self, tasks: Vec<Task>, selection: Option<&SelectedUnits>) -> (Vec<Task>, BTreeMap<TaskId, String>) {
        let Some(selection) = selection else { return (tasks, BTreeMap::new()) };
        let (selected, unselected): (Vec<Task>, Vec<Task>) = tasks.into_iter().partition(|task| match &task.kind {
            TaskKind::Materialize => selection.has_view(&task.view),
            TaskKind::Output { output } => selection.has_output(output),
        });
        let read: BTreeSet<&TaskId> = selected.iter().flat_map(|task| &task.reads).collect();
        let mut missing = BTreeMap::new();
        for task in unselected.iter().filter(|task| task.kind == TaskKind::Materialize && read.contains(&task.id)) {
            if let Err(problem) = self.bind_existing_table(task) {
                missing.insert(
                    task.id.clone(),
                    format!("`{}` is not selected and its table cannot be read ({problem}): the tasks reading it are skipped", task.id),
                );
            }
        }
        (selected, missing)
    }

    /// Binds a materialized view's readers to the latest version of its existing table.
    pub(crate) fn bind_existing_table(&mut self, task: &Task) -> Result<(), BindError> {
        let table = self.snapshot().open_task_table(task)?;
        let version = table.version().and_then(|version| i64::try_from(version).ok()).ok_or(BindError::NoVersion)?;
        self.bind_materialized(task, &table, version)
    }

    /// `Some(UpToDate)` when the task's table is still at the version it last wrote from the
    /// same fingerprint (a materialized view's readers are then bound to that version).
    pub(crate) fn up_to_date(
        &mut self,
        task: &Task,
        fingerprint: &str,
        reads: &BTreeMap<String, ProviderIdentity>,
        run_state: &RunState,
    ) -> Option<TaskOutcome> {
        let (table, version) = self.snapshot().unchanged_table(task, fingerprint, reads, run_state)?;
        self.keep_table(task, &table, version)
    }

    /// `Some(UpToDate)` when the task's table carries viewdag's application transaction at
    /// `run`: the interrupted run this one resumes already committed the task.
    pub(crate) fn committed_by_run(&mut self, task: &Task, run: u64) -> Option<TaskOutcome> {
        let (table, version) = self.snapshot().table_committed_by_run(task, run)?;
        self.keep_table(task, &table, version)
    }

    /// Binds `table` for the task's readers: the task does not run (`UpToDate`).
    fn keep_table(&mut self, task: &Task, table: &DeltaTable, version: i64) -> Option<TaskOutcome> {
        self.bind_materialized(task, table, version).ok()?;
        Some(TaskOutcome::UpToDate { version })
    }

    /// After a task wrote its table: a materialized view's readers now scan that version.
    pub(crate) fn record_written(&mut self, task: &Task, rows: usize, table: DeltaTable) -> Result<TaskOutcome, TaskError> {
        let version = table.version().map(|version| i64::try_from(version).unwrap_or(i64::MAX)).unwrap_or(0);
        self.bind_materialized(task, &table, version).map_err(|error| TaskError::Bind(error.to_string()))?;
        Ok(TaskOutcome::Written { rows, version })
    }

    /// For a materialization task: its readers scan `table` at `version` from now on.
    pub(crate) fn bind_materialized(&mut self, task: &Task, table: &DeltaTable, version: i64) -> Result<(), BindError> {
        if task.kind == TaskKind::Materialize {
            let view = self.snapshot().view_input(&task.view).ok_or_else(|| BindError::ViewGone(task.view.clone()))?;
            let state = Arc::clone(&planning_session(&self.db, SurfaceInput::get(&self.db)).state);
            table.update_datafusion_session(state.as_ref()).map_err(BindError::Unreadable)?;
            let runtime = Arc::clone(self.db.tokio());
            let provider = runtime.block_on(table.table_provider().into_future()).map_err(BindError::NoProvider)?;
            let identity = ProviderIdentity::Delta { location: self.snapshot().task_target_text(task), version };
            self.db.register_provider(identity.clone(), provider);
            if let Some(volume) = delta_volume(table) {
                self.db.register_volume(identity.clone(), volume);
            }
            view.set_materialized_table(&mut self.db).to(Some(identity));
            self.bound_tables.insert(view);
        }
        Ok(())
    }

    /// Unbinds every view's table (the end of a run or of its forecast); returns how many
    /// were bound.
    pub(crate) fn unbind_materialized_tables(&mut self) -> usize {
        let bound = std::mem::take(&mut self.bound_tables);
        for view in &bound {
            view.set_materialized_table(&mut self.db).to(None);
        }
        bound.len()
    }

    /// Starts a memory run: its bindings get identities no other run shares.
    pub(crate) fn begin_memory_run(&self) -> MemoryBindings {
        MemoryBindings { run: self.db.next_memory_run(), bound: Vec::new() }
    }

    /// A materialized view's readers scan `rows` from now on (until `end_memory_run`).
    pub(crate) fn bind_memory_table(
        &mut self,
        bindings: &mut MemoryBindings,
        view_name: &str,
        rows: &CollectedRows,
    ) -> Result<(), TaskError> {
        let view = self.snapshot().view_input(view_name).ok_or_else(|| TaskError::Bind(format!("view `{view_name}` is gone")))?;
        let table = MemTable::try_new(Arc::clone(&rows.schema), vec![rows.batches.clone()])
            .map_err(|error| TaskError::Bind(error.strip_backtrace()))?;
        let identity = ProviderIdentity::Materialized { view: format!("memory-run-{}:{view_name}", bindings.run) };
        self.db.register_provider(identity.clone(), Arc::new(table));
        view.set_materialized_table(&mut self.db).to(Some(identity.clone()));
        self.bound_tables.insert(view);
        bindings.bound.push((view, identity));
        Ok(())
    }

    /// Unbinds every table of a memory run and forgets them.
    pub(crate) fn end_memory_run(&mut self, bindings: MemoryBindings) {
        for (view, identity) in bindings.bound {
            self.bound_tables.remove(&view);
            view.set_materialized_table(&mut self.db).to(None);
            self.db.forget_provider(&identity);
        }
    }
}

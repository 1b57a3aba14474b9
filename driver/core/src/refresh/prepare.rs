//! Preparing a task's refresh in a run: the increment planned from what the inputs appended
//! (or the reason it falls back to a full refresh), how its rows are written, and the run's
//! checks around it (`refresh: incremental` fails instead of falling back; a commit an
//! interrupted run made is adopted with what it read).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use viewdag_ir::{Diagnostic, ProviderIdentity, RefreshPolicy, ViewInput, WriteMode};
use viewdag_lower::ViewFailure;
use viewdag_optimize::incremental::{ApplyIncrement, IncrementUnplanned, InputChanges, PlannedIncrement, plan_increment};
use viewdag_schedule::Task;

use super::change_detection::RewriteCause;
use super::path::{AppendedRelation, AppendedSummary, AppliedAs, FullRefreshReason, RefreshPath, RefreshSummary};
use crate::execute::TaskError;
use crate::execute::merge::TableWrite;
use crate::run_state::{APP_ID, RunState};
use crate::snapshot::Snapshot;

/// How a task that executes refreshes, once prepared.
pub(crate) enum PreparedRefresh {
    /// The increment's physical plan, how it lands, and its report.
    Incremental { plan: Arc<dyn ExecutionPlan>, apply: ApplyIncrement, summary: RefreshSummary },
    /// The task's whole plan, and why.
    Full(FullRefreshReason),
}

/// `write` (how the task writes when it refreshes fully) changed to land an increment.
pub(crate) fn increment_write_of(write: TableWrite, apply: ApplyIncrement) -> TableWrite {
    match apply {
        ApplyIncrement::Append => TableWrite { mode: WriteMode::Append, ..write },
        ApplyIncrement::Merge(merge) => TableWrite { mode: WriteMode::Merge, group_merge: Some(merge), ..write },
    }
}

impl Snapshot<'_> {
    /// The Delta version of `task`'s table now (`None`: there is none, or it cannot be read).
    pub(crate) fn table_version(&self, task: &Task) -> Option<i64> {
        let table = self.open_task_table(task).ok()?;
        table.version().and_then(|version| i64::try_from(version).ok())
    }

    /// For a run resuming an interrupted one: when `task`'s table is past the version its
    /// pending record started from and its last commit carries this run's `txn`, that commit
    /// is the pending refresh (killed before its record was saved): record it.
    pub(crate) fn adopt_pending_commit(&self, task: &Task, run: u64, run_state: &mut RunState) {
        let Some(pending) = run_state.pending.get(&task.id) else { return };
        let Ok(table) = self.open_task_table(task) else { return };
        let runtime = Arc::clone(self.db.tokio());
        let committed = runtime.block_on(async {
            let version = table.version().and_then(|version| i64::try_from(version).ok())?;
            let transaction = table.snapshot().ok()?.transaction_version(table.log_store().as_ref(), APP_ID).await.ok()??;
            (version > pending.version && u64::try_from(transaction).ok()? == run).then_some(version)
        });
        if let Some(version) = committed {
            let adopted = crate::run_state::RecordedTask { version, ..pending.clone() };
            run_state.tasks.insert(task.id.clone(), adopted);
        }
        run_state.pending.remove(&task.id);
    }

    /// For a `refresh: incremental` task whose path is a full refresh it may not take (any
    /// reason but a first refresh or an explicit `--full-refresh`/`--force`): the task's
    /// error (`V1003`).
    pub(crate) fn refusal_of_incremental(&self, task: &Task, path: &RefreshPath) -> Option<TaskError> {
        if self.refresh_policy(task) != RefreshPolicy::Incremental {
            return None;
        }
        match path {
            RefreshPath::Incremental(_) => None,
            RefreshPath::Full(FullRefreshReason::FirstRefresh | FullRefreshReason::Requested { .. }) => None,
            RefreshPath::Full(reason) => Some(TaskError::IncrementalRefused { reason: reason.to_string() }),
        }
    }

    /// The task's refresh as it will execute: for an incremental path, the increment planned
    /// over the appended inputs' scan sources — or, when it cannot be derived, a full
    /// refresh with the reason (`refresh: incremental` fails the task instead).
    pub(crate) fn prepare_increment(
        &self,
        task: &Task,
        view: ViewInput,
        path: &RefreshPath,
        reads: &BTreeMap<String, ProviderIdentity>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<PreparedRefresh, TaskError> {
        let appended = match path {
            RefreshPath::Full(reason) => return Ok(PreparedRefresh::Full(reason.clone())),
            RefreshPath::Incremental(appended) => appended,
        };
        let incremental_only = self.refresh_policy(task) == RefreshPolicy::Incremental;
        let derived = self.increment_changes(appended, reads).and_then(|changes| self.derived_increment(task, view, &changes));
        let planned = match derived {
            Ok(planned) => planned,
            Err(IncrementFailure::FullRefresh(reason)) if incremental_only => {
                return Err(TaskError::IncrementalRefused { reason: reason.to_string() });
            }
            Err(IncrementFailure::FullRefresh(reason)) => return Ok(PreparedRefresh::Full(reason)),
            Err(IncrementFailure::Planning(failure)) => {
                if let ViewFailure::Errors(errors) = &failure {
                    diagnostics.extend(errors.iter().cloned());
                }
                return Err(TaskError::Planning(format!("the increment of view `{}` failed to plan: {failure}", task.view)));
            }
        };
        diagnostics.extend(planned.optimized.diagnostics.iter().cloned());
        diagnostics.extend(planned.physical.diagnostics.iter().cloned());
        let plan = reset_plan_states(Arc::clone(&planned.physical.plan)).map_err(|error| TaskError::Planning(error.strip_backtrace()))?;
        let summary =
            RefreshSummary::Incremental { apply: apply_name(&planned.apply), sources: appended.iter().map(AppendedSummary::of).collect() };
        Ok(PreparedRefresh::Incremental { plan, apply: planned.apply, summary })
    }

    /// The derivation's inputs for the relations that gained rows (`reads`: how each is read
    /// now); an input whose appended rows cannot be opened is a full refresh.
    pub(crate) fn increment_changes(
        &self,
        appended: &[AppendedRelation],
        reads: &BTreeMap<String, ProviderIdentity>,
    ) -> Result<InputChanges, IncrementFailure> {
        let mut changes = InputChanges::new();
        for relation in appended {
            let Some(now) = reads.get(&relation.relation) else { continue };
            let input = self.appended_input(relation, now).map_err(|error| {
                let cause = RewriteCause::Unreadable { message: error.to_string() };
                IncrementFailure::FullRefresh(FullRefreshReason::InputRewritten { relation: relation.relation.clone(), cause })
            })?;
            changes = changes.with_appended(relation.relation.clone(), input);
        }
        Ok(changes)
    }

    /// `view`'s increment for `changes`, planned; or why the task is refreshed fully.
    pub(crate) fn derived_increment(
        &self,
        task: &Task,
        view: ViewInput,
        changes: &InputChanges,
    ) -> Result<PlannedIncrement, IncrementFailure> {
        let planned = match plan_increment(self.db, view, changes) {
            Ok(planned) => planned,
            Err(IncrementUnplanned::Refused(refusal)) => {
                return Err(IncrementFailure::FullRefresh(FullRefreshReason::NotDerivable(refusal)));
            }
            Err(IncrementUnplanned::Failed(failure)) => return Err(IncrementFailure::Planning(failure)),
        };
        if matches!(planned.apply, ApplyIncrement::Merge(_)) && self.has_expectations(task) {
            // Expectations check the rows written; a merge writes aggregated changes.
            return Err(IncrementFailure::FullRefresh(FullRefreshReason::WholeTableExpectation { kind: "expect" }));
        }
        Ok(planned)
    }
}

/// Why a task's increment is not there.
pub(crate) enum IncrementFailure {
    /// A full refresh is needed, for this reason.
    FullRefresh(FullRefreshReason),
    /// The view or its increment failed to plan.
    Planning(ViewFailure),
}

/// How an increment lands, as reported.
pub(crate) fn apply_name(apply: &ApplyIncrement) -> AppliedAs {
    match apply {
        ApplyIncrement::Append => AppliedAs::Append,
        ApplyIncrement::Merge(_) => AppliedAs::Merge,
    }
}

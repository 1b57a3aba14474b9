//! `viewdag plan`: what the next `run` would do with every task, and why — up to date,
//! incremental (which inputs appended, how many files, rows and bytes, read from the logs
//! and listings), full (the reason), or failing/skipped — with the cost model's estimate.
//! Nothing is written and nothing is locked: the run state is read, Delta logs are read, and
//! the materialized views' existing tables are bound in the database (unbound at the end).
//!
//! ## Invariants
//! - The decision for a task is `run`'s: the same up-to-date test, the same
//!   [`Compiler::refresh_path`], the same derivation (`Compiler::derived_increment`), in task
//!   order.
//! - A task reading a table that an earlier task of the same run refreshes is decided as
//!   `run` will see it: an incremental append upstream is an append to it (derived with the
//!   table as it is now standing in for the rows to come), a merge or a full refresh upstream
//!   is a rewrite, a failing or skipped task upstream skips it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use datafusion::datasource::provider_as_source;
use serde::Serialize;
use viewdag_ir::{ProviderIdentity, WriteMode};
use viewdag_optimize::incremental::{AppendedInput, InputChanges};
use viewdag_schedule::{Task, TaskId, TaskKind};

use super::change_detection::RewriteCause;
use super::path::{AppendedSummary, AppliedAs, FullRefreshReason, RefreshPath};
use super::prepare::{IncrementFailure, apply_name};
use viewdag_schedule::TaskCost;

use crate::compiler::CompileResponse;
use crate::confinement::WriteConfinement;
use crate::run::RunOptions;
use crate::run_state::RunState;
use crate::snapshot::Snapshot;

/// What the next run would do with one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlannedAction {
    /// Nothing to do: the table is at the version written from what it reads now.
    UpToDate {
        /// The table's version.
        version: i64,
    },
    /// Refreshed from appended rows.
    Incremental {
        /// `append` or `merge`.
        apply: AppliedAs,
        /// The inputs that gained rows since the last refresh, from their logs and listings.
        sources: Vec<AppendedSummary>,
        /// Inputs that an earlier task of the same run appends to first.
        refreshed_first: Vec<String>,
    },
    /// Recomputed whole.
    Full {
        /// Why.
        reason: String,
    },
    /// The task would fail without committing (`refresh: incremental` that cannot be kept).
    Fails {
        /// Why.
        reason: String,
    },
    /// The task would not run (errors in its view, an input that fails).
    Skipped {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for PlannedAction {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlannedAction::UpToDate { version } => write!(formatter, "up to date (v{version})"),
            PlannedAction::Incremental { apply, sources, refreshed_first } => {
                let mut parts: Vec<String> = sources.iter().map(ToString::to_string).collect();
                parts.extend(refreshed_first.iter().map(|relation| format!("the rows this run appends to {relation}")));
                write!(formatter, "incremental {apply} ({})", parts.join(", "))
            }
            PlannedAction::Full { reason } => write!(formatter, "full ({reason})"),
            PlannedAction::Fails { reason } => write!(formatter, "fails ({reason})"),
            PlannedAction::Skipped { reason } => write!(formatter, "skipped ({reason})"),
        }
    }
}

/// One task of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedTask {
    /// The task's id (`view:NAME`, `output:NAME`).
    pub id: String,
    /// Its view.
    pub view: String,
    /// Its table, relative to the spec's directory.
    pub target: String,
    /// What the run would do.
    pub action: PlannedAction,
    /// The bytes it would read: the cost model's estimate of its inputs for a full refresh,
    /// the appended files' bytes for an incremental one (plus what upstream tasks append, not
    /// known yet), none when it does not run.
    pub estimated_bytes: u64,
    /// Whether every volume behind the estimate is known.
    pub exact: bool,
    /// For an incremental refresh: the optimized logical plan (P1) of the increment, as
    /// text (`explain VIEW --refresh`).
    #[serde(skip)]
    pub increment_plan: Option<String>,
}

/// What the next run would do.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshPlan {
    /// Every task in task order (the run's selection applied).
    pub tasks: Vec<PlannedTask>,
}

/// How a task refreshed earlier in the same run changes the table its readers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpstreamRefresh {
    /// It appends rows (an incremental append, or a first write its readers also write
    /// first).
    Appends,
    /// It rewrites its table (a merge or a full refresh).
    Rewrites,
    /// It commits nothing (it fails or is skipped): its readers are skipped.
    CommitsNothing,
}

/// The forecast of a run, task by task in task order: what each task's decision was made
/// from so far. The host feeds it the tasks and binds the tables it says to bind between
/// them (see `Compiler::plan_refresh`); every decision is read from a snapshot.
pub(crate) struct RefreshForecast<'r> {
    compile: &'r CompileResponse,
    options: &'r RunOptions,
    run_state: RunState,
    costs: BTreeMap<TaskId, TaskCost>,
    /// The tasks `--select` left out whose tables cannot be read (their readers are skipped).
    unselected_failures: BTreeMap<TaskId, String>,
    confinement: WriteConfinement,
    engine_refreshes_fully: Option<String>,
    /// The materialization tasks decided so far that will write (task id → view, how).
    upstream: BTreeMap<TaskId, (String, UpstreamRefresh)>,
    planned: Vec<PlannedTask>,
}

impl<'r> RefreshForecast<'r> {
    /// A forecast of `run` with `options` after `compile`, over the tasks' `costs`.
    pub(crate) fn new(
        snapshot: Snapshot<'_>,
        compile: &'r CompileResponse,
        options: &'r RunOptions,
        costs: BTreeMap<TaskId, TaskCost>,
        unselected_failures: BTreeMap<TaskId, String>,
    ) -> Self {
        let mut ignored_diagnostics = Vec::new();
        let engine = snapshot.run_engine(options, &mut ignored_diagnostics);
        let engine_refreshes_fully = match &engine {
            Ok(engine) if !engine.runs_increments() => Some(engine.name().to_string()),
            _ => None,
        };
        RefreshForecast {
            compile,
            options,
            run_state: RunState::load(snapshot.root),
            costs,
            unselected_failures,
            confinement: snapshot.write_confinement(),
            engine_refreshes_fully,
            upstream: BTreeMap::new(),
            planned: Vec::new(),
        }
    }

    /// Decides `task` (after every task it reads). A materialization's readers are then
    /// decided against its table as it is now, the version the run will refresh from: the
    /// host binds it before the next decision (a table that does not exist stays unbound).
    pub(crate) fn decide(&mut self, snapshot: Snapshot<'_>, task: &Task) {
        let failed_read = task.reads.iter().find(|read| {
            self.unselected_failures.contains_key(*read)
                || self.upstream.get(*read).is_some_and(|(_, refresh)| *refresh == UpstreamRefresh::CommitsNothing)
        });
        let (action, increment_plan) = match snapshot.blocker(self.compile, task, failed_read) {
            Some(reason) => (PlannedAction::Skipped { reason }, None),
            None => match self.confinement.refusal(&snapshot.task_target(task)) {
                Some(refusal) => (PlannedAction::Fails { reason: refusal }, None),
                None => snapshot.planned_action(task, self.options, &self.run_state, &self.upstream, self.engine_refreshes_fully.clone()),
            },
        };
        let cost = self.costs.get(&task.id);
        let (estimated_bytes, exact) = match &action {
            PlannedAction::Full { .. } => cost.map(|cost| (cost.input.bytes, cost.input.exact)).unwrap_or((0, false)),
            PlannedAction::Incremental { sources, refreshed_first, .. } => {
                (sources.iter().map(|source| source.bytes).sum(), refreshed_first.is_empty())
            }
            PlannedAction::UpToDate { .. } | PlannedAction::Fails { .. } | PlannedAction::Skipped { .. } => (0, true),
        };
        let refresh = match &action {
            PlannedAction::UpToDate { .. } => None,
            PlannedAction::Incremental { apply: AppliedAs::Append, .. } => Some(UpstreamRefresh::Appends),
            PlannedAction::Incremental { .. } => Some(UpstreamRefresh::Rewrites),
            PlannedAction::Full { .. } => {
                let first = self.run_state.recorded(&task.id, &snapshot.task_target_text(task)).is_none();
                Some(if first { UpstreamRefresh::Appends } else { UpstreamRefresh::Rewrites })
            }
            PlannedAction::Fails { .. } | PlannedAction::Skipped { .. } => Some(UpstreamRefresh::CommitsNothing),
        };
        if let Some(refresh) = refresh
            && task.kind == TaskKind::Materialize
        {
            self.upstream.insert(task.id.clone(), (task.view.clone(), refresh));
        }
        self.planned.push(PlannedTask {
            id: task.id.to_string(),
            view: task.view.clone(),
            target: snapshot.task_target_text(task),
            action,
            estimated_bytes,
            exact,
            increment_plan,
        });
    }

    /// What the next run would do.
    pub(crate) fn finish(self) -> RefreshPlan {
        RefreshPlan { tasks: self.planned }
    }
}

impl Snapshot<'_> {
    /// The action for one task that is not blocked, with its increment's P1 text when it is
    /// incremental; `upstream` holds the materialization tasks decided before it that will
    /// write (task id → view, how).
    fn planned_action(
        &self,
        task: &Task,
        options: &RunOptions,
        run_state: &RunState,
        upstream: &BTreeMap<TaskId, (String, UpstreamRefresh)>,
        engine_refreshes_fully: Option<String>,
    ) -> (PlannedAction, Option<String>) {
        let (Some(fingerprint), Some(shape)) = (self.task_fingerprint(task), self.task_shape(task)) else {
            return (PlannedAction::Fails { reason: format!("view `{}` has no task digest", task.view) }, None);
        };
        let reads = self.task_reads(task);
        let mode = self.task_write_mode(task);
        // Every materialized table it reads whose task comes first, directly upstream or not
        // (an output of a materialized view depends on its task but reads what the view
        // reads, not its table).
        let refreshed_first: Vec<(String, UpstreamRefresh)> =
            upstream.values().filter(|(view, _)| reads.contains_key(view)).cloned().collect();
        if !options.force
            && mode != WriteMode::Append
            && refreshed_first.is_empty()
            && let Some((_, version)) = self.unchanged_table(task, &fingerprint, &reads, run_state)
        {
            return (PlannedAction::UpToDate { version }, None);
        }
        let facts = self.refresh_facts(task, run_state, &shape, (options.force, options.full_refresh), engine_refreshes_fully);
        let path = self.refresh_path(task, mode, &facts, &reads);
        // Inputs an earlier task refreshes: appended to, or rewritten.
        let path = match path {
            RefreshPath::Incremental(_) | RefreshPath::Full(FullRefreshReason::WriteSettingsChanged) if !refreshed_first.is_empty() => {
                match refreshed_first.iter().find(|(_, refresh)| *refresh != UpstreamRefresh::Appends) {
                    Some((view, _)) => {
                        RefreshPath::Full(FullRefreshReason::InputRewritten { relation: view.clone(), cause: RewriteCause::RefreshedFirst })
                    }
                    None => match path {
                        RefreshPath::Incremental(appended) => RefreshPath::Incremental(appended),
                        _ => RefreshPath::Incremental(Vec::new()),
                    },
                }
            }
            path => path,
        };
        if let Some(refusal) = self.refusal_of_incremental(task, &path) {
            return (PlannedAction::Fails { reason: refusal.to_string() }, None);
        }
        let appended = match path {
            RefreshPath::Full(reason) => return (PlannedAction::Full { reason: reason.to_string() }, None),
            RefreshPath::Incremental(appended) => appended,
        };
        let appending_first: Vec<String> = refreshed_first.iter().map(|(view, _)| view.clone()).collect();
        let derived = self.increment_changes(&appended, &reads).and_then(|changes| {
            let changes = self.with_standing_in(changes, &appending_first, &reads)?;
            let view = self.view_input(&task.view).ok_or_else(|| {
                IncrementFailure::FullRefresh(FullRefreshReason::InputRewritten {
                    relation: task.view.clone(),
                    cause: RewriteCause::Unreadable { message: "the view is gone".to_string() },
                })
            })?;
            self.derived_increment(task, view, &changes)
        });
        let incremental_only = self.refresh_policy(task) == viewdag_ir::RefreshPolicy::Incremental;
        let action = match derived {
            Ok(planned) => {
                let action = PlannedAction::Incremental {
                    apply: apply_name(&planned.apply),
                    sources: appended.iter().map(AppendedSummary::of).collect(),
                    refreshed_first: appending_first,
                };
                return (action, Some(planned.optimized.text));
            }
            Err(IncrementFailure::FullRefresh(reason)) if incremental_only => PlannedAction::Fails { reason: reason.to_string() },
            Err(IncrementFailure::FullRefresh(reason)) => PlannedAction::Full { reason: reason.to_string() },
            Err(IncrementFailure::Planning(failure)) => PlannedAction::Fails { reason: format!("its increment fails to plan: {failure}") },
        };
        (action, None)
    }

    /// `changes` with the tables `views` (refreshed by an append earlier in the run) standing
    /// in for the rows they will gain: the derivation depends on which inputs gain rows and
    /// on their schemas, never on the rows themselves.
    fn with_standing_in(
        &self,
        mut changes: InputChanges,
        views: &[String],
        reads: &BTreeMap<String, ProviderIdentity>,
    ) -> Result<InputChanges, IncrementFailure> {
        let known: BTreeSet<&String> = views.iter().collect();
        for view in known {
            let provider = reads.get(view).and_then(|identity| viewdag_surface::Db::provider(self.db, identity)).ok_or_else(|| {
                IncrementFailure::FullRefresh(FullRefreshReason::InputRewritten {
                    relation: view.clone(),
                    cause: RewriteCause::Unreadable { message: "its table cannot be read".to_string() },
                })
            })?;
            let input = AppendedInput { delta: provider_as_source(provider.clone()), previous: provider_as_source(provider) };
            changes = changes.with_appended(view.clone(), input);
        }
        Ok(changes)
    }
}

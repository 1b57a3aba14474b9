//! Where a run executes its tasks' plans: the [`TaskEngine`] seam. This crate has the local
//! engine (this process, the default); `viewdag-ballista` implements the trait for an Apache
//! Ballista cluster, and the `viewdag` command line offers both.
//!
//! The engine decides only how a task's rows are produced, and may offer to write them as
//! the table's data files itself ([`TaskPlan::data_files`]: a cluster's executors write in
//! parallel, so the rows never pass through the driver). Everything else a run does is the
//! same for every engine: the schedule, up-to-date checks, contracts, pushdown audits,
//! progress lines, the run report, and the one Delta commit per task, made by the driver —
//! of the streamed rows, or of the data files the engine wrote.
//!
//! The engine is chosen before any task is planned, and a task is planned once, by its
//! engine, from what [`TaskPlanning`] offers: the local engine takes the memoized P2, a
//! cluster engine builds its own plan from P1 (it never pays for a P2 it would throw away).
//!
//! ## Invariants
//! - Choosing an engine never changes a digest, a bundle or the run state: a table written
//!   by one engine is up to date for another.
//! - The plan an engine returns has the task's output schema (P1's): contracts and
//!   expectations are checked against it. Its data-file writer, when it offers one, writes
//!   exactly the rows of that plan.
//! - An engine that cannot plan a task fails that task (a [`TaskError`]), never the run.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use viewdag_ir::{Diagnostic, EngineKind, EngineProfile, ProviderIdentity, SurfaceInput, ViewInput};
use viewdag_lower::ViewFailure;
use viewdag_optimize::queries::bare_physical_session;
use viewdag_optimize::{
    OptimizedView, ResolvedOptimizerPipeline, executable_plan, optimized_view, physical_view, resolved_optimizer_pipeline, with_start_time,
};
use viewdag_schedule::Task;
use viewdag_surface::planning_session;

use crate::database::Database;
use crate::execute::{DataFileWriter, TaskError};
use crate::storage::StorageSettings;

/// Produces the rows of a task: given what planning offers, the plan to execute.
pub trait TaskEngine: fmt::Debug + fmt::Display + Send + Sync {
    /// The plan that produces `planning`'s task rows. Problems worth a diagnostic (e.g. a
    /// table the engine cannot read) are added to `diagnostics` as well as failing the task.
    fn task_plan(&self, planning: &TaskPlanning<'_>, diagnostics: &mut Vec<Diagnostic>) -> Result<TaskPlan, TaskError>;

    /// The engine's short name (`local`, `ballista`), as run lines name it.
    fn name(&self) -> &'static str;

    /// Whether the engine executes incremental refreshes (the plan of a task's change, see
    /// `crate::refresh`); a run refreshes every task fully on an engine that does not.
    fn runs_increments(&self) -> bool {
        false
    }
}

/// What an engine offers for one task: the plan of its rows, and optionally a writer that
/// writes those rows as the table's data files where they are computed.
///
/// The driver decides which one a task uses, once it has opened the task's table: the
/// data-file writer when the table takes engine-written files as they are (a plain
/// overwrite or append whose columns match, no expectations to check on the way; see
/// `execute::engine_files`), else it streams `rows` into its own writer.
#[derive(Debug, Clone)]
pub struct TaskPlan {
    /// The task's rows, streamed into the driver's sink.
    pub rows: Arc<dyn ExecutionPlan>,
    /// Writes the same rows as Parquet data files itself (e.g. on a cluster's executors).
    pub data_files: Option<Arc<dyn DataFileWriter>>,
}

impl TaskPlan {
    /// A plan whose rows the driver writes.
    pub fn rows(rows: Arc<dyn ExecutionPlan>) -> TaskPlan {
        TaskPlan { rows, data_files: None }
    }
}

/// Runs task plans in this process, on the driver's DataFusion runtime: the compiled P2,
/// whose rows the driver's writer streams into Parquet files itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalEngine;

impl TaskEngine for LocalEngine {
    fn task_plan(&self, planning: &TaskPlanning<'_>, diagnostics: &mut Vec<Diagnostic>) -> Result<TaskPlan, TaskError> {
        planning.physical_plan(diagnostics).map(TaskPlan::rows)
    }

    fn name(&self) -> &'static str {
        "local"
    }

    fn runs_increments(&self) -> bool {
        true
    }
}

impl fmt::Display for LocalEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("local")
    }
}

/// Turns a spec's `profile.engine` into an engine. The library knows the local engine only
/// ([`LocalEngines`]); a program that offers others (the `viewdag` binary, with
/// `viewdag-ballista`) passes its own factory in [`crate::RunOptions::engines`].
pub trait EngineFactory: fmt::Debug + Send + Sync {
    /// The engine `profile` names, or why it cannot be had (reported at `profile.engine`).
    fn engine_for(&self, profile: &EngineProfile) -> Result<Arc<dyn TaskEngine>, EngineUnavailable>;
}

/// The library's own factory: `local` only.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalEngines;

impl EngineFactory for LocalEngines {
    fn engine_for(&self, profile: &EngineProfile) -> Result<Arc<dyn TaskEngine>, EngineUnavailable> {
        match profile.kind {
            EngineKind::Local => Ok(Arc::new(LocalEngine)),
            EngineKind::Ballista => Err(EngineUnavailable(
                "`profile.engine` is `ballista`, which this program does not include (the `viewdag` command line does; a library user adds `viewdag-ballista`)"
                    .to_string(),
            )),
        }
    }
}

/// Why the engine a spec or a caller asked for cannot run tasks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EngineUnavailable(pub String);

/// What an engine may read to plan one task: the task, its view's optimized plan (P1) and
/// the planning sessions and pipeline the compile used. Built on the run's scheduling thread;
/// it borrows the database, so an engine plans synchronously.
pub struct TaskPlanning<'a> {
    pub(crate) db: &'a Database,
    pub(crate) view: ViewInput,
    pub(crate) task: &'a Task,
    pub(crate) root: &'a Path,
    pub(crate) storage: &'a StorageSettings,
    /// When the run started: `now()` in every task of the run.
    pub(crate) started_at: DateTime<Utc>,
}

impl<'a> TaskPlanning<'a> {
    /// The task being planned.
    pub fn task(&self) -> &Task {
        self.task
    }

    /// The spec's directory: relative table locations are relative to it.
    pub fn spec_root(&self) -> &Path {
        self.root
    }

    /// The compile's object-store settings: a store's options (to open a Delta table in an
    /// object store the plan reads) and the redactor every message about a store passes.
    pub fn storage(&self) -> &'a StorageSettings {
        self.storage
    }

    /// The task's optimized logical plan (P1) with the identity of every table it scans
    /// (`OptimizedView::scans`, by table name). Its calls of `now()` and the like are not
    /// bound: an engine executes [`Self::executable_logical_plan`].
    pub fn optimized(&self) -> Result<&'a OptimizedView, TaskError> {
        optimized_view(self.db, self.view)
            .as_ref()
            .map_err(|failure| TaskError::Planning(format!("view `{}` failed to optimize: {failure}", self.task.view)))
    }

    /// P1 as the task executes it: its calls of `now()`, `current_date()` and `current_time()`
    /// folded into the run's start time (`viewdag_optimize::start_time`).
    pub fn executable_logical_plan(&self) -> Result<Arc<LogicalPlan>, TaskError> {
        let optimized = self.optimized()?;
        match with_start_time(&optimized.plan, self.planning_session().config_options(), self.started_at) {
            Ok(Some(bound)) => Ok(Arc::new(bound)),
            Ok(None) => Ok(Arc::clone(&optimized.plan)),
            Err(error) => {
                Err(TaskError::Planning(format!("view `{}` at the run's start time: {}", self.task.view, error.strip_backtrace())))
            }
        }
    }

    /// The identity of the table a scan of `table_name` in the task's plan reads.
    pub fn scanned_identity(&self, table_name: &str) -> Option<&'a ProviderIdentity> {
        self.optimized().ok()?.scans.get(table_name)
    }

    /// The compiled physical plan (P2), as a fresh copy ready to execute (planned again with
    /// the run's start time when it calls `now()` or the like, see
    /// `viewdag_optimize::start_time`); its planning diagnostics (warnings, or the errors
    /// that failed it) are added to `diagnostics`.
    pub fn physical_plan(&self, diagnostics: &mut Vec<Diagnostic>) -> Result<Arc<dyn ExecutionPlan>, TaskError> {
        let physical = match physical_view(self.db, self.view) {
            Ok(physical) => physical,
            Err(failure) => {
                if let ViewFailure::Errors(errors) = failure {
                    diagnostics.extend(errors.iter().cloned());
                }
                return Err(TaskError::Planning(format!("view `{}` failed to plan: {failure}", self.task.view)));
            }
        };
        diagnostics.extend(physical.diagnostics.iter().cloned());
        executable_plan(self.db, self.view, self.started_at).map_err(|failure| {
            if let ViewFailure::Errors(errors) = &failure {
                diagnostics.extend(errors.iter().cloned());
            }
            TaskError::Planning(format!("view `{}` failed to plan: {failure}", self.task.view))
        })
    }

    /// The session every plan of the compile was planned in.
    pub fn planning_session(&self) -> &'a SessionState {
        &planning_session(self.db, SurfaceInput::get(self.db)).state
    }

    /// The same session without physical optimizer rules (the pipeline runs them one by one).
    pub fn bare_physical_session(&self) -> &'a SessionState {
        &bare_physical_session(self.db, SurfaceInput::get(self.db)).state
    }

    /// The optimizer pipeline the compile resolved.
    pub fn pipeline(&self) -> Result<&'a ResolvedOptimizerPipeline, TaskError> {
        resolved_optimizer_pipeline(self.db, SurfaceInput::get(self.db))
            .as_ref()
            .map_err(|_| TaskError::Planning(format!("view `{}`: the optimizer pipeline has errors", self.task.view)))
    }

    /// The spec root as plan text writes it (normalized; see `viewdag_optimize::digests`).
    pub fn normalized_root(&self) -> &'a str {
        SurfaceInput::get(self.db).root(self.db)
    }

    /// The driver's async runtime (for the engine's own async calls).
    pub fn runtime(&self) -> &'a Arc<tokio::runtime::Runtime> {
        self.db.tokio()
    }
}

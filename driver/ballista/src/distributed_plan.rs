//! A task's plan for the Ballista cluster: its optimized logical plan (P1) with every Delta
//! scan replaced by a Parquet scan of the pinned snapshot's files (`delta_files`), planned
//! by the same physical pipeline as the local P2, wrapped in one Ballista job.
//!
//! Why rewrite P1 rather than P2: deltalake's `DeltaScanExec` has no physical codec, and its
//! per-file transforms cannot be re-expressed node by node; a logical `TableScan` is one
//! node whose provider can be swapped for one with the same schema, and the physical
//! planner then produces only nodes datafusion-proto carries (Parquet/CSV scans, filters,
//! joins, aggregates, repartitions).
//!
//! ## Invariants
//! - Only the providers of Delta identities are replaced; Parquet and CSV sources are
//!   listing scans already and travel as they are.
//! - The rewritten plan has the same schema as P1 (every replacement keeps its scan's
//!   schema), so the output contract checked against P2 holds for it.
//! - A Delta table the file scan cannot read faithfully fails the task with
//!   `V0801 engine-unsupported-table` before anything is submitted.
//! - Uncorrelated scalar subqueries that yield at most one row become joins
//!   (`scalar_subqueries`), since Ballista's executors cannot decode `ScalarSubqueryExec`.
//! - `sum`/`avg` are DataFusion's own (not the exact float wrappers of the planning
//!   session): the cluster's nodes decode functions by name from DataFusion's registry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::Transformed;
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use viewdag_driver::execute::TaskError;
use viewdag_driver::storage::location::open_delta_table;
use viewdag_driver::storage::{StorageError, StoreOptions, TableLocation};
use viewdag_driver::{TaskPlan, TaskPlanning};
use viewdag_ir::{Code, Diagnostic, ProviderIdentity, SpecLocation, StorageUrlProblem};
use viewdag_optimize::pipeline::optimize_physical_plan;
use viewdag_optimize::pipeline::outcome::PhaseReporting;
use viewdag_optimize::pipeline::physical_phase::initial_physical_plan;
use viewdag_surface::deterministic_aggregates::with_datafusion_float_aggregates;

use crate::ballista_job::{BallistaJobExec, ClusterJob};
use crate::cluster_defaults::with_cluster_defaults;
use crate::cluster_files::ClusterDataFiles;
use crate::delta_files::{DeltaFileScan, DeltaFileScanRefusal};
use crate::scalar_subqueries::scalar_subqueries_as_joins;
use crate::scheduler_address::SchedulerAddress;

/// The plans that run `planning`'s task on the cluster behind `scheduler` (with `settings`
/// added to the job's session): its rows coming back from the Ballista job (a one-partition
/// plan), and the same job writing the table's data files on the executors (viewdag's
/// `cluster_defaults` under `settings`; `write_without_final_merge`: see `cluster_files`).
/// A Delta table that cannot travel adds a diagnostic to `diagnostics` and fails the task.
pub(crate) fn distributed_task_plan(
    planning: &TaskPlanning<'_>,
    scheduler: &SchedulerAddress,
    settings: &BTreeMap<String, String>,
    timeout: Duration,
    write_without_final_merge: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<TaskPlan, TaskError> {
    let started = Instant::now();
    let settings = &with_cluster_defaults(settings);
    let task = planning.task();
    let view_name = task.view.as_str();
    let failed = |message: String| TaskError::Planning(message);
    let optimized = planning.executable_logical_plan()?;
    let rewritten = match delta_scans_as_file_scans(planning, &optimized) {
        Ok(plan) => plan,
        Err(Refused { location, reason }) => {
            let message = format!(
                "view `{view_name}` reads the Delta table `{location}`, which the `ballista` engine cannot read: {reason} (nothing was written)"
            );
            diagnostics.push(
                Diagnostic::new(Code::EngineUnsupportedTable, SpecLocation::view(view_name), message.clone())
                    .with_suggestion("run this spec with `--engine local`"),
            );
            return Err(TaskError::EngineUnsupportedTable(message));
        }
    };
    let rewritten = scalar_subqueries_as_joins(rewritten);
    // The cluster's nodes resolve `sum`/`avg` by name in DataFusion's own registry: their
    // partial states must be DataFusion's (floats are summed in arrival order there).
    let rewritten = with_datafusion_float_aggregates(rewritten)
        .map_err(|error| failed(format!("planning `{view_name}` for the cluster failed: {}", error.strip_backtrace())))?;
    let pipeline = planning.pipeline()?;
    let session = cluster_session(planning.planning_session(), settings).map_err(|error| failed(cluster_setting_refused(&error)))?;
    let bare = cluster_session(planning.bare_physical_session(), settings).map_err(|error| failed(cluster_setting_refused(&error)))?;
    let initial = viewdag_surface::block_on_runtime(planning.runtime(), initial_physical_plan(&bare, &rewritten))
        .map_err(|error| failed(format!("planning `{view_name}` for the cluster failed: {}", error.strip_backtrace())))?;
    let reporting = PhaseReporting { view_name, root: planning.normalized_root(), record_plan_text: false };
    let physical = optimize_physical_plan(&session, initial, &pipeline.config, &pipeline.registry, &reporting)
        .map_err(|failure| {
            let reasons: Vec<String> = failure.diagnostics.iter().map(|diagnostic| diagnostic.message.clone()).collect();
            failed(format!("planning `{view_name}` for the cluster failed: {}", reasons.join("; ")))
        })?
        .plan;
    let session_id = format!("viewdag-{}-{}", std::process::id(), task.id);
    let job = ClusterJob::new(physical, scheduler.clone(), session.config(), settings, session_id, timeout, started.elapsed())
        .map_err(|error| failed(cluster_setting_refused(&error)))?;
    let rows: Arc<dyn ExecutionPlan> = Arc::new(BallistaJobExec::new(job.clone()));
    Ok(TaskPlan { rows, data_files: Some(Arc::new(ClusterDataFiles::new(job, write_without_final_merge))) })
}

/// `plan` with each scan of a Delta identity reading its pinned files instead (scans in
/// subqueries too). A scan's identity is the one its plan recorded for its table name
/// (`OptimizedView::scans`), not looked up by provider.
fn delta_scans_as_file_scans(planning: &TaskPlanning<'_>, plan: &LogicalPlan) -> Result<LogicalPlan, Refused> {
    let mut refused: Option<Refused> = None;
    let rewritten = plan.clone().transform_up_with_subqueries(|node| {
        let LogicalPlan::TableScan(mut scan) = node else {
            return Ok(Transformed::no(node));
        };
        let Some(ProviderIdentity::Delta { location, version }) = planning.scanned_identity(scan.table_name.table()) else {
            return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
        };
        let provider = source_as_provider(&scan.source)?;
        match pinned_file_scan(planning, location, *version, &provider) {
            Ok(files) => {
                scan.source = provider_as_source(Arc::new(files));
                Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
            }
            Err(refusal) => {
                // Every credential of the environment is redacted from the reason.
                let reason = planning.storage().redactor().redact(&refusal.to_string());
                refused = Some(Refused { location: location.clone(), reason });
                Err(DataFusionError::Plan(format!("the Delta table `{location}` cannot travel")))
            }
        }
    });
    match (rewritten, refused) {
        (_, Some(refused)) => Err(refused),
        (Ok(transformed), None) => Ok(transformed.data),
        (Err(error), None) => Err(Refused { location: String::new(), reason: error.strip_backtrace() }),
    }
}

/// Why a Delta table a task scans cannot travel to the cluster as a list of files.
#[derive(Debug, thiserror::Error)]
enum PinnedScanRefusal {
    /// The location does not parse (an unusable URL).
    #[error("{0}")]
    Location(StorageUrlProblem),
    /// The options of its store cannot be used.
    #[error("{0}")]
    Storage(StorageError),
    /// The version scanned is negative (not a Delta version).
    #[error("version {0} is negative")]
    NegativeVersion(i64),
    /// The table does not open at the version scanned.
    #[error("cannot open it at version {version}: {source}")]
    Unopened { version: u64, source: deltalake::DeltaTableError },
    /// Its files cannot be read as a plain scan.
    #[error("{0}")]
    Files(DeltaFileScanRefusal),
}

/// The files of the Delta table at `location` (relative to the spec root, or an object-store
/// URL, opened with the compile's options for its store) at `version`.
fn pinned_file_scan(
    planning: &TaskPlanning<'_>,
    location: &str,
    version: i64,
    provider: &Arc<dyn TableProvider>,
) -> Result<DeltaFileScan, PinnedScanRefusal> {
    let table_location = TableLocation::of(planning.spec_root(), location).map_err(PinnedScanRefusal::Location)?;
    let options = match table_location.storage_url() {
        Some(url) => planning.storage().options(url).map_err(PinnedScanRefusal::Storage)?,
        None => StoreOptions::default(),
    };
    let version = u64::try_from(version).map_err(|_| PinnedScanRefusal::NegativeVersion(version))?;
    let table = planning
        .runtime()
        .block_on(open_delta_table(&table_location, &options, Some(version)))
        .map_err(|source| PinnedScanRefusal::Unopened { version, source })?;
    DeltaFileScan::from_table(&table, provider.schema()).map_err(PinnedScanRefusal::Files)
}

/// `state` with the engine's `datafusion.*` settings (e.g. `target_partitions`, the number of
/// partitions of every shuffle) and what Ballista's scheduler needs of a submitted plan: no
/// round-robin repartitions (Ballista's own restriction) and no dynamic filters (the
/// scheduler may swap a hash join's inputs, which a join that already built its dynamic filter
/// refuses, and the job then never finishes). Every other setting is the planning session's.
fn cluster_session(state: &SessionState, settings: &BTreeMap<String, String>) -> Result<SessionState, DataFusionError> {
    let mut config = state.config().clone();
    for (key, value) in settings.iter().filter(|(key, _)| key.starts_with("datafusion.")) {
        config.options_mut().set(key, value)?;
    }
    let config = config.with_round_robin_repartition(false).set_bool("datafusion.optimizer.enable_dynamic_filter_pushdown", false);
    Ok(SessionStateBuilder::new_from_existing(state.clone()).with_config(config).build())
}

fn cluster_setting_refused(error: &DataFusionError) -> String {
    format!("a cluster setting of the engine is refused: {}", error.strip_backtrace())
}

/// A Delta table the cluster cannot read, and why.
struct Refused {
    location: String,
    reason: String,
}

//! A task whose executors write its data files: the task's cluster job with a
//! [`DeltaWriteExec`] on top, whose result is one row per partition — its files' add
//! actions, and its expectations' counts — instead of the task's rows. The driver commits
//! them (`viewdag_driver::execute::files_commit`). Below the writer, the rows are
//! hash-repartitioned by the key of the task's `unique` expectation (so each key's rows meet
//! in one partition, whose check is then the whole task's), else by the partition columns
//! (as deltalake's own writer does, so each partition value's rows land in few files).
//! Optionally (`BallistaEngine::with_write_without_final_merge`, off by default) the plan's
//! final merge into one partition (a coalesce, or an `ORDER BY`'s merge without a limit) is
//! dropped first, so each partition of the last compute stage is written where it is
//! computed, one file each, instead of in a stage of one task.
//!
//! A cluster whose nodes lack viewdag's codec (Ballista's stock binaries) refuses the job:
//! the write is then [`DataFileWriteError::Unsupported`] and the driver streams the task's
//! rows instead, as it did before executors wrote.
//!
//! ## Invariants
//! - The add actions come only from a job that succeeded: a failed, cancelled or timed-out
//!   job returns an error and nothing is committed.
//! - Rows never come back to the driver: only one row per partition.
//! - Expectations' counts add up to what one stream over every row would count: a task with
//!   `unique` expectations on two different keys cannot be partitioned for both, so its write
//!   is `Unsupported` (the driver streams and checks it).

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray, UInt64Array};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning, PhysicalExpr};
use deltalake::kernel::Add;
use futures::TryStreamExt;
use futures::future::BoxFuture;
use viewdag_driver::execute::{DataFileLayout, DataFileWriteError, DataFileWriter, TaskError, WrittenDataFiles};
use viewdag_driver::expect::{Check, CompiledExpectations, ExpectationCounts};

use crate::ballista_job::ClusterJob;
use crate::delta_write_exec::{ADDS_COLUMN, DeltaWriteExec, EXPECTATIONS_COLUMN, ROWS_COLUMN};

/// Writes a task's data files on the cluster's executors.
#[derive(Debug)]
pub struct ClusterDataFiles {
    /// The task's job (its plan produces the task's rows).
    job: ClusterJob,
    /// Write the partitions of the plan's last stage, without its final merge.
    without_final_merge: bool,
}

impl ClusterDataFiles {
    pub fn new(job: ClusterJob, without_final_merge: bool) -> Self {
        ClusterDataFiles { job, without_final_merge }
    }
}

impl DataFileWriter for ClusterDataFiles {
    fn write_data_files(
        &self,
        layout: DataFileLayout,
        expectations: Option<Arc<CompiledExpectations>>,
    ) -> BoxFuture<'static, Result<WrittenDataFiles, DataFileWriteError>> {
        let table = layout.table_url.to_string();
        let job = match write_keys(&self.job.plan().schema(), &layout, expectations.as_deref()) {
            Ok(keys) => writing_job(&self.job, self.without_final_merge, layout, keys, expectations.clone()),
            Err(unsupported) => return Box::pin(async move { Err(unsupported) }),
        };
        let checked = expectations.is_some();
        Box::pin(async move {
            let failed = |cause: String| DataFileWriteError::Failed(TaskError::Write { table: table.clone(), cause });
            let job = job.map_err(|error| failed(error.strip_backtrace()))?;
            let batches: Vec<_> =
                job.rows().map_err(|error| failed_job(&table, error))?.try_collect().await.map_err(|error| failed_job(&table, error))?;
            let mut written = WrittenDataFiles::default();
            for batch in batches {
                let adds = batch.column_by_name(ADDS_COLUMN).and_then(|column| column.as_any().downcast_ref::<StringArray>());
                let rows = batch.column_by_name(ROWS_COLUMN).and_then(|column| column.as_any().downcast_ref::<UInt64Array>());
                let counts = batch.column_by_name(EXPECTATIONS_COLUMN).and_then(|column| column.as_any().downcast_ref::<StringArray>());
                let (Some(adds), Some(rows), Some(counts)) = (adds, rows, counts) else {
                    return Err(failed(format!("the cluster's write returned rows of another shape: {:?}", batch.schema())));
                };
                for index in 0..batch.num_rows() {
                    let partition: Vec<Add> = serde_json::from_str(adds.value(index))
                        .map_err(|error| failed(format!("the cluster's write returned unreadable add actions: {error}")))?;
                    written.adds.extend(partition);
                    written.rows += rows.value(index);
                    if checked {
                        let partition: ExpectationCounts = serde_json::from_str(counts.value(index))
                            .map_err(|error| failed(format!("the cluster's write returned unreadable expectation counts: {error}")))?;
                        written.expectations.get_or_insert_with(ExpectationCounts::default).add(&partition);
                    }
                }
            }
            written.adds.sort_by(|left, right| left.path.cmp(&right.path));
            if checked && written.expectations.is_none() {
                written.expectations = Some(ExpectationCounts::default());
            }
            Ok(written)
        })
    }
}

/// `plan`'s input when `plan` only merges its input's partitions into one — a
/// `CoalescePartitionsExec` or a `SortPreservingMergeExec`, neither with a row limit — else
/// `plan`. Ballista runs such a merge as a stage of its own (one task reading every
/// partition of the stage below); writing each partition where it is computed saves that
/// stage, at the cost of one file per partition instead of one. A table's rows are a set, so
/// what the merge does (one partition; a global order across files) is not part of what a
/// task writes.
fn before_final_merge(plan: &Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    if let Some(coalesce) = plan.downcast_ref::<CoalescePartitionsExec>()
        && coalesce.fetch().is_none()
    {
        return Arc::clone(coalesce.input());
    }
    if let Some(merge) = plan.downcast_ref::<SortPreservingMergeExec>()
        && merge.fetch().is_none()
    {
        return Arc::clone(merge.input());
    }
    Arc::clone(plan)
}

/// A failed writing job: `Unsupported` when a node could not decode viewdag's writer node
/// (Ballista's own codec then reports the buffer it could not read), else the task's failure.
fn failed_job(table: &str, error: DataFusionError) -> DataFileWriteError {
    let message = error.strip_backtrace();
    if message.contains("BallistaPhysicalPlanNode") || message.contains("DeltaWriteExec") {
        DataFileWriteError::Unsupported(format!("a cluster node cannot decode viewdag's writer node ({message})"))
    } else {
        DataFileWriteError::Failed(TaskError::Write { table: table.to_string(), cause: message })
    }
}

/// The columns the rows are hash-partitioned by before they are written: the key of the
/// task's `unique` expectation, else the table's partition columns, else none.
fn write_keys(
    schema: &SchemaRef,
    layout: &DataFileLayout,
    expectations: Option<&CompiledExpectations>,
) -> Result<Vec<String>, DataFileWriteError> {
    let mut unique_keys: Vec<&Vec<usize>> = expectations
        .into_iter()
        .flat_map(|expectations| &expectations.expectations)
        .filter_map(|expectation| match &expectation.check {
            Check::Unique { columns } => Some(columns),
            _ => None,
        })
        .collect();
    unique_keys.dedup();
    match unique_keys.as_slice() {
        [] => Ok(layout.partition_columns.clone()),
        [columns] => Ok(columns.iter().map(|&column| schema.field(column).name().clone()).collect()),
        _ => Err(DataFileWriteError::Unsupported(
            "its `unique` expectations have different keys, which the executors cannot each check over a share of the rows".to_string(),
        )),
    }
}

/// The task's job writing its rows as `layout` says, hash-partitioned by `keys` first and
/// checking `expectations`; `without_final_merge`: from the partitions before the plan's
/// final merge into one ([`before_final_merge`]).
fn writing_job(
    job: &ClusterJob,
    without_final_merge: bool,
    layout: DataFileLayout,
    keys: Vec<String>,
    expectations: Option<Arc<CompiledExpectations>>,
) -> datafusion::error::Result<ClusterJob> {
    let rows = if without_final_merge { before_final_merge(job.plan()) } else { Arc::clone(job.plan()) };
    let rows: Arc<dyn ExecutionPlan> = if keys.is_empty() {
        rows
    } else {
        let schema = rows.schema();
        let keys = keys
            .iter()
            .map(|name| Ok(Arc::new(Column::new(name, schema.index_of(name)?)) as Arc<dyn PhysicalExpr>))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let partitions = rows.output_partitioning().partition_count().max(1);
        Arc::new(RepartitionExec::try_new(rows, Partitioning::Hash(keys, partitions))?)
    };
    Ok(job.with_plan(Arc::new(DeltaWriteExec::new(rows, layout, expectations))))
}

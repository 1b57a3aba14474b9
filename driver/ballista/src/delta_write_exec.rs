//! The plan node that writes a task's rows as Delta data files where they are computed: on
//! a Ballista cluster, each executor running one of its partitions writes that partition's
//! rows as Parquet files straight into the table's location (a shared file system or an
//! object store, through the executor's own object-store registry), with deltalake's
//! `DeltaWriter` — the writer deltalake's own write uses, so files, partition directories
//! and statistics are what a local write makes. It outputs one row per partition: the add
//! actions of the files it finished (JSON), how many rows they hold and, when the task has
//! expectations, what they found on the partition's rows (checked before the rows are
//! written; `drop` expectations drop rows here). The driver collects those rows, adds the
//! expectations' counts up and makes the one Delta commit — or none
//! (`viewdag_driver::execute::files_commit`).
//!
//! Not DataFusion's `DataSinkExec`, which needs a single input partition (so one task on one
//! executor would write everything).
//!
//! ## Invariants
//! - Every batch is cast to the layout's schema (Delta's stored types, table order) before it
//!   is written, checked: a batch that cannot be (a value that does not fit, `V0510`) is an
//!   error, never a file of another schema or a value turned NULL.
//! - A partition's add actions are output only after all of its files closed; on an error
//!   (or when the stream is dropped) its unfinished uploads are aborted, and files it already
//!   finished stay unreferenced (no add action reaches the driver).
//! - The node carries no credentials: the executor resolves the table URL's store in its
//!   own runtime.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties};
use deltalake::datafile::writer::{DeltaWriter, WriterConfig};
use deltalake::kernel::Add;
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::prefix::PrefixStore;
use viewdag_driver::execute::{DataFileLayout, StatisticsColumns};
use viewdag_driver::expect::{CompiledExpectations, ExpectationChecker};

/// The column of the add actions (a JSON array of Delta add actions) in the node's output.
pub const ADDS_COLUMN: &str = "adds";
/// The column of the rows written in the node's output.
pub const ROWS_COLUMN: &str = "rows";
/// The column of the expectations' counts (JSON `ExpectationCounts`; empty without expectations).
pub const EXPECTATIONS_COLUMN: &str = "expectations";

/// Writes each input partition as Delta data files laid out as `layout` says.
#[derive(Debug)]
pub struct DeltaWriteExec {
    input: Arc<dyn ExecutionPlan>,
    layout: DataFileLayout,
    /// Checked on the rows before they are written.
    expectations: Option<Arc<CompiledExpectations>>,
    properties: Arc<PlanProperties>,
}

impl DeltaWriteExec {
    /// Writes `input`'s rows (whose columns are the layout's, in any encoding Arrow can cast),
    /// checking `expectations` on them first.
    pub fn new(input: Arc<dyn ExecutionPlan>, layout: DataFileLayout, expectations: Option<Arc<CompiledExpectations>>) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(output_schema()),
            Partitioning::UnknownPartitioning(input.output_partitioning().partition_count()),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        DeltaWriteExec { input, layout, expectations, properties }
    }

    /// Where and how the files are written.
    pub fn layout(&self) -> &DataFileLayout {
        &self.layout
    }

    /// What is checked on the rows.
    pub fn expectations(&self) -> Option<&Arc<CompiledExpectations>> {
        self.expectations.as_ref()
    }
}

/// One row per partition: its add actions, its rows and its expectations' counts.
pub fn output_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(ADDS_COLUMN, DataType::Utf8, false),
        Field::new(ROWS_COLUMN, DataType::UInt64, false),
        Field::new(EXPECTATIONS_COLUMN, DataType::Utf8, false),
    ]))
}

impl DisplayAs for DeltaWriteExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "DeltaWriteExec: table={} partition_by={:?}", self.layout.table_url, self.layout.partition_columns)
    }
}

impl ExecutionPlan for DeltaWriteExec {
    fn name(&self) -> &str {
        "DeltaWriteExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(&self, _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        match children.len() {
            1 => Ok(Arc::new(DeltaWriteExec::new(children.remove(0), self.layout.clone(), self.expectations.clone()))),
            count => Err(DataFusionError::Internal(format!("DeltaWriteExec has one child, not {count}"))),
        }
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let store = table_store(&context, &self.layout)?;
        let layout = self.layout.clone();
        let checker = self.expectations.clone().map(ExpectationChecker::new);
        let written = futures::stream::once(async move { write_partition(input, store, &layout, checker).await });
        Ok(Box::pin(RecordBatchStreamAdapter::new(output_schema(), written)))
    }
}

/// The executor's store for the table's bucket (or file system), rooted at the table.
fn table_store(context: &TaskContext, layout: &DataFileLayout) -> Result<Arc<dyn ObjectStore>> {
    let url = &layout.table_url;
    let store_url = ObjectStoreUrl::parse(format!("{}://{}", url.scheme(), url.authority()))?;
    let store = context.runtime_env().object_store(&store_url)?;
    let root = object_store::path::Path::from_url_path(url.path())
        .map_err(|error| DataFusionError::Execution(format!("the table location {url} is not a store path: {error}")))?;
    Ok(Arc::new(PrefixStore::new(store, root)))
}

/// Writes one partition's rows and returns its output row.
async fn write_partition(
    mut input: SendableRecordBatchStream,
    store: Arc<dyn ObjectStore>,
    layout: &DataFileLayout,
    mut checker: Option<ExpectationChecker>,
) -> Result<RecordBatch> {
    let (indexed_columns, stats_columns) = match &layout.statistics {
        StatisticsColumns::Leading(count) => (indexed_columns(&count.to_string())?, None),
        StatisticsColumns::All => (indexed_columns("-1")?, None),
        StatisticsColumns::Named(columns) => (indexed_columns("32")?, Some(columns.clone())),
    };
    let config = WriterConfig::new(
        Arc::clone(&layout.schema),
        layout.partition_columns.clone(),
        None,
        std::num::NonZeroU64::new(layout.target_file_size),
        None,
        indexed_columns,
        stats_columns,
    );
    let mut writer = DeltaWriter::new(store, config);
    let mut rows: u64 = 0;
    while let Some(batch) = input.next().await {
        let checked = batch.and_then(|batch| match checker.as_mut() {
            Some(checker) => checker.check_batch(&batch),
            None => Ok(batch),
        });
        let written = match checked.and_then(|batch| cast_to_layout(&batch, &layout.schema)) {
            Ok(batch) => {
                rows += batch.num_rows() as u64;
                writer.write(&batch).await.map_err(|error| DataFusionError::External(Box::new(error)))
            }
            Err(error) => Err(error),
        };
        if let Err(error) = written {
            // Unfinished uploads are aborted; nothing of this partition reaches the driver.
            let _ = writer.abort().await;
            return Err(error);
        }
    }
    let mut adds: Vec<Add> = writer.close().await.map_err(|error| DataFusionError::External(Box::new(error)))?;
    adds.sort_by(|left, right| left.path.cmp(&right.path));
    let adds = serde_json::to_string(&adds).map_err(|error| DataFusionError::External(Box::new(error)))?;
    let counts = match &checker {
        Some(checker) => serde_json::to_string(checker.counts()).map_err(|error| DataFusionError::External(Box::new(error)))?,
        None => String::new(),
    };
    let columns: Vec<ArrayRef> =
        vec![Arc::new(StringArray::from(vec![adds])), Arc::new(UInt64Array::from(vec![rows])), Arc::new(StringArray::from(vec![counts]))];
    Ok(RecordBatch::try_new(output_schema(), columns)?)
}

/// `delta.dataSkippingNumIndexedCols` as deltalake's writer takes it (`-1`: every column).
fn indexed_columns<T: for<'a> TryFrom<&'a str>>(setting: &str) -> Result<T> {
    T::try_from(setting).map_err(|_| DataFusionError::Internal(format!("`{setting}` is not a number of indexed columns")))
}

/// `batch` with its columns cast to `schema`'s types (same names, same order).
fn cast_to_layout(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.num_columns() != schema.fields().len() {
        return Err(DataFusionError::Execution(format!(
            "the rows have {} columns, the table {}: {:?}",
            batch.num_columns(),
            schema.fields().len(),
            schema.fields().iter().map(|field| field.name()).collect::<Vec<_>>()
        )));
    }
    let columns = batch
        .columns()
        .iter()
        .zip(batch.schema().fields())
        .zip(schema.fields())
        .map(|((column, have), want)| {
            if have.name() != want.name() {
                return Err(DataFusionError::Execution(format!("the rows' column `{}` is the table's `{}`", have.name(), want.name())));
            }
            if column.data_type() == want.data_type() {
                Ok(Arc::clone(column))
            } else {
                // Checked: a value that does not fit (a `uint64` above 2⁶³−1) fails the write,
                // never becomes a NULL.
                Ok(cast_with_options(column, want.data_type(), &CastOptions { safe: false, ..CastOptions::default() }).map_err(
                    |error| {
                        DataFusionError::Execution(format!(
                            "error[{}]: column `{}` holds a value its Delta table cannot store as `{}`: {error}",
                            viewdag_ir::Code::ValueNotStorable.id(),
                            want.name(),
                            want.data_type()
                        ))
                    },
                )?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

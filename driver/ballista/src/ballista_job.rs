//! A task's physical plan as one Ballista job ([`ClusterJob`]: the plan, the scheduler, the
//! settings, viewdag's codec), and the job seen by the driver as a one-partition leaf plan
//! whose rows are the job's result ([`BallistaJobExec`]). deltalake's writer scans it like
//! any plan (see `planned_table`), so a task whose rows stream back goes into the same one
//! Delta commit, made by the driver, as a local task's. (A task whose executors write its
//! files runs the same job with a `DeltaWriteExec` on top: `cluster_files`.)
//!
//! ## Invariants
//! - The job is submitted when the partition is executed, not when the node is built, and
//!   at most once per execution.
//! - Any failure (scheduler unreachable, a plan the codec cannot carry, an executor lost
//!   beyond Ballista's retries, the task timeout passed) is an error of the stream, so the
//!   writer commits nothing. Submission, deadline and fetching are `job_client`'s.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista_core::extension::SessionConfigExt;
use ballista_core::serde::protobuf::KeyValuePair;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use datafusion::prelude::SessionConfig;
use datafusion_proto::physical_plan::AsExecutionPlan;
use datafusion_proto::protobuf::PhysicalPlanNode;
use futures::{Stream, StreamExt, TryStreamExt};

use crate::codec::ViewdagPhysicalCodec;
use crate::job_client::{JobRequest, job_rows};
use crate::scheduler_address::SchedulerAddress;

/// One job for the cluster: a physical plan, where to run it and with which settings.
#[derive(Debug, Clone)]
pub struct ClusterJob {
    plan: Arc<dyn ExecutionPlan>,
    scheduler: SchedulerAddress,
    /// The planning session's settings, sent with the job (Ballista's own added, see
    /// [`ClusterJob::new`]).
    config: SessionConfig,
    /// Names the job's Ballista session: one per task, for the scheduler's logs.
    session_id: String,
    /// How long the job may take, from submission to its last row.
    timeout: Duration,
    /// How long building this plan took (reported with the job's phases).
    planning: Duration,
}

impl ClusterJob {
    /// `plan` for the cluster behind `scheduler`, with `config`'s settings and then `settings`
    /// (Ballista's or DataFusion's, by key); viewdag's codec (`codec`) encodes it, and its
    /// shuffles use Ballista's block transport whatever `settings` say, since Arrow Flight
    /// hands dictionary-encoded columns (a Delta table's partition columns) back as plain
    /// arrays, which the operators reading the shuffle do not expect.
    pub fn new(
        plan: Arc<dyn ExecutionPlan>,
        scheduler: SchedulerAddress,
        config: &SessionConfig,
        settings: &BTreeMap<String, String>,
        session_id: String,
        timeout: Duration,
        planning: Duration,
    ) -> Result<ClusterJob> {
        let mut config = config.clone().upgrade_for_ballista();
        for (key, value) in settings {
            config.options_mut().set(key, value)?;
        }
        let config = config
            .with_ballista_physical_extension_codec(Arc::new(ViewdagPhysicalCodec::default()))
            .with_ballista_shuffle_reader_remote_prefer_flight(false);
        Ok(ClusterJob { plan, scheduler, config, session_id, timeout, planning })
    }

    /// The same job running `plan` instead.
    pub fn with_plan(&self, plan: Arc<dyn ExecutionPlan>) -> ClusterJob {
        ClusterJob { plan, ..self.clone() }
    }

    /// The plan the job runs.
    pub fn plan(&self) -> &Arc<dyn ExecutionPlan> {
        &self.plan
    }

    /// The session settings the job is submitted with.
    pub fn settings(&self) -> Vec<KeyValuePair> {
        self.config.options().entries().into_iter().map(|entry| KeyValuePair { key: entry.key, value: entry.value }).collect()
    }

    /// Submits the job (when the stream is first polled) and streams its result rows; an
    /// error of the stream if the plan cannot be encoded or the job fails.
    pub fn rows(&self) -> Result<impl Stream<Item = Result<RecordBatch>> + Send + 'static> {
        let encoding = Instant::now();
        let codec = self.config.ballista_physical_extension_codec();
        let mut plan = Vec::new();
        PhysicalPlanNode::try_from_physical_plan(Arc::clone(&self.plan), codec.as_ref())
            .and_then(|node| node.try_encode(&mut plan))
            .map_err(|error| {
                DataFusionError::Execution(format!(
                    "the Ballista job at {} failed: the plan cannot be encoded: {}",
                    self.scheduler,
                    error.strip_backtrace()
                ))
            })?;
        Ok(job_rows(JobRequest {
            scheduler_url: self.scheduler.grpc_url(),
            plan,
            settings: self.settings(),
            session_id: self.session_id.clone(),
            timeout: self.timeout,
            planning: self.planning,
            encoding: encoding.elapsed(),
        }))
    }
}

/// One Ballista job whose result rows are the task's rows: the driver's writer scans it like
/// any plan.
#[derive(Debug)]
pub struct BallistaJobExec {
    job: ClusterJob,
    properties: Arc<PlanProperties>,
    /// The rows the job returned (the writer's fallback row count, as for a local plan).
    metrics: ExecutionPlanMetricsSet,
}

impl BallistaJobExec {
    pub fn new(job: ClusterJob) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(job.plan.schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        BallistaJobExec { job, properties, metrics: ExecutionPlanMetricsSet::new() }
    }
}

impl DisplayAs for BallistaJobExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "BallistaJobExec: scheduler={}", self.job.scheduler)
    }
}

impl ExecutionPlan for BallistaJobExec {
    fn name(&self) -> &str {
        "BallistaJobExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(&self, _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() { Ok(self) } else { Err(DataFusionError::Internal("a Ballista job is a leaf".to_string())) }
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("a Ballista job has one partition, not {partition}")));
        }
        let schema = self.job.plan.schema();
        // The result comes back over Arrow Flight, which hands a dictionary-encoded column (a
        // Delta partition column) back as plain values: the writer checks types strictly, so
        // every batch is cast to the plan's schema.
        let target = Arc::clone(&schema);
        let output_rows = MetricBuilder::new(&self.metrics).output_rows(0);
        let rows = self.job.rows()?.and_then(move |batch| {
            output_rows.add(batch.num_rows());
            let cast = cast_to_schema(batch, &target);
            async move { cast }
        });
        let rows = rows.boxed();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, rows)))
    }
}

/// `batch` with each column cast to `schema`'s type where it differs (same names, same order).
fn cast_to_schema(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema().fields().iter().zip(schema.fields()).all(|(have, want)| have.data_type() == want.data_type()) {
        return RecordBatch::try_new(Arc::clone(schema), batch.columns().to_vec()).map_err(DataFusionError::from);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(DataFusionError::from)
}

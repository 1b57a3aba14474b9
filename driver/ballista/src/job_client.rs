//! One Ballista job driven by viewdag's own client (the calls Ballista's
//! `execute_physical_plan` makes, plus a deadline and a cancellation): the encoded plan is
//! submitted to the scheduler, the job's status is polled until it succeeds or fails, and its
//! result partitions are fetched from the executors, each phase timed (`job_phases`).
//!
//! ## Invariants
//! - The whole job, from submission to its last row, has one deadline. A job that has not
//!   delivered its last row by then is cancelled on the scheduler (`CancelJob`, once its id
//!   is known) and the stream ends with a `V0802 engine-task-timeout` error, so the writer
//!   that reads the stream commits nothing.
//! - A job the scheduler failed because no executor of the cluster is alive ends the stream
//!   with one `V0803 engine-no-executor` error (see `executor_loss`), so that task commits
//!   nothing and the run goes on without waiting for the task timeout.
//! - Every error names the scheduler's address; none is a panic.
//! - Phases are recorded only for a job whose stream delivered its last row.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ballista_core::client::BallistaClient;
use ballista_core::config::BallistaConfig;
use ballista_core::serde::protobuf::execute_query_params::Query;
use ballista_core::serde::protobuf::get_job_status_result::FlightProxy;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::{
    CancelJobParams, ExecuteQueryParams, GetJobMetricsParams, GetJobStatusParams, GetJobStatusResult, KeyValuePair, PartitionLocation,
    SuccessfulJob, execute_query_result, job_status,
};
use ballista_core::utils::{GrpcClientConfig, create_grpc_client_endpoint};
use datafusion::arrow::array::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt};
use tonic::transport::Channel;
use viewdag_ir::Code;

use crate::executor_loss::says_no_executor_alive;
use crate::job_phases::{JobPhases, StageFigures, record, stage_figures_wanted};

/// Jobs this process submitted: numbers each submission's operation id (the scheduler logs it).
static SUBMISSIONS: AtomicU64 = AtomicU64::new(0);

/// How often the job's status is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// How long cancelling a timed-out job may take before the task fails anyway.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// What one job needs: the encoded plan and where and how to run it.
pub struct JobRequest {
    /// The scheduler's gRPC endpoint, `http://HOST:PORT`.
    pub scheduler_url: String,
    /// The plan, encoded as datafusion-proto `PhysicalPlanNode` bytes.
    pub plan: Vec<u8>,
    /// The session settings the executors plan and run with.
    pub settings: Vec<KeyValuePair>,
    pub session_id: String,
    pub timeout: Duration,
    /// Time already spent building the cluster plan (reported with the job's phases).
    pub planning: Duration,
    /// Time spent encoding the plan (counted into the submission phase).
    pub encoding: Duration,
}

/// The job's rows as a stream that ends with an error on failure or timeout.
pub fn job_rows(request: JobRequest) -> impl Stream<Item = Result<RecordBatch>> + Send {
    let deadline = tokio::time::Instant::now() + request.timeout;
    let accepted_job: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let state =
        JobState { request, deadline, accepted_job, phase: Phase::NotSubmitted, rows: 0, measured: Measured::default(), done: false };
    futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let item = match tokio::time::timeout_at(state.deadline, state.next_batch()).await {
            Ok(Some(Ok(batch))) => Some(Ok(batch)),
            Ok(Some(Err(error))) => {
                state.done = true;
                Some(Err(error))
            }
            Ok(None) => {
                state.done = true;
                state.record_phases();
                None
            }
            Err(_elapsed) => {
                state.done = true;
                let job = state.accepted_job.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
                Some(Err(timed_out(state.request.scheduler_url.clone(), state.request.timeout, job).await))
            }
        };
        item.map(|item| (item, state))
    })
}

struct JobState {
    request: JobRequest,
    deadline: tokio::time::Instant,
    accepted_job: Arc<Mutex<Option<String>>>,
    phase: Phase,
    rows: usize,
    measured: Measured,
    done: bool,
}

enum Phase {
    NotSubmitted,
    /// Fetching the result partitions, in order.
    Fetching {
        locations: std::vec::IntoIter<PartitionLocation>,
        flight_proxy: Option<FlightProxy>,
        current: Option<SendableRecordBatchStream>,
    },
}

#[derive(Default)]
struct Measured {
    stages: Option<StageFigures>,
    submission: Duration,
    execution: Duration,
    execution_on_scheduler: Duration,
    fetch_started: Option<Instant>,
}

impl JobState {
    fn scheduler(&self) -> &str {
        &self.request.scheduler_url
    }

    fn failed(&self, reason: impl std::fmt::Display) -> DataFusionError {
        DataFusionError::Execution(format!("the Ballista job at {} failed: {reason}", self.scheduler()))
    }

    /// The next batch of the job's result (`None` after the last).
    async fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        if matches!(self.phase, Phase::NotSubmitted) {
            match self.run_to_success().await {
                Ok((success, flight_proxy)) => {
                    self.measured.fetch_started = Some(Instant::now());
                    self.phase = Phase::Fetching { locations: success.partition_location.into_iter(), flight_proxy, current: None };
                }
                Err(error) => return Some(Err(error)),
            }
        }
        loop {
            let Phase::Fetching { locations, flight_proxy, current } = &mut self.phase else { return None };
            if let Some(stream) = current {
                match stream.next().await {
                    Some(Ok(batch)) => {
                        self.rows += batch.num_rows();
                        return Some(Ok(batch));
                    }
                    Some(Err(error)) => return Some(Err(self.failed(format!("fetching its result: {}", error.strip_backtrace())))),
                    None => *current = None,
                }
            }
            let location = locations.next()?;
            let flight_proxy = flight_proxy.clone();
            match fetch_partition(location, &self.request.scheduler_url, flight_proxy).await {
                Ok(stream) => {
                    if let Phase::Fetching { current, .. } = &mut self.phase {
                        *current = Some(stream);
                    }
                }
                Err(error) => return Some(Err(self.failed(format!("fetching its result: {}", error.strip_backtrace())))),
            }
        }
    }

    /// Submits the job and waits until the scheduler reports it successful.
    async fn run_to_success(&mut self) -> Result<(SuccessfulJob, Option<FlightProxy>)> {
        let started = Instant::now();
        let mut scheduler = connect(&self.request.scheduler_url).await.map_err(|error| self.failed(error))?;
        let query = ExecuteQueryParams {
            query: Some(Query::PhysicalPlan(std::mem::take(&mut self.request.plan))),
            settings: self.request.settings.clone(),
            session_id: self.request.session_id.clone(),
            operation_id: format!("{}-{}", self.request.session_id, SUBMISSIONS.fetch_add(1, Ordering::Relaxed)),
        };
        let mut submission = tonic::Request::new(query);
        ballista_core::version::insert_version_header(submission.metadata_mut());
        let response = scheduler.execute_query(submission).await.map_err(|status| self.failed(status.message()))?.into_inner();
        let job_id = match response.result {
            Some(execute_query_result::Result::Success(success)) => success.job_id,
            Some(execute_query_result::Result::Failure(failure)) => {
                return Err(self.failed(format!("the scheduler refused it: {failure:?}")));
            }
            None => return Err(self.failed("the scheduler answered without a result")),
        };
        *self.accepted_job.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(job_id.clone());
        self.measured.submission = self.request.encoding + started.elapsed();
        let accepted = Instant::now();
        loop {
            let GetJobStatusResult { status, flight_proxy } = scheduler
                .get_job_status(GetJobStatusParams { job_id: job_id.clone() })
                .await
                .map_err(|status| self.failed(status.message()))?
                .into_inner();
            match status.and_then(|status| status.status) {
                Some(job_status::Status::Successful(success)) => {
                    self.measured.execution = accepted.elapsed();
                    self.measured.execution_on_scheduler = Duration::from_millis(success.ended_at.saturating_sub(success.started_at));
                    if stage_figures_wanted() {
                        let metrics = scheduler.get_job_metrics(GetJobMetricsParams { job_id: job_id.clone() }).await;
                        self.measured.stages = metrics.ok().map(|metrics| StageFigures::of(&metrics.into_inner()));
                    }
                    return Ok((success, flight_proxy));
                }
                Some(job_status::Status::Failed(failure)) if says_no_executor_alive(&failure.error) => {
                    return Err(DataFusionError::Execution(format!(
                        "error[{}]: no executor of the Ballista cluster at {} is alive, so job {job_id} cannot finish ({}); nothing was committed",
                        Code::EngineNoExecutor.id(),
                        self.scheduler(),
                        failure.error
                    )));
                }
                Some(job_status::Status::Failed(failure)) => {
                    let why = if failure.error.contains("Cancelled") {
                        " (cancelled on the scheduler: `viewdag cluster` cancels every job running when an executor is lost, \
                         since Ballista 55's recovery can count shuffled rows twice)"
                    } else {
                        ""
                    };
                    return Err(self.failed(format!("job {job_id}: {}{why}", failure.error)));
                }
                None | Some(job_status::Status::Queued(_) | job_status::Status::Running(_)) => tokio::time::sleep(POLL_INTERVAL).await,
            }
        }
    }

    fn record_phases(&self) {
        let fetching = self.measured.fetch_started.map(|started| started.elapsed()).unwrap_or_default();
        record(JobPhases {
            session_id: self.request.session_id.clone(),
            planning: self.request.planning,
            submission: self.measured.submission,
            execution: self.measured.execution,
            execution_on_scheduler: self.measured.execution_on_scheduler,
            fetching,
            rows: self.rows,
            streamed_until: Instant::now(),
            stages: self.measured.stages.clone(),
        });
    }
}

/// Cancels the job (if the scheduler accepted it) and says why the task failed.
async fn timed_out(scheduler_url: String, timeout: Duration, job: Option<String>) -> DataFusionError {
    let seconds = timeout.as_secs_f64();
    let cancelled = match &job {
        None => "it had not been accepted yet".to_string(),
        Some(job_id) => match tokio::time::timeout(CANCEL_TIMEOUT, cancel(&scheduler_url, job_id)).await {
            Ok(Ok(true)) => format!("job {job_id} was cancelled on the scheduler"),
            Ok(Ok(false)) => format!("the scheduler did not cancel job {job_id} (it had ended)"),
            Ok(Err(error)) => format!("cancelling job {job_id} failed: {error}"),
            Err(_) => format!("cancelling job {job_id} did not answer within {CANCEL_TIMEOUT:?}"),
        },
    };
    DataFusionError::Execution(format!(
        "error[{}]: the Ballista job at {} did not finish within the task timeout of {seconds} s ({cancelled}); nothing was committed",
        Code::EngineTaskTimeout.id(),
        scheduler_url
    ))
}

fn grpc_config() -> GrpcClientConfig {
    GrpcClientConfig::from(&BallistaConfig::default())
}

/// Why the scheduler could not be asked.
#[derive(Debug, thiserror::Error)]
enum SchedulerCallError {
    /// Its address does not make an endpoint.
    #[error(transparent)]
    Endpoint(#[from] ballista_core::error::BallistaError),
    /// It does not answer.
    #[error("cannot connect to the scheduler: {0}")]
    Connect(#[from] tonic::transport::Error),
    /// It answered with an error.
    #[error("{}", .0.message())]
    Refused(#[from] tonic::Status),
}

async fn connect(scheduler_url: &str) -> std::result::Result<SchedulerGrpcClient<Channel>, SchedulerCallError> {
    let config = grpc_config();
    let endpoint = create_grpc_client_endpoint(scheduler_url.to_string(), Some(&config))?;
    let channel = endpoint.connect().await?;
    Ok(SchedulerGrpcClient::new(channel)
        .max_encoding_message_size(config.max_message_size)
        .max_decoding_message_size(config.max_message_size))
}

async fn cancel(scheduler_url: &str, job_id: &str) -> std::result::Result<bool, SchedulerCallError> {
    let mut scheduler = connect(scheduler_url).await?;
    let response = scheduler.cancel_job(CancelJobParams { job_id: job_id.to_string() }).await?;
    Ok(response.into_inner().cancelled)
}

/// One result partition's rows, from its executor (or the scheduler's flight proxy).
async fn fetch_partition(
    location: PartitionLocation,
    scheduler_url: &str,
    flight_proxy: Option<FlightProxy>,
) -> Result<SendableRecordBatchStream> {
    let layout = location.layout();
    let executor = location.executor_meta.ok_or_else(|| DataFusionError::Internal("a result partition without its executor".into()))?;
    let partition = location.partition_id.ok_or_else(|| DataFusionError::Internal("a result partition without its id".into()))?;
    let (host, port) = match &flight_proxy {
        Some(FlightProxy::External(address)) => split_host_port(&format!("http://{address}"))?,
        Some(FlightProxy::Local(true)) => split_host_port(scheduler_url)?,
        Some(FlightProxy::Local(false)) | None => (executor.host.clone(), executor.port as u16),
    };
    let config = grpc_config();
    let mut client = BallistaClient::try_new(
        &host,
        port,
        config.max_message_size,
        false,
        None,
        config.io_retries_times,
        config.io_retry_wait_time_ms,
        0,
        0,
    )
    .await
    .map_err(|error| DataFusionError::Execution(format!("cannot reach executor {}:{}: {error}", host, port)))?;
    client
        .fetch_partition_proxied(&executor.id, &partition.into(), location.file_id, layout, &executor.host, executor.port as u16, true)
        .await
        .map_err(|error| DataFusionError::Execution(error.to_string()))
}

fn split_host_port(address: &str) -> Result<(String, u16)> {
    let url: url::Url = address.parse().map_err(|error| DataFusionError::Execution(format!("bad address {address:?}: {error}")))?;
    let host = url.host_str().ok_or_else(|| DataFusionError::Execution(format!("no host in {address:?}")))?.to_string();
    let port = url.port().ok_or_else(|| DataFusionError::Execution(format!("no port in {address:?}")))?;
    Ok((host, port))
}

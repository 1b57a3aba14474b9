//! Running a compiled project: each task (a materialized view or an output) executes its
//! P2 plan on DataFusion and writes one Delta table in one commit, in dependency order.
//!
//! A materialized view's readers scan the table its task just wrote: after the task, the
//! driver binds the view's `materialized_table` input to that Delta version, so readers
//! are re-planned against the real table (and only they are).

use std::collections::BTreeSet;
use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::physical_plan::collect;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;
use salsa::Setter;
use viewdag_ir::{OutputSpec, ProviderIdentity, SurfaceInput, WriteMode};
use viewdag_optimize::physical_view;
use viewdag_schedule::{Task, TaskKind, plan_tasks};
use viewdag_surface::planning_session;
use viewdag_validate::checks::contract::check_output;

use crate::compiler::{CompileRequest, CompileResponse, Compiler, ViewStatus};
use crate::error::DriverError;
use crate::sources::{directory_url, relative_location};

/// Where `materialize: table` views are written, relative to the spec's directory.
pub const TABLE_STORE: &str = ".viewdag/tables";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    Written { rows: usize, version: i64 },
    Failed { message: String },
    Skipped { reason: String },
}

#[derive(Debug, Clone)]
pub struct TaskReport {
    pub id: String,
    pub view: String,
    /// The Delta table's location relative to the spec's directory.
    pub target: String,
    pub outcome: TaskOutcome,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub compile: CompileResponse,
    pub tasks: Vec<TaskReport>,
}

impl RunReport {
    pub fn succeeded(&self) -> bool {
        !self.compile.has_errors() && self.tasks.iter().all(|task| matches!(task.outcome, TaskOutcome::Written { .. }))
    }
}

/// Progress of a run, reported as it happens.
#[derive(Debug)]
pub enum Progress<'a> {
    Started { task: &'a Task, index: usize, total: usize },
    Finished { report: &'a TaskReport, index: usize, total: usize },
}

impl Compiler {
    /// Compiles the spec, then runs every task whose view compiled.
    pub fn run(&mut self, request: &CompileRequest, progress: &mut dyn FnMut(Progress)) -> Result<RunReport, DriverError> {
        let compile = self.compile(request)?;
        let outputs: Vec<(String, String)> = self.outputs.iter().map(|(name, spec)| (name.clone(), spec.view.clone())).collect();
        let tasks = {
            let dag = &self.structure().dag;
            let materialized = |name: &str| self.is_materialized(name);
            plan_tasks(dag, &materialized, &outputs)
        };
        let mut reports = Vec::new();
        let mut failed: BTreeSet<String> = BTreeSet::new();
        for (index, task) in tasks.iter().enumerate() {
            progress(Progress::Started { task, index, total: tasks.len() });
            let started = Instant::now();
            let target = self.task_target(task);
            let outcome = match self.blocker(&compile, task, &failed) {
                Some(reason) => TaskOutcome::Skipped { reason },
                None => self.run_task(task, &target).unwrap_or_else(|message| TaskOutcome::Failed { message }),
            };
            if !matches!(outcome, TaskOutcome::Written { .. }) {
                failed.insert(task.id.clone());
            }
            let report = TaskReport {
                id: task.id.clone(),
                view: task.view.clone(),
                target: relative_location(&self.root, &target),
                outcome,
                elapsed: started.elapsed(),
            };
            progress(Progress::Finished { report: &report, index, total: tasks.len() });
            reports.push(report);
        }
        self.unbind_materialized_tables();
        Ok(RunReport { compile, tasks: reports })
    }

    fn task_target(&self, task: &Task) -> PathBuf {
        match &task.kind {
            TaskKind::Materialize => self.root.join(TABLE_STORE).join(&task.view),
            TaskKind::Output { output } => {
                let spec = self.output_spec(output).expect("tasks come from the outputs");
                self.root.join(&spec.path)
            }
        }
    }

    fn output_spec(&self, output: &str) -> Option<&OutputSpec> {
        self.outputs.iter().find(|(name, _)| name == output).map(|(_, spec)| spec)
    }

    /// Why a task cannot run, if it cannot.
    fn blocker(&self, compile: &CompileResponse, task: &Task, failed: &BTreeSet<String>) -> Option<String> {
        match compile.view(&task.view).map(|view| &view.status) {
            Some(ViewStatus::Compiled { .. }) => {}
            Some(ViewStatus::Blocked { upstream }) => return Some(format!("view `{}` is blocked by errors in `{upstream}`", task.view)),
            _ => return Some(format!("view `{}` has errors", task.view)),
        }
        if let TaskKind::Output { output } = &task.kind {
            let has_contract_error = compile.diagnostics.iter().any(|diagnostic| {
                diagnostic.is_error()
                    && diagnostic.location.entry.as_deref() == Some(output.as_str())
                    && diagnostic.location.section == viewdag_ir::Section::Outputs
            });
            if has_contract_error {
                return Some(format!("output `{output}` does not satisfy its contract or partitioning; nothing was written"));
            }
        }
        task.reads.iter().find(|read| failed.contains(*read)).map(|read| format!("upstream task `{read}` did not complete"))
    }

    fn run_task(&mut self, task: &Task, target: &Path) -> Result<TaskOutcome, String> {
        let view = self.view_input(&task.view).ok_or_else(|| format!("view `{}` is gone", task.view))?;
        let physical =
            physical_view(&self.db, view).clone().map_err(|failure| format!("view `{}` failed to plan: {failure:?}", task.view))?;
        let (mode, partition_by) = match &task.kind {
            TaskKind::Materialize => (WriteMode::Overwrite, Vec::new()),
            TaskKind::Output { output } => {
                let spec = self.output_spec(output).expect("tasks come from the outputs").clone();
                let problems = check_output(output, &spec, physical.plan.schema().as_ref());
                if let Some(problem) = problems.iter().find(|diagnostic| diagnostic.is_error()) {
                    return Err(format!("{} (nothing was written)", problem.message));
                }
                (spec.mode, spec.partition_by.clone())
            }
        };
        let state = Arc::clone(&planning_session(&self.db, SurfaceInput::get(&self.db)).state);
        let runtime = Arc::clone(self.db.tokio());
        // A physical plan keeps execution state: run a fresh copy of the compiled one.
        let plan = reset_plan_states(Arc::clone(&physical.plan)).map_err(|error| error.strip_backtrace())?;
        // Execution runs foreign code: a panic in it fails this task, not the whole run.
        let execution = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(collect(plan, state.task_ctx()))))
            .map_err(|panic| format!("executing `{}` panicked: {}", task.view, panic_message(panic.as_ref())))?;
        let batches = execution.map_err(|error| format!("executing `{}` failed: {}", task.view, error.strip_backtrace()))?;
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let table = runtime.block_on(write_delta(target, batches, physical.plan.schema(), mode, &partition_by))?;
        let version = table.version().map(|version| i64::try_from(version).unwrap_or(i64::MAX)).unwrap_or(0);
        if task.kind == TaskKind::Materialize {
            table.update_datafusion_session(state.as_ref()).map_err(|error| error.to_string())?;
            let provider = runtime.block_on(table.table_provider().into_future()).map_err(|error| error.to_string())?;
            let identity = ProviderIdentity::Delta { location: relative_location(&self.root, target), version };
            self.db.register_provider(identity.clone(), provider);
            view.set_materialized_table(&mut self.db).to(Some(identity));
            self.last_response = None;
        }
        Ok(TaskOutcome::Written { rows, version })
    }

    fn unbind_materialized_tables(&mut self) {
        for name in self.view_names() {
            if let Some(view) = self.view_input(&name)
                && view.materialized_table(&self.db).is_some()
            {
                view.set_materialized_table(&mut self.db).to(None);
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|message| message.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Delta stores strings and binaries in their plain encodings.
fn storage_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        other => other.clone(),
    }
}

fn storage_schema(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|field| Field::new(field.name(), storage_type(field.data_type()), field.is_nullable()))
            .collect::<Vec<_>>(),
    ))
}

fn to_storage(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, String> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(
            |(column, field)| {
                if column.data_type() == field.data_type() { Ok(Arc::clone(column)) } else { cast(column, field.data_type()) }
            },
        )
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| error.to_string())?;
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(|error| error.to_string())
}

/// Writes all batches to the Delta table at `target` in one commit.
pub async fn write_delta(
    target: &Path,
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
    mode: WriteMode,
    partition_by: &[String],
) -> Result<DeltaTable, String> {
    std::fs::create_dir_all(target).map_err(|error| format!("cannot create {}: {error}", target.display()))?;
    let url = directory_url(target)?;
    let table = DeltaTable::try_from_url(url).await.map_err(|error| format!("cannot open {}: {error}", target.display()))?;
    let storage = storage_schema(&schema);
    let mut converted = batches.iter().map(|batch| to_storage(batch, &storage)).collect::<Result<Vec<_>, _>>()?;
    if converted.is_empty() {
        converted.push(RecordBatch::new_empty(Arc::clone(&storage)));
    }
    let save_mode = match mode {
        WriteMode::Overwrite => SaveMode::Overwrite,
        WriteMode::Append => SaveMode::Append,
    };
    let mut builder = table.write(converted).with_save_mode(save_mode);
    if !partition_by.is_empty() {
        builder = builder.with_partition_columns(partition_by.to_vec());
    }
    builder.await.map_err(|error| format!("writing {} failed: {error}", target.display()))
}

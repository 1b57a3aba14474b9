//! `viewdag schedule SPEC [--jobs N]`: the cost model's estimate for every task and the list
//! schedule the runner follows on N workers, simulated in estimated bytes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;
use viewdag_driver::viewdag_schedule::{Schedule, Task, TaskCost, TaskId, list_schedule};

use viewdag_driver::{CompileRequest, Compiler, RunOptions};

use crate::error::CliError;
use crate::output::Format;

#[derive(Debug, Serialize)]
pub struct ScheduleReport {
    pub workers: usize,
    pub tasks: Vec<ScheduledTask>,
    pub makespan: u64,
    pub total_work: u64,
    pub critical_path: u64,
}

#[derive(Debug, Serialize)]
pub struct ScheduledTask {
    pub id: TaskId,
    pub wave: usize,
    pub reads: Vec<TaskId>,
    pub input_bytes: u64,
    pub output_bytes: u64,
    pub output_rows: Option<u64>,
    pub exact: bool,
    pub work: u64,
    pub critical_path: u64,
    pub worker: usize,
    pub start: u64,
    pub finish: u64,
}

/// The report for the spec's tasks on `workers` workers.
fn schedule_report(tasks: &[Task], costs: &BTreeMap<TaskId, TaskCost>, workers: usize) -> ScheduleReport {
    let Schedule { workers, slots, makespan, total_work, critical_path } = list_schedule(tasks, costs, workers);
    let tasks = slots
        .iter()
        .filter_map(|slot| {
            let task = tasks.iter().find(|task| task.id == slot.task)?;
            let cost = costs.get(&task.id)?;
            Some(ScheduledTask {
                id: task.id.clone(),
                wave: task.wave,
                reads: task.reads.clone(),
                input_bytes: cost.input.bytes,
                output_bytes: cost.output.bytes,
                output_rows: cost.output.rows,
                exact: cost.input.exact && cost.output.exact,
                work: cost.work,
                critical_path: cost.critical_path,
                worker: slot.worker,
                start: slot.start,
                finish: slot.finish,
            })
        })
        .collect();
    ScheduleReport { workers, tasks, makespan, total_work, critical_path }
}

/// Bytes with a binary unit, e.g. `12.5 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

pub fn render_schedule_report(report: &ScheduleReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<28} {:>6} {:>6} {:>11} {:>11} {:>11} {:>11}  estimate",
        "task (in start order)", "worker", "wave", "reads", "writes", "work", "crit. path"
    );
    for task in &report.tasks {
        let _ = writeln!(
            text,
            "{:<28} {:>6} {:>6} {:>11} {:>11} {:>11} {:>11}  {}",
            task.id,
            task.worker,
            task.wave,
            human_bytes(task.input_bytes),
            human_bytes(task.output_bytes),
            human_bytes(task.work),
            human_bytes(task.critical_path),
            if task.exact { "exact" } else { "inexact" }
        );
    }
    let speedup = if report.makespan == 0 { 1.0 } else { report.total_work as f64 / report.makespan as f64 };
    let _ = writeln!(
        text,
        "{} task(s) on {} worker(s): makespan {} of work (sequential {}, critical path {}), estimated speedup {speedup:.2}×",
        report.tasks.len(),
        report.workers,
        human_bytes(report.makespan),
        human_bytes(report.total_work),
        human_bytes(report.critical_path),
    );
    text
}

/// `schedule`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    spec: PathBuf,
    /// Workers to schedule on (default: the number of CPUs).
    #[arg(long, value_parser = crate::number_flags::jobs)]
    jobs: Option<usize>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn execute(args: ScheduleArgs) -> Result<i32, CliError> {
    let ScheduleArgs { spec, jobs, format } = args;
    let jobs = jobs.unwrap_or(RunOptions::default().jobs);
    let mut compiler = Compiler::new()?;
    let response = compiler.compile(&CompileRequest::new(&spec))?;
    let (tasks, costs) = compiler.snapshot().task_costs();
    let report = schedule_report(&tasks, &costs, jobs);
    if format.is_json() {
        println!("{}", serde_json::to_string_pretty(&report).expect("JSON serializes"));
    } else {
        print!("{}", render_schedule_report(&report));
    }
    Ok(if response.has_errors() { 1 } else { 0 })
}

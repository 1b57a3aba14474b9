//! Local vs Ballista benchmark: TPC-H's 22 queries as views (22 outputs) over TPC-H data at a
//! scale factor (default SF1, `tpchgen`'s rows; `lineitem` a Delta table, the rest Parquet),
//! run in ONE process locally, then on a local Ballista cluster with 1 and with 2 executors
//! (each `viewdag-cli cluster --executors N`, processes started and stopped by this binary).
//!
//! ```sh
//! cargo build --release -p viewdag-tests --bin viewdag-cli --bin bench-cluster
//! target/release/bench-cluster 1          # scale factor (default 1)
//! ```
//!
//! Every configuration runs `run --force` once on the same project after one compile.
//! Printed per configuration: the run's wall time, its ratio to local, the tasks written or
//! failed, and where the time went, summed over the tasks, measured as it happened: for the
//! cluster, building the cluster plans, submitting the jobs, the jobs executing (stages and
//! shuffles, with the scheduler's own figure), the rows streamed back to the driver (while
//! its writer writes Parquet), and the rest of each task after its last row (closing the
//! files and the Delta commit). A cluster task whose row count differs from the local run's
//! is listed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use viewdag_ballista::BallistaEngine;
use viewdag_ballista::take_finished_jobs;
use viewdag_driver::{CompileRequest, Compiler, LocalEngine, Progress, RunOptions, RunReport, TaskEngine, TaskOutcome};
use viewdag_tests::local_cluster::LocalCluster;
use viewdag_tests::tpch::spec_yaml_with_delta_tables;
use viewdag_tests::tpch_data::{DELTA_TABLES, write_tables};

/// A cluster task may take this long before it is cancelled (far above any SF1 query).
const TASK_TIMEOUT: Duration = Duration::from_secs(1800);

/// One configuration's measured run.
struct Measured {
    name: String,
    seconds: f64,
    report: RunReport,
    /// Per task: when the driver reported it finished (after its commit).
    finished_at: BTreeMap<String, Instant>,
}

fn run(spec: &Path, engine: Arc<dyn TaskEngine>, name: &str) -> Measured {
    let mut compiler = Compiler::new().expect("a compiler");
    let compiled = Instant::now();
    let response = compiler.compile(&CompileRequest::new(spec)).expect("the spec reads");
    assert!(!response.has_errors(), "{:?}", response.diagnostics);
    println!("{name}: compile {:.3} s", compiled.elapsed().as_secs_f64());
    let options = RunOptions { force: true, engine: Some(engine), ..RunOptions::default() };
    let mut finished_at = BTreeMap::new();
    let _ = take_finished_jobs();
    let start = Instant::now();
    let report = compiler
        .run_with(&CompileRequest::new(spec), &options, &mut |progress| {
            if let Progress::Finished { report, .. } = progress {
                finished_at.insert(report.id.clone(), Instant::now());
            }
        })
        .expect("the run starts");
    let seconds = start.elapsed().as_secs_f64();
    Measured { name: name.to_string(), seconds, report, finished_at }
}

/// The bytes of every file under `directory`.
fn directory_bytes(directory: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(directory) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => directory_bytes(&entry.path()),
            _ => entry.metadata().map(|metadata| metadata.len()).unwrap_or(0),
        })
        .sum()
}

fn sibling_executable(name: &str) -> PathBuf {
    let me = std::env::current_exe().expect("this executable");
    me.with_file_name(name)
}

fn rows_of(report: &RunReport) -> BTreeMap<String, Option<usize>> {
    report
        .tasks
        .iter()
        .map(|task| {
            let rows = match task.outcome {
                TaskOutcome::Written { rows, .. } => Some(rows),
                _ => None,
            };
            (task.id.clone(), rows)
        })
        .collect()
}

fn print_summary(measured: &Measured, local: Option<&Measured>) {
    let written = measured.report.tasks.iter().filter(|task| matches!(task.outcome, TaskOutcome::Written { .. })).count();
    let failed: Vec<&str> = measured
        .report
        .tasks
        .iter()
        .filter(|task| matches!(task.outcome, TaskOutcome::Failed { .. }))
        .map(|task| task.id.as_str())
        .collect();
    let ratio = local.map(|local| format!(" ratio_to_local={:.2}x", measured.seconds / local.seconds)).unwrap_or_default();
    println!("{}: run {:.3} s{ratio} written={written} failed={failed:?}", measured.name, measured.seconds);
    let task_seconds: f64 = measured.report.tasks.iter().map(|task| task.elapsed.as_secs_f64()).sum();
    println!("  sum of task times {task_seconds:.3} s");
    for task in &measured.report.tasks {
        if let TaskOutcome::Failed { error } = &task.outcome {
            println!("  {} failed: {}", task.id, error.to_string().lines().next().unwrap_or(""));
        }
    }
    if let Some(local) = local {
        let (here, there) = (rows_of(&measured.report), rows_of(&local.report));
        for (task, rows) in &here {
            if rows.is_some() && there.get(task) != Some(rows) {
                println!("  ROW COUNT DIFFERS {task}: {rows:?} here, {:?} locally", there.get(task).copied().flatten());
            }
        }
    }
}

fn print_phases(measured: &Measured) {
    let jobs = take_finished_jobs();
    let seconds = |pick: &dyn Fn(&viewdag_ballista::JobPhases) -> Duration| -> f64 { jobs.iter().map(|job| pick(job).as_secs_f64()).sum() };
    let after_last_row: f64 = jobs
        .iter()
        .filter_map(|job| {
            let task = job.session_id.splitn(3, '-').nth(2)?;
            let finished = measured.finished_at.get(task)?;
            Some(finished.saturating_duration_since(job.streamed_until).as_secs_f64())
        })
        .sum();
    let rows: usize = jobs.iter().map(|job| job.rows).sum();
    println!(
        "  phases over {} jobs: cluster_planning={:.3} s submission={:.3} s execution_incl_shuffle={:.3} s (scheduler: {:.3} s) rows_streamed_back={:.3} s ({rows} rows) after_last_row_commit={after_last_row:.3} s",
        jobs.len(),
        seconds(&|job| job.planning),
        seconds(&|job| job.submission),
        seconds(&|job| job.execution),
        seconds(&|job| job.execution_on_scheduler),
        seconds(&|job| job.fetching),
    );
}

fn main() {
    let scale_factor: f64 = std::env::args().nth(1).and_then(|argument| argument.parse().ok()).unwrap_or(1.0);
    let project = tempfile::tempdir().expect("a temporary directory");
    let generated = Instant::now();
    let tables = write_tables(project.path(), scale_factor);
    let sizes: Vec<String> = tables.iter().map(|table| format!("{}={}", table.table, table.rows)).collect();
    let bytes = directory_bytes(&project.path().join("data"));
    println!(
        "generated SF{scale_factor} in {:.1} s ({:.0} MB of Parquet and Delta): {}",
        generated.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        sizes.join(" ")
    );
    let spec = project.path().join("spec.yaml");
    std::fs::write(&spec, spec_yaml_with_delta_tables(&DELTA_TABLES)).expect("the spec writes");

    let local = run(&spec, Arc::new(LocalEngine), "local");
    print_summary(&local, None);
    let _ = take_finished_jobs();
    for executors in [1, 2] {
        let cluster = LocalCluster::start(&sibling_executable("viewdag-cli"), executors);
        let engine = Arc::new(BallistaEngine::new(cluster.scheduler.clone()).with_task_timeout(TASK_TIMEOUT));
        let measured = run(&spec, engine, &format!("ballista with {executors} executor(s)"));
        print_summary(&measured, Some(&local));
        print_phases(&measured);
        drop(cluster);
    }
}

//! The `ballista` engine: task plans run on a local Apache Ballista cluster started by the
//! test (`viewdag-cli cluster --executors 2`: a scheduler and two executors, each its own
//! process), and every table they write holds the rows a local run writes.
//!
//! Each test starts its own cluster and stops it (SIGTERM) when it ends, so no test depends
//! on another's cluster and no process outlives the test binary.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use viewdag_ballista::{BallistaEngine, Engines, SchedulerAddress};
use viewdag_driver::execute::{StreamedBecause, WrittenBy};
use viewdag_driver::{CompileRequest, Compiler, LocalEngine, RunOptions, RunReport, TaskEngine, TaskOutcome};
use viewdag_tests::data::{delta_version, read_delta_rows};
use viewdag_tests::generate::GeneratedProject;
use viewdag_tests::local_cluster::LocalCluster;

use crate::support::{TempProject, shop_spec};

fn start_cluster(executors: usize) -> LocalCluster {
    LocalCluster::start(Path::new(env!("CARGO_BIN_EXE_viewdag-cli")), executors)
}

fn is_running(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie still has one, marked `Z`.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.split(") ").nth(1).is_some_and(|rest| !rest.starts_with('Z')))
        .unwrap_or(false)
}

fn run_on(spec: &Path, engine: impl TaskEngine + 'static) -> RunReport {
    let options = RunOptions { engine: Some(Arc::new(engine)), ..RunOptions::default() };
    Compiler::new().expect("a compiler").run_with(&CompileRequest::new(spec), &options, &mut |_| {}).expect("the spec is readable")
}

/// Every task written on both engines, with the same rows in the same table version.
fn assert_same_tables(local_root: &Path, local: &RunReport, cluster_root: &Path, cluster: &RunReport) {
    assert!(local.succeeded(), "local: {:?}", local.tasks);
    assert!(cluster.succeeded(), "cluster: {:?} {:?}", cluster.tasks, cluster.compile.diagnostics);
    assert_eq!(local.tasks.len(), cluster.tasks.len());
    for (local_task, cluster_task) in local.tasks.iter().zip(&cluster.tasks) {
        assert_eq!(local_task.id, cluster_task.id);
        assert_eq!(local_task.outcome, cluster_task.outcome, "{}: rows and version", local_task.id);
        let local_rows = read_delta_rows(&local_root.join(&local_task.target));
        let cluster_rows = read_delta_rows(&cluster_root.join(&cluster_task.target));
        assert_eq!(local_rows, cluster_rows, "{}", local_task.id);
    }
}

/// Who wrote each task's data files, by task id.
fn writers(report: &RunReport) -> Vec<(String, Option<&WrittenBy>)> {
    report.tasks.iter().map(|task| (task.id.to_string(), task.written_by.as_ref())).collect()
}

fn written_by_executors(report: &RunReport, task: &str) -> bool {
    report.tasks.iter().any(|report| report.id == task && matches!(report.written_by, Some(WrittenBy::Engine { files }) if files > 0))
}

/// The shop example (a Delta source, Parquet, CSV, a materialized view, a partitioned
/// output, expectations, a merge output), then a second spec reading an output back as a
/// Delta source, appending twice and writing a partitioned output: the cluster writes what a
/// local run writes, commit for commit, with the same expectation counts. The executors
/// write the data files (checking the expectations as they write); the merge output streams
/// its rows to the driver.
#[test]
fn the_shop_example_on_a_cluster_writes_the_tables_of_a_local_run() {
    let cluster = start_cluster(2);
    let (local, remote) = (TempProject::with_shop_data(), TempProject::with_shop_data());
    let local_spec = local.write_spec("spec.yaml", &shop_spec());
    let remote_spec = remote.write_spec("spec.yaml", &shop_spec());
    let local_report = run_on(&local_spec, LocalEngine);
    let remote_report = run_on(&remote_spec, cluster.engine());
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    assert!(!read_delta_rows(&remote.path().join("out/largest_orders")).is_empty());
    assert!(
        remote.path().join("out/largest_orders/region=north").is_dir() || remote.path().join("out/largest_orders/region=south").is_dir()
    );
    assert!(
        local_report.tasks.iter().all(|task| task.written_by == Some(WrittenBy::Driver(StreamedBecause::NoFileWriter))),
        "{:?}",
        writers(&local_report)
    );
    let labels = remote_report.tasks.iter().find(|report| report.id == "output:labels").expect("the task ran");
    assert_eq!(labels.written_by, Some(WrittenBy::Driver(StreamedBecause::WriteMode(viewdag_ir::WriteMode::Merge))));
    for task in ["view:enriched", "output:revenue", "output:top_regions", "output:largest_orders"] {
        assert!(written_by_executors(&remote_report, task), "{task}: {:?}", writers(&remote_report));
    }
    for (local_task, remote_task) in local_report.tasks.iter().zip(&remote_report.tasks) {
        assert_eq!(local_task.expectations, remote_task.expectations, "{}: the same expectation counts", local_task.id);
    }

    // A Delta source written by a run (not partitioned) read back, and an append output.
    let follow_up = r#"
version: 1
sources:
  revenue: { format: delta, path: out/revenue }
  customers: { format: parquet, path: data/customers.parquet }
views:
  big_regions:
    filter: { input: revenue, predicate: "revenue > 0 OR region IS NULL" }
  segments:
    aggregate: { input: customers, group_by: [segment], measures: { customers: "count(*)" } }
outputs:
  big_regions: { view: big_regions, path: out/big_regions, mode: append }
  segments: { view: segments, path: out/segments, partition_by: [segment] }
"#;
    for _ in 0..2 {
        let local_report = run_on(&local.write_spec("follow_up.yaml", follow_up), LocalEngine);
        let remote_report = run_on(&remote.write_spec("follow_up.yaml", follow_up), cluster.engine());
        assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
        assert!(written_by_executors(&remote_report, "output:big_regions"), "{:?}", writers(&remote_report));
    }
    assert_eq!(delta_version(&remote.path().join("out/big_regions")), Some(1), "two appends, two commits");
    assert_same_history(&local.path().join("out/big_regions"), &remote.path().join("out/big_regions"));

    // A partitioned Delta source (dictionary-encoded partition column) on the cluster.
    let partitioned = r#"
version: 1
sources:
  largest: { format: delta, path: out/largest_orders }
views:
  by_region:
    aggregate: { input: largest, group_by: [region], measures: { total: "sum(amount_eur)" } }
outputs:
  totals: { view: by_region, path: out/totals }
"#;
    let local_report = run_on(&local.write_spec("partitioned.yaml", partitioned), LocalEngine);
    let remote_report = run_on(&remote.write_spec("partitioned.yaml", partitioned), cluster.engine());
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
}

/// Each commit of two tables' logs: its operation, mode, partitioning, the number of files
/// it added and removed, its rows and its `txn` — the same whichever engine wrote it.
fn assert_same_history(local: &Path, remote: &Path) {
    let history = |table: &Path| -> Vec<String> {
        let log = table.join("_delta_log");
        let mut commits: Vec<_> = std::fs::read_dir(&log).unwrap().filter_map(Result::ok).map(|entry| entry.path()).collect();
        commits.retain(|path| path.extension().is_some_and(|extension| extension == "json"));
        commits.sort();
        commits
            .iter()
            .map(|commit| {
                let text = std::fs::read_to_string(commit).unwrap();
                let mut kinds: Vec<String> = Vec::new();
                for line in text.lines() {
                    let action: serde_json::Value = serde_json::from_str(line).unwrap();
                    let (kind, body) = action.as_object().unwrap().iter().next().unwrap();
                    kinds.push(match kind.as_str() {
                        "commitInfo" => format!(
                            "commit {} {} rows={}",
                            body["operation"], body["operationParameters"], body["operationMetrics"]["num_added_rows"]
                        ),
                        "txn" => format!("txn {} {}", body["appId"], body["version"]),
                        "add" | "remove" => kind.clone(),
                        other => other.to_string(),
                    });
                }
                kinds.sort();
                kinds.dedup();
                kinds.join("; ")
            })
            .collect()
    };
    assert_eq!(history(local), history(remote));
}

/// Generated specs (the property harness's generator: Delta, Parquet and CSV sources,
/// every transform, materialized views) on the cluster and locally.
#[test]
fn generated_specs_on_a_cluster_write_the_tables_of_local_runs() {
    let cluster = start_cluster(2);
    for seed in [3, 11, 29, 47] {
        let project = GeneratedProject::generate(seed, 6);
        let (local, remote) = (TempProject::empty(), TempProject::empty());
        let local_report = run_on(&project.write(local.path()), LocalEngine);
        let remote_report = run_on(&project.write(remote.path()), cluster.engine());
        assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    }
}

/// `now()` and `current_date()` on a cluster: the executors cannot evaluate them (DataFusion
/// folds them into the query's start time while planning), so the plan sent carries the run's
/// start time, one value for every task and partition.
#[test]
fn now_on_a_cluster_is_the_runs_start_time() {
    let cluster = start_cluster(1);
    let project = TempProject::with_shop_data();
    let text = "version: 1\nsources:\n  orders: { format: delta, path: data/orders }\nviews:\n  \
                stamped:\n    sql: SELECT order_id, now() AS at FROM orders WHERE order_date <= current_date()\n  \
                also_stamped:\n    project: { input: orders, columns: { order_id: order_id, at: \"now()\" } }\n\
                outputs:\n  a: { view: stamped, path: out/a }\n  b: { view: also_stamped, path: out/b }\n";
    let report = run_on(&project.write_spec("spec.yaml", text), cluster.engine());
    assert!(report.succeeded(), "{:?} {:?}", report.tasks, report.compile.diagnostics);
    let stamps: std::collections::BTreeSet<String> = ["out/a", "out/b"]
        .iter()
        .flat_map(|table| viewdag_tests::data::read_delta_rows_exact(&project.path().join(table)))
        .map(|row| row.split('|').nth(1).expect("two columns").to_string())
        .collect();
    assert_eq!(stamps.len(), 1, "{stamps:?}");
    assert_eq!(read_delta_rows(&project.path().join("out/a")).len(), read_delta_rows(&project.path().join("data/orders")).len());
}

/// No scheduler listens: every task fails with an error that says so, nothing is
/// committed, and the run still reports every task.
#[test]
fn an_unreachable_scheduler_fails_every_task_and_writes_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nobody = BallistaEngine::new(SchedulerAddress::parse(&format!("df://127.0.0.1:{port}")).unwrap());
    let project = TempProject::with_shop_data();
    let report = run_on(&project.write_spec("spec.yaml", &shop_spec()), nobody);
    assert!(!report.succeeded());
    assert_eq!(report.tasks.len(), 5, "{:?}", report.tasks);
    for task in &report.tasks {
        match &task.outcome {
            TaskOutcome::Failed { error } => assert!(error.to_string().contains(&format!("127.0.0.1:{port}")), "{}: {error}", task.id),
            TaskOutcome::Skipped { reason } => assert!(reason.contains("did not complete"), "{}: {reason}", task.id),
            other => panic!("{}: {other:?}", task.id),
        }
        assert_eq!(delta_version(&project.path().join(&task.target)), None, "{} committed nothing", task.id);
    }
}

/// `profile.engine` chooses the engine when the command line does not: `ballista` without
/// a scheduler is a diagnostic at `profile.engine` (nothing runs), and with an unreachable
/// scheduler every task fails as with `--scheduler`.
#[test]
fn the_spec_profile_chooses_the_engine() {
    let project = TempProject::with_shop_data();
    let with_every_engine = RunOptions { engines: Arc::new(Engines), ..RunOptions::default() };
    let without_scheduler = shop_spec().replace("\nprofile:\n", "\nprofile:\n  engine: { kind: ballista }\n");
    assert_ne!(without_scheduler, shop_spec());
    let spec = project.write_spec("spec.yaml", &without_scheduler);
    let report = Compiler::new().unwrap().run_with(&CompileRequest::new(&spec), &with_every_engine, &mut |_| {}).unwrap();
    let diagnostic =
        report.compile.diagnostics.iter().find(|diagnostic| diagnostic.code.id() == "V0004" && diagnostic.entry() == Some("engine"));
    assert!(diagnostic.is_some_and(|diagnostic| diagnostic.is_error()), "{:?}", report.compile.diagnostics);
    assert!(report.tasks.iter().all(|task| !task.outcome.is_done()), "{:?}", report.tasks);
    assert_eq!(delta_version(&project.path().join("out/revenue")), None);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let engine = format!("\nprofile:\n  engine: {{ kind: ballista, scheduler: \"df://127.0.0.1:{port}\" }}\n");
    let unreachable = shop_spec().replace("\nprofile:\n", &engine);
    let spec = project.write_spec("spec.yaml", &unreachable);
    let report = Compiler::new().unwrap().run_with(&CompileRequest::new(&spec), &with_every_engine, &mut |_| {}).unwrap();
    let failed = report
        .tasks
        .iter()
        .filter(|task| matches!(&task.outcome, TaskOutcome::Failed { error } if error.to_string().contains(&port.to_string())));
    assert!(failed.count() >= 1, "{:?}", report.tasks);
    assert!(report.tasks.iter().all(|task| !task.outcome.is_done()), "{:?}", report.tasks);
}

/// The command line: `run --engine ballista --scheduler …` prints the same progress lines
/// as a local run and exits 0; a bad address is refused before anything runs; a plan the
/// codec cannot carry fails its task only; and `viewdag cluster` stops its executors on
/// SIGTERM.
#[test]
fn the_command_line_runs_on_a_cluster_and_the_cluster_stops_on_sigterm() {
    let mut cluster = start_cluster(1);
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let cli = |arguments: &[&str]| Command::new(env!("CARGO_BIN_EXE_viewdag-cli")).args(arguments).output().expect("the CLI runs");
    let scheduler = cluster.scheduler.to_string();
    let run = cli(&["run", spec.to_str().unwrap(), "--engine", "ballista", "--scheduler", &scheduler, "--task-timeout", "120"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_eq!(stderr.lines().filter(|line| line.contains(" rows  → ")).count(), 5, "{stderr}");
    assert!(stderr.contains("ballista at df://") && stderr.contains("task timeout 120 s"), "the run says where it ran: {stderr}");

    let refused = cli(&["run", spec.to_str().unwrap(), "--scheduler", "127.0.0.1:50050"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("df://HOST:PORT"));
    // `--task-timeout` needs a cluster from the command line, and at least one second.
    let without_scheduler = cli(&["run", spec.to_str().unwrap(), "--task-timeout", "5"]);
    assert_eq!(without_scheduler.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without_scheduler.stderr).contains("profile.engine.task_timeout"));
    let zero = cli(&["run", spec.to_str().unwrap(), "--scheduler", &scheduler, "--task-timeout", "0"]);
    assert_eq!(zero.status.code(), Some(2), "{}", String::from_utf8_lossy(&zero.stderr));

    // TPC-H's 22 queries write the rows of a local run, q11, q15 and q22 too (their
    // single-row scalar subqueries travel as joins: Ballista 55 cannot decode
    // `ScalarSubqueryExec`).
    let (local, remote) = (TempProject::empty(), TempProject::empty());
    for root in [local.path(), remote.path()] {
        viewdag_tests::tpch::write_tpch_data(root);
        std::fs::write(root.join("spec.yaml"), viewdag_tests::tpch::spec_yaml()).unwrap();
    }
    let local_report = run_on(&local.path().join("spec.yaml"), LocalEngine);
    let remote_report = run_on(&remote.path().join("spec.yaml"), cluster.engine());
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    assert_eq!(remote_report.tasks.len(), 22);

    let executors = cluster.executor_pids.clone();
    assert!(executors.iter().all(|&pid| is_running(pid)));
    assert!(cluster.stop().success());
    assert!(executors.iter().all(|&pid| !is_running(pid)), "every executor stopped with the cluster");
}

/// Runs `spec` with `options`, killing process `victim` (SIGKILL) `after` the first task
/// started; returns once the run ended and the kill was made.
fn run_killing(spec: &Path, options: &RunOptions, victim: u32, after: Duration) -> RunReport {
    let mut killer = None;
    let report = Compiler::new()
        .unwrap()
        .run_with(&CompileRequest::new(spec), options, &mut |progress| {
            if let viewdag_driver::Progress::Started { .. } = progress
                && killer.is_none()
            {
                killer = Some(std::thread::spawn(move || {
                    std::thread::sleep(after);
                    assert!(Command::new("kill").args(["-KILL", &victim.to_string()]).status().unwrap().success());
                }));
            }
        })
        .expect("readable");
    killer.expect("a task started").join().expect("the executor is killed");
    report
}

/// An executor killed while a task runs: either the task fails with nothing committed (the
/// usual case: `viewdag cluster` cancels a job that loses an executor, because Ballista 55's
/// recovery was seen to commit totals ×1.5–×2.5), or the job finished before the loss
/// mattered and its one commit holds exactly the rows of a local run.
#[test]
fn an_executor_killed_during_a_task_leaves_no_partial_commit() {
    let cluster = start_cluster(2);
    let project = TempProject::empty();
    let data = project.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Enough rows that the task is still running when the executor is killed.
    for part in 0..8 {
        let source = viewdag_tests::generate::GeneratedSource {
            name: "big".to_string(),
            format: viewdag_ir::SourceFormat::Parquet,
            ids: (0..200_000).map(|id| part * 200_000 + id).collect(),
            keys: (0..200_000).map(|id| Some(id % 997)).collect(),
            values: (0..200_000).map(|id| Some((id % 1000) as f64)).collect(),
            texts: (0..200_000).map(|id| Some(format!("t{}", id % 5000))).collect(),
        };
        std::fs::create_dir_all(data.join("big")).unwrap();
        viewdag_tests::data::write_parquet_file(&data.join(format!("big/part-{part}.parquet")), &source.batch());
    }
    let spec = project.write_spec(
        "spec.yaml",
        r#"
version: 1
sources:
  big: { format: parquet, path: data/big }
views:
  pairs:
    sql: "SELECT a.k, count(*) AS n, sum(a.v + b.v) AS total FROM big a JOIN big b ON a.s = b.s AND a.k = b.k GROUP BY a.k"
outputs:
  pairs: { view: pairs, path: out/pairs }
"#,
    );
    let victim = cluster.executor_pids[0];
    let options =
        RunOptions { engine: Some(Arc::new(cluster.engine().with_task_timeout(Duration::from_secs(60)))), ..RunOptions::default() };
    let report = run_killing(&spec, &options, victim, Duration::from_millis(700));
    let task = &report.tasks[0];
    let table = project.path().join("out/pairs");
    match &task.outcome {
        TaskOutcome::Written { rows, version: 0 } => {
            // The job finished: one whole commit whose rows are exactly a local run's.
            let written = read_delta_rows(&table);
            assert_eq!(written.len(), *rows);
            assert_eq!(delta_version(&table), Some(0), "one commit");
            let local_options = RunOptions { engine: Some(Arc::new(LocalEngine)), force: true, ..RunOptions::default() };
            let local = Compiler::new().unwrap().run_with(&CompileRequest::new(&spec), &local_options, &mut |_| {}).unwrap();
            assert_eq!(local.tasks[0].outcome, TaskOutcome::Written { rows: *rows, version: 1 });
            assert_eq!(read_delta_rows(&table), written, "the cluster committed the rows of a local run");
        }
        TaskOutcome::Failed { error } => {
            let message = error.to_string();
            assert!(message.contains("Ballista") || message.contains("executor"), "{message}");
            assert_eq!(delta_version(&table), None, "a failed task commits nothing");
        }
        other => panic!("{other:?}"),
    }
    assert!(!is_running(victim), "the executor was killed");
}

/// Every executor stopped (SIGSTOP), so no job can progress: each task's job is cancelled on
/// the scheduler when the task timeout passes and the task fails with V0802, nothing
/// committed, and the run ends within seconds. Resumed (SIGCONT), the same cluster runs both
/// tasks.
#[test]
fn a_job_on_stopped_executors_times_out_is_cancelled_and_commits_nothing() {
    let cluster = start_cluster(1);
    let project = TempProject::with_shop_data();
    let spec = project.write_spec(
        "spec.yaml",
        r#"
version: 1
sources:
  orders: { format: delta, path: data/orders }
views:
  by_customer:
    aggregate: { input: orders, group_by: [customer_id], measures: { n: "count(*)" } }
  big:
    filter: { input: orders, predicate: "amount > 10" }
outputs:
  by_customer: { view: by_customer, path: out/by_customer }
  big: { view: big, path: out/big }
"#,
    );
    let signal = |name: &str| {
        for pid in &cluster.executor_pids {
            assert!(Command::new("kill").args([name, &pid.to_string()]).status().unwrap().success());
        }
    };
    signal("-STOP");
    let timeout = Duration::from_secs(2);
    let started = std::time::Instant::now();
    let report = run_on(&spec, cluster.engine().with_task_timeout(timeout));
    let elapsed = started.elapsed();
    signal("-CONT");
    assert_eq!(report.tasks.len(), 2, "{:?}", report.tasks);
    for task in &report.tasks {
        match &task.outcome {
            TaskOutcome::Failed { error } => {
                let message = error.to_string();
                assert!(message.contains("error[V0802]"), "{}: {message}", task.id);
                assert!(message.contains("within the task timeout of 2 s"), "{}: {message}", task.id);
                assert!(message.contains("cancelled on the scheduler"), "{}: {message}", task.id);
            }
            other => panic!("{}: {other:?}", task.id),
        }
        assert_eq!(delta_version(&project.path().join(&task.target)), None, "{} committed nothing", task.id);
    }
    assert!(elapsed < Duration::from_secs(20), "the run is bounded by the timeout: {elapsed:?}");

    let resumed = run_on(&spec, cluster.engine());
    assert!(resumed.succeeded(), "{:?}", resumed.tasks);
    assert!(resumed.tasks.iter().all(|task| delta_version(&project.path().join(&task.target)) == Some(0)));
}

/// The cluster's only executor killed (SIGKILL) while a task that would run for hours is
/// running, one task at a time, so the second task is submitted only after the executor is
/// gone (a job Ballista 55 alone would keep waiting for an executor until the task timeout):
/// the run ends long before the task timeout (600 s) with one `V0803 engine-no-executor` per
/// task, and neither task commits anything.
#[test]
fn a_run_whose_last_executor_leaves_ends_with_one_coded_error_per_unfinished_task() {
    let cluster = start_cluster(1);
    let project = project_with_rows(8, 100_000);
    // Each join pairs ~23 000 rows with ~23 000 per (k, s): 18 billion pairs, far beyond the test.
    let spec = project.write_spec(
        "spec.yaml",
        r#"
version: 1
sources:
  big: { format: parquet, path: data/big }
views:
  pairs:
    sql: "SELECT a.k, count(*) AS n FROM big a JOIN big b ON a.s = b.s AND a.k = b.k GROUP BY a.k"
  sums:
    sql: "SELECT a.s, sum(a.v * b.v) AS total FROM big a JOIN big b ON a.s = b.s AND a.k = b.k GROUP BY a.s"
outputs:
  pairs: { view: pairs, path: out/pairs }
  sums: { view: sums, path: out/sums }
"#,
    );
    let victim = cluster.executor_pids[0];
    let engine = cluster.engine().with_task_timeout(Duration::from_secs(600));
    let options = RunOptions { engine: Some(Arc::new(engine)), jobs: 1, ..RunOptions::default() };
    let started = std::time::Instant::now();
    let report = run_killing(&spec, &options, victim, Duration::from_millis(1500));
    let elapsed = started.elapsed();
    assert!(!is_running(victim), "the executor was killed");
    assert_eq!(report.tasks.len(), 2, "{:?}", report.tasks);
    for task in &report.tasks {
        match &task.outcome {
            TaskOutcome::Failed { error } => {
                let message = error.to_string();
                assert!(message.contains("error[V0803]"), "{}: {message}", task.id);
                assert!(message.contains("no executor of the Ballista cluster"), "{}: {message}", task.id);
            }
            other => panic!("{}: {other:?}", task.id),
        }
        let table = project.path().join(&task.target);
        assert_eq!(delta_version(&table), None, "{} committed nothing", task.id);
        assert!(!table.join("_delta_log").exists(), "{}: no log, so no file of the task is part of a table", task.id);
    }
    // Not a speed target: proof that the run did not wait for the 600 s task timeout.
    assert!(elapsed < Duration::from_secs(120), "the run ended promptly: {elapsed:?}");
}

/// A project whose `data/big/` holds `files` Parquet files of `rows_per_file` generated rows
/// (`id`, `k` = id % 7, `v`, `s` = one of five texts).
fn project_with_rows(files: i64, rows_per_file: i64) -> TempProject {
    let project = TempProject::empty();
    std::fs::create_dir_all(project.path().join("data/big")).unwrap();
    for file in 0..files {
        let ids: Vec<i64> = (0..rows_per_file).map(|row| file * rows_per_file + row).collect();
        let source = viewdag_tests::generate::GeneratedSource {
            name: "big".to_string(),
            format: viewdag_ir::SourceFormat::Parquet,
            keys: ids.iter().map(|id| Some(id % 7)).collect(),
            values: ids.iter().map(|id| Some((id % 1000) as f64)).collect(),
            texts: ids.iter().map(|id| Some(format!("t{}", id % 5))).collect(),
            ids,
        };
        viewdag_tests::data::write_parquet_file(&project.path().join(format!("data/big/{file}.parquet")), &source.batch());
    }
    project
}

/// Partitioned Delta sources on the cluster (V0801 refused them before): their partition
/// columns are dictionary-encoded, which Ballista carries through a shuffle only by its
/// block transport — over Arrow Flight they come back as plain arrays and the reading
/// operators fail (`ballista.shuffle.remote_read_prefer_flight`) — so every job pins the block
/// transport. With every shuffle read remote, as between machines, and the engine asking for
/// Flight, aggregates, joins, filters, windows and distincts over partition columns (one
/// and two of them) write the rows of a local run.
#[test]
fn partitioned_delta_sources_on_a_cluster_write_the_rows_of_a_local_run() {
    let cluster = start_cluster(2);
    let writer = "version: 1\nsources:\n  big: { format: parquet, path: data/big }\nviews:\n  all:\n    filter: { input: big, predicate: \"id >= 0\" }\noutputs:\n  by_text: { view: all, path: data/by_text, partition_by: [s] }\n  by_text_and_key: { view: all, path: data/by_text_and_key, partition_by: [s, k] }\n";
    let reader = r#"
version: 1
sources:
  p: { format: delta, path: data/by_text }
  q: { format: delta, path: data/by_text_and_key }
views:
  totals:
    aggregate: { input: p, group_by: [s], measures: { total: "sum(v)", n: "count(*)" } }
  totals_by_key:
    aggregate: { input: q, group_by: [s, k], measures: { total: "sum(v)", n: "count(*)" } }
  joined_totals:
    sql: "SELECT a.s, a.n, b.m FROM (SELECT s, count(*) AS n FROM p GROUP BY s) a JOIN (SELECT s, count(*) AS m FROM q GROUP BY s) b ON a.s = b.s"
  joined_rows:
    sql: "SELECT p.s, count(*) AS n FROM p JOIN q ON p.s = q.s AND p.id = q.id GROUP BY p.s"
  filtered:
    sql: "SELECT s, k, count(*) AS n FROM q WHERE s IN ('t1', 't3') AND k <> 2 GROUP BY s, k"
  ranked:
    sql: "SELECT s, id, row_number() OVER (PARTITION BY s ORDER BY id) AS r FROM p WHERE id % 997 = 0"
  pairs:
    sql: "SELECT DISTINCT s, k FROM q"
outputs:
  totals: { view: totals, path: out/totals }
  totals_by_key: { view: totals_by_key, path: out/totals_by_key, partition_by: [s] }
  joined_totals: { view: joined_totals, path: out/joined_totals }
  joined_rows: { view: joined_rows, path: out/joined_rows }
  filtered: { view: filtered, path: out/filtered }
  ranked: { view: ranked, path: out/ranked }
  pairs: { view: pairs, path: out/pairs }
"#;
    let (local, remote) = (project_with_rows(4, 25_000), project_with_rows(4, 25_000));
    for project in [&local, &remote] {
        assert!(run_on(&project.write_spec("writer.yaml", writer), LocalEngine).succeeded());
    }
    let between_machines = cluster
        .engine()
        .with_setting("ballista.shuffle.force_remote_read", "true")
        .with_setting("ballista.shuffle.remote_read_prefer_flight", "true");
    let local_report = run_on(&local.write_spec("reader.yaml", reader), LocalEngine);
    let remote_report = run_on(&remote.write_spec("reader.yaml", reader), between_machines);
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    assert_eq!(remote_report.tasks.len(), 7);
    assert!(
        remote_report.tasks.iter().all(|task| matches!(task.written_by, Some(WrittenBy::Engine { .. }))),
        "{:?}",
        writers(&remote_report)
    );
}

/// `with_write_without_final_merge(true)`: the executors write the partitions of each plan's
/// last stage, without Ballista's stage that merges them into one (an aggregate's coalesce,
/// an `ORDER BY`'s merge; a merge with a `LIMIT` is kept): every table holds the rows of a
/// local run, and an ordered aggregate lands in one file per partition; by default it is
/// written as one file after the merge, with the same rows.
#[test]
fn executors_writing_without_the_final_merge_write_the_rows_of_a_local_run() {
    let cluster = start_cluster(1);
    let (local, remote, merged) = (project_with_rows(4, 50_000), project_with_rows(4, 50_000), project_with_rows(4, 50_000));
    let spec = r#"
version: 1
sources:
  big: { format: parquet, path: data/big }
views:
  sorted:
    sql: "SELECT k, s, sum(v) AS total, count(*) AS n FROM big GROUP BY k, s ORDER BY total DESC, k, s"
  top:
    sql: "SELECT id, v FROM big ORDER BY v DESC, id LIMIT 7"
  grouped:
    sql: "SELECT s, count(*) AS n FROM big GROUP BY s"
outputs:
  sorted: { view: sorted, path: out/sorted }
  top: { view: top, path: out/top }
  grouped: { view: grouped, path: out/grouped }
"#;
    let local_report = run_on(&local.write_spec("spec.yaml", spec), LocalEngine);
    let remote_report = run_on(&remote.write_spec("spec.yaml", spec), cluster.engine().with_write_without_final_merge(true));
    let merged_report = run_on(&merged.write_spec("spec.yaml", spec), cluster.engine());
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    assert_same_tables(local.path(), &local_report, merged.path(), &merged_report);
    for task in ["output:sorted", "output:top", "output:grouped"] {
        assert!(written_by_executors(&remote_report, task), "{task}: {:?}", writers(&remote_report));
    }
    let data_files = |project: &TempProject, table: &str| {
        std::fs::read_dir(project.path().join(table))
            .unwrap()
            .filter(|entry| entry.as_ref().unwrap().path().extension().is_some_and(|extension| extension == "parquet"))
            .count()
    };
    assert!(data_files(&remote, "out/sorted") > 1, "one file per partition, not one merged file");
    assert_eq!(data_files(&merged, "out/sorted"), 1, "one file after the merge");
    assert_eq!(read_delta_rows(&remote.path().join("out/top")).len(), 7, "the limit is kept");
}

/// The executors write a large output's data files themselves, in parallel, and only their
/// add actions come back: the job returns a handful of rows, not the output's 300 000, and
/// the table holds exactly a local run's rows — on a first commit, an overwrite and an
/// append, partitioned or not.
#[test]
fn executors_write_the_data_files_and_only_add_actions_come_back() {
    let cluster = start_cluster(2);
    let spec = r#"
version: 1
sources:
  big: { format: parquet, path: data/big }
views:
  doubled:
    project: { input: big, columns: { id: id, k: k, s: s, twice: "v * 2" } }
outputs:
  executor_written_rows: { view: doubled, path: out/rows }
  executor_written_parts: { view: doubled, path: out/parts, partition_by: [s] }
  executor_written_appends: { view: doubled, path: out/appends, mode: append }
"#;
    let (local, remote) = (project_with_rows(4, 75_000), project_with_rows(4, 75_000));
    let _ = viewdag_ballista::take_finished_jobs();
    for round in 0..2 {
        let local_report = run_on(&local.write_spec("spec.yaml", spec), LocalEngine);
        let options = RunOptions { engine: Some(Arc::new(cluster.engine())), force: true, ..RunOptions::default() };
        let remote_report =
            Compiler::new().unwrap().run_with(&CompileRequest::new(remote.write_spec("spec.yaml", spec)), &options, &mut |_| {}).unwrap();
        if round == 0 {
            assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
        } else {
            for task in &remote_report.tasks {
                assert_eq!(read_delta_rows(&local.path().join(&task.target)), read_delta_rows(&remote.path().join(&task.target)));
            }
        }
        for task in &remote_report.tasks {
            assert!(matches!(task.outcome, TaskOutcome::Written { rows: 300_000, .. }), "{}: {:?}", task.id, task.outcome);
            assert!(written_by_executors(&remote_report, &task.id.to_string()), "{:?}", writers(&remote_report));
        }
    }
    assert_eq!(read_delta_rows(&remote.path().join("out/appends")).len(), 600_000, "two appends");
    assert_eq!(delta_version(&remote.path().join("out/rows")), Some(1), "an overwrite, one commit each");
    assert!(remote.path().join("out/parts/s=t3").is_dir(), "Hive-style partition directories");
    let jobs: Vec<_> = viewdag_ballista::take_finished_jobs()
        .into_iter()
        .filter(|job| job.session_id.ends_with("output:executor_written_rows") && job.session_id.contains(&std::process::id().to_string()))
        .collect();
    assert_eq!(jobs.len(), 2, "one job per run");
    assert!(
        jobs.iter().all(|job| job.rows <= 16),
        "one row per written partition came back, not the rows: {:?}",
        jobs.iter().map(|job| job.rows).collect::<Vec<_>>()
    );
}

/// A job that fails on the executors after some of them wrote their files commits nothing:
/// a first write leaves no table (files without a log), an overwrite leaves the table at its
/// previous version with its previous rows (the failed job's files are in the directory but
/// no log entry names them, so no reader sees them).
#[test]
fn a_failed_write_on_the_executors_commits_nothing() {
    let cluster = start_cluster(2);
    let spec = |divisor: &str| {
        format!(
            "version: 1\nsources:\n  big: {{ format: parquet, path: data/big }}\nviews:\n  ratio:\n    project: {{ input: big, columns: {{ id: id, r: \"k / ({divisor})\" }} }}\noutputs:\n  ratio: {{ view: ratio, path: out/ratio }}\n"
        )
    };
    let failing = "CASE WHEN id = 199999 THEN 0 ELSE 1 END";
    let project = project_with_rows(4, 50_000);
    let table = project.path().join("out/ratio");

    let failed = run_on(&project.write_spec("spec.yaml", &spec(failing)), cluster.engine());
    assert!(
        matches!(&failed.tasks[0].outcome, TaskOutcome::Failed { error } if error.to_string().to_lowercase().contains("dividebyzero")),
        "{:?}",
        failed.tasks
    );
    assert_eq!(delta_version(&table), None, "no commit");

    let written = run_on(&project.write_spec("spec.yaml", &spec("1")), cluster.engine());
    assert!(matches!(written.tasks[0].outcome, TaskOutcome::Written { rows: 200_000, version: 0 }), "{:?}", written.tasks);
    let rows = read_delta_rows(&table);
    let failed = run_on(&project.write_spec("spec.yaml", &spec(failing)), cluster.engine());
    assert!(matches!(&failed.tasks[0].outcome, TaskOutcome::Failed { .. }), "{:?}", failed.tasks);
    assert_eq!(delta_version(&table), Some(0), "the table stays at its version");
    assert_eq!(read_delta_rows(&table), rows, "and its rows");
}

/// A cluster of nodes with Ballista's own codec only (what Ballista's stock
/// `ballista-scheduler`/`ballista-executor` binaries have) cannot decode viewdag's writer
/// node: each task's rows then stream back to the driver, which writes them, and the tables
/// hold a local run's rows.
#[test]
fn a_cluster_without_viewdag_codec_streams_rows_to_the_driver() {
    let cluster = LocalCluster::start_with(Path::new(env!("CARGO_BIN_EXE_viewdag-cli")), 1, &["--ballista-codec"]);
    let (local, remote) = (project_with_rows(2, 10_000), project_with_rows(2, 10_000));
    let spec = "version: 1\nsources:\n  big: { format: parquet, path: data/big }\nviews:\n  by_text:\n    aggregate: { input: big, group_by: [s], measures: { n: \"count(*)\" } }\n  every:\n    filter: { input: big, predicate: \"id >= 0\" }\noutputs:\n  by_text: { view: by_text, path: out/by_text }\n  copy: { view: every, path: out/copy, partition_by: [s] }\n";
    let local_report = run_on(&local.write_spec("spec.yaml", spec), LocalEngine);
    let remote_report = run_on(&remote.write_spec("spec.yaml", spec), cluster.engine());
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    for task in &remote_report.tasks {
        assert!(
            matches!(&task.written_by, Some(WrittenBy::Driver(StreamedBecause::EngineCannotWrite(why))) if why.contains("decode")),
            "{}: {:?}",
            task.id,
            task.written_by
        );
    }
}

/// Issue 21, item 6, on the cluster: the executors write unsigned columns as the types
/// Delta stores (widened, as a local run does), and a `uint64` above the signed range fails
/// the task instead of turning into a NULL.
#[test]
fn executors_write_unsigned_columns_widened_and_refuse_values_that_do_not_fit() {
    let cluster = start_cluster(2);
    let spec = "version: 1\nsources:\n  unsigned: { format: parquet, path: data/unsigned.parquet }\nviews:\n  copied:\n    filter: { input: unsigned, predicate: \"id > 0\" }\noutputs:\n  copied: { view: copied, path: out/copied }\n";
    let (local, remote) = (TempProject::empty(), TempProject::empty());
    for project in [&local, &remote] {
        viewdag_tests::data::write_unsigned_parquet(&project.path().join("data/unsigned.parquet"), i64::MAX as u64);
    }
    let local_report = run_on(&local.write_spec("spec.yaml", spec), LocalEngine);
    let remote_report = run_on(&remote.write_spec("spec.yaml", spec), cluster.engine());
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    assert!(written_by_executors(&remote_report, "output:copied"), "{:?}", writers(&remote_report));
    assert_eq!(
        read_delta_rows(&remote.path().join("out/copied")),
        [format!("1|255|65535|4294967295|{}", i64::MAX), "2|3|4|5|6".to_string()]
    );

    let overflowing = TempProject::empty();
    viewdag_tests::data::write_unsigned_parquet(&overflowing.path().join("data/unsigned.parquet"), u64::MAX);
    let report = run_on(&overflowing.write_spec("spec.yaml", spec), cluster.engine());
    assert!(matches!(report.tasks[0].outcome, TaskOutcome::Failed { .. }), "{:?}", report.tasks);
    assert!(!overflowing.path().join("out/copied/_delta_log").exists(), "nothing committed");
}

/// `viewdag cluster --work-dir DIR --task-slots 1`: the executors' shuffle files go into a
/// directory of the cluster's own under DIR, which is gone once the cluster stopped.
#[test]
fn the_cluster_keeps_its_shuffle_files_in_a_work_directory_of_its_own() {
    let parent = tempfile::tempdir().unwrap();
    let arguments = ["--work-dir", parent.path().to_str().unwrap(), "--task-slots", "1"];
    let mut cluster = LocalCluster::start_with(Path::new(env!("CARGO_BIN_EXE_viewdag-cli")), 1, &arguments);
    let work_dir = parent.path().join(format!("viewdag-cluster-{}", cluster.supervisor.id()));
    assert!(work_dir.join("executor-1").is_dir() || work_dir.is_dir(), "{work_dir:?}");
    let project = project_with_rows(2, 5_000);
    let spec = "version: 1\nsources:\n  big: { format: parquet, path: data/big }\nviews:\n  by_text:\n    aggregate: { input: big, group_by: [s], measures: { n: \"count(*)\" } }\noutputs:\n  by_text: { view: by_text, path: out/by_text }\n";
    let report = run_on(&project.write_spec("spec.yaml", spec), cluster.engine());
    assert!(report.succeeded(), "{:?}", report.tasks);
    let files = |directory: &Path| walk(directory).len();
    assert!(files(&work_dir) > 0, "the shuffle files are in the cluster's work directory");
    assert!(cluster.stop().success());
    assert!(!work_dir.exists(), "removed when the cluster stops");
}

fn walk(directory: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else { return Vec::new() };
    entries.filter_map(Result::ok).flat_map(|entry| if entry.path().is_dir() { walk(&entry.path()) } else { vec![entry.path()] }).collect()
}

/// Expectations checked by the executors as they write (every kind: `not_null`, `unique`,
/// `accepted_values`, `relationships`, `row_count`, and predicates that warn, drop and fail)
/// count exactly what a local run counts: a passing task commits the rows a local run
/// commits (dropped rows left out), a failing one commits nothing, and a task whose two
/// `unique` keys cannot both be checked by partition streams its rows to the driver.
#[test]
fn expectations_checked_on_the_executors_count_what_a_local_run_counts() {
    let cluster = start_cluster(2);
    let spec = r#"
version: 1
sources:
  big: { format: parquet, path: data/big }
views:
  checked:
    project: { input: big, columns: { id: id, k: k, s: s, v: v } }
    expect:
      not_null: [id]
      unique: [id]
      accepted_values: { s: [t0, t1, t2, t3, t4] }
      relationships: { k: { to: big, column: k } }
      small_v: { predicate: "v < 900", on_fail: drop }
      positive_v: { predicate: "v > 0", on_fail: warn }
outputs:
  checked: { view: checked, path: out/checked, partition_by: [s], expect: { row_count: { min: 1 } } }
  failing: { view: checked, path: out/failing, expect: { not_five: { predicate: "v <> 5" } } }
  two_keys: { view: checked, path: out/two_keys, expect: { unique: [k, id] } }
"#;
    let (local, remote) = (project_with_rows(4, 25_000), project_with_rows(4, 25_000));
    let local_report = run_on(&local.write_spec("spec.yaml", spec), LocalEngine);
    let remote_report = run_on(&remote.write_spec("spec.yaml", spec), cluster.engine());
    for (local_task, remote_task) in local_report.tasks.iter().zip(&remote_report.tasks) {
        assert_eq!(local_task.id, remote_task.id);
        assert!(!remote_task.expectations.is_empty(), "{}", remote_task.id);
        assert_eq!(local_task.expectations, remote_task.expectations, "{}", local_task.id);
    }
    let task = |report: &RunReport, id: &str| report.tasks.iter().find(|task| task.id == id).cloned().expect("the task ran");
    let checked = task(&remote_report, "output:checked");
    assert!(matches!(checked.outcome, TaskOutcome::Written { rows: 90_000, .. }), "10% of the rows dropped: {:?}", checked.outcome);
    assert!(written_by_executors(&remote_report, "output:checked"), "{:?}", writers(&remote_report));
    assert_eq!(read_delta_rows(&local.path().join("out/checked")), read_delta_rows(&remote.path().join("out/checked")));
    let failing = task(&remote_report, "output:failing");
    assert!(
        matches!(&failing.outcome, TaskOutcome::Failed { error } if error.to_string().contains("expectations failed, nothing committed")),
        "{:?}",
        failing.outcome
    );
    assert_eq!(delta_version(&remote.path().join("out/failing")), None);
    let two_keys = task(&remote_report, "output:two_keys");
    assert!(matches!(two_keys.written_by, Some(WrittenBy::Driver(StreamedBecause::EngineCannotWrite(_)))), "{:?}", two_keys.written_by);
    assert_eq!(read_delta_rows(&local.path().join("out/two_keys")), read_delta_rows(&remote.path().join("out/two_keys")));
}

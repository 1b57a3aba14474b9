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

fn run_on(spec: &Path, engine: Arc<dyn TaskEngine>) -> RunReport {
    let options = RunOptions { engine: Some(engine), ..RunOptions::default() };
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

/// The shop example (a Delta source, Parquet, CSV, a materialized view, a partitioned
/// output), then a second spec reading an output back as a Delta source, appending twice
/// and writing a partitioned output: the cluster writes what a local run writes, commit for
/// commit. A partitioned Delta source is refused with V0801.
#[test]
fn the_shop_example_on_a_cluster_writes_the_tables_of_a_local_run() {
    let cluster = start_cluster(2);
    let (local, remote) = (TempProject::with_shop_data(), TempProject::with_shop_data());
    let local_spec = local.write_spec("spec.yaml", &shop_spec());
    let remote_spec = remote.write_spec("spec.yaml", &shop_spec());
    let local_report = run_on(&local_spec, Arc::new(LocalEngine));
    let remote_report = run_on(&remote_spec, cluster.engine());
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    assert!(!read_delta_rows(&remote.path().join("out/largest_orders")).is_empty());
    assert!(
        remote.path().join("out/largest_orders/region=north").is_dir() || remote.path().join("out/largest_orders/region=south").is_dir()
    );

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
        let local_report = run_on(&local.write_spec("follow_up.yaml", follow_up), Arc::new(LocalEngine));
        let remote_report = run_on(&remote.write_spec("follow_up.yaml", follow_up), cluster.engine());
        assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    }
    assert_eq!(delta_version(&remote.path().join("out/big_regions")), Some(1), "two appends, two commits");

    // A partitioned Delta source is refused on the cluster (V0801), and nothing is written.
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
    let refused = run_on(&remote.write_spec("partitioned.yaml", partitioned), cluster.engine());
    assert!(
        matches!(&refused.tasks[0].outcome, TaskOutcome::Failed { error }
            if error.to_string().contains("partition column `region`") && error.code().map(|code| code.id()) == Some("V0801")),
        "{:?}",
        refused.tasks
    );
    assert!(refused.compile.diagnostics.iter().any(|diagnostic| diagnostic.code.id() == "V0801"), "{:?}", refused.compile.diagnostics);
    assert_eq!(delta_version(&remote.path().join("out/totals")), None);
}

/// Generated specs (the property harness's generator: Delta, Parquet and CSV sources,
/// every transform, materialized views) on the cluster and locally.
#[test]
fn generated_specs_on_a_cluster_write_the_tables_of_local_runs() {
    let cluster = start_cluster(2);
    for seed in [3, 11, 29, 47] {
        let project = GeneratedProject::generate(seed, 6);
        let (local, remote) = (TempProject::empty(), TempProject::empty());
        let local_report = run_on(&project.write(local.path()), Arc::new(LocalEngine));
        let remote_report = run_on(&project.write(remote.path()), cluster.engine());
        assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    }
}

/// No scheduler listens: every task fails with an error that says so, nothing is
/// committed, and the run still reports every task.
#[test]
fn an_unreachable_scheduler_fails_every_task_and_writes_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nobody = Arc::new(BallistaEngine::new(SchedulerAddress::parse(&format!("df://127.0.0.1:{port}")).unwrap()));
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
    let local_report = run_on(&local.path().join("spec.yaml"), Arc::new(LocalEngine));
    let remote_report = run_on(&remote.path().join("spec.yaml"), cluster.engine());
    assert_same_tables(local.path(), &local_report, remote.path(), &remote_report);
    assert_eq!(remote_report.tasks.len(), 22);

    let executors = cluster.executor_pids.clone();
    assert!(executors.iter().all(|&pid| is_running(pid)));
    assert!(cluster.stop().success());
    assert!(executors.iter().all(|&pid| !is_running(pid)), "every executor stopped with the cluster");
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
    let report = Compiler::new()
        .unwrap()
        .run_with(&CompileRequest::new(&spec), &options, &mut |progress| {
            if let viewdag_driver::Progress::Started { .. } = progress {
                let victim = victim.to_string();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(1500));
                    let _ = Command::new("kill").args(["-KILL", &victim]).status();
                });
            }
        })
        .expect("readable");
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

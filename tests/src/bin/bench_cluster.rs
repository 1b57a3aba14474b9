//! Local vs Ballista benchmark: TPC-H's 22 queries as views (22 outputs) over TPC-H data at a
//! scale factor (default SF1, `tpchgen`'s rows; `lineitem` a Delta table, the rest Parquet),
//! run in ONE process locally, then on local Ballista clusters (each `viewdag-cli cluster`,
//! processes started and stopped by this binary), side by side in one run.
//!
//! ```sh
//! cargo build --release -p viewdag-tests --bin viewdag-cli --bin bench-cluster
//! target/release/bench-cluster 1                 # SF1: local, 1 executor, 2 executors
//! target/release/bench-cluster 1 --ablation      # … and what each of viewdag's choices buys
//! target/release/bench-cluster 1 --configurations local,1x,1x-before
//! target/release/bench-cluster 1 --configurations local,1x,2x,1x-no-final-merge,2x-no-final-merge,1x-partitions1-jobs3
//! target/release/bench-cluster 1 --configurations local,1x --setting ballista.shuffle.compression.codec=none --jobs 4
//! ```
//!
//! By default: local, 1 and 2 executors, and 1 executor with DataFusion's broadcast
//! thresholds (the cluster plans before viewdag broadcast small join sides).
//!
//! Every configuration runs `run --force` once on the same project after one compile.
//! Printed per configuration: the run's wall time, its ratio to local, the tasks written or
//! failed (and by whom: the executors or the driver), and where the time went, summed over
//! the tasks, measured as it happened: building the cluster plans, submitting the jobs, the
//! jobs executing (the wall time some stage ran, the rest being scheduling between stages;
//! inside the stages the operators' compute, the shuffle writes and reads, from the
//! scheduler's job metrics), fetching the jobs' results, and the rest of each task after its
//! last result row (the Delta commit; for a task whose rows streamed back, closing its files
//! too). A cluster task whose row count differs from the local run's is listed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use viewdag_ballista::{BallistaEngine, JobPhases, record_stage_figures, take_finished_jobs};
use viewdag_driver::execute::WrittenBy;
use viewdag_driver::{CompileRequest, Compiler, LocalEngine, Progress, RunOptions, RunReport, TaskEngine, TaskOutcome};
use viewdag_tests::local_cluster::LocalCluster;
use viewdag_tests::tpch::spec_yaml_with_delta_tables;
use viewdag_tests::tpch_data::{DELTA_TABLES, write_tables};

/// A cluster task may take this long before it is cancelled (far above any SF1 query).
const TASK_TIMEOUT: Duration = Duration::from_secs(1800);

/// One way to run the 22 tasks.
struct Configuration {
    name: &'static str,
    what: &'static str,
    /// `None`: locally. Else the cluster's executors and `viewdag cluster` arguments.
    cluster: Option<(usize, Vec<String>)>,
    /// Session settings sent with every job.
    settings: Vec<(&'static str, &'static str)>,
    /// Tasks at once (`run --jobs`; default: the number of CPUs).
    jobs: Option<usize>,
    /// The executors write each task's files without its plan's final merge.
    without_final_merge: bool,
}

fn configurations(temporary: &Path) -> Vec<Configuration> {
    let on_disk = || vec!["--work-dir".to_string(), temporary.to_string_lossy().into_owned()];
    let local = |name, what, jobs| Configuration { name, what, cluster: None, settings: vec![], jobs, without_final_merge: false };
    let cluster = |name, what, executors, arguments: Vec<String>, settings, jobs| Configuration {
        name,
        what,
        cluster: Some((executors, arguments)),
        settings,
        jobs,
        without_final_merge: false,
    };
    vec![
        local("local", "this process", None),
        cluster("1x", "1 executor", 1, vec![], vec![], None),
        cluster("2x", "2 executors", 2, vec![], vec![], None),
        cluster(
            "1x-before",
            "1 executor as before this issue: shuffle files on disk, rows streamed to the driver",
            1,
            [on_disk(), vec!["--ballista-codec".to_string()]].concat(),
            vec![],
            None,
        ),
        cluster("1x-disk", "1 executor, shuffle files on disk", 1, on_disk(), vec![], None),
        cluster("1x-streamed", "1 executor, rows streamed to the driver", 1, vec!["--ballista-codec".to_string()], vec![], None),
        cluster("1x-jobs1", "1 executor, one task at a time", 1, vec![], vec![], Some(1)),
        cluster("1x-jobs4", "1 executor, four tasks at a time", 1, vec![], vec![], Some(4)),
        cluster("1x-slots1", "1 executor with one task slot", 1, vec!["--task-slots".to_string(), "1".to_string()], vec![], None),
        cluster("1x-slots4", "1 executor with four task slots", 1, vec!["--task-slots".to_string(), "4".to_string()], vec![], None),
        cluster(
            "1x-slots4-jobs4",
            "1 executor with four task slots, four tasks at a time",
            1,
            vec!["--task-slots".to_string(), "4".to_string()],
            vec![],
            Some(4),
        ),
        cluster(
            "1x-partitions2",
            "1 executor, 2 partitions per shuffle",
            1,
            vec![],
            vec![("datafusion.execution.target_partitions", "2")],
            None,
        ),
        cluster(
            "1x-partitions1",
            "1 executor, 1 partition per shuffle (no repartitions)",
            1,
            vec![],
            vec![("datafusion.execution.target_partitions", "1")],
            None,
        ),
        cluster(
            "1x-partitions1-jobs1",
            "1 executor, 1 partition per shuffle, one task at a time",
            1,
            vec![],
            vec![("datafusion.execution.target_partitions", "1")],
            Some(1),
        ),
        cluster(
            "1x-partitions1-jobs3",
            "1 executor, 1 partition per shuffle, three tasks at a time",
            1,
            vec![],
            vec![("datafusion.execution.target_partitions", "1")],
            Some(3),
        ),
        cluster("1x-jobs3", "1 executor, three tasks at a time", 1, vec![], vec![], Some(3)),
        Configuration {
            without_final_merge: true,
            ..cluster("1x-no-final-merge", "1 executor writing each task's files without its final merge stage", 1, vec![], vec![], None)
        },
        Configuration {
            without_final_merge: true,
            ..cluster("2x-no-final-merge", "2 executors writing each task's files without its final merge stage", 2, vec![], vec![], None)
        },
        cluster(
            "1x-uncompressed",
            "1 executor, uncompressed shuffle files",
            1,
            vec![],
            vec![("ballista.shuffle.compression.codec", "none")],
            None,
        ),
        cluster("1x-static", "1 executor, static stage planning", 1, vec![], vec![("ballista.planner.adaptive.enabled", "false")], None),
        cluster("1x-no-broadcast", "1 executor, DataFusion's broadcast thresholds (before session 5)", 1, vec![], no_broadcast(), None),
        cluster("2x-no-broadcast", "2 executors, DataFusion's broadcast thresholds (before session 5)", 2, vec![], no_broadcast(), None),
        cluster(
            "1x-coalesce",
            "1 executor, Ballista's adaptive coalescing of small shuffle partitions",
            1,
            vec![],
            vec![("ballista.planner.coalesce.enabled", "true")],
            None,
        ),
    ]
}

/// The settings of the cluster jobs before viewdag broadcast small join sides by default:
/// DataFusion's own thresholds (1 MiB, 128 Ki rows).
fn no_broadcast() -> Vec<(&'static str, &'static str)> {
    vec![
        ("datafusion.optimizer.hash_join_single_partition_threshold", "1048576"),
        ("datafusion.optimizer.hash_join_single_partition_threshold_rows", "131072"),
    ]
}

/// One configuration's measured run.
struct Measured {
    name: String,
    seconds: f64,
    report: RunReport,
    /// Per task: when the driver reported it finished (after its commit).
    finished_at: BTreeMap<String, Instant>,
}

fn run(spec: &Path, engine: Arc<dyn TaskEngine>, name: &str, jobs: Option<usize>) -> Measured {
    let mut compiler = Compiler::new().expect("a compiler");
    let compiled = Instant::now();
    let response = compiler.compile(&CompileRequest::new(spec)).expect("the spec reads");
    assert!(!response.has_errors(), "{:?}", response.diagnostics);
    println!("{name}: compile {:.3} s", compiled.elapsed().as_secs_f64());
    let defaults = RunOptions::default();
    let options = RunOptions { force: true, engine: Some(engine), jobs: jobs.unwrap_or(defaults.jobs), ..defaults };
    let mut finished_at = BTreeMap::new();
    let _ = take_finished_jobs();
    let start = Instant::now();
    let report = compiler
        .run_with(&CompileRequest::new(spec), &options, &mut |progress| {
            if let Progress::Finished { report, .. } = progress {
                finished_at.insert(report.id.to_string(), Instant::now());
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
            (task.id.to_string(), rows)
        })
        .collect()
}

fn print_summary(measured: &Measured, local: Option<&Measured>) {
    let written = measured.report.tasks.iter().filter(|task| matches!(task.outcome, TaskOutcome::Written { .. })).count();
    let by_engine = measured.report.tasks.iter().filter(|task| matches!(task.written_by, Some(WrittenBy::Engine { .. }))).count();
    let failed: Vec<String> = measured
        .report
        .tasks
        .iter()
        .filter(|task| matches!(task.outcome, TaskOutcome::Failed { .. }))
        .map(|task| task.id.to_string())
        .collect();
    let ratio = local.map(|local| format!(" ratio_to_local={:.2}x", measured.seconds / local.seconds)).unwrap_or_default();
    println!(
        "{}: run {:.3} s{ratio} written={written} (data files by the executors: {by_engine}) failed={failed:?}",
        measured.name, measured.seconds
    );
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
    let seconds = |pick: &dyn Fn(&JobPhases) -> Duration| -> f64 { jobs.iter().map(|job| pick(job).as_secs_f64()).sum() };
    let stage = |pick: &dyn Fn(&viewdag_ballista::StageFigures) -> Duration| -> f64 {
        jobs.iter().filter_map(|job| job.stages.as_ref()).map(|stages| pick(stages).as_secs_f64()).sum()
    };
    let after_last_row: f64 = jobs
        .iter()
        .filter_map(|job| {
            let task = job.session_id.splitn(3, '-').nth(2)?;
            let finished = measured.finished_at.get(task)?;
            Some(finished.saturating_duration_since(job.streamed_until).as_secs_f64())
        })
        .sum();
    let rows: usize = jobs.iter().map(|job| job.rows).sum();
    let stages: usize = jobs.iter().filter_map(|job| job.stages.as_ref()).map(|stages| stages.stages).sum();
    let tasks: usize = jobs.iter().filter_map(|job| job.stages.as_ref()).map(|stages| stages.tasks).sum();
    let shuffled: u64 = jobs.iter().filter_map(|job| job.stages.as_ref()).map(|stages| stages.shuffle_bytes).sum();
    let busy = stage(&|stages| stages.busy);
    println!(
        "  phases over {} jobs ({stages} stages, {tasks} stage tasks): cluster_planning={:.3} s submission={:.3} s execution={:.3} s (scheduler: {:.3} s; stages running {busy:.3} s, scheduling between stages {:.3} s) result_fetch={:.3} s ({rows} rows) after_last_row_commit={after_last_row:.3} s",
        jobs.len(),
        seconds(&|job| job.planning),
        seconds(&|job| job.submission),
        seconds(&|job| job.execution),
        seconds(&|job| job.execution_on_scheduler),
        (seconds(&|job| job.execution) - busy).max(0.0),
        seconds(&|job| job.fetching),
    );
    println!(
        "  inside the stages, summed over stage tasks: operators' compute={:.3} s shuffle_write={:.3} s shuffle_read={:.3} s ({:.0} MB read)",
        stage(&|stages| stages.compute),
        stage(&|stages| stages.shuffle_write),
        stage(&|stages| stages.shuffle_read),
        shuffled as f64 / 1e6,
    );
}

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let scale_factor: f64 = arguments.first().and_then(|argument| argument.parse().ok()).unwrap_or(1.0);
    let ablation = arguments.iter().any(|argument| argument == "--ablation");
    let chosen: Option<Vec<String>> = arguments
        .iter()
        .position(|argument| argument == "--configurations")
        .and_then(|index| arguments.get(index + 1))
        .map(|names| names.split(',').map(str::to_string).collect());
    // `--setting KEY=VALUE` (repeatable): added to every cluster configuration's settings
    // (after its own), to try a setting without a rebuild; `--jobs N`: tasks at once in every
    // configuration that does not fix its own.
    let extra_settings: Vec<(String, String)> = arguments
        .windows(2)
        .filter(|pair| pair[0] == "--setting")
        .map(|pair| {
            let (key, value) = pair[1].split_once('=').unwrap_or_else(|| panic!("`--setting {}` is not KEY=VALUE", pair[1]));
            (key.to_string(), value.to_string())
        })
        .collect();
    let jobs: Option<usize> = arguments
        .windows(2)
        .find(|pair| pair[0] == "--jobs")
        .map(|pair| pair[1].parse().unwrap_or_else(|_| panic!("`--jobs {}` is not a number", pair[1])));
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
    record_stage_figures(true);

    let configurations = configurations(&std::env::temp_dir());
    let wanted = |configuration: &Configuration| match &chosen {
        Some(names) => names.iter().any(|name| name == configuration.name),
        None => ablation || ["local", "1x", "2x", "1x-no-broadcast"].contains(&configuration.name),
    };
    let mut local: Option<Measured> = None;
    for configuration in configurations.iter().filter(|configuration| wanted(configuration)) {
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!(
            "-- {} ({}); load average {}",
            configuration.name,
            configuration.what,
            load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        );
        let Some((executors, cluster_arguments)) = &configuration.cluster else {
            let measured = run(&spec, Arc::new(LocalEngine), configuration.name, configuration.jobs.or(jobs));
            print_summary(&measured, None);
            let _ = take_finished_jobs();
            local = Some(measured);
            continue;
        };
        let arguments: Vec<&str> = cluster_arguments.iter().map(String::as_str).collect();
        let cluster = LocalCluster::start_with(&sibling_executable("viewdag-cli"), *executors, &arguments);
        let mut engine = BallistaEngine::new(cluster.scheduler.clone())
            .with_task_timeout(TASK_TIMEOUT)
            .with_write_without_final_merge(configuration.without_final_merge);
        for (key, value) in &configuration.settings {
            engine = engine.with_setting(key, value);
        }
        for (key, value) in &extra_settings {
            engine = engine.with_setting(key, value);
        }
        let measured = run(&spec, Arc::new(engine), configuration.name, configuration.jobs.or(jobs));
        print_summary(&measured, local.as_ref());
        print_phases(&measured);
        drop(cluster);
    }
}

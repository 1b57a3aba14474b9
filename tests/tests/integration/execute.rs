//! The task executor (`viewdag_driver::execute`): a panic fails only its task, readers of a
//! failed task are told, concurrency stays within `jobs`, reports come in task order; and the
//! two sinks agree: `lab`'s in-memory rows equal the rows `run` commits, in the one canonical
//! row form, also when a rulepack runs twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use viewdag_driver::execute::{Decision, Schedule, TaskDriver, TaskError, TaskEvent, TaskExecution, execute};
use viewdag_driver::viewdag_schedule::{Task, TaskId, TaskKind};
use viewdag_driver::{CompileRequest, Compiler, RunOptions};
use viewdag_tests::data::read_delta_rows;

use crate::support::{TempProject, shop_spec};

/// A driver whose executions sleep, count how many run at once, and panic for view `b`.
#[derive(Default)]
struct Probe {
    running: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
}

impl TaskDriver for Probe {
    type Ready = ();
    type Ending = String;
    type Output = String;
    type Report = Result<String, String>;

    fn decide(&mut self, _task: &Task, failed_read: Option<&TaskId>) -> Decision<(), String> {
        match failed_read {
            Some(read) => Decision::End(format!("skipped: {read} failed")),
            None => Decision::Execute(()),
        }
    }

    fn prepare(&mut self, task: &Task, _ready: ()) -> Result<TaskExecution<String>, String> {
        let (running, most_at_once, view) = (Arc::clone(&self.running), Arc::clone(&self.most_at_once), task.view.clone());
        Ok(Box::pin(async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most_at_once.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(100));
            running.fetch_sub(1, Ordering::SeqCst);
            if view == "b" {
                panic!("b broke");
            }
            Ok(format!("{view} done"))
        }))
    }

    fn ended(&mut self, _task: &Task, ending: String, _elapsed: Duration) -> Result<String, String> {
        Err(ending)
    }

    fn executed(&mut self, _task: &Task, result: Result<String, TaskError>, _elapsed: Duration) -> Result<String, String> {
        result.map_err(|error| error.to_string())
    }

    fn never_ran(&self, _task: &Task) -> String {
        "never ran".to_string()
    }

    fn completed(report: &Result<String, String>) -> bool {
        report.is_ok()
    }
}

fn task(view: &str, reads: &[&str], wave: usize) -> Task {
    Task {
        id: TaskId::View(view.to_string()),
        view: view.to_string(),
        kind: TaskKind::Materialize,
        reads: reads.iter().map(|read| TaskId::View(read.to_string())).collect(),
        wave,
    }
}

#[test]
fn a_panicking_task_fails_alone_its_readers_are_skipped_and_jobs_bound_concurrency() {
    let tasks = [task("a", &[], 0), task("b", &[], 0), task("c", &["b"], 1), task("d", &["a"], 1), task("e", &[], 0)];
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let costs = BTreeMap::new();
    let mut probe = Probe::default();
    let (mut started, mut finished) = (Vec::new(), Vec::new());
    let schedule = Schedule { tasks: &tasks, costs: &costs, jobs: 2, failed: BTreeSet::new() };
    let reports = execute(&runtime, schedule, &mut probe, &mut |event| match event {
        TaskEvent::Started { task, .. } => started.push(task.view.clone()),
        TaskEvent::Finished { index, total, .. } => finished.push((index, total)),
    });
    assert_eq!(reports.len(), 5, "one report per task");
    assert_eq!(reports[0], Ok("a done".to_string()));
    assert_eq!(reports[1], Err("executing `b` panicked: b broke".to_string()), "the panic is the task's error");
    assert_eq!(reports[2], Err("skipped: view:b failed".to_string()), "the reader of the failed task is told");
    assert_eq!(reports[3], Ok("d done".to_string()), "an unrelated reader runs");
    assert_eq!(reports[4], Ok("e done".to_string()));
    started.sort();
    assert_eq!(started, ["a", "b", "d", "e"], "`Started` only for tasks that execute");
    assert_eq!(finished, (0..5).map(|index| (index, 5)).collect::<Vec<_>>(), "`Finished` counts up once per task");
    assert_eq!(probe.most_at_once.load(Ordering::SeqCst), 2, "two jobs run at once, never more");
}

#[test]
fn tasks_known_to_have_failed_skip_their_readers_from_the_start() {
    let tasks = [task("c", &["b"], 1), task("e", &[], 0)];
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let costs = BTreeMap::new();
    let schedule = Schedule { tasks: &tasks, costs: &costs, jobs: 1, failed: BTreeSet::from([TaskId::View("b".to_string())]) };
    let reports = execute(&runtime, schedule, &mut Probe::default(), &mut |_| {});
    assert_eq!(reports, [Err("skipped: view:b failed".to_string()), Ok("e done".to_string())]);
}

#[test]
fn lab_rows_in_memory_equal_the_rows_run_commits_also_when_a_rulepack_runs_twice() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).expect("the spec is readable");
    assert!(report.succeeded(), "{:?} {:?}", report.tasks, report.errors);
    let rulepacks = ["default", "none", "default"].map(String::from);
    let lab = viewdag_driver::run_lab(&spec, &rulepacks).expect("the lab runs");
    assert!(lab.mismatches.is_empty(), "{:?}", lab.mismatches);
    // Outputs without `partition_by` (Delta moves partition columns last) and the
    // materialized view, which its readers scan from memory in the lab.
    let committed = [
        ("revenue", "out/revenue"),
        ("top_regions", "out/top_regions"),
        ("labels", "out/labels"),
        ("(materialize enriched)", ".viewdag/tables/enriched"),
    ];
    for rulepack in &lab.rulepacks {
        for (output, path) in committed {
            let result = rulepack.outputs.iter().find(|result| result.output == output).unwrap_or_else(|| panic!("{output} in the lab"));
            let rows = result.rows.as_ref().unwrap_or_else(|| panic!("{output} under {}: {:?}", rulepack.rulepack, result.error));
            assert!(!rows.is_empty(), "{output} has rows");
            assert_eq!(rows, &read_delta_rows(&project.path().join(path)), "{output} under {}", rulepack.rulepack);
        }
    }
    // The readers of the materialized view ran on the in-memory rows of their own run.
    let largest: Vec<_> = lab
        .rulepacks
        .iter()
        .map(|rulepack| rulepack.outputs.iter().find(|result| result.output == "largest_orders").unwrap().rows.clone())
        .collect();
    assert!(largest[0].as_ref().is_some_and(|rows| rows.len() == 3), "{largest:?}");
    assert!(largest.iter().all(|rows| rows == &largest[0]), "{largest:?}");
}

#[test]
fn a_failed_task_carries_its_code_into_the_run_report_json() {
    use viewdag_driver::{AuditSummary, TaskOutcome, TaskReport};
    let report = |error: TaskError| TaskReport {
        id: TaskId::Output("revenue".into()),
        view: "revenue_by_region".into(),
        target: "out/revenue".into(),
        outcome: TaskOutcome::Failed { error },
        elapsed: Duration::ZERO,
        audits: AuditSummary::default(),
        expectations: Vec::new(),
        merged: None,
        written_by: None,
        refresh: None,
        schema_replaced: false,
    };
    let conflict = TaskError::CommitConflict { table: "out/revenue".into(), cause: "version 3 exists".into() };
    assert_eq!(conflict.code(), Some(viewdag_ir::Code::CommitConflict));
    let json = viewdag_driver::run_report::task_json(&report(conflict.clone()));
    assert_eq!(json["outcome"]["status"], "failed");
    assert_eq!(json["outcome"]["code"], "V0902");
    assert_eq!(json["outcome"]["message"], conflict.to_string());
    assert!(conflict.to_string().starts_with("error[V0902]: ") && conflict.to_string().contains("nothing of this task was committed"));
    let uncoded = viewdag_driver::run_report::task_json(&report(TaskError::Execution("Divide by zero".into())));
    assert_eq!(uncoded["outcome"]["message"], "Divide by zero");
    assert!(uncoded["outcome"].get("code").is_none(), "{uncoded}");
    // Progress counters are padded to the total's width, so the task column stays in place.
    let failed = report(TaskError::Execution("Divide by zero".into()));
    let line = |index: usize| {
        let progress = viewdag_driver::run::Progress::Finished { report: &failed, index, total: 13 };
        viewdag_driver::run_report::progress_lines(&progress).remove(0)
    };
    assert!(line(8).starts_with("[ 9/13] output:revenue "), "{}", line(8));
    assert!(line(9).starts_with("[10/13] output:revenue "), "{}", line(9));
    assert_eq!(line(8).find("FAILED"), line(9).find("FAILED"));
}

#[test]
fn the_run_report_document_round_trips_and_a_newer_one_is_refused() {
    use viewdag_driver::run_report::{RUN_REPORT_SCHEMA_VERSION, RunReportDocument, RunReportReadError};
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let report =
        Compiler::new().unwrap().run_with(&CompileRequest::new(&spec), &RunOptions::default(), &mut |_| {}).expect("the spec is readable");
    assert!(report.succeeded(), "{:?}", report.tasks);
    let document = RunReportDocument::of(&report);
    assert_eq!(document.schema_version, RUN_REPORT_SCHEMA_VERSION);
    assert_eq!(document.tasks.len(), report.tasks.len());
    let text = serde_json::to_string_pretty(&document).unwrap();
    assert_eq!(RunReportDocument::read(&text).unwrap(), document);
    let first = &report.tasks[0];
    assert_eq!(document.task(&first.id.to_string()).map(|task| task.view.as_str()), Some(first.view.as_str()));
    let newer = text.replacen(&format!("\"schema_version\": {RUN_REPORT_SCHEMA_VERSION}"), "\"schema_version\": 99", 1);
    assert!(matches!(RunReportDocument::read(&newer), Err(RunReportReadError::Newer { found: 99 })));
    assert!(matches!(RunReportDocument::read("{\"schema_version\": 1}"), Err(RunReportReadError::Invalid(_))));
}

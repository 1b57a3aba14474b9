//! A run killed during an incremental refresh (issue 22) resumes like any run: the real
//! `viewdag` binary, killed with SIGKILL while a task writes its increment (an incremental
//! append of a materialized filter; an incremental merge of a grouped aggregate into an
//! output), and the narrowest window made exactly (both commits landed, the run state not
//! saved): the next run leaves every table equal to a full recompute of the same data — no
//! row appended twice, no group merged twice.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use viewdag_driver::refresh::RefreshSummary;
use viewdag_driver::run_state::{RecordedTask, RunState};
use viewdag_driver::viewdag_schedule::TaskId;
use viewdag_driver::{CompileRequest, Compiler, RunOptions, RunReport, TaskOutcome};
use viewdag_tests::data::{append_delta_table, delta_version, read_delta_rows, write_delta_table};

use crate::support::{TempProject, copy_tree};

/// A filter materialized as a table (refreshed by appends) and a grouped aggregate over it
/// written to an output (refreshed by merges).
const SPEC: &str = r#"version: 1
sources:
  events: { format: delta, path: data/events }
views:
  big:
    filter: { input: events, predicate: "v >= 10" }
    materialize: table
  per_key:
    aggregate: { input: big, group_by: [k], measures: { total: "sum(v)", n: "count(*)", top: "max(v)" } }
outputs:
  totals: { view: per_key, path: out/totals }
"#;

/// The tables the project's tasks write.
const TABLES: [&str; 2] = [".viewdag/tables/big", "out/totals"];

/// Rows `ids` of `events(id, k, v)`: 4 000 keys, values 0–99 (sums are exact).
fn events(ids: std::ops::Range<i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k", DataType::Int64, false),
        Field::new("v", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.clone().collect::<Vec<_>>())),
        Arc::new(Int64Array::from(ids.clone().map(|id| id * 7 % 4_000).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(ids.map(|id| (id * 13 % 100) as f64).collect::<Vec<_>>())),
    ];
    RecordBatch::try_new(schema, columns).expect("a valid batch")
}

fn run(project: &Path) -> RunReport {
    let options = RunOptions { jobs: 1, ..RunOptions::default() };
    let report = Compiler::new().unwrap().run_with(&CompileRequest::new(project.join("spec.yaml")), &options, &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?} {:?}", report.tasks, report.errors);
    report
}

fn tables(project: &Path) -> Vec<Vec<String>> {
    TABLES.iter().map(|table| read_delta_rows(&project.join(table))).collect()
}

/// A project refreshed once, whose source then gained 60 000 rows: its next run refreshes
/// `big` by an append and `totals` by a merge.
fn appended_project() -> TempProject {
    let project = TempProject::empty();
    write_delta_table(&project.path().join("data/events"), vec![events(0..20_000)]);
    project.write_spec("spec.yaml", SPEC);
    run(project.path());
    append_delta_table(&project.path().join("data/events"), vec![events(20_000..80_000)]);
    project
}

/// Every table as a full recompute over `project`'s sources writes it (a fresh project).
fn full_recompute(project: &Path) -> Vec<Vec<String>> {
    let scratch = TempProject::empty();
    copy_tree(&project.join("data"), &scratch.path().join("data"));
    scratch.write_spec("spec.yaml", SPEC);
    run(scratch.path());
    tables(scratch.path())
}

fn refresh_of<'a>(report: &'a RunReport, id: &str) -> (&'a TaskOutcome, Option<&'a RefreshSummary>) {
    let task = report.tasks.iter().find(|task| task.id == id).unwrap_or_else(|| panic!("no task {id}"));
    (&task.outcome, task.refresh.as_ref())
}

/// Where a kill landed for the task being killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Landed {
    /// Before its commit: the table is at its old version.
    BeforeCommit,
    /// After its commit.
    AfterCommit,
    /// Too late: the run had finished.
    RunFinished,
}

/// Copies `prepared` and runs the `viewdag` binary on the copy, killing it `delay` after
/// `task` reports it started; then runs again and checks every table against `expected`.
fn kill_and_resume(prepared: &Path, task: &str, table: &str, delay: Duration, expected: &[Vec<String>]) -> Landed {
    let project = TempProject::empty();
    copy_tree(prepared, project.path());
    let before = delta_version(&project.path().join(table));
    let mut child = Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
        .args(["run", "--jobs", "1"])
        .arg(project.path().join("spec.yaml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("viewdag runs");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let started = lines.by_ref().map_while(Result::ok).any(|line| line.contains(task) && line.ends_with("started"));
    assert!(started, "{task} never started");
    std::thread::sleep(delay);
    child.kill().expect("the run is killed");
    let exited = child.wait().unwrap().success();
    // The kill can land after the run saved its state complete, before the process exited:
    // that run had finished. A run that exited by itself always saved its state complete.
    let finished = RunState::load(project.path()).complete;
    assert!(finished || !exited, "a run that exited by itself left its state in progress");
    let after_kill = delta_version(&project.path().join(table));
    let landed = match (finished, after_kill == before) {
        (true, _) => Landed::RunFinished,
        (false, true) => Landed::BeforeCommit,
        (false, false) => Landed::AfterCommit,
    };
    assert!(after_kill.unwrap_or(0) <= before.unwrap_or(0) + 1, "{task}: one commit at most: {before:?} → {after_kill:?}");

    let resumed = run(project.path());
    let (outcome, refresh) = refresh_of(&resumed, task);
    match landed {
        // Nothing committed: the same increment is derived again.
        Landed::BeforeCommit => {
            assert!(
                matches!(refresh, Some(RefreshSummary::Incremental { .. })),
                "{task} after a kill before its commit: {outcome:?} {refresh:?}"
            )
        }
        // Committed, record unsaved or saved: the commit is the refresh.
        Landed::AfterCommit | Landed::RunFinished => {
            assert!(matches!(outcome, TaskOutcome::UpToDate { .. }), "{task} after its commit: {outcome:?} {refresh:?}")
        }
    }
    assert_eq!(tables(project.path()), expected, "{task} killed {delay:?} after it started ({landed:?})");
    landed
}

#[test]
fn a_run_killed_during_an_incremental_append_or_merge_resumes_to_the_full_recompute() {
    let prepared = appended_project();
    let expected = full_recompute(prepared.path());
    for (task, table) in [("view:big", ".viewdag/tables/big"), ("output:totals", "out/totals")] {
        let landed: Vec<Landed> = [0, 30, 120]
            .into_iter()
            .map(|millis| kill_and_resume(prepared.path(), task, table, Duration::from_millis(millis), &expected))
            .collect();
        // At least the kill right after the task started lands during its write.
        assert_eq!(landed[0], Landed::BeforeCommit, "{task}: {landed:?}");
    }
}

/// The narrowest window, made exactly: both increments committed (the append and the merge),
/// then the process died before the run state recorded either — the state holds the
/// pending records saved before the commits. The resumed run finds its own commits (their
/// `txn`) and records them: nothing is appended or merged a second time.
#[test]
fn increments_committed_before_the_state_was_saved_are_not_applied_again() {
    let project = appended_project();
    let before = RunState::load(project.path());
    let report = run(project.path());
    for id in ["view:big", "output:totals"] {
        assert!(matches!(refresh_of(&report, id).1, Some(RefreshSummary::Incremental { .. })), "{id}: {:?}", refresh_of(&report, id));
    }
    let versions: Vec<Option<u64>> = TABLES.iter().map(|table| delta_version(&project.path().join(table))).collect();
    let written = tables(project.path());
    // As if killed right after the second commit, before any save of the state.
    let mut state = RunState::load(project.path());
    state.complete = false;
    for id in [TaskId::View("big".to_string()), TaskId::Output("totals".to_string())] {
        let committed = state.tasks[&id].clone();
        let previous = before.tasks[&id].clone();
        state.pending.insert(id.clone(), RecordedTask { version: previous.version, ..committed });
        state.tasks.insert(id, previous);
    }
    state.save(project.path()).unwrap();

    let resumed = run(project.path());
    for id in ["view:big", "output:totals"] {
        assert!(matches!(refresh_of(&resumed, id).0, TaskOutcome::UpToDate { .. }), "{id}: {:?}", refresh_of(&resumed, id));
    }
    assert_eq!(TABLES.iter().map(|table| delta_version(&project.path().join(table))).collect::<Vec<_>>(), versions, "no commit");
    assert_eq!(tables(project.path()), written);
    assert_eq!(written, full_recompute(project.path()), "the increments equal a full recompute");
    assert!(RunState::load(project.path()).complete);
}

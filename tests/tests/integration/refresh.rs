//! Incremental refresh on real Delta tables, Parquet and CSV files (issue 22), and what a
//! task's "up to date" rests on (issue 21 items 1 and 3): a file source's identity follows
//! its contents (size and modification time), and a task is up to date only while every
//! relation it read is still at the identity its record holds.
//!
//! Every incremental run here is checked against a full recompute of the same spec over the
//! same data (`--force` on the same project): the same rows, whatever path was taken.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use viewdag_driver::refresh::{PlannedAction, RefreshPlan, RefreshSummary};
use viewdag_driver::{CompileRequest, Compiler, RunOptions, RunReport, TaskOutcome, TaskReport};
use viewdag_tests::data::{append_delta_table, read_delta_rows, write_csv_file, write_delta_table};

use crate::support::TempProject;

/// `(id, k, v)` rows as one batch.
fn events(rows: &[(i64, i64, f64)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k", DataType::Int64, true),
        Field::new("v", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(rows.iter().map(|row| row.0).collect::<Vec<_>>())),
        Arc::new(Int64Array::from(rows.iter().map(|row| row.1).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(rows.iter().map(|row| row.2).collect::<Vec<_>>())),
    ];
    RecordBatch::try_new(schema, columns).expect("a valid batch")
}

/// `(id, name)` rows as one batch.
fn names(rows: &[(i64, &str)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("name", DataType::Utf8, false)]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(rows.iter().map(|row| row.0).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|row| row.1).collect::<Vec<_>>())),
    ];
    RecordBatch::try_new(schema, columns).expect("a valid batch")
}

/// A filter materialized as a table, a grouped aggregate over it, and an output of each.
const EVENTS_SPEC: &str = r#"version: 1
sources:
  events: { format: delta, path: data/events }
views:
  big:
    filter: { input: events, predicate: "v > 10" }
    materialize: table
  per_key:
    aggregate: { input: big, group_by: [k], measures: { total: "sum(v)", n: "count(*)", top: "max(v)" } }
outputs:
  big_out: { view: big, path: out/big }
  totals: { view: per_key, path: out/totals }
"#;

fn run(project: &TempProject, options: RunOptions) -> RunReport {
    let mut compiler = Compiler::new().expect("a compiler");
    let report =
        compiler.run_with(&CompileRequest::new(project.path().join("spec.yaml")), &options, &mut |_| {}).expect("the spec is readable");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

fn plain() -> RunOptions {
    RunOptions { jobs: 1, ..RunOptions::default() }
}

fn forced() -> RunOptions {
    RunOptions { jobs: 1, force: true, ..RunOptions::default() }
}

fn task<'a>(report: &'a RunReport, id: &str) -> &'a TaskReport {
    report.tasks.iter().find(|task| task.id == id).unwrap_or_else(|| panic!("no task {id} in {:?}", report.tasks))
}

/// The refresh line of a task that wrote its table.
fn refresh_line(report: &RunReport, id: &str) -> String {
    let task = task(report, id);
    assert!(matches!(task.outcome, TaskOutcome::Written { .. }), "{id}: {:?}", task.outcome);
    task.refresh.as_ref().map(ToString::to_string).unwrap_or_else(|| panic!("{id} has no refresh summary"))
}

fn written_rows(report: &RunReport, id: &str) -> usize {
    match task(report, id).outcome {
        TaskOutcome::Written { rows, .. } => rows,
        ref other => panic!("{id}: {other:?}"),
    }
}

fn is_up_to_date(report: &RunReport, id: &str) -> bool {
    matches!(task(report, id).outcome, TaskOutcome::UpToDate { .. })
}

/// Every output's rows.
fn tables(project: &TempProject, outputs: &[&str]) -> Vec<Vec<String>> {
    outputs.iter().map(|output| read_delta_rows(&project.path().join(output))).collect()
}

fn events_project() -> TempProject {
    let project = TempProject::empty();
    write_delta_table(&project.path().join("data/events"), vec![events(&[(1, 1, 20.0), (2, 1, 5.0), (3, 2, 30.0)])]);
    project.write_spec("spec.yaml", EVENTS_SPEC);
    project
}

#[test]
fn an_append_to_a_delta_source_refreshes_a_filter_by_append_and_an_aggregate_by_merge() {
    let project = events_project();
    let first = run(&project, plain());
    assert_eq!(refresh_line(&first, "view:big"), "full (first refresh)");
    assert_eq!(refresh_line(&first, "output:totals"), "full (first refresh)");

    append_delta_table(&project.path().join("data/events"), vec![events(&[(4, 1, 50.0), (5, 3, 11.0), (6, 3, 1.0)])]);
    let second = run(&project, plain());
    assert_eq!(refresh_line(&second, "view:big"), "incremental (+3 rows from 1 new file of events)");
    // Only the appended rows that pass the filter are written.
    assert_eq!(written_rows(&second, "view:big"), 2);
    assert_eq!(refresh_line(&second, "output:big_out"), "incremental (+3 rows from 1 new file of events)");
    // The aggregate reads `big`'s table, which its task appended to: one new file.
    assert_eq!(refresh_line(&second, "output:totals"), "incremental (+2 rows from 1 new file of big)");
    let json = viewdag_driver::run_report::run_report_json(&second);
    let totals = json["tasks"].as_array().unwrap().iter().find(|task| task["task"] == "output:totals").unwrap();
    assert_eq!(totals["refresh"]["path"]["kind"], "incremental");
    assert_eq!(totals["refresh"]["path"]["apply"], "merge");
    assert_eq!(totals["refresh"]["path"]["sources"][0]["relation"], "big");
    assert_eq!(totals["merged"]["inserted"], 1, "group 3 is new");
    assert_eq!(totals["merged"]["updated"], 1, "group 1 gained a row; group 2 is untouched");
    let incremental = tables(&project, &["out/big", "out/totals"]);
    assert_eq!(incremental[1], ["1|7.00000000e1|2|5.00000000e1", "2|3.00000000e1|1|3.00000000e1", "3|1.10000000e1|1|1.10000000e1"]);
    // Nothing changed since: every task is up to date.
    let third = run(&project, plain());
    assert!(third.tasks.iter().all(|task| matches!(task.outcome, TaskOutcome::UpToDate { .. })), "{:?}", third.tasks);

    let full = run(&project, forced());
    assert_eq!(refresh_line(&full, "output:totals"), "full (--force)");
    assert_eq!(tables(&project, &["out/big", "out/totals"]), incremental, "incremental == full recompute");
}

#[test]
fn a_rewritten_source_falls_back_to_a_full_refresh_with_its_reason() {
    let project = events_project();
    run(&project, plain());
    // An overwrite removes the old files: a rewrite, not an append.
    write_delta_table(&project.path().join("data/events"), vec![events(&[(7, 1, 70.0), (8, 2, 12.0)])]);
    let second = run(&project, plain());
    let line = refresh_line(&second, "view:big");
    assert!(line.starts_with("full (`events` was rewritten: its commit 1 removed data"), "{line}");
    // The aggregate reads `big`, overwritten in turn.
    let totals = refresh_line(&second, "output:totals");
    assert!(totals.starts_with("full (`big` was rewritten"), "{totals}");
    assert_eq!(read_delta_rows(&project.path().join("out/totals")), ["1|7.00000000e1|1|7.00000000e1", "2|1.20000000e1|1|1.20000000e1"]);
}

#[test]
fn refresh_full_and_full_refresh_recompute_and_say_why() {
    let project = events_project();
    project.write_spec("spec.yaml", &EVENTS_SPEC.replace("materialize: table\n", "materialize: table\n    refresh: full\n"));
    run(&project, plain());
    append_delta_table(&project.path().join("data/events"), vec![events(&[(4, 1, 50.0)])]);
    let second = run(&project, plain());
    assert_eq!(refresh_line(&second, "view:big"), "full (refresh: full)");
    // `refresh` is outside every digest: the table written under `refresh: full` is
    // refreshed incrementally once the spec says `auto` again.
    project.write_spec("spec.yaml", EVENTS_SPEC);
    append_delta_table(&project.path().join("data/events"), vec![events(&[(5, 1, 60.0)])]);
    let third = run(&project, plain());
    assert_eq!(refresh_line(&third, "view:big"), "incremental (+1 rows from 1 new file of events)");
    append_delta_table(&project.path().join("data/events"), vec![events(&[(6, 1, 61.0)])]);
    let requested = run(&project, RunOptions { full_refresh: true, ..plain() });
    assert_eq!(refresh_line(&requested, "view:big"), "full (--full-refresh)");
    assert_eq!(read_delta_rows(&project.path().join("out/big")).len(), 5);
}

#[test]
fn refresh_incremental_fails_the_task_instead_of_falling_back_and_commits_nothing() {
    let project = events_project();
    project.write_spec("spec.yaml", &EVENTS_SPEC.replace("materialize: table\n", "materialize: table\n    refresh: incremental\n"));
    // The first refresh has nothing to be incremental from: it is allowed.
    let first = run(&project, plain());
    assert_eq!(refresh_line(&first, "view:big"), "full (first refresh)");
    let table = project.path().join(".viewdag/tables/big");
    let version = viewdag_tests::data::delta_version(&table);
    write_delta_table(&project.path().join("data/events"), vec![events(&[(7, 1, 70.0)])]);
    let second = run(&project, plain());
    let TaskOutcome::Failed { error } = &task(&second, "view:big").outcome else { panic!("{:?}", task(&second, "view:big")) };
    assert_eq!(error.code(), Some(viewdag_ir::Code::IncrementalRefreshRefused));
    assert!(error.to_string().contains("`events` was rewritten"), "{error}");
    assert_eq!(viewdag_tests::data::delta_version(&table), version, "nothing committed");
    // Its readers are skipped, not run against the stale table.
    assert!(matches!(task(&second, "output:totals").outcome, TaskOutcome::Skipped { .. }), "{:?}", task(&second, "output:totals"));
    // `--full-refresh` is the way out.
    let rebuilt = run(&project, RunOptions { full_refresh: true, ..plain() });
    assert_eq!(refresh_line(&rebuilt, "view:big"), "full (--full-refresh)");
}

/// Sets a file's modification time (a rewrite within the file system's timestamp
/// granularity would otherwise keep it).
fn set_modified(path: &Path, time: SystemTime) {
    std::fs::File::options().write(true).open(path).expect("the file opens").set_modified(time).expect("the time is set");
}

#[test]
fn a_csv_source_rewritten_in_place_with_the_same_size_is_not_up_to_date() {
    // Issue 21 item 1: the identity of a file source is its files' sizes and modification
    // times, not their sizes only.
    let project = TempProject::empty();
    let csv = project.path().join("data/names.csv");
    write_csv_file(&csv, &names(&[(1, "ann"), (2, "bob")]));
    set_modified(&csv, SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    project.write_spec(
        "spec.yaml",
        "version: 1\nsources:\n  names: { format: csv, path: data/names.csv, schema: { id: int64, name: utf8 } }\nviews:\n  upper:\n    project: { input: names, columns: { id: id, name: \"upper(name)\" } }\noutputs:\n  out: { view: upper, path: out/names }\n",
    );
    run(&project, plain());
    assert_eq!(read_delta_rows(&project.path().join("out/names")), ["1|ANN", "2|BOB"]);
    let before = std::fs::metadata(&csv).unwrap().len();
    write_csv_file(&csv, &names(&[(1, "cat"), (2, "dan")]));
    assert_eq!(std::fs::metadata(&csv).unwrap().len(), before, "the same size");
    set_modified(&csv, SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_060));
    let second = run(&project, plain());
    let line = refresh_line(&second, "output:out");
    assert!(line.starts_with("full (`names` was rewritten: its file `data/names.csv` changed"), "{line}");
    assert_eq!(read_delta_rows(&project.path().join("out/names")), ["1|CAT", "2|DAN"]);
    assert!(is_up_to_date(&run(&project, plain()), "output:out"));
}

#[test]
fn a_new_file_in_a_csv_directory_is_an_append() {
    let project = TempProject::empty();
    write_csv_file(&project.path().join("data/names/a.csv"), &names(&[(1, "ann"), (2, "bob")]));
    project.write_spec(
        "spec.yaml",
        "version: 1\nsources:\n  names: { format: csv, path: data/names, schema: { id: int64, name: utf8 } }\nviews:\n  counts:\n    aggregate: { input: names, group_by: [name], measures: { n: \"count(*)\" } }\noutputs:\n  out: { view: counts, path: out/counts }\n",
    );
    run(&project, plain());
    write_csv_file(&project.path().join("data/names/b.csv"), &names(&[(3, "bob"), (4, "cid")]));
    let second = run(&project, plain());
    // The new file's rows are counted (read as the source reads them), like a Delta
    // commit's `numRecords`.
    assert_eq!(refresh_line(&second, "output:out"), "incremental (+2 rows from 1 new file of names)");
    let incremental = read_delta_rows(&project.path().join("out/counts"));
    assert_eq!(incremental, ["ann|1", "bob|2", "cid|1"]);
    run(&project, forced());
    assert_eq!(read_delta_rows(&project.path().join("out/counts")), incremental);
}

#[test]
fn new_files_in_a_parquet_directory_are_an_append_of_their_rows() {
    let project = TempProject::empty();
    viewdag_tests::data::write_parquet_file(&project.path().join("data/events/0.parquet"), &events(&[(1, 1, 20.0), (2, 1, 5.0)]));
    project.write_spec("spec.yaml", &EVENTS_SPEC.replace("format: delta, path: data/events", "format: parquet, path: data/events"));
    run(&project, plain());
    viewdag_tests::data::write_parquet_file(&project.path().join("data/events/1.parquet"), &events(&[(3, 2, 30.0), (4, 1, 50.0)]));
    viewdag_tests::data::write_parquet_file(&project.path().join("data/events/2.parquet"), &events(&[(5, 3, 11.0)]));
    let mut compiler = Compiler::new().unwrap();
    let (_, plan) = compiler.plan_refresh(&CompileRequest::new(project.path().join("spec.yaml")), &plain()).unwrap();
    assert_eq!(plan.tasks[0].action.to_string(), "incremental append (+3 rows from 2 new files of events)");
    let second = run(&project, plain());
    assert_eq!(refresh_line(&second, "view:big"), "incremental (+3 rows from 2 new files of events)");
    assert_eq!(written_rows(&second, "view:big"), 3);
    let incremental = tables(&project, &["out/big", "out/totals"]);
    run(&project, forced());
    assert_eq!(tables(&project, &["out/big", "out/totals"]), incremental, "incremental == full recompute");
}

#[test]
fn a_task_run_alone_against_an_old_upstream_table_is_not_up_to_date_once_that_table_changes() {
    // Issue 21 item 3: `run --select B` after A's definition changed runs B over A's old
    // table; once A is rewritten (here by `run --select A`), a plain `run` must run B again.
    let project = events_project();
    run(&project, plain());
    project.write_spec("spec.yaml", &EVENTS_SPEC.replace("v > 10", "v > 25"));
    let select = |views: &[&str]| {
        let mut compiler = Compiler::new().expect("a compiler");
        let response = compiler.compile(&CompileRequest::check(project.path().join("spec.yaml"))).expect("the spec is readable");
        let args = viewdag_driver::select::Selection { select: views.iter().map(|view| view.to_string()).collect(), ..Default::default() };
        RunOptions { selection: compiler.snapshot().select_units(&response, &args).expect("a selection"), ..plain() }
    };
    let only_totals = run(&project, select(&["per_key"]));
    assert!(matches!(task(&only_totals, "output:totals").outcome, TaskOutcome::Written { .. }), "{:?}", only_totals.tasks);
    // It read `big`'s old table (v > 10).
    assert_eq!(read_delta_rows(&project.path().join("out/totals")), ["1|2.00000000e1|1|2.00000000e1", "2|3.00000000e1|1|3.00000000e1"]);
    let only_big = run(&project, select(&["big"]));
    assert!(matches!(task(&only_big, "view:big").outcome, TaskOutcome::Written { .. }), "{:?}", only_big.tasks);
    let everything = run(&project, plain());
    assert!(is_up_to_date(&everything, "view:big"));
    assert!(!is_up_to_date(&everything, "output:totals"), "totals read big's old table: {:?}", everything.tasks);
    assert_eq!(read_delta_rows(&project.path().join("out/totals")), ["2|3.00000000e1|1|3.00000000e1"]);
    assert!(is_up_to_date(&run(&project, plain()), "output:totals"));
}

/// What `viewdag plan` says for every task, as `kind[/apply]`.
fn planned(project: &TempProject, options: RunOptions) -> Vec<(String, String)> {
    let mut compiler = Compiler::new().expect("a compiler");
    let (_, plan) = compiler.plan_refresh(&CompileRequest::new(project.path().join("spec.yaml")), &options).expect("the spec is readable");
    plan_kinds(&plan)
}

/// What a plan says for every task, as `kind[/apply]` (the form of [`done`]).
pub(crate) fn plan_kinds(plan: &RefreshPlan) -> Vec<(String, String)> {
    plan.tasks
        .iter()
        .map(|task| {
            let kind = match &task.action {
                PlannedAction::UpToDate { .. } => "up_to_date".to_string(),
                PlannedAction::Incremental { apply, .. } => format!("incremental/{apply}"),
                PlannedAction::Full { .. } => "full".to_string(),
                PlannedAction::Fails { .. } => "fails".to_string(),
                PlannedAction::Skipped { .. } => "skipped".to_string(),
            };
            (task.id.clone(), kind)
        })
        .collect()
}

/// What a run did with every task, in the same form.
pub(crate) fn done(report: &RunReport) -> Vec<(String, String)> {
    report
        .tasks
        .iter()
        .map(|task| {
            let kind = match (&task.outcome, &task.refresh) {
                (TaskOutcome::UpToDate { .. }, _) => "up_to_date".to_string(),
                (TaskOutcome::Written { .. }, Some(RefreshSummary::Incremental { apply, .. })) => format!("incremental/{apply}"),
                (TaskOutcome::Written { .. }, _) => "full".to_string(),
                (TaskOutcome::Failed { .. }, _) => "fails".to_string(),
                (TaskOutcome::Skipped { .. }, _) => "skipped".to_string(),
            };
            (task.id.to_string(), kind)
        })
        .collect()
}

/// Every file under `root` with its size and modification time.
fn files_under(root: &Path) -> Vec<(String, u64, SystemTime)> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                files.push((entry.path().display().to_string(), metadata.len(), metadata.modified().unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn plan_says_what_the_next_run_does_and_writes_nothing() {
    let project = events_project();
    let mut steps = 0;
    let mut check_step = |project: &TempProject, options: RunOptions| {
        let before = files_under(project.path());
        let plan = planned(project, options.clone());
        assert_eq!(files_under(project.path()), before, "plan wrote nothing");
        let report = run(project, options);
        assert_eq!(plan, done(&report), "step {steps}");
        steps += 1;
        plan
    };
    let first = check_step(&project, plain());
    assert!(first.iter().all(|(_, kind)| kind == "full"), "{first:?}");
    append_delta_table(&project.path().join("data/events"), vec![events(&[(4, 1, 50.0), (5, 3, 11.0)])]);
    let appended = check_step(&project, plain());
    assert_eq!(
        appended,
        [("view:big", "incremental/append"), ("output:big_out", "incremental/append"), ("output:totals", "incremental/merge")]
            .map(|(task, kind)| (task.to_string(), kind.to_string()))
    );
    let unchanged = check_step(&project, plain());
    assert!(unchanged.iter().all(|(_, kind)| kind == "up_to_date"), "{unchanged:?}");
    write_delta_table(&project.path().join("data/events"), vec![events(&[(9, 2, 99.0)])]);
    let rewritten = check_step(&project, plain());
    assert!(rewritten.iter().all(|(_, kind)| kind == "full"), "{rewritten:?}");
    append_delta_table(&project.path().join("data/events"), vec![events(&[(10, 2, 1.0)])]);
    check_step(&project, RunOptions { full_refresh: true, ..plain() });
    // The text of an incremental line names the appended input.
    append_delta_table(&project.path().join("data/events"), vec![events(&[(11, 2, 12.0)])]);
    let mut compiler = Compiler::new().unwrap();
    let (_, plan) = compiler.plan_refresh(&CompileRequest::new(project.path().join("spec.yaml")), &plain()).unwrap();
    assert_eq!(plan.tasks[0].action.to_string(), "incremental append (+1 rows from 1 new file of events)");
    assert_eq!(plan.tasks[2].action.to_string(), "incremental merge (the rows this run appends to big)");
    assert!(plan.tasks[0].estimated_bytes > 0);
}

/// `viewdag explain SPEC VIEW --refresh` prints, for each task writing the view's rows, what
/// the next run would do and, when it is incremental, the optimized plan of the increment;
/// otherwise the reason it refreshes fully. It writes nothing.
#[test]
fn explain_refresh_prints_the_increment_the_next_run_derives_or_why_not() {
    let project = events_project();
    run(&project, plain());
    append_delta_table(&project.path().join("data/events"), vec![events(&[(4, 1, 50.0)])]);
    let explain = |view: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
            .arg("explain")
            .arg(project.path().join("spec.yaml"))
            .args([view, "--refresh"])
            .output()
            .expect("viewdag runs");
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let before = files_under(project.path());
    let (code, big, _) = explain("big");
    assert_eq!(code, Some(0), "{big}");
    assert!(big.starts_with("== view:big: incremental append (+1 rows from 1 new file of events) ==\n"), "{big}");
    assert!(big.contains("== output:big_out: incremental append (+1 rows from 1 new file of events) =="), "{big}");
    assert!(big.contains("Filter: ") && big.contains("TableScan: "), "the increment's P1: {big}");
    let (_, totals, _) = explain("per_key");
    assert!(totals.starts_with("== output:totals: incremental merge (the rows this run appends to big) ==\n"), "{totals}");
    assert!(totals.contains("Aggregate: "), "{totals}");
    assert_eq!(files_under(project.path()), before, "explain wrote nothing");

    write_delta_table(&project.path().join("data/events"), vec![events(&[(9, 2, 99.0)])]);
    let (_, rewritten, _) = explain("big");
    assert!(rewritten.starts_with("== view:big: full (`events` was rewritten: its commit 2 removed data"), "{rewritten}");
    assert!(!rewritten.contains("TableScan"), "no increment: {rewritten}");
    let (code, _, stderr) = explain("nowhere");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("view `nowhere` is not declared"), "{stderr}");
}

/// Incremental refresh runs on the local engine only: a task the Ballista engine would run
/// is refreshed fully, and `plan` (which asks no scheduler) and the run line say so in the
/// engine's short name.
#[test]
fn the_ballista_engine_refreshes_fully_and_says_so() {
    let project = events_project();
    run(&project, plain());
    append_delta_table(&project.path().join("data/events"), vec![events(&[(4, 1, 50.0)])]);
    let address = viewdag_ballista::SchedulerAddress::parse("df://127.0.0.1:9").expect("an address");
    let ballista = RunOptions { engine: Some(Arc::new(viewdag_ballista::BallistaEngine::new(address))), ..plain() };
    let mut compiler = Compiler::new().unwrap();
    let (_, plan) = compiler.plan_refresh(&CompileRequest::new(project.path().join("spec.yaml")), &ballista).unwrap();
    let actions: Vec<String> = plan.tasks.iter().map(|task| task.action.to_string()).collect();
    assert_eq!(actions, ["full (the ballista engine refreshes fully)"; 3]);
    // The local engine derives the increments of the same change.
    assert!(planned(&project, plain()).iter().all(|(_, kind)| kind.starts_with("incremental/")));
}

/// `events` rows with one more column `x` (`id * 2`).
fn events_with_x(rows: &[(i64, i64, f64)]) -> RecordBatch {
    let base = events(rows);
    let mut fields: Vec<Field> = base.schema().fields().iter().map(|field| field.as_ref().clone()).collect();
    fields.push(Field::new("x", DataType::Int64, true));
    let mut columns = base.columns().to_vec();
    columns.push(Arc::new(Int64Array::from(rows.iter().map(|row| row.0 * 2).collect::<Vec<_>>())));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a valid batch")
}

/// A source that gains a column (a Delta schema merge; a Parquet file with one more column):
/// one compiler reused across runs (as `watch`, the language server and an embedder keep one)
/// writes what a fresh compiler writes, incrementally and forced. DataFusion's runtime caches
/// directory listings: the reused compiler inferred the Parquet source's schema without the
/// new file and dropped its column.
#[test]
fn a_reused_compiler_writes_the_column_a_source_gained_as_a_fresh_one_does() {
    for format in ["delta", "parquet"] {
        for options in [plain(), forced()] {
            let project = TempProject::empty();
            let events_dir = project.path().join("data/events");
            if format == "delta" {
                write_delta_table(&events_dir, vec![events(&[(1, 1, 20.0), (2, 1, 5.0)])]);
            } else {
                viewdag_tests::data::write_parquet_file(&events_dir.join("0.parquet"), &events(&[(1, 1, 20.0), (2, 1, 5.0)]));
            }
            let spec = EVENTS_SPEC.replace("format: delta", &format!("format: {format}"));
            project.write_spec("spec.yaml", &spec);
            let request = CompileRequest::new(project.path().join("spec.yaml"));
            let mut compiler = Compiler::new().unwrap();
            compiler.run_with(&request, &plain(), &mut |_| {}).unwrap();
            if format == "delta" {
                let url = viewdag_driver::sources::directory_url(&events_dir).unwrap();
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                    deltalake::DeltaTable::try_from_url(url)
                        .await
                        .unwrap()
                        .write(vec![events_with_x(&[(3, 2, 30.0)])])
                        .with_save_mode(deltalake::protocol::SaveMode::Append)
                        .with_schema_mode(deltalake::operations::write::SchemaMode::Merge)
                        .await
                        .unwrap();
                });
            } else {
                viewdag_tests::data::write_parquet_file(&events_dir.join("1.parquet"), &events_with_x(&[(3, 2, 30.0)]));
            }
            let reused = compiler.run_with(&request, &options, &mut |_| {}).unwrap();
            assert!(reused.succeeded(), "{format}: {:?} {:?}", reused.tasks, reused.errors);
            let written = tables(&project, &["out/big", "out/totals"]);
            assert!(written[0].iter().any(|row| row.ends_with("|6")), "{format}: the new column reaches `big`: {written:?}");
            let fresh = TempProject::empty();
            crate::support::copy_tree(&project.path().join("data"), &fresh.path().join("data"));
            fresh.write_spec("spec.yaml", &spec);
            run(&fresh, plain());
            assert_eq!(written, tables(&fresh, &["out/big", "out/totals"]), "{format}, force {}", options.force);
        }
    }
}

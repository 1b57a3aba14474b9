//! Incremental-refresh benchmark (issue 22): what a run costs after 1 % of a Delta fact
//! table was appended, refreshed incrementally vs fully (`--full-refresh`), side by side in
//! one process run.
//!
//! ```sh
//! cargo run --release -p viewdag-tests --bin bench-refresh -- 10000000
//! ```
//!
//! The project: a Delta source `facts(id, k, v, s)` of ROWS rows (`synthetic::fact_rows`,
//! written by the bench in commits of at most 1M rows) and a Delta dimension `dims(k, label,
//! weight)` of 1,000 rows, with three outputs (overwrite, `refresh: auto`):
//!
//! - `filtered`: a filter (`k % 10 <> 3`) and a projection of the facts (append refresh);
//! - `joined`: the facts joined with `dims` on `k` (append refresh: `Δfacts ⋈ dims`);
//! - `totals`: sum/count/max per `s` (5,000 groups; merge refresh by `s`).
//!
//! A first run writes the three tables (the prepared project). Then, each from its own copy
//! of the prepared project, with a fresh `Compiler` (what a `viewdag run` process pays):
//!
//! - **incremental**: ROWS / 100 rows appended to `facts` (one commit), `run`;
//! - **full refresh**: the same appended copy, `run --full-refresh`;
//! - **no change**: the prepared project as is, `run` (every task up to date);
//! - **rewrite**: a delete of 1 % of the facts (`id % 100 = 0`), `run` (a full refresh, with
//!   its reason);
//! - **one row**: a single row appended, `run`: each task's time is then its fixed cost (the
//!   log read, the plan, the commit with its `txn`, the merge's read of its target), which the
//!   1 % append pays on top of its rows.
//!
//! `plan` (a fresh compiler's `plan_refresh` on the appended copy: the check plus change
//! detection from the Delta log, nothing executed) is timed as well: it is the fixed part an
//! incremental run pays before any task executes. Tasks run one at a time (`--jobs 1`) so each
//! task's time (start to commit) is its own. Every setting runs 3 times, interleaved; the
//! median is printed, as a Markdown table. The incremental and the full refresh of the same
//! change are checked to leave tables of equal row counts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use viewdag_driver::refresh::RefreshSummary;
use viewdag_driver::{CompileRequest, Compiler, RunOptions, RunReport, TaskOutcome};
use viewdag_tests::data::{append_delta_table, copy_tree, count_delta_rows, write_delta_table};
use viewdag_tests::synthetic::fact_rows;

/// Join keys (`k` = id mod KEYS) and dimension rows.
const KEYS: i64 = 1_000;
/// Groups of the aggregate (`s` = "s" + id mod STRINGS).
const STRINGS: i64 = 5_000;
/// Rows per commit when the fact table is first written (bounds the bench's memory).
const COMMIT_ROWS: usize = 1_000_000;
const REPETITIONS: usize = 3;

const SPEC: &str = r#"version: 1
sources:
  facts: { format: delta, path: data/facts }
  dims: { format: delta, path: data/dims }
views:
  kept:
    filter: { input: facts, predicate: "k % 10 <> 3" }
  slim:
    project: { input: kept, columns: { id: id, k: k, v2: "v * 2", s: s } }
  enriched:
    join: { left: facts, right: dims, kind: inner, on: [[k, k]] }
  per_s:
    aggregate: { input: facts, group_by: [s], measures: { total: "sum(v)", n: "count(*)", top: "max(id)" } }
outputs:
  filtered: { view: slim, path: out/filtered }
  joined: { view: enriched, path: out/joined }
  totals: { view: per_s, path: out/totals }
"#;

/// The outputs, in task order, with what each measures.
const TASKS: [(&str, &str); 3] =
    [("output:filtered", "filter + projection"), ("output:joined", "join with `dims`"), ("output:totals", "grouped aggregate")];

/// How the runs of one setting are made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Setting {
    Incremental,
    FullRefresh,
    NoChange,
    Rewrite,
    OneRow,
}

impl Setting {
    const ALL: [Setting; 5] = [Setting::Incremental, Setting::FullRefresh, Setting::NoChange, Setting::Rewrite, Setting::OneRow];

    fn options(self) -> RunOptions {
        RunOptions { jobs: 1, full_refresh: self == Setting::FullRefresh, ..RunOptions::default() }
    }
}

/// One task of one run.
#[derive(Clone)]
struct TaskFigure {
    seconds: f64,
    /// Rows the commit added (0 when up to date).
    rows: usize,
    /// For a merge: rows inserted + updated.
    merged: Option<usize>,
    /// The refresh line (`incremental (…)`, `full (…)`, `up to date`).
    path: String,
}

/// One run.
struct Measured {
    /// The whole `run` call: compile, change detection, tasks, state saved.
    seconds: f64,
    tasks: Vec<TaskFigure>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn dimension() -> RecordBatch {
    let keys: Vec<i64> = (0..KEYS).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("weight", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(keys.clone())),
        Arc::new(StringArray::from(keys.iter().map(|key| format!("label{key}")).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(keys.iter().map(|key| *key as f64 / 4.0).collect::<Vec<_>>())),
    ];
    RecordBatch::try_new(schema, columns).expect("a valid batch")
}

/// Writes the sources and the spec under `root` and runs it once (every table's first write).
fn prepare(root: &Path, rows: usize) {
    let facts = root.join("data/facts");
    for start in (0..rows).step_by(COMMIT_ROWS) {
        let batch = fact_rows(start as i64..(start + COMMIT_ROWS).min(rows) as i64, KEYS, STRINGS);
        if start == 0 { write_delta_table(&facts, vec![batch]) } else { append_delta_table(&facts, vec![batch]) }
    }
    write_delta_table(&root.join("data/dims"), vec![dimension()]);
    std::fs::write(root.join("spec.yaml"), SPEC).expect("the spec is written");
    let (_, report) = run(root, &Setting::Incremental.options());
    assert!(report.succeeded(), "the first run: {:?}", report.tasks);
}

fn run(project: &Path, options: &RunOptions) -> (f64, RunReport) {
    let mut compiler = Compiler::new().expect("a compiler");
    let started = Instant::now();
    let report = compiler.run_with(&CompileRequest::new(project.join("spec.yaml")), options, &mut |_| {}).expect("the spec reads");
    (started.elapsed().as_secs_f64(), report)
}

/// Runs a copy of `template` (under `scratch`) with `setting`, checks the path each task took,
/// and returns the figures and each output's row count.
fn measure(template: &Path, scratch: &Path, setting: Setting) -> (Measured, Vec<usize>) {
    copy_tree(template, scratch);
    let (seconds, report) = run(scratch, &setting.options());
    assert!(report.succeeded(), "{:?}", report.tasks);
    let mut tasks = Vec::new();
    for (id, _) in TASKS {
        let task = report.tasks.iter().find(|task| task.id == id).unwrap_or_else(|| panic!("no task {id}"));
        let (rows, path) = match (&task.outcome, &task.refresh) {
            (TaskOutcome::Written { rows, .. }, Some(refresh)) => (*rows, refresh.to_string()),
            (TaskOutcome::UpToDate { .. }, _) => (0, "up to date".to_string()),
            (other, _) => panic!("{id}: {other:?}"),
        };
        let expected = match setting {
            Setting::Incremental | Setting::OneRow => matches!(task.refresh, Some(RefreshSummary::Incremental { .. })),
            Setting::FullRefresh => path == "full (--full-refresh)",
            Setting::NoChange => path == "up to date",
            Setting::Rewrite => path.starts_with("full (`facts` was rewritten"),
        };
        assert!(expected, "{id} took an unexpected path: {path}");
        let merged = task.merged.as_ref().map(|merged| merged.inserted + merged.updated);
        tasks.push(TaskFigure { seconds: task.elapsed.as_secs_f64(), rows, merged, path });
    }
    let counts = TASKS.iter().map(|(id, _)| count_delta_rows(&scratch.join(task_target(&report, id)))).collect();
    std::fs::remove_dir_all(scratch).expect("the copy is removed");
    (Measured { seconds, tasks }, counts)
}

fn task_target(report: &RunReport, id: &str) -> PathBuf {
    let task = report.tasks.iter().find(|task| task.id == id).unwrap_or_else(|| panic!("no task {id}"));
    PathBuf::from(&task.target)
}

/// Deletes 1 % of the facts (`id % 100 = 0`): a commit that removes data files.
fn delete_some_facts(facts: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let url = viewdag_driver::sources::directory_url(facts).expect("a URL");
        let table = deltalake::open_table(url).await.expect("a Delta table");
        table.delete().with_predicate("id % 100 = 0").await.expect("the rows are deleted");
    });
}

/// A fresh compiler's `plan_refresh` of a copy of `template`, in seconds.
fn time_plan(template: &Path, scratch: &Path) -> f64 {
    copy_tree(template, scratch);
    let mut compiler = Compiler::new().expect("a compiler");
    let started = Instant::now();
    let (_, plan) =
        compiler.plan_refresh(&CompileRequest::new(scratch.join("spec.yaml")), &Setting::Incremental.options()).expect("the spec reads");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(plan.tasks.len(), TASKS.len());
    std::fs::remove_dir_all(scratch).expect("the copy is removed");
    seconds
}

fn task_median(runs: &[Measured], task: usize) -> TaskFigure {
    let seconds = median(runs.iter().map(|run| run.tasks[task].seconds).collect());
    TaskFigure { seconds, ..runs[0].tasks[task].clone() }
}

fn rows_cell(figure: &TaskFigure) -> String {
    match figure.merged {
        Some(merged) => format!("{} (merge: {merged} groups inserted/updated)", figure.rows),
        None => figure.rows.to_string(),
    }
}

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let rows: usize = std::env::args().nth(1).map(|argument| argument.parse().expect("ROWS is a number")).unwrap_or(1_000_000);
    let appended = rows / 100;
    let root = tempfile::tempdir().expect("a temporary directory");
    let started = Instant::now();
    let base = root.path().join("base");
    prepare(&base, rows);
    let appended_template = root.path().join("appended");
    copy_tree(&base, &appended_template);
    append_delta_table(&appended_template.join("data/facts"), vec![fact_rows(rows as i64..(rows + appended) as i64, KEYS, STRINGS)]);
    let rewritten_template = root.path().join("rewritten");
    copy_tree(&base, &rewritten_template);
    delete_some_facts(&rewritten_template.join("data/facts"));
    let one_row_template = root.path().join("one-row");
    copy_tree(&base, &one_row_template);
    append_delta_table(&one_row_template.join("data/facts"), vec![fact_rows(rows as i64..rows as i64 + 1, KEYS, STRINGS)]);
    eprintln!("prepared {rows} rows in {:.1?}", started.elapsed());

    let scratch = root.path().join("run");
    let mut runs: Vec<Vec<Measured>> = Setting::ALL.iter().map(|_| Vec::new()).collect();
    let mut plans = Vec::new();
    for repetition in 0..REPETITIONS {
        let mut counts = Vec::new();
        for (index, setting) in Setting::ALL.into_iter().enumerate() {
            let template = match setting {
                Setting::Incremental | Setting::FullRefresh => &appended_template,
                Setting::NoChange => &base,
                Setting::Rewrite => &rewritten_template,
                Setting::OneRow => &one_row_template,
            };
            let (measured, table_counts) = measure(template, &scratch, setting);
            eprintln!("repetition {repetition}: setting {index}: {:.3} s", measured.seconds);
            runs[index].push(measured);
            counts.push(table_counts);
        }
        assert_eq!(counts[0], counts[1], "the incremental and the full refresh of the same change leave the same row counts");
        plans.push(time_plan(&appended_template, &scratch));
    }

    let [incremental, full, unchanged, rewrite, one_row] = &runs[..] else { unreachable!("five settings") };
    println!("facts: {rows} rows, {appended} appended (1 %); median of {REPETITIONS} runs, `--jobs 1`, times in seconds\n");
    println!("| task | incremental | rows written | full refresh | rows written | incremental / full |");
    println!("|---|---|---|---|---|---|");
    for (index, (id, what)) in TASKS.iter().enumerate() {
        let (fast, slow) = (task_median(incremental, index), task_median(full, index));
        println!(
            "| `{id}` ({what}) | {:.3} | {} | {:.3} | {} | {:.1} % |",
            fast.seconds,
            rows_cell(&fast),
            slow.seconds,
            rows_cell(&slow),
            100.0 * fast.seconds / slow.seconds
        );
    }
    let (fast, slow) = (median(incremental.iter().map(|run| run.seconds).collect()), median(full.iter().map(|run| run.seconds).collect()));
    println!(
        "| whole `run` (fresh compiler: check, change detection, 3 tasks, state) | {fast:.3} | | {slow:.3} | | {:.1} % |",
        100.0 * fast / slow
    );
    println!("\nOne row appended (each task's fixed cost):\n");
    println!("| task | one row | 1 % append | full refresh |");
    println!("|---|---|---|---|");
    for (index, (id, _)) in TASKS.iter().enumerate() {
        let [one, fast, slow] = [one_row, incremental, full].map(|runs| task_median(runs, index).seconds);
        println!("| `{id}` | {one:.3} | {fast:.3} | {slow:.3} |");
    }
    println!("| whole `run` | {:.3} | {fast:.3} | {slow:.3} |", median(one_row.iter().map(|run| run.seconds).collect()));
    println!("\n`plan` on the appended project (check + change detection from the log): {:.3} s", median(plans));
    println!("no change (every task up to date): whole `run` {:.3} s", median(unchanged.iter().map(|run| run.seconds).collect()));
    println!("rewrite (a delete of 1 % of the facts): whole `run` {:.3} s", median(rewrite.iter().map(|run| run.seconds).collect()));
    for (index, (id, _)) in TASKS.iter().enumerate() {
        let figure = task_median(rewrite, index);
        println!("- `{id}`: {:.3} s, {} rows, {}", figure.seconds, figure.rows, figure.path);
    }
    for (index, (id, _)) in TASKS.iter().enumerate() {
        println!("- incremental `{id}`: {}", incremental[0].tasks[index].path);
    }
}

//! End to end: run the shop example on freshly written sources and compare every output,
//! read back with a fresh `deltalake` reader, with the same query run directly on
//! DataFusion over the same files.

use std::collections::BTreeSet;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use viewdag_driver::viewdag_schedule::TaskId;
use viewdag_driver::{CompileRequest, Compiler, TaskOutcome, ViewStatus};
use viewdag_tests::data::{canonical_rows, read_delta_rows};

use crate::support::{TempProject, shop_spec};

/// Runs `sql` on DataFusion directly, with the shop sources registered by name.
fn direct_rows(project: &TempProject, sql: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let context = SessionContext::new();
        let data = project.path().join("data");
        let url = viewdag_driver::sources::directory_url(&data.join("orders")).expect("a URL");
        let orders = deltalake::open_table(url).await.expect("orders is a Delta table");
        orders.update_datafusion_session(&context.state()).expect("object store");
        context.register_table("orders", orders.table_provider().await.expect("a provider")).expect("registered");
        context
            .register_parquet("customers", data.join("customers.parquet").to_str().expect("utf-8"), ParquetReadOptions::default())
            .await
            .expect("registered");
        let regions_schema = Schema::new(vec![Field::new("region_id", DataType::Int64, true), Field::new("region", DataType::Utf8, true)]);
        context
            .register_csv("regions", data.join("regions.csv").to_str().expect("utf-8"), CsvReadOptions::new().schema(&regions_schema))
            .await
            .expect("registered");
        let batches = context.sql(sql).await.expect("the query plans").collect().await.expect("the query runs");
        canonical_rows(&batches)
    })
}

#[test]
fn shop_example_outputs_match_direct_datafusion_queries() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let mut compiler = Compiler::new().expect("a compiler");
    let mut finished = Vec::new();
    let report = compiler
        .run(&CompileRequest::new(&spec), &mut |progress| {
            if let viewdag_driver::Progress::Finished { report, .. } = progress {
                finished.push(report.id.to_string());
            }
        })
        .expect("the spec is readable");
    assert!(report.compile.diagnostics.is_empty(), "{:?}", report.compile.diagnostics);
    assert!(report.succeeded(), "{:?}", report.tasks);
    // Tasks finish in any order (they run concurrently); reports come back in task order.
    finished.sort();
    assert_eq!(finished, vec!["output:labels", "output:largest_orders", "output:revenue", "output:top_regions", "view:enriched"]);
    let reported: Vec<String> = report.tasks.iter().map(|task| task.id.to_string()).collect();
    assert_eq!(reported, vec!["view:enriched", "output:revenue", "output:top_regions", "output:largest_orders", "output:labels"]);
    for task in &report.tasks {
        assert!(matches!(task.outcome, TaskOutcome::Written { .. }), "{task:?}");
    }

    let order_lines = "FROM orders o JOIN customers c ON o.customer_id = c.customer_id LEFT JOIN regions r ON c.region_id = r.region_id \
                       WHERE o.status = 'paid' AND o.amount > 0";
    let revenue = direct_rows(
        &project,
        &format!("SELECT r.region, sum(o.amount), count(*), sum(o.amount) / count(*) {order_lines} GROUP BY r.region"),
    );
    assert!(revenue.len() >= 3, "{revenue:?}");
    assert_eq!(read_delta_rows(&project.path().join("out/revenue")), revenue);

    let top = direct_rows(
        &project,
        &format!(
            "SELECT r.region, sum(o.amount) AS revenue {order_lines} AND r.region IS NOT NULL GROUP BY r.region ORDER BY revenue DESC, r.region LIMIT 3"
        ),
    );
    assert_eq!(top.len(), 3);
    assert_eq!(read_delta_rows(&project.path().join("out/top_regions")), top);

    let largest = direct_rows(
        &project,
        &format!(
            "SELECT o.order_id, c.name, coalesce(r.region, 'unknown') AS region, c.segment, round(o.amount * 0.92, 2) AS amount_eur {order_lines} ORDER BY amount_eur DESC, o.order_id LIMIT 3"
        ),
    );
    assert_eq!(read_delta_rows(&project.path().join("out/largest_orders")), largest);
    assert!(
        project.path().join("out/largest_orders").read_dir().expect("the table directory").any(|entry| entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .starts_with("region="))
    );

    let labels = direct_rows(&project, &format!("SELECT DISTINCT c.segment {order_lines} UNION SELECT region FROM regions"));
    assert_eq!(read_delta_rows(&project.path().join("out/labels")), labels);

    // The materialized intermediate is a Delta table too, and downstream read it.
    let enriched = read_delta_rows(&project.path().join(".viewdag/tables/enriched"));
    assert_eq!(enriched.len(), direct_rows(&project, &format!("SELECT o.order_id {order_lines}")).len());
}

#[test]
fn append_mode_adds_a_commit_and_overwrite_replaces() {
    let project = TempProject::with_shop_data();
    let spec_text = shop_spec()
        .replace("    mode: merge                 # upsert by key: one Delta merge commit per run\n    unique_key: [label]\n", "")
        .replace("path: out/labels", "path: out/labels\n    mode: append");
    let spec = project.write_spec("spec.yaml", &spec_text);
    let mut compiler = Compiler::new().expect("a compiler");
    for run in 0..2 {
        let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
        assert!(report.succeeded(), "{:?}", report.tasks);
        // An append reports the rows it added, not the table's total.
        let labels = report.tasks.iter().find(|task| task.id == "output:labels").unwrap();
        assert_eq!(labels.outcome, TaskOutcome::Written { rows: 5, version: run }, "{labels:?}");
    }
    let labels = read_delta_rows(&project.path().join("out/labels"));
    let revenue = read_delta_rows(&project.path().join("out/revenue"));
    // Appended twice: every label twice. Overwritten twice: every region once.
    assert_eq!(labels.len(), 10, "{labels:?}");
    assert_eq!(labels.iter().filter(|label| *label == "north").count(), 2);
    let distinct_revenue: std::collections::BTreeSet<&String> = revenue.iter().collect();
    assert_eq!(distinct_revenue.len(), revenue.len(), "{revenue:?}");
    assert!(revenue.len() >= 3, "{revenue:?}");
}

#[test]
fn a_contract_mismatch_writes_nothing_for_that_output_only() {
    let project = TempProject::with_shop_data();
    let spec_text = shop_spec().replace("revenue: float64, orders: \"int64 not null\"", "revenue: int64, orders: \"int64 not null\"");
    let spec = project.write_spec("spec.yaml", &spec_text);
    let mut compiler = Compiler::new().expect("a compiler");
    let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
    assert!(!report.succeeded());
    let contract_errors: Vec<_> =
        report.compile.diagnostics.iter().filter(|diagnostic| diagnostic.code == viewdag_ir::Code::ContractMismatch).collect();
    assert_eq!(contract_errors.len(), 1, "{:?}", report.compile.diagnostics);
    assert_eq!(contract_errors[0].entry(), Some("revenue"));
    let revenue = report.tasks.iter().find(|task| task.id == "output:revenue").expect("the task");
    assert!(matches!(revenue.outcome, TaskOutcome::Skipped { .. }), "{revenue:?}");
    assert!(!project.path().join("out/revenue").exists());
    let others = report.tasks.iter().filter(|task| matches!(task.outcome, TaskOutcome::Written { .. })).count();
    assert_eq!(others, 4);
}

#[test]
fn zero_limits_write_empty_tables() {
    let project = TempProject::with_shop_data();
    let text = "version: 1\nsources:\n  orders: { format: delta, path: data/orders }\nviews:\n  \
                none_sorted:\n    sort: { input: orders, by: [amount], limit: 0 }\n  none_limited:\n    limit: { input: none_sorted, count: 0 }\n\
                outputs:\n  a: { view: none_sorted, path: out/a }\n  b: { view: none_limited, path: out/b }\n";
    let spec = project.write_spec("spec.yaml", text);
    let mut compiler = Compiler::new().expect("a compiler");
    let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
    assert!(report.succeeded(), "{:?} {:?}", report.compile.diagnostics, report.tasks);
    assert!(read_delta_rows(&project.path().join("out/a")).is_empty());
    assert!(read_delta_rows(&project.path().join("out/b")).is_empty());
}

#[test]
fn one_worker_follows_the_simulated_schedule_and_more_workers_write_the_same_tables() {
    use viewdag_driver::viewdag_schedule::list_schedule;
    use viewdag_driver::{Progress, RunOptions};

    let outputs = ["revenue", "top_regions", "labels", "largest_orders"];
    let mut written: Vec<Vec<Vec<String>>> = Vec::new();
    for jobs in [1, 4] {
        let project = TempProject::with_shop_data();
        let spec = project.write_spec("spec.yaml", &shop_spec());
        let mut compiler = Compiler::new().expect("a compiler");
        let (mut started, mut running, mut most_running) = (Vec::new(), 0usize, 0usize);
        let report = compiler
            .run_with(&CompileRequest::new(&spec), &RunOptions { jobs, ..RunOptions::default() }, &mut |progress| match progress {
                Progress::Started { task, .. } => {
                    started.push(task.id.to_string());
                    running += 1;
                    most_running = most_running.max(running);
                }
                Progress::Finished { .. } => running = running.saturating_sub(1),
            })
            .expect("the spec is readable");
        assert!(report.succeeded(), "{:?}", report.tasks);
        assert!(most_running <= jobs, "{most_running} tasks ran at once with {jobs} job(s)");
        if jobs == 1 {
            // The runner starts ready tasks in the order the list schedule simulates.
            let (tasks, costs) = compiler.snapshot().task_costs();
            let simulated: Vec<String> = list_schedule(&tasks, &costs, 1).slots.into_iter().map(|slot| slot.task.to_string()).collect();
            assert_eq!(started, simulated);
            assert_eq!(started[0], "view:enriched", "the materialization heads the longest chain");
        }
        written.push(outputs.iter().map(|output| read_delta_rows(&project.path().join("out").join(output))).collect());
    }
    assert!(written[0].iter().all(|rows| !rows.is_empty()));
    assert_eq!(written[0], written[1]);
}

#[test]
fn exact_pushdown_claims_are_audited_against_the_data_when_a_task_runs() {
    // A Delta table partitioned by `status` (written by viewdag itself): Delta applies a
    // predicate on a partition column exactly, so the plan drops the filter above the scan
    // and the run audits that claim against the data.
    let project = TempProject::with_shop_data();
    let writer = project.write_spec(
        "partition.yaml",
        "version: 1\nsources:\n  orders: { format: delta, path: data/orders }\nviews:\n  all_orders:\n    sql: \"SELECT order_id, status FROM orders\"\noutputs:\n  by_status: { view: all_orders, path: data/by_status, partition_by: [status] }\n",
    );
    assert!(Compiler::new().unwrap().run(&CompileRequest::new(&writer), &mut |_| {}).unwrap().succeeded());
    let reader = |policy: &str| {
        format!(
            "version: 1\nsources:\n  partitioned: {{ format: delta, path: data/by_status }}\nviews:\n  paid:\n    filter: {{ input: partitioned, predicate: \"status = 'paid'\" }}\noutputs:\n  paid: {{ view: paid, path: out/paid }}\nprofile:\n  pushdown: {policy}\n"
        )
    };
    let direct = direct_rows(&project, "SELECT order_id, status FROM orders WHERE status = 'paid'");
    for (policy, audited) in [("warn", 1), ("strict", 1), ("off", 0)] {
        let spec = project.write_spec("reader.yaml", &reader(policy));
        // Forced: the policy does not change what is written, so the table would be up to date.
        let options = viewdag_driver::RunOptions { force: true, ..viewdag_driver::RunOptions::default() };
        let report = Compiler::new().unwrap().run_with(&CompileRequest::new(&spec), &options, &mut |_| {}).unwrap();
        assert!(report.succeeded(), "{policy}: {:?}", report.tasks);
        assert_eq!(report.tasks[0].audits, viewdag_driver::AuditSummary { claims_checked: audited, warnings: Vec::new() }, "{policy}");
        let mut written = read_delta_rows(&project.path().join("out/paid"));
        written.sort();
        let mut expected = direct.clone();
        expected.sort();
        assert_eq!(written, expected, "{policy}");
    }
}

#[test]
fn a_task_failing_mid_execution_keeps_its_table_and_the_others_are_written() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    assert!(Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap().succeeded());
    let before = read_delta_rows(&project.path().join("out/top_regions"));
    assert!(!before.is_empty());

    // Integer division by zero fails while the plan executes (same output schema).
    let failing =
        shop_spec().replacen("SELECT region, revenue", "SELECT region, revenue + CAST(orders / (orders - orders) AS DOUBLE) AS revenue", 1);
    assert_ne!(failing, shop_spec());
    let spec = project.write_spec("spec.yaml", &failing);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(!report.compile.has_errors(), "{:?}", report.compile.diagnostics);
    let outcome = |id: &str| report.tasks.iter().find(|task| task.id == id).unwrap().outcome.clone();
    assert!(
        matches!(outcome("output:top_regions"), TaskOutcome::Failed { error } if error.to_string().contains("Divide by zero")),
        "{:?}",
        report.tasks
    );
    // Reported as the plan's failure, not as a failed write (deltalake wraps a failing
    // input stream in "Failed to convert into Arrow schema").
    let TaskOutcome::Failed { error } = outcome("output:top_regions") else { unreachable!() };
    let message = error.to_string();
    assert!(message.starts_with("executing the task's plan failed: "), "{message}");
    assert!(!message.contains("Arrow schema") && !message.contains("writing"), "{message}");
    // The other tasks' plans and inputs did not change: their tables are up to date.
    for id in ["view:enriched", "output:revenue", "output:largest_orders", "output:labels"] {
        assert_eq!(outcome(id), TaskOutcome::UpToDate { version: 0 }, "{id}");
    }
    // Nothing of the failed write was committed: the table still reads as before, at v0.
    assert_eq!(read_delta_rows(&project.path().join("out/top_regions")), before);
    let log: Vec<_> = std::fs::read_dir(project.path().join("out/top_regions/_delta_log"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(log, vec!["00000000000000000000.json".to_string()]);
}

#[test]
fn a_second_output_on_the_same_table_is_an_error_and_is_not_written() {
    let project = TempProject::with_shop_data();
    let spec_text = shop_spec().replace("outputs:\n", "outputs:\n  again:\n    view: labels\n    path: ./out/revenue/\n");
    assert_ne!(spec_text, shop_spec());
    let spec = project.write_spec("spec.yaml", &spec_text);
    let mut started = Vec::new();
    let report = Compiler::new()
        .unwrap()
        .run(&CompileRequest::new(&spec), &mut |progress| {
            if let viewdag_driver::Progress::Started { task, .. } = progress {
                started.push(task.id.to_string());
            }
        })
        .unwrap();
    assert!(report.compile.diagnostics.iter().any(|diagnostic| diagnostic.code.id() == "V0504"), "{:?}", report.compile.diagnostics);
    // A skipped task never starts.
    assert!(!started.contains(&"output:revenue".to_string()) && started.contains(&"output:again".to_string()), "{started:?}");
    let outcome = |id: &str| report.tasks.iter().find(|task| task.id == id).unwrap().outcome.clone();
    // `again` is declared first, so `revenue` is the second writer of out/revenue.
    assert!(matches!(outcome("output:revenue"), TaskOutcome::Skipped { reason } if reason.contains("nothing was written")));
    assert!(matches!(outcome("output:again"), TaskOutcome::Written { .. }), "{:?}", report.tasks);
    assert!(matches!(outcome("output:labels"), TaskOutcome::Written { .. }), "{:?}", report.tasks);
}

#[test]
fn tasks_whose_plan_inputs_and_table_are_unchanged_are_not_run_again() {
    use viewdag_driver::RunOptions;

    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let run_planned = |spec: &std::path::Path, force: bool| {
        let options = RunOptions { force, ..RunOptions::default() };
        let report = Compiler::new().unwrap().run_with(&CompileRequest::new(spec), &options, &mut |_| {}).unwrap();
        assert!(report.succeeded(), "{:?}", report.tasks);
        let planned: Vec<String> = report.planned.iter().map(ToString::to_string).collect();
        (report.tasks.into_iter().map(|task| (task.id.to_string(), task.outcome)).collect::<std::collections::BTreeMap<_, _>>(), planned)
    };
    let run = |spec: &std::path::Path, force: bool| run_planned(spec, force).0;
    let (first, planned) = run_planned(&spec, false);
    assert!(first.values().all(|outcome| matches!(outcome, TaskOutcome::Written { version: 0, .. })), "{first:?}");
    assert_eq!(planned.len(), 5);
    // Same spec, same data: nothing runs and nothing is planned (decided from digests);
    // readers of the materialized view bind its table.
    let (second, planned) = run_planned(&spec, false);
    assert!(second.values().all(|outcome| *outcome == TaskOutcome::UpToDate { version: 0 }), "{second:?}");
    assert!(planned.is_empty(), "{planned:?}");

    // An edit re-runs the tasks whose plans changed, and only those.
    let edited = project.write_spec("spec.yaml", &shop_spec().replacen("LIMIT 3", "LIMIT 2", 1));
    let (third, planned) = run_planned(&edited, false);
    assert!(matches!(third["output:top_regions"], TaskOutcome::Written { version: 1, .. }), "{third:?}");
    assert_eq!(planned, vec!["output:top_regions".to_string()]);
    assert_eq!(third["output:revenue"], TaskOutcome::UpToDate { version: 0 });
    // A table changed behind viewdag's back (here: deleted) is written again.
    std::fs::remove_dir_all(project.path().join("out/labels")).unwrap();
    let fourth = run(&edited, false);
    assert!(matches!(fourth["output:labels"], TaskOutcome::Written { version: 0, .. }), "{fourth:?}");
    assert_eq!(fourth["output:largest_orders"], TaskOutcome::UpToDate { version: 0 });
    // New data in a source re-runs its readers; `force` runs everything.
    viewdag_tests::data::append_delta_table(&project.path().join("data/orders"), vec![viewdag_tests::shop::orders(2)]);
    let fifth = run(&edited, false);
    assert!(matches!(fifth["output:revenue"], TaskOutcome::Written { version: 1, .. }), "{fifth:?}");
    let forced = run(&edited, true);
    assert!(forced.values().all(|outcome| matches!(outcome, TaskOutcome::Written { .. })), "{forced:?}");
}

#[test]
fn the_run_state_is_saved_after_each_committed_task() {
    use viewdag_driver::Progress;
    use viewdag_driver::run_state::RunState;

    let project = TempProject::with_shop_data();
    // The last output to run fails (integer division by zero while executing).
    let failing =
        shop_spec().replacen("SELECT region, revenue", "SELECT region, revenue + CAST(orders / (orders - orders) AS DOUBLE) AS revenue", 1);
    let spec = project.write_spec("spec.yaml", &failing);
    let mut recorded_when_finished: Vec<(String, bool)> = Vec::new();
    let root = project.path().to_path_buf();
    let report = Compiler::new()
        .unwrap()
        .run_with(
            &CompileRequest::new(&spec),
            &viewdag_driver::RunOptions { jobs: 1, force: false, ..Default::default() },
            &mut |progress| {
                if let Progress::Finished { report, .. } = progress
                    && matches!(report.outcome, TaskOutcome::Written { .. })
                {
                    // Read back from disk, as a run started after a kill would.
                    recorded_when_finished.push((report.id.to_string(), RunState::load(&root).tasks.contains_key(&report.id)));
                }
            },
        )
        .unwrap();
    assert!(matches!(report.tasks.iter().find(|task| task.id == "output:top_regions").unwrap().outcome, TaskOutcome::Failed { .. }));
    assert_eq!(recorded_when_finished.len(), 4, "{:?}", report.tasks);
    for (task, recorded) in &recorded_when_finished {
        assert!(recorded, "`{task}` was not in the run state when it finished");
    }
    let state = RunState::load(&root);
    assert_eq!(state.tasks.len(), 4, "{state:?}");
    assert!(!state.tasks.contains_key(&TaskId::Output("top_regions".into())));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

/// The SQL-heavy synthetic DAG (`bench-compile`'s second shape) runs: its `sql` views join
/// two views on `id`, which the sources keep unique, so no task has more rows than a source
/// (64). With repeated ids each join multiplied the rows and a 300-view run ran out of memory.
#[test]
fn the_sql_heavy_synthetic_dag_runs_without_multiplying_rows() {
    use viewdag_tests::synthetic_dag::{DagShape, SyntheticProject};
    let project = SyntheticProject::create(DagShape::SqlHeavy, 300);
    let report = Compiler::new().expect("a compiler").run(&CompileRequest::new(&project.spec_path), &mut |_| {}).expect("readable");
    assert!(report.succeeded(), "{:?}", report.tasks.iter().find(|task| !task.outcome.is_done()));
    assert!(!report.tasks.is_empty());
    for task in &report.tasks {
        match task.outcome {
            TaskOutcome::Written { rows, .. } => assert!(rows <= 64, "{:?} wrote {rows} rows", task.id),
            ref other => panic!("{:?}: {other:?}", task.id),
        }
    }
}

/// A full compile reports the views it has checked and planned, on one thread or two, ends
/// each stage at its total, and compiles exactly what it compiles without reporting; an
/// edit's patch reports nothing.
#[test]
fn a_full_compile_reports_its_progress_and_compiles_the_same() {
    use std::sync::{Arc, Mutex};
    use viewdag_driver::compile_progress::{CompileProgressSink, CompileStage};
    use viewdag_tests::synthetic_dag::{DagShape, SyntheticProject};
    let project = SyntheticProject::create(DagShape::SqlHeavy, 300);
    let request = CompileRequest::new(&project.spec_path);
    let plain = Compiler::new().expect("a compiler").compile(&request).expect("readable");
    for jobs in [1, 2] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut compiler = Compiler::new().expect("a compiler");
        compiler.set_compile_jobs(jobs);
        let sink = {
            let seen = Arc::clone(&seen);
            CompileProgressSink::new(move |progress| seen.lock().unwrap().push(progress))
        };
        compiler.set_progress(Some(sink));
        let response = compiler.compile(&request).expect("readable");
        assert_eq!(response.diagnostics, plain.diagnostics, "jobs {jobs}");
        assert_eq!(format!("{:?}", response.views), format!("{:?}", plain.views), "jobs {jobs}");
        let reported = std::mem::take(&mut *seen.lock().unwrap());
        let last = |stage| reported.iter().filter(|progress| progress.stage == stage).map(|progress| (progress.done, progress.total)).max();
        assert_eq!(last(CompileStage::Checking), Some((300, 300)), "jobs {jobs}");
        let (planned, to_plan) = last(CompileStage::Planning).expect("the planning stage reports");
        assert!(planned == to_plan && planned > 0 && planned <= 300, "jobs {jobs}: {planned}/{to_plan}");
        assert!(reported.iter().all(|progress| progress.done <= progress.total));
        // An edit is patched, not compiled in full: nothing to report.
        let leaf = project.dag.leaf_filter().expect("a leaf filter");
        let edited = project.dag.with_leaf_edit(&project.text, leaf);
        compiler.compile(&CompileRequest::text(&project.spec_path, edited.as_str())).expect("readable");
        assert!(seen.lock().unwrap().is_empty(), "jobs {jobs}: {:?}", seen.lock().unwrap().first());
    }
}

#[test]
fn the_driver_binarys_command_line_runs_and_checks_the_shop_example() {
    // `cargo run --release -p viewdag-driver -- run SPEC` (the README's first command).
    let main = |args: &[&str]| viewdag_driver::command_line::main_with_args(["viewdag-driver"].iter().chain(args).map(Into::into));
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let spec_arg = spec.to_str().expect("utf-8");
    assert_eq!(main(&["check", spec_arg]), 0);
    assert_eq!(main(&["run", spec_arg, "--jobs", "2"]), 0);
    // What it wrote is what the library's own run would: a run after it finds every task up to date.
    let report = Compiler::new().expect("a compiler").run(&CompileRequest::new(&spec), &mut |_| {}).expect("the spec is readable");
    assert!(report.tasks.iter().all(|task| matches!(task.outcome, TaskOutcome::UpToDate { .. })), "{:?}", report.tasks);
    assert!(!read_delta_rows(&project.path().join("out/revenue")).is_empty());

    let broken = project.write_spec("broken.yaml", &shop_spec().replace("input: orders,", "input: no_such_source,"));
    assert_ne!(shop_spec(), std::fs::read_to_string(&broken).expect("written"), "the edit applies");
    let broken_arg = broken.to_str().expect("utf-8");
    assert_eq!(main(&["check", broken_arg]), 1);
    assert_eq!(main(&["run", broken_arg]), 1);
    assert_eq!(main(&["compile", spec_arg]), 2);
    assert_eq!(main(&["run", &project.path().join("missing.yaml").to_string_lossy()]), 2);
}

/// `UNNEST` in sql views: the patched SQL planner skips the unnest rewrite only for select
/// lists without one (vendor/datafusion-sql/VIEWDAG_PATCH.md), so a list unnested beside
/// plain columns, an unnest feeding an aggregate through an ephemeral view, and a select list
/// without one next to them write what DataFusion computes from the same texts.
#[test]
fn unnest_in_sql_views_writes_what_datafusion_computes() {
    let project = TempProject::with_shop_data();
    let exploded = "SELECT order_id, unnest(make_array(amount, amount * 2, amount * 3)) AS part, status FROM orders";
    let totals = "SELECT status, sum(part) AS total, count(*) AS parts FROM parts GROUP BY status";
    let plain = "SELECT *, amount * 2 AS doubled FROM orders WHERE amount > 0";
    let text = format!(
        "version: 1\nsources:\n  orders: {{ format: delta, path: data/orders }}\nviews:\n  \
         exploded:\n    sql: \"{exploded}\"\n  parts:\n    sql: \"{exploded}\"\n  totals:\n    sql: \"{totals}\"\n  \
         plain:\n    sql: \"{plain}\"\n\
         outputs:\n  a: {{ view: exploded, path: out/a }}\n  b: {{ view: totals, path: out/b }}\n  c: {{ view: plain, path: out/c }}\n"
    );
    let spec = project.write_spec("spec.yaml", &text);
    let report = Compiler::new().expect("a compiler").run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
    assert!(report.compile.diagnostics.is_empty(), "{:?}", report.compile.diagnostics);
    assert!(report.succeeded(), "{:?}", report.tasks);
    let orders = read_delta_rows(&project.path().join("data/orders")).len();
    let a = read_delta_rows(&project.path().join("out/a"));
    assert_eq!(a.len(), 3 * orders, "three parts per order");
    assert_eq!(a, direct_rows(&project, exploded));
    let b = read_delta_rows(&project.path().join("out/b"));
    assert_eq!(b, direct_rows(&project, &format!("SELECT status, sum(part), count(*) FROM ({exploded}) GROUP BY status")));
    assert_eq!(read_delta_rows(&project.path().join("out/c")), direct_rows(&project, plain));
}

/// DataFusion 55 evaluates `now()`, `current_date()` and `current_time()` only by folding them
/// into a query's start time, which compiled plans never have (their digests do not change
/// with the clock): a run binds its own start time into the plans it executes, the same in
/// every task, in pushed-down scan filters and in SQL and transform views alike. A task whose
/// rows depend on the clock is never up to date; the others still are.
#[test]
fn now_and_current_date_are_the_runs_start_time_in_every_task() {
    let project = TempProject::with_shop_data();
    let text = "version: 1\nsources:\n  orders: { format: delta, path: data/orders }\nviews:\n  \
                stamped:\n    sql: SELECT order_id, now() AS at, current_date() AS day FROM orders WHERE order_date <= current_date()\n  \
                recent:\n    filter: { input: orders, predicate: \"CAST(order_date AS TIMESTAMP) > now() - INTERVAL '36500 days'\" }\n  \
                also_stamped:\n    project: { input: recent, columns: { order_id: order_id, at: \"now()\" } }\n  \
                timeless:\n    filter: { input: orders, predicate: \"amount > 0\" }\n\
                outputs:\n  a: { view: stamped, path: out/a }\n  b: { view: also_stamped, path: out/b }\n  \
                c: { view: timeless, path: out/c }\n";
    let spec = project.write_spec("spec.yaml", text);
    let mut compiler = Compiler::new().expect("a compiler");
    let stamps = |compiler: &mut Compiler| {
        let day_before = chrono::Utc::now().date_naive();
        let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
        assert!(report.succeeded(), "{:?} {:?}", report.compile.diagnostics, report.tasks);
        let written: Vec<String> = report
            .tasks
            .iter()
            .filter(|task| matches!(task.outcome, TaskOutcome::Written { .. }))
            .map(|task| task.id.to_string())
            .collect();
        let day_after = chrono::Utc::now().date_naive();
        let a = viewdag_tests::data::read_delta_rows_exact(&project.path().join("out/a"));
        let b = viewdag_tests::data::read_delta_rows_exact(&project.path().join("out/b"));
        let orders = read_delta_rows(&project.path().join("data/orders")).len();
        assert_eq!((a.len(), b.len()), (orders, orders), "every order is before today and within a century");
        let column =
            |rows: &[String], index: usize| rows.iter().map(|row| row.split('|').nth(index).unwrap().to_string()).collect::<BTreeSet<_>>();
        let (at_a, at_b, days) = (column(&a, 1), column(&b, 1), column(&a, 2));
        assert_eq!(at_a.len(), 1, "one now() in a task: {at_a:?}");
        assert_eq!(at_a, at_b, "one now() in a run");
        // `current_date()` is the day the run started (seen from either side of it).
        let day = chrono::NaiveDate::parse_from_str(days.iter().next().unwrap(), "%Y-%m-%d").expect("a date");
        assert!((day_before..=day_after).contains(&day), "{days:?} is not today");
        (at_a.into_iter().next().unwrap(), written)
    };
    let (first, written) = stamps(&mut compiler);
    assert_eq!(written, ["output:a", "output:b", "output:c"]);
    let (second, written) = stamps(&mut compiler);
    assert_ne!(first, second, "each run has its own start time");
    assert_eq!(written, ["output:a", "output:b"], "the clock's readers run again, the others are up to date");
    // The compiled plans do not know the time: their digests are those of any other moment.
    let digests = |compiler: &mut Compiler| {
        let response = compiler.compile(&CompileRequest::new(&spec)).expect("readable");
        response
            .views
            .iter()
            .filter_map(|view| match &view.status {
                ViewStatus::Compiled { p2_digest, .. } => Some(format!("{}:{p2_digest}", view.name)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let compiled = digests(&mut compiler);
    assert_eq!(compiled.len(), 3, "the tasks' views are planned: {compiled:?}");
    assert_eq!(compiled, digests(&mut Compiler::new().expect("a compiler")));
}

//! Expectations on real Delta tables: each kind passing and failing, each `on_fail` mode
//! (`warn` counts, `drop` removes and counts, `fail` commits nothing: the table keeps its
//! version and rows), the counts in the run report and its JSON, `viewdag test` against
//! the current tables, and the validation diagnostics (unknown column, ill-typed predicate).

use viewdag_driver::ExpectationResult;
use viewdag_driver::{CompileRequest, Compiler, RunOptions, RunReport, TaskOutcome};
use viewdag_tests::data::{delta_version, read_delta_rows};

use crate::support::{TempProject, codes};

/// The shop's orders (Delta): ids with `id % 11 == 0` have a negative amount; statuses
/// cycle paid/pending/refunded; customer ids are 1..=12.
fn spec(view_expect: &str, output_expect: &str) -> String {
    format!(
        r#"version: 1
sources:
  orders:    {{ format: delta,   path: data/orders }}
  customers: {{ format: parquet, path: data/customers.parquet }}
views:
  checked_orders:
    project: {{ input: orders, columns: {{ order_id: order_id, customer_id: customer_id, status: status, amount: amount }} }}
    expect: {view_expect}
outputs:
  orders_out:
    view: checked_orders
    path: out/orders
    expect: {output_expect}
"#
    )
}

fn run(project: &TempProject, text: &str) -> RunReport {
    let spec = project.write_spec("spec.yaml", text);
    Compiler::new()
        .unwrap()
        .run_with(&CompileRequest::new(spec), &RunOptions { force: true, ..RunOptions::default() }, &mut |_| {})
        .unwrap()
}

fn result<'a>(report: &'a RunReport, name: &str) -> &'a ExpectationResult {
    let task = report.tasks.iter().find(|task| task.id == "output:orders_out").expect("the output task");
    task.expectations.iter().find(|expectation| expectation.name == name).unwrap_or_else(|| panic!("{name} in {:?}", task.expectations))
}

fn orders_rows(project: &TempProject) -> usize {
    read_delta_rows(&project.path().join("data/orders")).len()
}

/// Orders with a negative amount (`order_id|customer_id|status|amount|…`).
fn negative_orders(project: &TempProject) -> u64 {
    let negative = read_delta_rows(&project.path().join("data/orders"))
        .iter()
        .filter(|row| row.split('|').nth(3).is_some_and(|amount| amount.starts_with('-')))
        .count() as u64;
    assert!(negative > 0);
    negative
}

#[test]
fn passing_expectations_of_every_kind_are_counted_and_the_rows_written() {
    let project = TempProject::with_shop_data();
    let total = orders_rows(&project);
    let view_expect = r#"{ not_null: [order_id], unique: [order_id], accepted_values: { status: [paid, refunded, pending] }, relationships: { customer_id: { to: customers, column: customer_id } } }"#;
    let report = run(&project, &spec(view_expect, "{ row_count: { min: 1 } }"));
    assert!(report.succeeded(), "{:?}", report.tasks);
    for name in ["not_null(order_id)", "unique(order_id)", "accepted_values(status)", "relationships(customer_id)"] {
        let found = result(&report, name);
        assert_eq!((found.rows_checked, found.rows_failed), (total as u64, 0), "{found:?}");
        assert_eq!(found.owner, "view");
    }
    let count = result(&report, "row_count");
    assert_eq!((count.owner.as_str(), count.rows_checked, count.rows_failed), ("output", total as u64, 0));
    assert_eq!(read_delta_rows(&project.path().join("out/orders")).len(), total);
}

#[test]
fn warn_counts_drop_removes_and_fail_commits_nothing() {
    let project = TempProject::with_shop_data();
    let total = orders_rows(&project);
    let negative = negative_orders(&project);
    let out = project.path().join("out/orders");

    let warned = run(&project, &spec(r#"{ valid_amount: { predicate: "amount >= 0", on_fail: warn } }"#, "{}"));
    assert!(warned.succeeded(), "{:?}", warned.tasks);
    let found = result(&warned, "valid_amount");
    assert_eq!((found.rows_checked, found.rows_failed, found.rows_dropped), (total as u64, negative, 0));
    assert_eq!(read_delta_rows(&out).len(), total, "warn writes every row");
    assert_eq!(delta_version(&out), Some(0));

    let dropped = run(&project, &spec(r#"{ valid_amount: { predicate: "amount >= 0", on_fail: drop } }"#, "{}"));
    assert!(dropped.succeeded(), "{:?}", dropped.tasks);
    let found = result(&dropped, "valid_amount");
    assert_eq!((found.rows_checked, found.rows_failed, found.rows_dropped), (total as u64, negative, negative));
    let rows = read_delta_rows(&out);
    assert_eq!(rows.len() as u64, total as u64 - negative, "drop removes the failing rows");
    assert!(rows.iter().all(|row| !row.split('|').nth(3).unwrap().starts_with('-')), "no negative amount is written: {rows:?}");
    assert_eq!(delta_version(&out), Some(1));
    let TaskOutcome::Written { rows: written, .. } = dropped.tasks[0].outcome else { panic!("{:?}", dropped.tasks) };
    assert_eq!(written as u64, total as u64 - negative);

    let failed = run(&project, &spec(r#"{ valid_amount: { predicate: "amount >= 0" } }"#, "{ row_count: { max: 5 } }"));
    assert!(!failed.succeeded());
    let TaskOutcome::Failed { error } = &failed.tasks[0].outcome else { panic!("{:?}", failed.tasks) };
    let message = error.to_string();
    assert!(message.contains("valid_amount") && message.contains("row_count"), "{message}");
    assert_eq!(result(&failed, "valid_amount").rows_failed, negative);
    assert_eq!(result(&failed, "row_count").rows_failed, 1);
    assert_eq!(delta_version(&out), Some(1), "a failing expectation commits nothing");
    assert_eq!(read_delta_rows(&out), rows, "the table keeps its rows");
    let json = viewdag_driver::run_report::run_report_json(&failed);
    let expectations = &json["tasks"][0]["expectations"];
    assert_eq!(expectations[0]["name"], "valid_amount");
    assert_eq!(expectations[0]["rows_failed"], negative);
    assert_eq!(expectations[0]["on_fail"], "fail");
}

#[test]
fn failing_builtin_kinds_are_counted() {
    let project = TempProject::with_shop_data();
    // customers 1..=12 exist; status `pending` is not accepted; every customer repeats.
    let view_expect = r#"{ unique: [customer_id], accepted_values: { status: [paid, refunded] }, relationships: { customer_id: { to: customers, column: region_id } } }"#;
    let report = run(&project, &spec(view_expect, "{ not_null: [order_id], unique: [status] }"));
    assert!(!report.succeeded());
    let total = orders_rows(&project) as u64;
    assert_eq!(result(&report, "unique(customer_id)").rows_failed, total - 12);
    let pending = read_delta_rows(&project.path().join("data/orders")).iter().filter(|row| row.contains("|pending|")).count() as u64;
    assert!(pending > 0);
    assert_eq!(result(&report, "accepted_values(status)").rows_failed, pending);
    // region ids are 1..=4 and 9: customers 5..=8 and 10..=12 have no match.
    assert!(result(&report, "relationships(customer_id)").rows_failed > 0);
    assert_eq!(result(&report, "not_null(order_id)").rows_failed, 0);
    // A text key (Arrow's row format, not the integer fast path): three statuses only.
    assert_eq!(result(&report, "unique(status)").rows_failed, total - 3);
    assert!(!project.path().join("out/orders/_delta_log").exists(), "nothing was committed");
}

#[test]
fn viewdag_test_checks_the_current_tables_without_writing() {
    let project = TempProject::with_shop_data();
    let written = run(&project, &spec("{ not_null: [order_id] }", "{}"));
    assert!(written.succeeded(), "{:?}", written.tasks);
    let out = project.path().join("out/orders");
    // The table now fails a stricter expectation; `test` says so and writes nothing.
    let spec_path = project.write_spec("spec.yaml", &spec(r#"{ valid_amount: { predicate: "amount >= 0" } }"#, "{}"));
    let mut compiler = Compiler::new().unwrap();
    compiler.compile(&CompileRequest::check(&spec_path)).unwrap();
    let tested = compiler.snapshot().test_expectations();
    assert_eq!(tested.len(), 1);
    let results = tested[0].results.as_ref().unwrap();
    assert_eq!((results[0].name.as_str(), results[0].rows_failed), ("valid_amount", negative_orders(&project)));
    assert!(!tested[0].passed());
    assert_eq!(delta_version(&out), Some(0));
    assert_eq!(viewdag_cli::main_with_args(["viewdag".into(), "test".into(), spec_path.into_os_string()]), 1);
}

#[test]
fn expectations_on_unknown_columns_and_ill_typed_predicates_are_diagnostics() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().unwrap();
    let text = spec(
        r#"{ not_null: [order_idd], relationships: { customer_id: { to: clients, column: id } }, typed: { predicate: "amount + 1" } }"#,
        r#"{ unique: [nope], bad: { predicate: "amout > 0" } }"#,
    );
    let response = project.compile(&mut compiler, "spec.yaml", &text);
    let found = codes(&response);
    assert!(found.contains(&"V0701"), "{found:?}");
    assert!(found.contains(&"V0702"), "{found:?}");
    assert!(found.contains(&"V0207"), "{found:?}");
    assert!(found.contains(&"V0203"), "{found:?}");
    let unknown = response.diagnostics.iter().find(|diagnostic| diagnostic.code.id() == "V0701").unwrap();
    assert_eq!(unknown.location.key_path(), ["views", "checked_orders", "expect", "not_null", "0"]);
    let rendered = viewdag_driver::render::render_human(compiler.spec_source().unwrap(), &response.diagnostics, false);
    assert!(rendered.contains("spec.yaml:"), "{rendered}");
}

/// Issue 21, item 13: a `drop` expectation removed rows, but the other row expectations
/// still counted (and could fail the task on) the dropped rows. `drop` expectations are
/// evaluated first; the others see only the rows kept.
#[test]
fn rows_a_drop_expectation_removes_fail_no_other_expectation() {
    let project = TempProject::with_shop_data();
    let total = orders_rows(&project) as u64;
    let negative = negative_orders(&project);
    let view_expect =
        r#"{ positive: { predicate: "amount >= 0", on_fail: fail }, valid_amount: { predicate: "amount >= 0", on_fail: drop } }"#;
    let report = run(&project, &spec(view_expect, "{ row_count: { max: 1000000 } }"));
    assert!(report.succeeded(), "{:?}", report.tasks);
    let dropped = result(&report, "valid_amount");
    assert_eq!((dropped.rows_checked, dropped.rows_failed, dropped.rows_dropped), (total, negative, negative));
    let positive = result(&report, "positive");
    assert_eq!((positive.rows_checked, positive.rows_failed), (total - negative, 0));
    assert_eq!(result(&report, "row_count").rows_checked, total - negative);
    assert_eq!(read_delta_rows(&project.path().join("out/orders")).len() as u64, total - negative);
}

/// Issue 21, item 14: `viewdag test` skipped a task whose table could not be read and
/// reported "0 failed", exit 0. An unreadable table is a failure.
#[test]
fn viewdag_test_fails_on_a_table_it_cannot_read() {
    let project = TempProject::with_shop_data();
    assert!(run(&project, &spec("{ not_null: [order_id] }", "{}")).succeeded());
    let out = project.path().join("out/orders");
    for file in std::fs::read_dir(&out).unwrap().map(|entry| entry.unwrap().path()) {
        if file.extension().is_some_and(|extension| extension == "parquet") {
            std::fs::remove_file(file).unwrap();
        }
    }
    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_viewdag-cli")).arg("test").arg(project.path().join("spec.yaml")).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("FAIL") && stdout.contains("could not be read"), "{stdout}");
    assert!(stderr.contains("1 failed"), "{stderr}");
}

/// Issue 21, item 15: `relationships` compared values as text, so an `int64` key never
/// matched a `float64` one. Values are compared in their common type.
#[test]
fn relationships_compare_values_not_their_text() {
    let project = TempProject::with_shop_data();
    let text = spec("{}", "{}").replace(
        "columns: { order_id: order_id, customer_id: customer_id, status: status, amount: amount }",
        "columns: { order_id: order_id, customer_id: \"CAST(customer_id AS DOUBLE)\", status: status, amount: amount }",
    );
    let text =
        text.replace("expect: {}\noutputs", "expect: { relationships: { customer_id: { to: customers, column: customer_id } } }\noutputs");
    let report = run(&project, &text);
    assert!(report.succeeded(), "{:?}\n{:?}", report.compile.diagnostics, report.tasks);
    let found = result(&report, "relationships(customer_id)");
    assert_eq!((found.rows_checked, found.rows_failed), (orders_rows(&project) as u64, 0));
}

/// Issue 21, item 16: expectation mistakes were found only by `run`, with messages that did
/// not name the expectation. `check` reports them at the expectation; `run` writes nothing
/// for the task.
#[test]
fn expectation_mistakes_are_check_errors_at_the_expectation_and_their_task_does_not_run() {
    let project = TempProject::with_shop_data();
    let text = spec(r#"{ accepted_values: { amount: [low, high] } }"#, "{ row_count: { min: 5, max: 1 } }");
    let path = project.write_spec("spec.yaml", &text);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_viewdag-cli")).arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("V0704") && stderr.contains("accepted_values(amount)") && stderr.contains("spec.yaml:8:"), "{stderr}");
    assert!(stderr.contains("V0705") && stderr.contains("spec.yaml:13:"), "{stderr}");
    let report = run(&project, &text);
    assert!(matches!(report.tasks[0].outcome, TaskOutcome::Skipped { .. }), "{:?}", report.tasks);
    assert!(!project.path().join("out/orders/_delta_log").exists());
}

//! The types of the Delta tables viewdag writes (`viewdag_ir::delta_types`), on real tables
//! read back by a fresh deltalake reader and by viewdag itself: unsigned integers are
//! widened (a `uint64` above the signed range fails its task, nothing committed), columns
//! Delta stores as another Arrow type append again and again, a type Delta cannot store
//! and names that differ only in case are `check` errors, and their tasks write nothing.

use viewdag_driver::{CompileRequest, Compiler, RunReport, TaskOutcome};
use viewdag_ir::Code;
use viewdag_tests::data::{read_delta_rows, write_unsigned_parquet};

use crate::support::{TempProject, codes};

/// A Parquet file of unsigned columns, each holding its type's largest value in row 1.
fn write_unsigned_source(project: &TempProject, huge: u64) {
    write_unsigned_parquet(&project.path().join("data/unsigned.parquet"), huge);
}

const UNSIGNED_SPEC: &str = "version: 1
sources:
  unsigned: { format: parquet, path: data/unsigned.parquet }
views:
  copied:
    filter: { input: unsigned, predicate: \"id > 0\" }
    materialize: table
  doubled:
    project: { input: copied, columns: { id: id, big_plus_one: \"big + 1\" } }
outputs:
  copied: { view: copied, path: out/copied, contract: { columns: { big: int64, huge: uint64 } } }
  doubled: { view: doubled, path: out/doubled }
";

fn run(project: &TempProject, text: &str) -> RunReport {
    let spec = project.write_spec("spec.yaml", text);
    Compiler::new().expect("a compiler").run(&CompileRequest::new(&spec), &mut |_| {}).expect("the spec is readable")
}

fn outcome<'a>(report: &'a RunReport, id: &str) -> &'a TaskOutcome {
    &report.tasks.iter().find(|task| task.id == id).unwrap_or_else(|| panic!("no task {id}: {:?}", report.tasks)).outcome
}

#[test]
fn unsigned_columns_are_written_widened_and_every_reader_reads_them() {
    let project = TempProject::empty();
    write_unsigned_source(&project, i64::MAX as u64);
    let report = run(&project, UNSIGNED_SPEC);
    assert!(report.succeeded(), "{:?}\n{:?}", report.compile.diagnostics, report.tasks);
    // A fresh deltalake reader reads every value back exactly (before: "Can't cast value 255
    // to type Int8", the log declaring `byte` for a `uint8` column).
    let expected = vec![format!("1|255|65535|4294967295|{}", i64::MAX), "2|3|4|5|6".to_string()];
    assert_eq!(read_delta_rows(&project.path().join("out/copied")), expected);
    assert_eq!(read_delta_rows(&project.path().join(".viewdag/tables/copied")), expected);
    // The materialized view's reader computed over the widened column: no wrap-around.
    assert_eq!(read_delta_rows(&project.path().join("out/doubled")), vec!["1|4294967296", "2|6"]);
    // viewdag reads its own table as a Delta source.
    let reread = "version: 1\nsources:\n  copied: { format: delta, path: out/copied }\nviews:\n  again:\n    filter: { input: copied, predicate: \"big > 4000000000\" }\noutputs:\n  again: { view: again, path: out/again }\n";
    let spec = project.write_spec("reread.yaml", reread);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?}\n{:?}", report.compile.diagnostics, report.tasks);
    assert_eq!(read_delta_rows(&project.path().join("out/again")), vec![expected[0].clone()]);
}

#[test]
fn a_uint64_above_the_signed_range_fails_its_task_and_commits_nothing() {
    let project = TempProject::empty();
    write_unsigned_source(&project, u64::MAX);
    let report = run(&project, UNSIGNED_SPEC);
    let TaskOutcome::Failed { error } = outcome(&report, "view:copied") else { panic!("{:?}", report.tasks) };
    assert_eq!(error.code(), Some(Code::ValueNotStorable), "{error}");
    assert!(error.to_string().contains("huge"), "names the column: {error}");
    assert!(!project.path().join(".viewdag/tables/copied/_delta_log").exists());
    assert!(!project.path().join("out/copied/_delta_log").exists());
}

#[test]
fn appends_of_columns_delta_stores_as_other_types_append_on_every_run() {
    let project = TempProject::with_shop_data();
    let text = "version: 1
sources:
  orders: { format: delta, path: data/orders }
views:
  stamped:
    sql: \"SELECT order_id, CAST('2026-12-02 10:00:00.123456789' AS TIMESTAMP) AS at, row_number() OVER (ORDER BY order_id) AS position, arrow_cast(status, 'Dictionary(Int32, Utf8)') AS status, make_array(order_id, customer_id) AS pair FROM orders\"
outputs:
  log: { view: stamped, path: out/log, mode: append }
";
    let first = run(&project, text);
    assert!(first.succeeded(), "{:?}\n{:?}", first.compile.diagnostics, first.tasks);
    let rows = read_delta_rows(&project.path().join("out/log")).len();
    // Before: the second run's check compared the view's `timestamp[ns]`, `uint64`,
    // dictionary and list types with the table's and refused every later run (`V0503`).
    let second = run(&project, text);
    assert!(!codes(&second.compile).contains(&"V0503"), "{:?}", second.compile.diagnostics);
    assert!(second.succeeded(), "{:?}", second.tasks);
    assert_eq!(read_delta_rows(&project.path().join("out/log")).len(), 2 * rows);
}

#[test]
fn a_type_delta_cannot_store_and_names_differing_in_case_are_check_errors_and_write_nothing() {
    let project = TempProject::with_shop_data();
    let text = "version: 1
sources:
  orders: { format: delta, path: data/orders }
views:
  ids:
    project: { input: orders, columns: { Id: order_id, id: customer_id } }
    materialize: table
  reads_ids:
    filter: { input: ids, predicate: \"id > 0\" }
  opening:
    project: { input: orders, columns: { order_id: order_id, opens: \"CAST('09:00:00' AS TIME)\" } }
  fine:
    filter: { input: orders, predicate: \"amount > 0\" }
outputs:
  reads_ids: { view: reads_ids, path: out/reads_ids }
  opening: { view: opening, path: out/opening }
  fine: { view: fine, path: out/fine }
";
    let report = run(&project, text);
    let found = codes(&report.compile);
    assert!(found.contains(&"V0509") && found.contains(&"V0508"), "{found:?}");
    for id in ["view:ids", "output:reads_ids", "output:opening"] {
        assert!(matches!(outcome(&report, id), TaskOutcome::Skipped { .. }), "{id}: {:?}", report.tasks);
    }
    assert!(matches!(outcome(&report, "output:fine"), TaskOutcome::Written { .. }), "{:?}", report.tasks);
    assert!(!project.path().join("out/opening").exists() && !project.path().join(".viewdag/tables/ids").exists());
}

/// Issue 21, item 7: a materialized view's and an overwrite output's columns change (a
/// rename, a new type): the next run replaces the tables' columns and says so, instead of
/// failing every run (`--force` included) with deltalake's "Field … not found" / "Cannot cast
/// field". The tables read back with the new columns, and a reader of the view runs on them.
#[test]
fn changing_a_views_columns_replaces_the_overwritten_tables_schema() {
    let project = TempProject::with_shop_data();
    let spec = |select: &str, predicate: &str| {
        format!(
            "version: 1
sources:
  orders: {{ format: delta, path: data/orders }}
views:
  totals:
    sql: \"{select}\"
    materialize: table
  copied:
    filter: {{ input: totals, predicate: \"{predicate}\" }}
outputs:
  totals: {{ view: totals, path: out/totals }}
  copied: {{ view: copied, path: out/copied }}
"
        )
    };
    let first = run(&project, &spec("SELECT order_id, amount FROM orders", "order_id > 0"));
    assert!(first.succeeded(), "{:?}\n{:?}", first.compile.diagnostics, first.tasks);
    assert!(first.tasks.iter().all(|task| !task.schema_replaced));
    let rows = read_delta_rows(&project.path().join("out/totals")).len();
    let changed = spec("SELECT order_id AS id, CAST(amount AS VARCHAR) AS amount_text, 1 AS one FROM orders", "id > 0");
    let second = run(&project, &changed);
    assert!(second.succeeded(), "{:?}\n{:?}", second.compile.diagnostics, second.tasks);
    for id in ["view:totals", "output:totals", "output:copied"] {
        let task = second.tasks.iter().find(|task| task.id == id).expect("the task ran");
        assert!(task.schema_replaced, "{id}: {:?}", task);
        assert!(viewdag_driver::run_report::task_detail_lines(task).iter().any(|line| line.contains("schema replaced")));
    }
    for table in ["out/totals", "out/copied", ".viewdag/tables/totals"] {
        let written = read_delta_rows(&project.path().join(table));
        assert_eq!(written.len(), rows, "{table}");
        assert!(written.iter().all(|row| row.ends_with("|1") && row.split('|').count() == 3), "{table}: {written:?}");
    }
    // Unchanged from then on: a third run writes with the same columns, replacing nothing.
    let project_spec = project.write_spec("spec.yaml", &changed);
    let options = viewdag_driver::RunOptions { force: true, ..viewdag_driver::RunOptions::default() };
    let third = Compiler::new().unwrap().run_with(&CompileRequest::new(&project_spec), &options, &mut |_| {}).unwrap();
    assert!(third.succeeded(), "{:?}", third.tasks);
    assert!(third.tasks.iter().all(|task| !task.schema_replaced), "{:?}", third.tasks);
}

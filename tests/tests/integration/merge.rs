//! Merge and replace_where outputs on real Delta tables: a first merge creates the table,
//! later merges insert and update by key in one commit, `when_not_matched_by_source:
//! delete` deletes, duplicate keys are refused before any commit, `replace_where`
//! overwrites only the matching rows, and schema evolution is explicit.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use viewdag_driver::{CompileRequest, Compiler, RunOptions, RunReport, TaskOutcome};
use viewdag_tests::data::{delta_version, read_delta_rows, write_delta_table};

use crate::support::TempProject;

fn batch(rows: &[(i64, &str, i64)]) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("value", DataType::Utf8, true),
            Field::new("region", DataType::Int64, true),
        ])),
        vec![
            Arc::new(Int64Array::from(rows.iter().map(|row| row.0).collect::<Vec<_>>())),
            Arc::new(StringArray::from(rows.iter().map(|row| row.1).collect::<Vec<_>>())),
            Arc::new(Int64Array::from(rows.iter().map(|row| row.2).collect::<Vec<_>>())),
        ],
    )
    .unwrap()
}

fn spec(output: &str, columns: &str) -> String {
    format!(
        r#"version: 1
sources:
  changes: {{ format: delta, path: data/changes }}
views:
  latest:
    project: {{ input: changes, columns: {columns} }}
outputs:
  table:
    view: latest
    path: out/table
{output}
"#
    )
}

const COLUMNS: &str = "{ id: id, value: value, region: region }";

fn run(project: &TempProject, text: &str, rows: &[(i64, &str, i64)]) -> RunReport {
    write_delta_table(&project.path().join("data/changes"), vec![batch(rows)]);
    let spec = project.write_spec("spec.yaml", text);
    Compiler::new().unwrap().run_with(&CompileRequest::new(spec), &RunOptions::default(), &mut |_| {}).unwrap()
}

fn table_rows(project: &TempProject) -> Vec<String> {
    read_delta_rows(&project.path().join("out/table"))
}

#[test]
fn merge_inserts_updates_and_deletes_by_key_in_one_commit() {
    let project = TempProject::empty();
    let merge = "    mode: merge\n    unique_key: [id]\n";
    let first = run(&project, &spec(merge, COLUMNS), &[(1, "a", 1), (2, "b", 1), (3, "c", 2)]);
    assert!(first.succeeded(), "{:?}", first.tasks);
    assert_eq!(table_rows(&project), ["1|a|1", "2|b|1", "3|c|2"]);
    assert_eq!(delta_version(&project.path().join("out/table")), Some(0));

    let second = run(&project, &spec(merge, COLUMNS), &[(2, "B", 1), (4, "d", 2)]);
    assert!(second.succeeded(), "{:?}", second.tasks);
    let merged = second.tasks[0].merged.expect("merge counts");
    assert_eq!((merged.inserted, merged.updated, merged.deleted), (1, 1, 0));
    assert_eq!(table_rows(&project), ["1|a|1", "2|B|1", "3|c|2", "4|d|2"]);
    assert_eq!(delta_version(&project.path().join("out/table")), Some(1), "one commit");

    let deleting = format!("{merge}    when_not_matched_by_source: delete\n");
    let third = run(&project, &spec(&deleting, COLUMNS), &[(4, "D", 2), (5, "e", 3)]);
    assert!(third.succeeded(), "{:?}", third.tasks);
    let merged = third.tasks[0].merged.expect("merge counts");
    assert_eq!((merged.inserted, merged.updated, merged.deleted), (1, 1, 3));
    assert_eq!(table_rows(&project), ["4|D|2", "5|e|3"]);
    assert_eq!(delta_version(&project.path().join("out/table")), Some(2));
}

#[test]
fn duplicate_keys_are_refused_before_any_commit() {
    let project = TempProject::empty();
    let merge = "    mode: merge\n    unique_key: [id]\n";
    assert!(run(&project, &spec(merge, COLUMNS), &[(1, "a", 1)]).succeeded());
    let report = run(&project, &spec(merge, COLUMNS), &[(1, "x", 1), (1, "y", 1), (2, "z", 1)]);
    let TaskOutcome::Failed { error } = &report.tasks[0].outcome else { panic!("{:?}", report.tasks) };
    let message = error.to_string();
    assert!(message.contains("unique_key(id)"), "the message names the key: {message}");
    assert_eq!(delta_version(&project.path().join("out/table")), Some(0), "nothing committed");
    assert_eq!(table_rows(&project), ["1|a|1"]);
    let key = report.tasks[0].expectations.iter().find(|result| result.owner == "merge").expect("the key's check");
    assert_eq!(key.rows_failed, 1);
}

#[test]
fn replace_where_overwrites_only_the_matching_rows() {
    let project = TempProject::empty();
    assert!(run(&project, &spec("", COLUMNS), &[(1, "a", 1), (2, "b", 2)]).succeeded());
    let replace = "    mode: replace_where\n    replace_where: \"region = 2\"\n";
    let report = run(&project, &spec(replace, COLUMNS), &[(3, "c", 2), (4, "d", 2)]);
    assert!(report.succeeded(), "{:?}", report.tasks);
    assert_eq!(table_rows(&project), ["1|a|1", "3|c|2", "4|d|2"]);
    // Rows outside the predicate are refused, not written.
    let outside = run(&project, &spec(replace, COLUMNS), &[(5, "e", 1)]);
    assert!(matches!(outside.tasks[0].outcome, TaskOutcome::Failed { .. }), "{:?}", outside.tasks);
    assert_eq!(table_rows(&project), ["1|a|1", "3|c|2", "4|d|2"]);
}

#[test]
fn schema_changes_need_schema_mode_merge() {
    let project = TempProject::empty();
    let merge = "    mode: merge\n    unique_key: [id]\n";
    assert!(run(&project, &spec(merge, COLUMNS), &[(1, "a", 1)]).succeeded());
    let wider = "{ id: id, value: value, region: region, note: \"'new'\" }";
    let refused = run(&project, &spec(merge, wider), &[(1, "b", 1)]);
    assert!(has_code(&refused, "V0512"), "refused at check: {:?}", refused.compile.diagnostics);
    assert!(!matches!(refused.tasks[0].outcome, TaskOutcome::Written { .. }), "{:?}", refused.tasks);
    assert_eq!(table_rows(&project), ["1|a|1"]);
    let evolving = format!("{merge}    schema_mode: merge\n");
    let accepted = run(&project, &spec(&evolving, wider), &[(1, "b", 1), (2, "c", 1)]);
    assert!(accepted.succeeded(), "{:?}", accepted.tasks);
    assert_eq!(table_rows(&project), ["1|b|1|new", "2|c|1|new"]);
}

fn has_code(report: &RunReport, code: &str) -> bool {
    report.compile.diagnostics.iter().any(|diagnostic| diagnostic.code.id() == code)
}

/// Issue 21, item 7, for the modes that keep a table's rows: a renamed column or a changed
/// type under `merge` or `replace_where` failed every later run with deltalake's "Field …
/// not found" / "Cannot cast field" (`--force` included); now `check` refuses it with
/// `V0512` and the way out, and the table is untouched. With `schema_mode: merge` an append
/// adds a column (before, `V0503` refused what the write would have done).
#[test]
fn changed_columns_of_merge_and_replace_where_outputs_are_refused_at_check_with_the_way_out() {
    let project = TempProject::empty();
    let merge = "    mode: merge\n    unique_key: [id]\n";
    assert!(run(&project, &spec(merge, COLUMNS), &[(1, "a", 1)]).succeeded());
    let renamed = "{ id: id, label: value, region: region }";
    let retyped = "{ id: id, value: value, region: \"cast(region as varchar)\" }";
    let replace = "    mode: replace_where\n    replace_where: \"region = 1\"\n";
    for (mode, columns) in [(merge, renamed), (merge, retyped), (replace, renamed), (replace, retyped)] {
        let report = run(&project, &spec(mode, columns), &[(1, "b", 1)]);
        let diagnostic = report.compile.diagnostics.iter().find(|diagnostic| diagnostic.code.id() == "V0512");
        let diagnostic = diagnostic.unwrap_or_else(|| panic!("{mode} {columns}: {:?}", report.compile.diagnostics));
        assert!(diagnostic.suggestion.as_deref().is_some_and(|help| help.contains("mode: overwrite")), "{diagnostic:?}");
        assert!(!matches!(report.tasks[0].outcome, TaskOutcome::Written { .. }), "{:?}", report.tasks);
        assert_eq!(table_rows(&project), ["1|a|1"], "the table is untouched");
    }
    // The way out it names: one overwrite replaces the columns, then the merge runs again.
    let overwrite = run(&project, &spec("", renamed), &[(1, "b", 1)]);
    assert!(overwrite.succeeded() && overwrite.tasks[0].schema_replaced, "{:?}", overwrite.tasks);
    assert!(run(&project, &spec(merge, renamed), &[(2, "c", 1)]).succeeded());
    assert_eq!(table_rows(&project), ["1|b|1", "2|c|1"]);

    let appended = TempProject::empty();
    let append = "    mode: append\n";
    assert!(run(&appended, &spec(append, COLUMNS), &[(1, "a", 1)]).succeeded());
    let wider = "{ id: id, value: value, region: region, note: \"'new'\" }";
    let refused = run(&appended, &spec(append, wider), &[(2, "b", 1)]);
    assert!(has_code(&refused, "V0503"), "{:?}", refused.compile.diagnostics);
    let evolving = run(&appended, &spec(&format!("{append}    schema_mode: merge\n"), wider), &[(2, "b", 1)]);
    assert!(evolving.succeeded(), "{:?} {:?}", evolving.compile.diagnostics, evolving.tasks);
    assert_eq!(read_delta_rows(&appended.path().join("out/table")), ["1|a|1|NULL", "2|b|1|new"]);
}

#[test]
fn misplaced_and_missing_write_options_are_diagnostics() {
    let project = TempProject::empty();
    write_delta_table(&project.path().join("data/changes"), vec![batch(&[(1, "a", 1)])]);
    let mut compiler = Compiler::new().unwrap();
    let codes = |text: &str, compiler: &mut Compiler| {
        let response = project.compile(compiler, "spec.yaml", text);
        response.diagnostics.iter().map(|diagnostic| diagnostic.code.id()).collect::<Vec<_>>()
    };
    assert_eq!(codes(&spec("    mode: merge\n", COLUMNS), &mut compiler), ["V0506"]);
    assert_eq!(codes(&spec("    mode: merge\n    unique_key: [idd]\n", COLUMNS), &mut compiler), ["V0506"]);
    assert_eq!(codes(&spec("    unique_key: [id]\n", COLUMNS), &mut compiler), ["V0507"]);
    assert_eq!(codes(&spec("    mode: replace_where\n", COLUMNS), &mut compiler), ["V0507"]);
    assert_eq!(codes(&spec("    mode: replace_where\n    replace_where: \"regio = 1\"\n", COLUMNS), &mut compiler), ["V0203"]);
}

#[test]
fn a_concurrent_commit_during_a_merge_is_reported_as_a_conflict() {
    use datafusion::datasource::{MemTable, provider_as_source};
    use datafusion::logical_expr::LogicalPlanBuilder;
    use viewdag_driver::execute::merge::{TableWrite, merge_into};
    use viewdag_ir::WriteMode;

    let project = TempProject::empty();
    let target = project.path().join("out/table");
    write_delta_table(&target, vec![batch(&[(1, "a", 1), (2, "b", 1)])]);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let url = viewdag_driver::sources::directory_url(&target).unwrap();
    // This merge starts from version 0 ...
    let stale = runtime.block_on(deltalake::open_table(url)).unwrap();
    // ... while another writer replaces the files it read.
    write_delta_table(&target, vec![batch(&[(1, "other", 1)])]);
    let message = runtime.block_on(async {
        let context = datafusion::prelude::SessionContext::new();
        stale.update_datafusion_session(&context.state()).unwrap();
        let rows = batch(&[(2, "B", 1), (3, "c", 1)]);
        let source = MemTable::try_new(rows.schema(), vec![vec![rows]]).unwrap();
        let input = LogicalPlanBuilder::scan("changes", provider_as_source(Arc::new(source)), None).unwrap().build().unwrap();
        let write = TableWrite { mode: WriteMode::Merge, unique_key: vec!["id".into()], ..TableWrite::default() };
        merge_into(stale, input, Arc::new(context.state()), &write, deltalake::kernel::transaction::CommitProperties::default())
            .await
            .map(|_| ())
            .unwrap_err()
            .to_string()
    });
    assert!(message.contains("concurrent transaction") && message.contains("Commit failed"), "the conflict is reported: {message}");
    assert_eq!(table_rows(&project), ["1|other|1"], "the losing merge changed nothing");
    assert_eq!(delta_version(&target), Some(1));
}

/// Issue 21, item 2: a row whose key is NULL passed the key check (nulls pass `unique`),
/// never matched (`NULL = NULL` is not true) and was inserted again by every run. Now the
/// task fails with `V0511`, naming the key, and commits nothing — neither the first merge
/// (which creates the table) nor a later one.
#[test]
fn null_merge_keys_fail_the_task_and_commit_nothing() {
    let project = TempProject::empty();
    let merge = "    mode: merge\n    unique_key: [id]\n";
    let nullable_key = "{ id: \"CASE WHEN id = 2 THEN NULL ELSE id END\", value: value, region: region }";
    for (run_number, table_exists) in [(0, false), (1, true)] {
        if table_exists {
            assert!(run(&project, &spec(merge, COLUMNS), &[(1, "a", 1)]).succeeded());
        }
        let report = run(&project, &spec(merge, nullable_key), &[(1, "x", 1), (2, "y", 1), (3, "z", 1)]);
        let TaskOutcome::Failed { error } = &report.tasks[0].outcome else { panic!("run {run_number}: {:?}", report.tasks) };
        assert_eq!(error.code(), Some(viewdag_ir::Code::MergeKeyNull), "{error}");
        assert!(error.to_string().contains("`id`"), "names the key: {error}");
        if table_exists {
            assert_eq!(table_rows(&project), ["1|a|1"], "nothing committed");
            assert_eq!(delta_version(&project.path().join("out/table")), Some(0));
        } else {
            assert!(!project.path().join("out/table/_delta_log").exists(), "no table created");
        }
    }
}

/// Issue 21, item 10: a merge output with a column named `a.b` failed every run after the
/// first (deltalake parsed the name as `relation.column`).
#[test]
fn merge_columns_whose_names_hold_a_dot_merge_on_every_run() {
    let project = TempProject::empty();
    let merge = "    mode: merge\n    unique_key: [id]\n";
    let dotted = "{ id: id, \"a.b\": value, region: region }";
    assert!(run(&project, &spec(merge, dotted), &[(1, "a", 1), (2, "b", 1)]).succeeded());
    let second = run(&project, &spec(merge, dotted), &[(2, "B", 1), (3, "c", 2)]);
    assert!(second.succeeded(), "{:?}", second.tasks);
    assert_eq!(table_rows(&project), ["1|a|1", "2|B|1", "3|c|2"]);
}

/// Issue 21, item 23: with `when_not_matched_by_source: delete`, a target row whose new row
/// a `drop` expectation removed is deleted: the table holds exactly the new rows that
/// passed their expectations (README, "Merge outputs").
#[test]
fn a_dropped_row_is_deleted_by_a_merge_that_deletes_what_the_new_rows_lack() {
    let project = TempProject::empty();
    let merge = "    mode: merge\n    unique_key: [id]\n    when_not_matched_by_source: delete\n    expect: { valid: { predicate: \"value <> 'bad'\", on_fail: drop } }\n";
    assert!(run(&project, &spec(merge, COLUMNS), &[(1, "a", 1), (2, "b", 1), (3, "c", 1)]).succeeded());
    let report = run(&project, &spec(merge, COLUMNS), &[(1, "a", 1), (2, "B", 1), (3, "bad", 1)]);
    assert!(report.succeeded(), "{:?}", report.tasks);
    let valid = report.tasks[0].expectations.iter().find(|result| result.name == "valid").expect("the expectation");
    assert_eq!(valid.rows_dropped, 1);
    let merged = report.tasks[0].merged.expect("merge counts");
    assert_eq!((merged.inserted, merged.updated, merged.deleted), (0, 2, 1));
    assert_eq!(table_rows(&project), ["1|a|1", "2|B|1"]);
}

/// One host (an editor's, a watch loop's) compiles again after a run changed the table: the
/// existing table's schema is read again because its log has a newer commit, not taken
/// from the host's cache of unchanged tables.
#[test]
fn one_host_sees_the_columns_a_run_gave_the_table() {
    let project = TempProject::empty();
    let merge = "    mode: merge\n    unique_key: [id]\n";
    let renamed = "{ id: id, label: value, region: region }";
    let mut compiler = Compiler::new().unwrap();
    let mut run_once = |text: &str, rows: &[(i64, &str, i64)]| {
        write_delta_table(&project.path().join("data/changes"), vec![batch(rows)]);
        let spec = project.write_spec("spec.yaml", text);
        compiler.run_with(&CompileRequest::new(spec), &RunOptions::default(), &mut |_| {}).unwrap()
    };
    assert!(run_once(&spec(merge, COLUMNS), &[(1, "a", 1)]).succeeded());
    let refused = run_once(&spec(merge, renamed), &[(1, "b", 1)]);
    assert!(has_code(&refused, "V0512"), "{:?}", refused.compile.diagnostics);
    let overwrite = run_once(&spec("", renamed), &[(1, "b", 1)]);
    assert!(overwrite.succeeded() && overwrite.tasks[0].schema_replaced, "{:?}", overwrite.tasks);
    let merged = run_once(&spec(merge, renamed), &[(2, "c", 1)]);
    assert!(merged.succeeded(), "the host read the replaced columns: {:?}", merged.compile.diagnostics);
    assert_eq!(table_rows(&project), ["1|b|1", "2|c|1"]);
}

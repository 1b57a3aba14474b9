//! Nothing a spec names may destroy data it does not own: view names are single path
//! components (`V0108`), source and output paths stay inside the project root or a root
//! the profile allows (`V0505`), and no output writes a source, the table store or the
//! project root (`V0504`). Each refused form is run for real and the source table checked
//! untouched (its Delta version unchanged).

use viewdag_driver::{CompileRequest, Compiler, TaskOutcome};
use viewdag_tests::data::delta_version;

use crate::support::TempProject;

const SOURCES: &str = "sources:\n  orders: { format: delta, path: data/orders }\n";

#[test]
fn a_view_named_like_a_path_is_refused_and_the_source_is_untouched() {
    let project = TempProject::with_shop_data();
    let orders = project.path().join("data/orders");
    let version = delta_version(&orders).expect("the source is a Delta table");
    let text = format!(
        "version: 1\n{SOURCES}views:\n  \"../../data/orders\":\n    filter: {{ input: orders, predicate: \"amount > 0\" }}\n    materialize: table\n  \
         reader:\n    distinct: {{ input: \"../../data/orders\" }}\n    materialize: table\n  fine:\n    distinct: {{ input: orders }}\n    materialize: table\n"
    );
    let spec = project.write_spec("spec.yaml", &text);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.compile.diagnostics.iter().any(|diagnostic| diagnostic.code.id() == "V0108"), "{:?}", report.compile.diagnostics);
    let outcome = |id: &str| report.tasks.iter().find(|task| task.id == id).map(|task| task.outcome.clone());
    assert!(matches!(outcome("view:../../data/orders"), Some(TaskOutcome::Skipped { .. })), "{:?}", report.tasks);
    assert!(matches!(outcome("view:reader"), Some(TaskOutcome::Skipped { .. })), "{:?}", report.tasks);
    assert!(matches!(outcome("view:fine"), Some(TaskOutcome::Written { .. })), "{:?}", report.tasks);
    assert_eq!(delta_version(&orders), Some(version), "the source table was not written");
    assert!(!project.path().join(".viewdag/tables/..").join("reader").exists());
}

/// Runs `outputs` (YAML lines under `outputs:`) and `profile` over the shop's `orders` in
/// `project`, returning the report.
fn run_outputs(project: &TempProject, outputs: &str, profile: &str) -> viewdag_driver::RunReport {
    let text = format!(
        "version: 1\n{SOURCES}views:\n  paid:\n    filter: {{ input: orders, predicate: \"status = 'paid'\" }}\noutputs:\n{outputs}{profile}"
    );
    let spec = project.write_spec("spec.yaml", &text);
    Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap()
}

fn outcome(report: &viewdag_driver::RunReport, id: &str) -> TaskOutcome {
    report.tasks.iter().find(|task| task.id == id).map(|task| task.outcome.clone()).expect("the task is reported")
}

fn codes(report: &viewdag_driver::RunReport) -> Vec<&'static str> {
    report.compile.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()).map(|diagnostic| diagnostic.code.id()).collect()
}

#[test]
fn outputs_outside_the_project_or_on_a_source_are_refused_and_nothing_is_written() {
    let outside = tempfile::tempdir().unwrap();
    let absolute = outside.path().join("paid").display().to_string();
    let cases: [(&str, String, &str); 8] = [
        ("absolute", format!("\"{absolute}\""), "V0505"),
        ("climbing", "../x".to_string(), "V0505"),
        ("dot", "\".\"".to_string(), "V0504"),
        ("empty", "\"\"".to_string(), "V0504"),
        ("above_source", "data".to_string(), "V0504"),
        ("on_source", "./data/orders/".to_string(), "V0504"),
        ("store", ".viewdag".to_string(), "V0504"),
        ("inside_source", "data/orders/sub".to_string(), "V0504"),
    ];
    for (name, path, code) in cases {
        let project = TempProject::with_shop_data();
        let orders = project.path().join("data/orders");
        let version = delta_version(&orders).unwrap();
        let report =
            run_outputs(&project, &format!("  {name}: {{ view: paid, path: {path} }}\n  fine: {{ view: paid, path: out/paid }}\n"), "");
        assert_eq!(codes(&report), vec![code], "{name}: {:?}", report.compile.diagnostics);
        assert!(matches!(outcome(&report, &format!("output:{name}")), TaskOutcome::Skipped { .. }), "{name}: {:?}", report.tasks);
        assert!(matches!(outcome(&report, "output:fine"), TaskOutcome::Written { .. }), "{name}: {:?}", report.tasks);
        assert_eq!(delta_version(&orders), Some(version), "{name}: the source table was not written");
        assert!(!project.path().join("_delta_log").exists() && !project.path().join("data/_delta_log").exists(), "{name}");
        assert!(!outside.path().join("paid").exists(), "{name}");
        assert!(!project.path().parent().unwrap().join("x").exists(), "{name}");
    }
}

#[test]
fn an_allowed_root_may_be_written_and_read() {
    let shared = tempfile::tempdir().unwrap();
    let project = TempProject::with_shop_data();
    // A source outside the project: refused, and its readers blocked, until its root is allowed.
    viewdag_tests::data::write_delta_table(&shared.path().join("orders"), vec![viewdag_tests::shop::orders(20)]);
    let allowed = shared.path().display().to_string();
    let spec_text = |profile: &str| {
        format!(
            "version: 1\nsources:\n  orders: {{ format: delta, path: \"{allowed}/orders\" }}\nviews:\n  paid:\n    filter: {{ input: orders, predicate: \"status = 'paid'\" }}\noutputs:\n  shared: {{ view: paid, path: \"{allowed}/paid\" }}\n{profile}"
        )
    };
    let spec = project.write_spec("spec.yaml", &spec_text(""));
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert_eq!(codes(&report), vec!["V0505", "V0505"], "{:?}", report.compile.diagnostics);
    assert!(matches!(outcome(&report, "output:shared"), TaskOutcome::Skipped { .. }));
    assert!(!shared.path().join("paid").exists());

    let spec = project.write_spec("spec.yaml", &spec_text(&format!("profile:\n  paths:\n    allow: [\"{allowed}\"]\n")));
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?} {:?}", report.compile.diagnostics, report.tasks);
    assert!(delta_version(&shared.path().join("paid")).is_some());
    assert_eq!(delta_version(&shared.path().join("orders")), Some(0), "the source is untouched");

    // A relative allowed root (climbing out of the project) works the same way.
    let relative = format!("../{}", shared.path().file_name().unwrap().to_string_lossy());
    let nested = TempProject { directory: tempfile::tempdir_in(shared.path().parent().unwrap()).unwrap() };
    viewdag_tests::shop::write_shop_data(&nested.path().join("data"));
    let report = run_outputs(
        &nested,
        &format!("  shared: {{ view: paid, path: {relative}/relative_paid }}\n"),
        &format!("profile:\n  paths:\n    allow: [{relative}]\n"),
    );
    assert!(report.succeeded(), "{:?} {:?}", report.compile.diagnostics, report.tasks);
    assert!(delta_version(&shared.path().join("relative_paid")).is_some());
}

#[test]
fn a_symlink_out_of_the_project_or_onto_a_source_is_refused_before_anything_is_written() {
    let outside = tempfile::tempdir().unwrap();
    let project = TempProject::with_shop_data();
    let orders = project.path().join("data/orders");
    let version = delta_version(&orders).unwrap();
    std::os::unix::fs::symlink(outside.path(), project.path().join("out")).unwrap();
    std::os::unix::fs::symlink(&orders, project.path().join("alias")).unwrap();
    let report = run_outputs(
        &project,
        "  escaping: { view: paid, path: out/paid }\n  aliased: { view: paid, path: alias }\n  fine: { view: paid, path: tables/paid }\n",
        "",
    );
    assert!(codes(&report).is_empty(), "lexically fine: {:?}", report.compile.diagnostics);
    assert!(
        matches!(outcome(&report, "output:escaping"), TaskOutcome::Failed { error } if error.to_string().contains("outside the project")),
        "{:?}",
        report.tasks
    );
    assert!(
        matches!(outcome(&report, "output:aliased"), TaskOutcome::Failed { error } if error.to_string().contains("source `orders`")),
        "{:?}",
        report.tasks
    );
    assert!(matches!(outcome(&report, "output:fine"), TaskOutcome::Written { .. }), "{:?}", report.tasks);
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none(), "nothing was written outside");
    assert_eq!(delta_version(&orders), Some(version), "the source table was not written");

    // The table store itself may not be a link out of the project either.
    let project = TempProject::with_shop_data();
    std::fs::create_dir_all(project.path().join(".viewdag")).unwrap();
    std::os::unix::fs::symlink(outside.path(), project.path().join(".viewdag/tables")).unwrap();
    let text = format!(
        "version: 1\n{SOURCES}views:\n  paid:\n    filter: {{ input: orders, predicate: \"amount > 0\" }}\n    materialize: table\n"
    );
    let spec = project.write_spec("spec.yaml", &text);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(
        matches!(outcome(&report, "view:paid"), TaskOutcome::Failed { error } if error.to_string().contains("refused")),
        "{:?}",
        report.tasks
    );
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none(), "nothing was written outside");
}

/// Issue 21, item 5: two outputs whose paths differ in the spec but resolve to one table (a
/// symlink), and an output linked onto a materialized view's table in `.viewdag`, are
/// refused before anything is written — before, each run overwrote the other's rows and the
/// next run reported the other task up to date.
#[test]
fn tables_that_are_one_through_a_symlink_are_refused_before_anything_is_written() {
    let project = TempProject::with_shop_data();
    std::fs::create_dir_all(project.path().join("tables/one")).unwrap();
    std::os::unix::fs::symlink(project.path().join("tables/one"), project.path().join("alias_of_one")).unwrap();
    let report = run_outputs(
        &project,
        "  first: { view: paid, path: tables/one }\n  second: { view: paid, path: alias_of_one }\n  fine: { view: paid, path: tables/two }\n",
        "",
    );
    assert!(codes(&report).is_empty(), "lexically fine: {:?}", report.compile.diagnostics);
    for id in ["output:first", "output:second"] {
        assert!(
            matches!(outcome(&report, id), TaskOutcome::Failed { error } if error.to_string().contains("shares the table of")),
            "{id}: {:?}",
            report.tasks
        );
    }
    assert!(matches!(outcome(&report, "output:fine"), TaskOutcome::Written { .. }), "{:?}", report.tasks);
    assert!(!project.path().join("tables/one/_delta_log").exists(), "nothing was written");

    // An output linked into the table store: onto a materialized view's table, or beside it.
    let project = TempProject::with_shop_data();
    std::fs::create_dir_all(project.path().join(".viewdag/tables")).unwrap();
    std::os::unix::fs::symlink(project.path().join(".viewdag/tables"), project.path().join("store")).unwrap();
    std::os::unix::fs::symlink(project.path().join(".viewdag"), project.path().join("state")).unwrap();
    let text = format!(
        "version: 1\n{SOURCES}views:\n  paid:\n    filter: {{ input: orders, predicate: \"amount > 0\" }}\n    materialize: table\n  raw:\n    distinct: {{ input: orders }}\n\
         outputs:\n  onto_paid: {{ view: raw, path: store/paid }}\n  beside: {{ view: raw, path: state/mine }}\n"
    );
    let spec = project.write_spec("spec.yaml", &text);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert!(codes(&report).is_empty(), "lexically fine: {:?}", report.compile.diagnostics);
    for id in ["view:paid", "output:onto_paid"] {
        assert!(
            matches!(outcome(&report, id), TaskOutcome::Failed { error } if error.to_string().contains("shares the table of")),
            "{id}: {:?}",
            report.tasks
        );
    }
    assert!(!project.path().join(".viewdag/tables/paid/_delta_log").exists(), "nothing was written");
    assert!(
        matches!(outcome(&report, "output:beside"), TaskOutcome::Failed { error } if error.to_string().contains("`.viewdag`")),
        "{:?}",
        report.tasks
    );
    assert!(!project.path().join(".viewdag/mine").exists());
}

/// Issue 21, item 20: a source linked out of the project (`data/users.csv -> /elsewhere`),
/// or a directory source holding such a link, is `V0505` at `check` and never read: before,
/// the file was read and its rows written into an output with no diagnostic.
#[test]
fn a_source_read_through_a_symlink_out_of_the_project_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.csv"), "id,name\n1,root\n").unwrap();
    let project = TempProject::empty();
    std::fs::create_dir_all(project.path().join("data/folder")).unwrap();
    std::fs::write(project.path().join("data/folder/own.csv"), "id,name\n2,me\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), project.path().join("data/users.csv")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), project.path().join("data/folder/linked.csv")).unwrap();
    let text = "version: 1
sources:
  users: { format: csv, path: data/users.csv, schema: { id: int64, name: utf8 } }
  folder: { format: csv, path: data/folder, schema: { id: int64, name: utf8 } }
views:
  copied:
    distinct: { input: users }
  listed:
    distinct: { input: folder }
outputs:
  copied: { view: copied, path: out/copied }
  listed: { view: listed, path: out/listed }
";
    let spec = project.write_spec("spec.yaml", text);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert_refused_through_a_link(&report, &["users", "folder"]);
    assert!(!project.path().join("out/copied/_delta_log").exists(), "nothing read through the link was written");
    assert!(!project.path().join("out/listed/_delta_log").exists());
}

/// Issue 21, item 20, for Delta sources: a table inside the project whose data file, or
/// whose `_delta_log`, is a symlink out of the project is `V0505` and never read (the
/// table's own directory was checked before, not what its log reads).
#[test]
fn a_delta_source_whose_files_or_log_link_out_of_the_project_is_refused() {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    let batch = |values: Vec<i64>| {
        let schema = std::sync::Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![std::sync::Arc::new(Int64Array::from(values))]).unwrap()
    };
    let outside = tempfile::tempdir().unwrap();
    let project = TempProject::empty();
    // `linked_file`: its one data file moved outside and linked back.
    let linked_file = project.path().join("data/linked_file");
    viewdag_tests::data::write_delta_table(&linked_file, vec![batch(vec![1, 2])]);
    let data_file = std::fs::read_dir(&linked_file)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|extension| extension == "parquet"))
        .expect("the table has a data file");
    let moved = outside.path().join("moved.parquet");
    std::fs::rename(&data_file, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &data_file).unwrap();
    // `linked_log`: its `_delta_log` moved outside and linked back.
    let linked_log = project.path().join("data/linked_log");
    viewdag_tests::data::write_delta_table(&linked_log, vec![batch(vec![3])]);
    std::fs::rename(linked_log.join("_delta_log"), outside.path().join("log")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("log"), linked_log.join("_delta_log")).unwrap();
    // `own`: a plain table, read as before.
    viewdag_tests::data::write_delta_table(&project.path().join("data/own"), vec![batch(vec![4])]);
    let text = "version: 1
sources:
  linked_file: { format: delta, path: data/linked_file }
  linked_log: { format: delta, path: data/linked_log }
  own: { format: delta, path: data/own }
views:
  a: { distinct: { input: linked_file } }
  b: { distinct: { input: linked_log } }
  c: { distinct: { input: own } }
outputs:
  a: { view: a, path: out/a }
  b: { view: b, path: out/b }
  c: { view: c, path: out/c }
";
    let spec = project.write_spec("spec.yaml", text);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&spec), &mut |_| {}).unwrap();
    assert_refused_through_a_link(&report, &["linked_file", "linked_log"]);
    assert!(!report.compile.diagnostics.iter().any(|diagnostic| diagnostic.location.entry.as_deref() == Some("own")));
    assert!(!project.path().join("out/a/_delta_log").exists(), "nothing read through the link was written");
    assert!(!project.path().join("out/b/_delta_log").exists());
    assert_eq!(viewdag_tests::data::read_delta_rows(&project.path().join("out/c")).len(), 1, "the other source is read as before");
}

/// Each of `sources` is `V0505` at `check` for reading through a link out of the project.
fn assert_refused_through_a_link(report: &viewdag_driver::RunReport, sources: &[&str]) {
    for source in sources {
        assert!(
            report.compile.diagnostics.iter().any(|diagnostic| diagnostic.code.id() == "V0505"
                && diagnostic.location.entry.as_deref() == Some(*source)
                && diagnostic.message.contains("symlink")),
            "{source}: {:?}",
            report.compile.diagnostics
        );
    }
}

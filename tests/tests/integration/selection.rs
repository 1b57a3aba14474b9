//! Node selection on the shop example: each operator through the driver, `state:modified`
//! against a previous `compile --out` directory after an edit, and `run --select` running
//! only the selected tasks while reading the others' existing tables.

use std::collections::BTreeSet;

use viewdag_driver::select::Selection;
use viewdag_driver::{CompileRequest, Compiler, RunOptions, TaskOutcome};
use viewdag_tests::data::delta_version;

use crate::support::{TempProject, shop_spec};

fn selected(
    compiler: &mut Compiler,
    spec: &std::path::Path,
    select: &[&str],
    exclude: &[&str],
    state: Option<&std::path::Path>,
) -> Vec<String> {
    let response = compiler.compile(&CompileRequest::check(spec)).unwrap();
    let args = Selection {
        select: select.iter().map(|value| value.to_string()).collect(),
        exclude: exclude.iter().map(|value| value.to_string()).collect(),
        state: state.map(std::path::Path::to_path_buf),
    };
    let views: BTreeSet<String> = compiler.snapshot().select_views(&response, &args).unwrap().expect("a selection");
    // Declaration order, as the driver lists views.
    compiler.snapshot().view_names().into_iter().filter(|view| views.contains(view)).collect()
}

fn tagged_shop() -> String {
    shop_spec()
        .replacen(
            "    filter: { input: orders, predicate: \"status = 'paid' AND amount > 0\" }\n",
            "    filter: { input: orders, predicate: \"status = 'paid' AND amount > 0\" }\n    tags: [finance]\n",
            1,
        )
        .replacen("    materialize: table\n", "    materialize: table\n    tags: [finance, daily]\n", 1)
}

#[test]
fn each_operator_selects_what_the_grammar_says() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &tagged_shop());
    let mut compiler = Compiler::new().unwrap();
    assert_eq!(selected(&mut compiler, &spec, &["order_lines"], &[], None), ["order_lines"]);
    assert_eq!(selected(&mut compiler, &spec, &["+order_lines"], &[], None), ["paid_orders", "customer_regions", "order_lines"]);
    assert_eq!(selected(&mut compiler, &spec, &["1+order_lines"], &[], None), ["paid_orders", "customer_regions", "order_lines"]);
    assert_eq!(selected(&mut compiler, &spec, &["largest_orders+"], &[], None), ["largest_orders", "top_three_orders"]);
    assert_eq!(selected(&mut compiler, &spec, &["enriched+1"], &[], None), ["enriched", "largest_orders", "segment_names"]);
    assert_eq!(selected(&mut compiler, &spec, &["tag:finance"], &[], None), ["paid_orders", "enriched"]);
    assert_eq!(selected(&mut compiler, &spec, &["tag:finance,tag:daily"], &[], None), ["enriched"], "comma intersects");
    assert_eq!(selected(&mut compiler, &spec, &["tag:daily segments"], &[], None), ["enriched", "segments"], "space unites");
    assert_eq!(selected(&mut compiler, &spec, &["path:out/top_regions"], &[], None), ["top_regions"]);
    assert_eq!(selected(&mut compiler, &spec, &["path:out"], &[], None).len(), 4, "every output's view");
    assert_eq!(
        selected(&mut compiler, &spec, &["enriched+"], &["segments+"], None),
        ["enriched", "largest_orders", "top_three_orders", "segment_names"]
    );
    let response = compiler.compile(&CompileRequest::check(&spec)).unwrap();
    let bad = Selection { select: vec!["no_such_view".into()], ..Selection::default() };
    assert!(compiler.snapshot().select_views(&response, &bad).unwrap_err().to_string().contains("no_such_view"));
    let no_state = Selection { select: vec!["state:modified".into()], ..Selection::default() };
    assert!(compiler.snapshot().select_views(&response, &no_state).unwrap_err().to_string().contains("--state"));
}

#[test]
fn state_modified_selects_exactly_the_edited_view_and_its_descendants() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let state = project.path().join("state");
    let code = viewdag_cli::main_with_args(
        ["viewdag", "compile", spec.to_str().unwrap(), "--out", state.to_str().unwrap()].map(std::ffi::OsString::from),
    );
    assert_eq!(code, 0);
    let mut compiler = Compiler::new().unwrap();
    assert!(selected(&mut compiler, &spec, &["state:modified"], &[], Some(&state)).is_empty(), "nothing changed");
    project.write_spec("spec.yaml", &shop_spec().replacen("amount * 0.92", "amount * 0.93", 1));
    assert_eq!(
        selected(&mut compiler, &spec, &["state:modified"], &[], Some(&state)),
        ["enriched", "largest_orders", "top_three_orders", "segment_names", "segments", "labels"]
    );
    // Retagging changes no definition digest.
    project.write_spec("spec.yaml", &tagged_shop());
    assert!(selected(&mut compiler, &spec, &["state:modified"], &[], Some(&state)).is_empty());
}

#[test]
fn run_select_runs_only_the_selected_tasks_and_reads_the_others_tables() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let outcomes = |selection: Option<&[&str]>| {
        let selection = selection.map(|views| {
            let mut compiler = Compiler::new().unwrap();
            let response = compiler.compile(&CompileRequest::check(&spec)).unwrap();
            let args = Selection { select: views.iter().map(|view| view.to_string()).collect(), ..Selection::default() };
            compiler.snapshot().select_units(&response, &args).unwrap().expect("a selection")
        });
        let options = RunOptions { force: true, selection, ..RunOptions::default() };
        let report = Compiler::new().unwrap().run_with(&CompileRequest::new(&spec), &options, &mut |_| {}).unwrap();
        (report.tasks.iter().map(|task| (task.id.clone(), task.outcome.clone())).collect::<Vec<_>>(), report.warnings)
    };
    // Before `enriched` has a table, selecting only its reader skips it with a warning.
    let (tasks, warnings) = outcomes(Some(&["top_three_orders"]));
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(matches!(&tasks[0], (id, TaskOutcome::Skipped { .. }) if id == "output:largest_orders"), "{tasks:?}");
    assert!(warnings.iter().any(|warning| warning.contains("view:enriched")), "{warnings:?}");
    assert!(!project.path().join("out/largest_orders").exists());

    let (all, _) = outcomes(None);
    assert_eq!(all.len(), 5);
    let enriched_version = delta_version(&project.path().join(".viewdag/tables/enriched"));
    let labels_version = delta_version(&project.path().join("out/labels"));
    let (tasks, warnings) = outcomes(Some(&["top_three_orders"]));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(tasks.len(), 1);
    assert!(matches!(&tasks[0], (id, TaskOutcome::Written { rows: 3, version: 1 }) if id == "output:largest_orders"), "{tasks:?}");
    assert_eq!(delta_version(&project.path().join(".viewdag/tables/enriched")), enriched_version, "the unselected table is only read");
    assert_eq!(delta_version(&project.path().join("out/labels")), labels_version);
}

#[test]
fn graph_and_check_narrow_to_the_selection() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let mut compiler = Compiler::new().unwrap();
    let response = compiler.compile(&CompileRequest::check(&spec)).unwrap();
    let args = Selection { select: vec!["+paid_orders".into()], ..Selection::default() };
    let chosen = compiler.snapshot().select_views(&response, &args).unwrap().unwrap();
    let narrowed = compiler.snapshot().restrict_to_selection(&response, &chosen);
    assert_eq!(narrowed.views.iter().map(|view| view.name.as_str()).collect::<Vec<_>>(), ["paid_orders"]);
    let subgraph = viewdag_driver::select::selected_subgraph(&compiler.snapshot().structure().dag, &chosen);
    assert_eq!(subgraph.edges(), [("orders".to_string(), "paid_orders".to_string())]);
}

#[test]
fn compile_select_writes_only_the_selected_tasks_bundles_and_every_views_digest() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let out = project.path().join("selected");
    let code = viewdag_cli::main_with_args(
        ["viewdag", "compile", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--select", "+revenue_by_region"]
            .map(std::ffi::OsString::from),
    );
    assert_eq!(code, 0);
    let bundles: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".bundle.json"))
        .collect();
    assert_eq!(bundles, BTreeSet::from(["revenue_by_region.bundle.json".to_string()]), "only the selected task is planned");
    let digests = viewdag_driver::select::recorded_definition_digests(&out).unwrap();
    assert_eq!(digests.len(), 12);
    assert!(digests.values().all(Option::is_some), "every valid view records its definition digest");
}

/// Issue 21, item 4, through the binary: `run --select OUTPUT` runs that output's task
/// alone (before: every output of its view, so an `append` sibling gained a copy of its rows
/// on each run), and `--exclude OUTPUT` leaves out that output alone (before: its view and so
/// its siblings).
#[test]
fn selecting_an_output_runs_that_output_alone_and_excluding_one_leaves_its_siblings() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec(
        "spec.yaml",
        "version: 1
sources:
  orders: { format: delta, path: data/orders }
views:
  paid:
    filter: { input: orders, predicate: \"status = 'paid'\" }
outputs:
  snapshot: { view: paid, path: out/snapshot }
  history: { view: paid, path: out/history, mode: append }
",
    );
    let run = |extra: &[&str]| {
        let arguments = ["viewdag", "run", spec.to_str().unwrap(), "--force"].into_iter().chain(extra.iter().copied());
        viewdag_cli::main_with_args(arguments.map(std::ffi::OsString::from))
    };
    assert_eq!(run(&[]), 0);
    let history = project.path().join("out/history");
    let snapshot = project.path().join("out/snapshot");
    let history_rows = viewdag_tests::data::read_delta_rows(&history).len();
    assert!(history_rows > 0);
    let (history_version, snapshot_version) = (delta_version(&history), delta_version(&snapshot));
    for _ in 0..2 {
        assert_eq!(run(&["--select", "snapshot"]), 0);
    }
    assert_eq!(viewdag_tests::data::read_delta_rows(&history).len(), history_rows, "the append sibling gained no rows");
    assert_eq!(delta_version(&history), history_version);
    assert_eq!(delta_version(&snapshot), snapshot_version.map(|version| version + 2));
    assert_eq!(run(&["--exclude", "history"]), 0);
    assert_eq!(delta_version(&snapshot), snapshot_version.map(|version| version + 3), "the sibling still runs");
    assert_eq!(delta_version(&history), history_version);
    assert_eq!(run(&["--select", "history"]), 0);
    assert_eq!(viewdag_tests::data::read_delta_rows(&history).len(), 2 * history_rows, "the selected append ran once");
}

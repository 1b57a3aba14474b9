//! Bad input: every problem is a diagnostic with a stable code, naming the view or source
//! and a place in the file; exit code 1; never a panic; the other views still compile.

use viewdag_cli::main_with_args;
use viewdag_driver::{Compiler, ViewStatus};
use viewdag_ir::{Code, Severity};

use crate::support::{TempProject, codes};

const GOOD_VIEWS: &str = r#"
  paid_orders:
    filter: { input: orders, predicate: "status = 'paid'" }
  big:
    filter: { input: paid_orders, predicate: "amount > 10" }
"#;

fn spec(sources: &str, views: &str) -> String {
    format!("version: 1\nsources:\n{sources}\nviews:{GOOD_VIEWS}{views}\n")
}

const SOURCES: &str = "  orders: { format: delta, path: data/orders }\n  customers: { format: parquet, path: data/customers.parquet }";

/// Compiles `text`, checks the expected code is reported at a resolvable position in the
/// spec, and that the good views still compiled.
fn expect_code(text: &str, code: Code, entry: Option<&str>) -> viewdag_driver::CompileResponse {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let response = project.compile(&mut compiler, "spec.yaml", text);
    let found = response
        .diagnostics
        .iter()
        .find(|diagnostic| diagnostic.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:?}", codes(&response)));
    assert_eq!(found.entry(), entry, "{found:?}");
    let source = compiler.spec_source().expect("a source");
    assert!(source.spans.resolve(&found.location).is_some(), "{found:?} has no position");
    let rendered = viewdag_driver::render::render_human(source, std::slice::from_ref(found), false);
    assert!(rendered.contains(code.id()) && rendered.contains("spec.yaml:"), "{rendered}");
    response
}

fn assert_good_views_compiled(response: &viewdag_driver::CompileResponse) {
    for name in ["paid_orders", "big"] {
        let view = response.view(name).unwrap_or_else(|| panic!("{name} is declared"));
        assert!(view.status.is_valid(), "{name}: {:?}", view.status);
    }
}

#[test]
fn malformed_yaml_is_one_positioned_syntax_error() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let response = project.compile(&mut compiler, "spec.yaml", "version: 1\nviews:\n  a: { filter: [unclosed\n");
    assert_eq!(codes(&response), vec!["V0001"]);
    let location = &response.diagnostics[0].location;
    assert!(location.absolute.is_some_and(|(line, _)| line >= 3), "{location:?}");
}

#[test]
fn malformed_json_is_a_positioned_syntax_error() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let response = project.compile(&mut compiler, "spec.json", "{\"version\": 1,\n \"views\": {\"a\": }\n}");
    assert_eq!(codes(&response), vec!["V0001"]);
    assert_eq!(response.diagnostics[0].location.absolute.map(|(line, _)| line), Some(2));
    assert!(response.diagnostics[0].message.contains("JSON"));
}

#[test]
fn json_specs_compile_like_yaml() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let text = r#"{"version": 1, "sources": {"orders": {"format": "delta", "path": "data/orders"}},
                  "views": {"paid": {"filter": {"input": "orders", "predicate": "status = 'paid'"}}}}"#;
    let response = project.compile(&mut compiler, "spec.json", text);
    assert!(response.diagnostics.is_empty(), "{:?}", response.diagnostics);
    assert!(response.view("paid").expect("declared").status.is_valid());
}

#[test]
fn unknown_key_in_one_view_leaves_the_others_compiling() {
    let response = expect_code(
        &spec(SOURCES, "\n  typo:\n    filter: { input: orders, predicat: \"amount > 0\" }\n"),
        Code::UnknownField,
        Some("typo"),
    );
    let diagnostic = response.diagnostics.iter().find(|diagnostic| diagnostic.code == Code::UnknownField).expect("reported");
    assert_eq!(diagnostic.location.field.0, vec!["filter", "predicat"]);
    assert_eq!(diagnostic.suggestion.as_deref(), Some("did you mean `predicate`?"));
    assert_good_views_compiled(&response);
}

#[test]
fn wrong_version_is_reported_clearly() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let response = project.compile(&mut compiler, "spec.yaml", &spec(SOURCES, "").replace("version: 1", "version: 7"));
    assert_eq!(codes(&response), vec!["V0003"]);
    assert!(response.diagnostics[0].message.contains("unsupported spec version 7"));
}

/// A SQL view's unknown relation is underlined where the query names it, and the two ways a
/// real query misses a name get their fix: a different case (names are case-sensitive) and
/// a schema-qualified name.
#[test]
fn a_sql_views_unknown_relation_is_located_in_the_query_with_its_fix() {
    let views = "
  shouting:
    sql: SELECT order_id FROM ORDERS
  qualified:
    sql: SELECT c.name FROM customers c JOIN public.orders o ON o.customer_id = c.customer_id
";
    let project = TempProject::with_shop_data();
    let response = project.compile(&mut Compiler::new().expect("a compiler"), "spec.yaml", &spec(SOURCES, views));
    let unknown = |view: &str| {
        response
            .diagnostics
            .iter()
            .find(|diagnostic| diagnostic.code == Code::UnknownReference && diagnostic.location.entry.as_deref() == Some(view))
            .unwrap_or_else(|| panic!("{view}: {:?}", response.diagnostics))
    };
    let shouting = unknown("shouting");
    assert_eq!(shouting.suggestion.as_deref(), Some("did you mean `orders`?"));
    assert_eq!(shouting.location.range_in_value, Some((21, 27)), "`ORDERS` in the query");
    let qualified = unknown("qualified");
    assert_eq!(qualified.suggestion.as_deref(), Some("did you mean `orders`?"));
    assert!(qualified.notes.iter().any(|note| note.contains("no catalog or schema")), "{:?}", qualified.notes);
    assert_eq!(qualified.location.range_in_value, Some((36, 49)), "`public.orders` in the query");
}

/// A value of the wrong type deep inside an entry is reported on that value, with its path
/// in the message (before: on the entry's name, "invalid type: sequence, expected a string").
#[test]
fn a_value_of_the_wrong_type_is_reported_where_it_is() {
    let views = "
  keyed:
    sql: SELECT order_id, status FROM orders
    expect:
      unique: [[order_id, status]]
";
    let text = format!("{}profile:\n  target_partitions: four\n", spec(SOURCES, views));
    let project = TempProject::with_shop_data();
    let response = project.compile(&mut Compiler::new().expect("a compiler"), "spec.yaml", &text);
    let invalid: Vec<_> = response.diagnostics.iter().filter(|diagnostic| diagnostic.code == Code::InvalidValue).collect();
    assert_eq!(invalid.len(), 2, "{:?}", response.diagnostics);
    let view = invalid.iter().find(|diagnostic| diagnostic.location.entry.as_deref() == Some("keyed")).expect("the view's");
    assert_eq!(view.location.field.0, ["expect", "unique", "0"]);
    assert!(view.message.starts_with("view `keyed`, `expect.unique[0]`: invalid type: sequence"), "{}", view.message);
    let profile = invalid.iter().find(|diagnostic| diagnostic.location.section == viewdag_ir::Section::Profile).expect("the profile's");
    assert_eq!(view.suggestion, None);
    assert_eq!(profile.location.field.0, ["target_partitions"]);
    assert!(profile.message.starts_with("`profile`, `target_partitions`: invalid type: string \"four\""), "{}", profile.message);
}

/// A misspelt choice (`mode: overwite`) is reported on its value with the closest choice.
#[test]
fn a_misspelt_choice_suggests_the_closest_one() {
    let text = format!(
        "{}outputs:\n  o: {{ view: v, path: out/o, mode: overwite }}\n",
        spec(SOURCES, "\n  v:\n    sql: SELECT order_id FROM orders\n")
    );
    let project = TempProject::with_shop_data();
    let response = project.compile(&mut Compiler::new().expect("a compiler"), "spec.yaml", &text);
    let diagnostic = response.diagnostics.iter().find(|diagnostic| diagnostic.code == Code::InvalidValue).expect("reported");
    assert_eq!(diagnostic.location.field.0, ["mode"]);
    assert!(diagnostic.message.starts_with("output `o`, `mode`: unknown variant `overwite`"), "{}", diagnostic.message);
    assert_eq!(diagnostic.suggestion.as_deref(), Some("did you mean `overwrite`?"));
}

#[test]
fn missing_reference_suggests_a_name_and_blocks_only_its_readers() {
    let views = "\n  lonely:\n    filter: { input: paid_ordres, predicate: \"amount > 0\" }\n  reader:\n    distinct: { input: lonely }\n";
    let response = expect_code(&spec(SOURCES, views), Code::UnknownReference, Some("lonely"));
    let diagnostic = response.diagnostics.iter().find(|diagnostic| diagnostic.code == Code::UnknownReference).expect("reported");
    assert_eq!(diagnostic.suggestion.as_deref(), Some("did you mean `paid_orders`?"));
    assert_eq!(diagnostic.location.field.0, vec!["filter", "input"]);
    assert_eq!(response.view("reader").expect("declared").status, ViewStatus::Blocked { upstream: "lonely".into() });
    assert_eq!(response.diagnostics.iter().filter(|diagnostic| diagnostic.code == Code::Blocked).count(), 1);
    assert_good_views_compiled(&response);
}

#[test]
fn cycles_are_named() {
    let views = "\n  x:\n    filter: { input: y, predicate: \"amount > 0\" }\n  y:\n    distinct: { input: x }\n";
    let response = expect_code(&spec(SOURCES, views), Code::Cycle, Some("x"));
    let diagnostic = response.diagnostics.iter().find(|diagnostic| diagnostic.code == Code::Cycle).expect("reported");
    assert!(diagnostic.message.contains("x → y → x"), "{}", diagnostic.message);
    assert_eq!(response.view("y").expect("declared").status, ViewStatus::Failed);
    assert_good_views_compiled(&response);
}

#[test]
fn duplicate_names_across_sources_and_views() {
    let views = "\n  customers:\n    distinct: { input: orders }\n";
    let response = expect_code(&spec(SOURCES, views), Code::DuplicateName, Some("customers"));
    assert_good_views_compiled(&response);
}

#[test]
fn output_of_an_unknown_view() {
    let text = format!("{}outputs:\n  out1: {{ view: paid_order, path: out/x }}\n", spec(SOURCES, ""));
    let response = expect_code(&text, Code::OutputUnknownView, Some("out1"));
    assert_good_views_compiled(&response);
}

#[test]
fn missing_source_path_blocks_only_its_readers() {
    let sources = format!("{SOURCES}\n  ghosts: {{ format: parquet, path: data/ghosts.parquet }}");
    let views = "\n  haunted:\n    distinct: { input: ghosts }\n";
    let response = expect_code(&spec(&sources, views), Code::SourceNotFound, Some("ghosts"));
    assert_eq!(response.view("haunted").expect("declared").status, ViewStatus::Blocked { upstream: "ghosts".into() });
    assert_good_views_compiled(&response);
}

#[test]
fn a_plain_directory_declared_as_delta_is_reported() {
    let sources = format!("{SOURCES}\n  fake: {{ format: delta, path: data }}");
    let response = expect_code(&spec(&sources, "\n  f:\n    distinct: { input: fake }\n"), Code::SourceNotDelta, Some("fake"));
    assert_good_views_compiled(&response);
}

#[test]
fn two_transforms_in_one_view() {
    let views = "\n  both:\n    distinct: { input: orders }\n    limit: { input: orders, count: 3 }\n";
    let response = expect_code(&spec(SOURCES, views), Code::TransformCount, Some("both"));
    assert_good_views_compiled(&response);
}

#[test]
fn an_unknown_column_points_inside_the_expression() {
    let views = "\n  typo:\n    filter: { input: orders, predicate: \"amout > 0\" }\n";
    let response = expect_code(&spec(SOURCES, views), Code::UnknownColumn, Some("typo"));
    let diagnostic = response.diagnostics.iter().find(|diagnostic| diagnostic.code == Code::UnknownColumn).expect("reported");
    assert_eq!(diagnostic.location.range_in_value, Some((0, 5)));
    assert_eq!(diagnostic.suggestion.as_deref(), Some("did you mean `amount`?"));
    assert_good_views_compiled(&response);
}

#[test]
fn forbidden_sql_is_rejected() {
    let views = "\n  sneaky:\n    sql: \"COPY orders TO 'stolen.csv'\"\n";
    let response = expect_code(&spec(SOURCES, views), Code::SqlForbiddenStatement, Some("sneaky"));
    assert_good_views_compiled(&response);
}

#[test]
fn cli_exit_codes() {
    let project = TempProject::with_shop_data();
    let good = project.write_spec("good.yaml", &spec(SOURCES, ""));
    let bad = project.write_spec("bad.yaml", &spec(SOURCES, "\n  x:\n    distinct: { input: nowhere }\n"));
    let run =
        |arguments: &[&str]| main_with_args(std::iter::once("viewdag".into()).chain(arguments.iter().map(|argument| (*argument).into())));
    assert_eq!(run(&["check", good.to_str().expect("utf-8")]), 0);
    assert_eq!(run(&["check", bad.to_str().expect("utf-8"), "--format", "json"]), 1);
    assert_eq!(run(&["check", project.path().join("missing.yaml").to_str().expect("utf-8")]), 2);
    assert_eq!(run(&["check"]), 2);
    assert_eq!(run(&["frobnicate"]), 2);
    assert_eq!(run(&["explain", good.to_str().expect("utf-8"), "no_such_view"]), 2);
    assert_eq!(run(&["explain", good.to_str().expect("utf-8"), "big"]), 0);
    assert_eq!(run(&["graph", good.to_str().expect("utf-8"), "--format", "mermaid"]), 0);
}

#[test]
fn garbage_never_panics() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    for text in [
        "",
        "\u{0}\u{1}",
        "- a\n- b",
        "version: [1]",
        "version: 1\nviews: 3",
        "version: 1\nviews:\n  a: 5",
        "version: 1\nviews:\n  a: {sql: 'SELECT'}",
        "{{{{",
    ] {
        let response = project.compile(&mut compiler, "spec.yaml", text);
        assert!(response.has_errors(), "{text:?} produced no error");
    }
}

/// `views` filters over the shop's orders, each reading the one before (`c0` … `cN-1`).
fn chain_spec(views: usize) -> String {
    let mut text = String::from(
        "version: 1\nsources:\n  orders: { format: delta, path: data/orders }\nviews:\n  c0:\n    filter: { input: orders, predicate: \"amount > 0\" }\n",
    );
    for index in 1..views {
        text.push_str(&format!("  c{index}:\n    filter: {{ input: c{}, predicate: \"amount > {}\" }}\n", index - 1, index % 5));
    }
    text
}

#[test]
fn a_thirty_thousand_view_chain_checks_without_deep_recursion() {
    // Each view reads the one before: validation runs in dependency order, so no query
    // recurses along the chain (test threads have 2 MiB stacks).
    let project = TempProject::with_shop_data();
    let text = chain_spec(30_000);
    let path = project.write_spec("spec.yaml", &text);
    let mut compiler = Compiler::new().expect("a compiler");
    let response = compiler.compile(&viewdag_driver::CompileRequest::check(&path)).expect("readable");
    assert!(!response.has_errors(), "{:?}", response.diagnostics.first());
    assert_eq!(response.views.len(), 30_000);
    assert!(response.views.iter().all(|view| view.status.is_valid()));
}

/// An output at the end of a 2,000-view chain of ephemeral views: the chain is cut where it
/// reaches the 512 views one plan may inline — `c511`, `c1023`, `c1535` are materialized
/// automatically, each with a `V0226` warning, each a task — and every task is planned on
/// a thread with the CLI's stack (before: `V0225`, and the project refused). A second chain
/// whose tail no task needs gets no checkpoint: its output reads it 300 views deep, and its
/// last view, 900 deep, is refused with `V0225` only when it is planned on its own.
#[test]
fn a_chain_longer_than_a_plan_may_inline_is_cut_by_materialized_checkpoints() {
    let project = TempProject::with_shop_data();
    let mut text = chain_spec(2_000);
    for index in 0..900 {
        let input = if index == 0 { "orders".to_string() } else { format!("d{}", index - 1) };
        text.push_str(&format!("  d{index}:\n    filter: {{ input: {input}, predicate: \"amount > {}\" }}\n", index % 3));
    }
    text.push_str("outputs:\n  deepest: { view: c1999, path: out/deepest }\n  shallow: { view: d299, path: out/shallow }\n");
    let path = project.write_spec("spec.yaml", &text);
    let (checked, compiled, explained) = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut compiler = Compiler::new().expect("a compiler");
            let checked = compiler.compile(&viewdag_driver::CompileRequest::check(&path)).expect("readable");
            let compiled = compiler.compile(&viewdag_driver::CompileRequest::new(&path)).expect("readable");
            let explained = compiler.snapshot().view_plans("d899").expect("a view").err();
            (checked, compiled, explained)
        })
        .unwrap()
        .join()
        .unwrap();
    for response in [&checked, &compiled] {
        assert!(!response.has_errors(), "{:?}", response.diagnostics.iter().find(|diagnostic| diagnostic.severity == Severity::Error));
        let cut: Vec<_> = response
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.code == Code::ChainMaterialized)
            .map(|diagnostic| diagnostic.location.entry.clone().unwrap_or_default())
            .collect();
        assert_eq!(cut, ["c511", "c1023", "c1535"], "{:?}", response.diagnostics);
        for view in ["c511", "c1023", "c1535"] {
            assert!(response.view(view).unwrap().materialized, "{view}");
        }
        assert!(!response.view("c512").unwrap().materialized);
        assert!(!response.view("d511").unwrap().materialized, "no task needs the second chain past d299");
    }
    for view in ["c511", "c1023", "c1535", "c1999", "d299"] {
        assert!(matches!(compiled.view(view).unwrap().status, ViewStatus::Compiled { .. }), "{view}: {:?}", compiled.view(view));
    }
    let Some(viewdag_lower::ViewFailure::Errors(errors)) = explained else { panic!("{explained:?}") };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, Code::PlanTooDeep);
    assert!(errors[0].message.contains("view `d899` inlines a chain of 900 ephemeral views"), "{}", errors[0].message);
}

/// A run of an output 600 views deep writes the checkpoint's table first, then the output
/// reading it: the rows are those of the one filter the chain amounts to.
#[test]
fn a_run_through_a_checkpoint_writes_the_rows_of_the_whole_chain() {
    let project = TempProject::with_shop_data();
    let mut text = chain_spec(600);
    text.push_str(
        "  direct:\n    filter: { input: orders, predicate: \"amount > 0 AND amount > 1 AND amount > 2 AND amount > 3 AND amount > 4\" }\n",
    );
    text.push_str("outputs:\n  deepest: { view: c599, path: out/deepest }\n  direct: { view: direct, path: out/direct }\n");
    let path = project.write_spec("spec.yaml", &text);
    let report = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || Compiler::new().expect("a compiler").run(&viewdag_driver::CompileRequest::new(&path), &mut |_| {}))
        .unwrap()
        .join()
        .unwrap()
        .expect("readable");
    assert!(report.succeeded(), "{:?}", report.tasks);
    let ids: Vec<String> = report.tasks.iter().map(|task| task.id.to_string()).collect();
    assert!(ids.contains(&"view:c511".to_string()) && ids.contains(&"output:deepest".to_string()), "{ids:?}");
    let checkpoint = project.path().join(".viewdag/tables/c511");
    assert!(checkpoint.join("_delta_log").exists(), "the checkpoint's table is written");
    let deepest = viewdag_tests::data::read_delta_rows(&project.path().join("out/deepest"));
    assert!(!deepest.is_empty());
    assert_eq!(deepest, viewdag_tests::data::read_delta_rows(&project.path().join("out/direct")));
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let text = format!("\u{feff}{}", spec(SOURCES, ""));
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let response = project.compile(&mut compiler, "spec.yaml", &text);
    assert!(!response.has_errors(), "{:?}", response.diagnostics);
    assert_good_views_compiled(&response);
    let json = "\u{feff}{\"version\": 1, \"sources\": {\"orders\": {\"format\": \"delta\", \"path\": \"data/orders\"}}}";
    let parsed = viewdag_ir::parse_spec(json, viewdag_ir::SpecFormat::Json);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.sources.len(), 1);
}

#[test]
fn the_run_summary_counts_failed_tasks_as_errors() {
    assert_eq!(viewdag_driver::render::summary_with_failed_tasks(&[], 2), "2 errors, 0 warnings");
    assert_eq!(viewdag_driver::render::summary_with_failed_tasks(&[], 0), "0 errors, 0 warnings");
}

/// Runs the real `viewdag` binary; returns its exit code and its stderr.
fn viewdag(project: &TempProject, arguments: &[&str]) -> (i32, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
        .args(arguments)
        .current_dir(project.path())
        .output()
        .expect("viewdag starts");
    (output.status.code().expect("exited, not killed"), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Item 12 of issue 21: `target_partitions: 18446744073709551615` crashed the process
/// (exit 101), `batch_size` likewise; now every number of the profile is bounded (`V0008`),
/// the run writes nothing and exits 1.
#[test]
fn absurd_profile_numbers_are_diagnostics_and_the_run_writes_nothing() {
    let project = TempProject::with_shop_data();
    for (setting, value) in [
        ("target_partitions", "18446744073709551615"),
        ("target_partitions", "100000"),
        ("batch_size", "18446744073709551615"),
        ("batch_size", "0"),
    ] {
        let text = format!(
            "version: 1\nsources:\n  orders: {{ format: delta, path: data/orders }}\nviews:\n  paid: {{ filter: {{ input: orders, predicate: \"status = 'paid'\" }} }}\n\
             outputs:\n  paid: {{ view: paid, path: out/paid }}\nprofile:\n  {setting}: {value}\n"
        );
        project.write_spec("spec.yaml", &text);
        let (code, stderr) = viewdag(&project, &["check", "spec.yaml"]);
        assert_eq!(code, 1, "{setting}: {value}: {stderr}");
        assert!(stderr.contains("V0008") && stderr.contains(&format!("profile.{setting}")), "{stderr}");
        let (code, stderr) = viewdag(&project, &["run", "spec.yaml"]);
        assert_eq!(code, 1, "{setting}: {value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!project.path().join("out/paid").exists(), "{setting}: {value}: nothing is written");
    }
}

/// Item 12 of issue 21, the command line's half: `--task-timeout 18446744073709551615`
/// failed every task with an overflow; numbers on the command line are bounded like the
/// profile's (`V0008`, a usage error: exit 2, nothing written).
#[test]
fn absurd_command_line_numbers_are_usage_errors() {
    let project = TempProject::with_shop_data();
    project.write_spec("spec.yaml", &crate::support::shop_spec());
    for arguments in [
        &["run", "spec.yaml", "--scheduler", "df://127.0.0.1:1", "--task-timeout", "18446744073709551615"][..],
        &["run", "spec.yaml", "--jobs", "0"],
        &["run", "spec.yaml", "--jobs", "100000000"],
        &["schedule", "spec.yaml", "--jobs", "0"],
        &["cluster", "--executors", "100000"],
    ] {
        let (code, stderr) = viewdag(&project, arguments);
        assert_eq!(code, 2, "{arguments:?}: {stderr}");
        assert!(stderr.contains("V0008"), "{arguments:?}: {stderr}");
        assert!(!project.path().join("out").exists() && !project.path().join(".viewdag/tables").exists(), "{arguments:?} wrote nothing");
    }
}

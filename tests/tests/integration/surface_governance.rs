//! WS3 planning-surface governance on real files: `profile.surface` decides which source
//! formats and table functions a spec may use and how CSV and Parquet files are read, and
//! every setting is in the surface manifest hash.

use viewdag_driver::{CompileRequest, Compiler};
use viewdag_ir::Code;
use viewdag_tests::data::read_delta_rows;

use crate::support::TempProject;

fn spec(profile: &str) -> String {
    format!(
        "version: 1\nsources:\n  prices: {{ format: csv, path: data/prices.csv, schema: {{ item: utf8, price: float64 }} }}\n\
         views:\n  cheap:\n    filter: {{ input: prices, predicate: \"price < 10\" }}\n\
         outputs:\n  cheap: {{ view: cheap, path: out/cheap }}\n{profile}"
    )
}

/// A `;`-separated CSV read with `profile.surface.csv.delimiter`, and the same project
/// re-read after the delimiter changes back (the source is loaded again: its identity
/// names the options).
#[test]
fn csv_options_decide_how_the_file_is_read_and_are_in_the_surface_hash() {
    let project = TempProject::empty();
    std::fs::create_dir_all(project.path().join("data")).unwrap();
    std::fs::write(project.path().join("data/prices.csv"), "item;price\napple;2.5\nmelon;12\npear;3\n").unwrap();
    let mut compiler = Compiler::new().unwrap();
    let path = project.write_spec("spec.yaml", &spec("profile:\n  surface: { csv: { delimiter: \";\" } }\n"));
    let report = compiler.run(&CompileRequest::new(&path), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?} {:?}", report.compile.diagnostics, report.tasks);
    assert_eq!(read_delta_rows(&project.path().join("out/cheap")), vec!["apple|2.50000000e0", "pear|3.00000000e0"]);
    let with_options = compiler.snapshot().surface_hash();

    // With the default delimiter the header is one column: a source error, nothing runs.
    let path = project.write_spec("spec.yaml", &spec(""));
    let report = compiler.run(&CompileRequest::new(&path), &mut |_| {}).unwrap();
    assert!(
        report.compile.diagnostics.iter().any(|diagnostic| diagnostic.code == Code::SourceSchemaMismatch),
        "{:?}",
        report.compile.diagnostics
    );
    assert!(!report.succeeded());
    assert_ne!(compiler.snapshot().surface_hash(), with_options, "the CSV options are in the manifest hash");
}

#[test]
fn parquet_options_reach_the_session_and_the_hash() {
    let project = TempProject::with_shop_data();
    let base = "version: 1\nsources:\n  customers: { format: parquet, path: data/customers.parquet }\nviews:\n  c:\n    filter: { input: customers, predicate: \"customer_id > 3\" }\n";
    let mut compiler = Compiler::new().unwrap();
    let default = project.compile(&mut compiler, "spec.yaml", base);
    assert!(!default.has_errors(), "{:?}", default.diagnostics);
    let default_hash = compiler.snapshot().surface_hash();
    let tuned = project.compile(
        &mut compiler,
        "spec.yaml",
        &format!("{base}profile:\n  surface: {{ parquet: {{ pushdown_filters: true, pruning: false }} }}\n"),
    );
    assert!(!tuned.has_errors(), "{:?}", tuned.diagnostics);
    assert_ne!(compiler.snapshot().surface_hash(), default_hash);
    let manifest = compiler.snapshot().surface_manifest();
    assert!(manifest.config.contains(&"datafusion.execution.parquet.pushdown_filters=true".to_string()), "{:?}", manifest.config);
    assert!(manifest.config.contains(&"datafusion.execution.parquet.pruning=false".to_string()));
}

#[test]
fn allowed_table_functions_generate_rows_within_bounds() {
    let project = TempProject::empty();
    let text = "version: 1\nviews:\n  numbers:\n    sql: \"SELECT value FROM range(0, 5)\"\noutputs:\n  numbers: { view: numbers, path: out/numbers }\nprofile:\n  surface: { table_functions: [range] }\n";
    let path = project.write_spec("spec.yaml", text);
    let report = Compiler::new().unwrap().run(&CompileRequest::new(&path), &mut |_| {}).unwrap();
    assert!(report.succeeded(), "{:?} {:?}", report.compile.diagnostics, report.tasks);
    assert_eq!(read_delta_rows(&project.path().join("out/numbers")), vec!["0", "1", "2", "3", "4"]);
    let forbidden = project.write_spec("spec.yaml", &text.replace("profile:\n  surface: { table_functions: [range] }\n", ""));
    let response = Compiler::new().unwrap().compile(&CompileRequest::check(&forbidden)).unwrap();
    assert_eq!(response.diagnostics.iter().map(|diagnostic| diagnostic.code).collect::<Vec<_>>(), vec![Code::SqlTableFunctionNotAllowed]);
}

/// Item 23 of issue 21: the 10⁹-row bound of `V0205` held only for literal bounds;
/// `range(2000000 * 1000)`, a cast bound and a cross join of two allowed ranges passed
/// `check` and ran. Now every call is counted with its folded arguments, joins without
/// keys multiply, unions add; an equality join of two ranges is not a product.
#[test]
fn generated_rows_are_bounded_whatever_the_spelling_of_the_bounds() {
    let project = TempProject::empty();
    let spec = |query: &str| {
        format!(
            "version: 1\nviews:\n  numbers:\n    sql: \"{query}\"\noutputs:\n  numbers: {{ view: numbers, path: out/numbers }}\nprofile:\n  surface: {{ table_functions: [range, generate_series] }}\n"
        )
    };
    let check = |query: &str| {
        let path = project.write_spec("spec.yaml", &spec(query));
        let response = Compiler::new().unwrap().compile(&CompileRequest::check(&path)).unwrap();
        response.diagnostics.iter().map(|diagnostic| diagnostic.code).collect::<Vec<_>>()
    };
    for refused in [
        "SELECT value FROM range(2000000 * 1000)",
        "SELECT value FROM range(CAST('2000000000' AS BIGINT))",
        "SELECT a.value FROM range(100000) a CROSS JOIN range(100000) b",
        "SELECT a.value FROM range(100000) a, generate_series(1, 100000) b",
        "SELECT value FROM generate_series(TIMESTAMP '1970-01-01 00:00:00', TIMESTAMP '2100-01-01 00:00:00', INTERVAL '1 second')",
    ] {
        assert_eq!(check(refused), vec![Code::InvalidLimit], "{refused}");
    }
    for allowed in [
        "SELECT value FROM range(1000 * 1000)",
        "SELECT a.value FROM range(100000) a JOIN range(100000) b ON a.value = b.value",
        "SELECT value FROM range(100000) UNION ALL SELECT value FROM range(100000)",
        "SELECT value FROM generate_series(DATE '2026-01-01', DATE '2026-12-31', INTERVAL '1 day')",
    ] {
        assert_eq!(check(allowed), Vec::<Code>::new(), "{allowed}");
    }
}

//! One wide view (issue 21 item 24): checking a view over a source thousands of columns wide
//! takes time linear in the width, because plain column references are resolved through a
//! name index, projections are built without DataFusion's per-column schema scans, and a
//! Parquet source's schema is merged by name lookups. None of that may change a plan: a
//! projection naming every column of a 2,000-column source (with renames, qualified and
//! quoted names and expressions mixed in) and a filter over it plan exactly what
//! DataFusion's own expression planner and plan builder make of the same texts, and the
//! source's schema is the one DataFusion infers from the same files. (The speed is measured
//! by `bench-compile --scenario wide N`, BENCHMARKS.md.)

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionConfig;
use viewdag_driver::Compiler;
use viewdag_ir::{ProjectInput, ViewInput};

use viewdag_tests::wide_sql_chain::WideSqlChain;

use crate::support::{TempProject, codes, compile_all_views, signatures_match_inlined};

const COLUMNS: usize = 2_000;

/// Columns `c0..c{columns}` (Int64, Utf8, Float64 in turn), two rows, and `extra` if asked.
fn wide_batch(columns: usize, extra: bool) -> RecordBatch {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for index in 0..columns {
        let (data_type, array): (DataType, ArrayRef) = match index % 3 {
            0 => (DataType::Int64, Arc::new(Int64Array::from(vec![1, 2]))),
            1 => (DataType::Utf8, Arc::new(StringArray::from(vec!["a", "b"]))),
            _ => (DataType::Float64, Arc::new(Float64Array::from(vec![1.5, 2.5]))),
        };
        fields.push(Field::new(format!("c{index}"), data_type, true));
        arrays.push(array);
    }
    if extra {
        fields.push(Field::new("extra", DataType::Int64, true));
        arrays.push(Arc::new(Int64Array::from(vec![7, 8])));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("a batch")
}

/// The `every` view's columns: every source column under its own name, then a rename, a
/// qualified, a quoted and a padded reference, expressions, and the second file's column.
fn every_columns() -> Vec<(String, String)> {
    let mut columns: Vec<(String, String)> = (0..COLUMNS).map(|index| (format!("c{index}"), format!("c{index}"))).collect();
    for (name, text) in [
        ("renamed", "c5"),
        ("qualified", "wide.c7"),
        ("quoted", "\"c8\""),
        ("padded", " c10 "),
        ("plus_one", "c0 + 1"),
        ("as_double", "CAST(c3 AS DOUBLE)"),
        ("extra", "extra"),
    ] {
        columns.push((name.to_string(), text.to_string()));
    }
    columns
}

fn spec(columns: &[(String, String)]) -> String {
    let mut text = String::from("version: 1\nsources:\n  wide: { format: parquet, path: data/wide }\nviews:\n");
    text.push_str("  every:\n    project:\n      input: wide\n      columns:\n");
    for (name, expression) in columns {
        text.push_str(&format!("        {name}: '{expression}'\n"));
    }
    text.push_str("  narrow:\n    filter: { input: every, predicate: \"c0 > 1 AND quoted < 2\" }\n");
    text
}

/// A session planning expressions as viewdag's planning surface does (generic dialect,
/// identifiers kept as written).
fn reference_session() -> SessionState {
    let config = SessionConfig::new().set_bool("datafusion.sql_parser.enable_ident_normalization", false);
    SessionStateBuilder::new().with_config(config).with_default_features().build()
}

fn view(compiler: &Compiler, name: &str) -> ViewInput {
    let db = compiler.snapshot().database();
    *ProjectInput::get(db).views(db).iter().find(|view| view.name(db) == name).expect("the view exists")
}

fn assert_same_plan(planned: &LogicalPlan, reference: &LogicalPlan) {
    assert_eq!(planned.display_indent_schema().to_string(), reference.display_indent_schema().to_string());
    assert_eq!(planned.schema(), reference.schema(), "the same schema, functional dependencies included");
    assert!(planned == reference, "the same plan");
}

#[test]
fn a_wide_projection_and_filter_plan_what_datafusion_plans_from_the_same_text() {
    let project = TempProject::empty();
    viewdag_tests::data::write_parquet_file(&project.path().join("data/wide/part-0.parquet"), &wide_batch(COLUMNS, false));
    viewdag_tests::data::write_parquet_file(&project.path().join("data/wide/part-1.parquet"), &wide_batch(12, true));
    let columns = every_columns();
    let mut compiler = Compiler::new().expect("a compiler");
    let response = compile_all_views(&project, &mut compiler, "spec.yaml", &spec(&columns));
    assert!(!response.has_errors(), "{:?}", response.diagnostics);
    signatures_match_inlined(&compiler).expect("signatures agree with inlined plans");
    let db = compiler.snapshot().database();
    let state = reference_session();

    // The source: DataFusion's inference over the same directory.
    let source = viewdag_lower::queries::plan_input(db, "wide").expect("the source plans");
    let directory = format!("{}/", project.path().join("data/wide").display());
    let url = ListingTableUrl::parse(&directory).expect("a directory URL");
    let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let inferred = runtime.block_on(options.infer_schema(&state, &url)).expect("DataFusion infers the schema");
    assert_eq!(source.plan.schema().as_arrow(), inferred.as_ref());
    assert_eq!(inferred.fields().len(), COLUMNS + 1, "the second file's column is merged in");

    // The projection: each text planned by DataFusion's SQL expression planner, projected
    // by its plan builder.
    let expressions = columns
        .iter()
        .map(|(name, text)| state.create_logical_expr(text, source.plan.schema()).expect("DataFusion plans the column").alias(name))
        .collect::<Vec<_>>();
    let reference = LogicalPlanBuilder::new_from_arc(Arc::clone(&source.plan))
        .project(expressions)
        .and_then(LogicalPlanBuilder::build)
        .expect("DataFusion builds the projection");
    let every = viewdag_lower::view_plan(db, view(&compiler, "every")).as_ref().expect("`every` plans");
    assert_same_plan(&every.plan, &reference);

    // The filter over it.
    let every_input = viewdag_lower::queries::plan_input(db, "every").expect("`every` is an input");
    let predicate = state.create_logical_expr("c0 > 1 AND quoted < 2", every_input.plan.schema()).expect("DataFusion plans the predicate");
    let reference = LogicalPlanBuilder::new_from_arc(Arc::clone(&every_input.plan))
        .filter(predicate)
        .and_then(LogicalPlanBuilder::build)
        .expect("DataFusion builds the filter");
    let narrow = viewdag_lower::view_plan(db, view(&compiler, "narrow")).as_ref().expect("`narrow` plans");
    assert_same_plan(&narrow.plan, &reference);
}

#[test]
fn an_unknown_column_in_a_wide_projection_is_reported_as_before() {
    let project = TempProject::empty();
    viewdag_tests::data::write_parquet_file(&project.path().join("data/wide/part-0.parquet"), &wide_batch(COLUMNS, false));
    let mut columns = every_columns();
    columns.retain(|(name, _)| name != "extra");
    columns.push(("missing".to_string(), "c1999x".to_string()));
    let mut compiler = Compiler::new().expect("a compiler");
    let response = project.compile(&mut compiler, "spec.yaml", &spec(&columns));
    assert_eq!(codes(&response), ["V0203", "V0106"], "unknown-column, then `narrow` blocked: {:?}", response.diagnostics);
    let diagnostic = &response.diagnostics[0];
    assert_eq!(diagnostic.location.field.0, ["project", "columns", "missing"]);
    assert_eq!(diagnostic.location.range_in_value, Some((0, 6)), "the name is underlined");
    assert!(diagnostic.suggestion.as_deref().is_some_and(|suggestion| suggestion.contains("c1999")), "{diagnostic:?}");
}

/// `SELECT * … WHERE …` plans a projection that repeats its input; P0 leaves it out (over a
/// wide chain each one costs every plan-wide pass O(width²)), keeping the view's schema. A
/// projection that drops, reorders or renames a column stays.
#[test]
fn a_select_star_view_plans_without_the_projection_that_repeats_its_input() {
    let project = TempProject::empty();
    viewdag_tests::data::write_parquet_file(&project.path().join("data/wide/part-0.parquet"), &wide_batch(40, false));
    let text = "version: 1\nsources:\n  wide: { format: parquet, path: data/wide }\nviews:\n  \
                star:\n    sql: SELECT * FROM wide WHERE c0 > 1\n  \
                star_again:\n    sql: SELECT * FROM star WHERE c1 > 1\n  \
                reordered:\n    sql: SELECT c1, c0 FROM star\n  \
                renamed:\n    sql: SELECT c0 AS first FROM wide\n";
    let mut compiler = Compiler::new().expect("a compiler");
    let response = compile_all_views(&project, &mut compiler, "spec.yaml", text);
    assert!(!response.has_errors(), "{:?}", response.diagnostics);
    signatures_match_inlined(&compiler).expect("signatures agree with inlined plans");
    let db = compiler.snapshot().database();
    let top = |name: &str| viewdag_lower::view_plan(db, view(&compiler, name)).as_ref().expect("the view plans").plan.as_ref().clone();
    for name in ["star", "star_again"] {
        assert!(matches!(top(name), LogicalPlan::Filter(_)), "{name}: {}", top(name).display_indent());
    }
    let source = viewdag_lower::queries::plan_input(db, "wide").expect("the source plans");
    assert_eq!(top("star").schema().as_arrow(), source.plan.schema().as_arrow(), "every column of the source, as it is");
    for name in ["reordered", "renamed"] {
        assert!(matches!(top(name), LogicalPlan::Projection(_)), "{name}: {}", top(name).display_indent());
    }
}

/// The chain of the `--wide-sql` benchmark (SQL views 469–478 columns wide, each keeping
/// every column of the one before): each view's columns and types are those DataFusion gives
/// the same texts as `CREATE VIEW`s in order, and per-view signatures agree with the inlined
/// plans. (Planning these SELECTs is what the patched SQL planner makes linear in the width,
/// vendor/datafusion-sql/VIEWDAG_PATCH.md.)
#[test]
fn a_chain_of_wide_sql_views_has_the_columns_datafusion_gives_it() {
    let project = WideSqlChain::create(12);
    let mut compiler = Compiler::new().expect("a compiler");
    let request = viewdag_driver::CompileRequest::new(&project.spec_path).with_planning(viewdag_driver::Planning::AllViews);
    let response = compiler.compile(&request).expect("the spec is readable");
    assert!(!response.has_errors(), "{:?}", response.diagnostics);
    signatures_match_inlined(&compiler).expect("signatures agree with inlined plans");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let reference: Vec<Vec<(String, DataType)>> = runtime.block_on(async {
        let context = project.datafusion_context().await;
        let mut schemas = Vec::new();
        for (name, sql) in &project.views {
            context.sql(&format!("CREATE VIEW {name} AS {sql}")).await.expect("the view plans");
            let table = context.table(name.as_str()).await.expect("the view");
            schemas.push(table.schema().fields().iter().map(|field| (field.name().clone(), field.data_type().clone())).collect());
        }
        schemas
    });
    let db = compiler.snapshot().database();
    for ((name, _), expected) in project.views.iter().zip(&reference) {
        let signature = viewdag_lower::view_signature(db, view(&compiler, name)).clone().expect("the view validates");
        let columns: Vec<(String, DataType)> =
            signature.schema.fields().iter().map(|field| (field.name().clone(), field.data_type().clone())).collect();
        assert_eq!(&columns, expected, "view `{name}`");
    }
    assert_eq!(reference.last().map(Vec::len), Some(469 + 9), "three views in four add a column");
}

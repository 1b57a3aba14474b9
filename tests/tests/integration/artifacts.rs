//! Plan bundles and the compile envelope: determinism, per-view digests after an edit,
//! lineage against hand-written expectations, schemas, readers and `viewdag diff`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use viewdag_driver::artifacts::{diff_directories, read_compile_output};
use viewdag_driver::viewdag_artifact::serialize::decode_base64;
use viewdag_driver::viewdag_artifact::{
    ArtifactReadError, BundlePart, CompileEnvelope, PlanBundle, ViewChange, read_bundle, read_envelope, schema::json_schemas,
};
use viewdag_driver::{CompileRequest, Compiler, Planning};

use crate::support::{TempProject, compile_all_views, shop_spec};

/// Runs `viewdag ARGS…` in-process (a fresh `Compiler` each time) and returns the exit code.
fn viewdag(args: &[&str]) -> i32 {
    let mut full = vec!["viewdag".to_string()];
    full.extend(args.iter().map(|arg| arg.to_string()));
    viewdag_cli::main_with_args(full.into_iter().map(Into::into))
}

fn compile_to(spec: &Path, out: &Path) {
    let code = viewdag(&["compile", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--all-views"]);
    assert_eq!(code, 0, "compiling {} succeeds", spec.display());
}

/// Every file in `dir` (not recursive): name → bytes.
fn directory_contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("the directory is readable") {
        let entry = entry.unwrap();
        files.insert(entry.file_name().to_string_lossy().into_owned(), std::fs::read(entry.path()).unwrap());
    }
    files
}

/// The shop spec with its sources and its views declared in reverse order.
fn shop_spec_shuffled() -> String {
    let mut document: serde_yaml_ng::Mapping = serde_yaml_ng::from_str(&shop_spec()).unwrap();
    for section in ["sources", "views"] {
        let key = serde_yaml_ng::Value::from(section);
        let entries = document.get(&key).and_then(|value| value.as_mapping()).cloned().expect("the section exists");
        let mut reversed = serde_yaml_ng::Mapping::new();
        let entries: Vec<(serde_yaml_ng::Value, serde_yaml_ng::Value)> = entries.into_iter().collect();
        for (name, value) in entries.into_iter().rev() {
            reversed.insert(name, value);
        }
        document.insert(key, serde_yaml_ng::Value::Mapping(reversed));
    }
    serde_yaml_ng::to_string(&document).unwrap()
}

fn bundle_digests(envelope: &CompileEnvelope) -> BTreeMap<String, Option<String>> {
    envelope.views.iter().map(|(name, view)| (name.clone(), view.bundle_digest.clone())).collect()
}

#[test]
fn compile_output_is_byte_identical_across_compilers_and_declaration_order() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let shuffled_text = shop_spec_shuffled();
    let shuffled = project.write_spec("shuffled.yaml", &shuffled_text);
    assert_ne!(shuffled_text, shop_spec(), "the shuffled spec really differs");
    let first = project.path().join("out-first");
    let second = project.path().join("out-second");
    let reordered = project.path().join("out-shuffled");
    compile_to(&spec, &first);
    compile_to(&spec, &second);
    compile_to(&shuffled, &reordered);
    let first_files = directory_contents(&first);
    assert!(first_files.contains_key("manifest.json"));
    assert_eq!(first_files.keys().filter(|name| name.ends_with(".bundle.json")).count(), 12, "one bundle per view of the example");
    for (label, other) in [("a second compile", &second), ("the shuffled spec", &reordered)] {
        let other_files = directory_contents(other);
        assert_eq!(first_files.keys().collect::<Vec<_>>(), other_files.keys().collect::<Vec<_>>(), "{label}: same file names");
        for (name, bytes) in &first_files {
            assert!(other_files[name] == *bytes, "{label}: {name} differs");
        }
    }
    // Nothing machine-specific leaks into the bytes.
    let root = project.path().to_string_lossy().into_owned();
    for (name, bytes) in &first_files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(&root), "{name} contains the absolute project path");
    }
    assert!(diff_directories(&first, &reordered).unwrap().is_identical());
    assert_eq!(viewdag(&["diff", first.to_str().unwrap(), reordered.to_str().unwrap()]), 0);
}

#[test]
fn compile_output_is_byte_identical_across_processes_and_thread_counts() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let shuffled = project.write_spec("shuffled.yaml", &shop_spec_shuffled());
    let mut outputs = Vec::new();
    for (threads, spec) in [("1", &spec), ("4", &shuffled), ("2", &spec)] {
        let out = project.path().join(format!("out-{threads}"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_viewdag-cli"))
            .args(["compile", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--all-views"])
            .env("TOKIO_WORKER_THREADS", threads)
            .status()
            .expect("the viewdag process runs");
        assert!(status.success(), "compile with {threads} worker thread(s)");
        outputs.push((threads, directory_contents(&out)));
    }
    let (_, first) = &outputs[0];
    assert_eq!(first.keys().filter(|name| name.ends_with(".bundle.json")).count(), 12);
    for (threads, files) in &outputs[1..] {
        assert_eq!(first.keys().collect::<Vec<_>>(), files.keys().collect::<Vec<_>>(), "{threads} threads: same file names");
        for (name, bytes) in first {
            assert!(files[name] == *bytes, "{threads} threads: {name} differs");
        }
    }
}

const PAID_ORDERS_PREDICATE: &str = "predicate: \"status = 'paid' AND amount > 0\"";
const PAID_ORDERS_PREDICATE_EDITED: &str = "predicate: \"status = 'paid' AND amount > 0 AND order_date IS NOT NULL\"";

#[test]
fn editing_one_view_changes_exactly_its_and_its_dependents_bundle_digests() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().unwrap();
    let before_response = compile_all_views(&project, &mut compiler, "spec.yaml", &shop_spec());
    let before = compiler.snapshot().compile_envelope(&before_response).unwrap();
    let edited_spec = shop_spec().replace(PAID_ORDERS_PREDICATE, PAID_ORDERS_PREDICATE_EDITED);
    assert_ne!(edited_spec, shop_spec());
    let after_response = compile_all_views(&project, &mut compiler, "spec.yaml", &edited_spec);
    let after = compiler.snapshot().compile_envelope(&after_response).unwrap();

    let (before_digests, after_digests) = (bundle_digests(&before), bundle_digests(&after));
    let changed: BTreeSet<&str> =
        before_digests.iter().filter(|(name, digest)| after_digests.get(*name) != Some(digest)).map(|(name, _)| name.as_str()).collect();
    // paid_orders and the views that inline it; `largest_orders` and below read the
    // materialized `enriched` table, whose schema did not change.
    let expected: BTreeSet<&str> = ["paid_orders", "order_lines", "revenue_by_region", "top_regions", "enriched"].into_iter().collect();
    assert_eq!(changed, expected);
    assert_ne!(before.spec_digest, after.spec_digest);
    assert_ne!(before.envelope_hash, after.envelope_hash);
    assert_eq!(before.surface_manifest_hash, after.surface_manifest_hash);

    // The incremental compile gives the same envelope as a fresh compiler.
    let mut fresh = Compiler::new().unwrap();
    let fresh_response = fresh.compile(&CompileRequest::new(project.path().join("spec.yaml")).with_planning(Planning::AllViews)).unwrap();
    assert_eq!(fresh.snapshot().compile_envelope(&fresh_response).unwrap(), after);
}

#[test]
fn diff_reports_the_changed_parts_of_each_view_and_exits_one() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let old = project.path().join("old");
    compile_to(&spec, &old);
    project.write_spec("spec.yaml", &shop_spec().replace(PAID_ORDERS_PREDICATE, PAID_ORDERS_PREDICATE_EDITED));
    let new = project.path().join("new");
    compile_to(&spec, &new);

    let diff = diff_directories(&old, &new).unwrap();
    assert!(!diff.is_identical());
    assert_eq!(diff.envelope, vec!["spec_digest".to_string()]);
    let change_of = |view: &str| diff.views.iter().find(|entry| entry.view == view).map(|entry| entry.change.clone()).unwrap();
    match change_of("paid_orders") {
        ViewChange::Changed { parts, first_divergent_pass } => {
            for part in [BundlePart::Definition, BundlePart::P0, BundlePart::P1, BundlePart::P2, BundlePart::Lineage] {
                assert!(parts.contains(&part), "paid_orders: {part:?} reported in {parts:?}");
            }
            assert!(!parts.contains(&BundlePart::Providers));
            // The input plan changed, so the traces diverge at the very first pass.
            assert_eq!(first_divergent_pass.as_deref(), Some("analyzer/p1/01-resolve_grouping_function"));
        }
        other => panic!("paid_orders should have changed, got {other:?}"),
    }
    match change_of("order_lines") {
        ViewChange::Changed { parts, .. } => {
            assert!(!parts.contains(&BundlePart::Definition), "order_lines' own definition did not change");
            assert!(parts.contains(&BundlePart::P0) && parts.contains(&BundlePart::Lineage));
        }
        other => panic!("order_lines should have changed, got {other:?}"),
    }
    assert_eq!(change_of("customer_regions"), ViewChange::Unchanged);
    assert_eq!(change_of("largest_orders"), ViewChange::Unchanged);
    assert!(diff.render_text().contains("paid_orders: changed: definition"));
    assert_eq!(viewdag(&["diff", old.to_str().unwrap(), new.to_str().unwrap()]), 1);
    assert_eq!(viewdag(&["diff", old.to_str().unwrap(), old.to_str().unwrap()]), 0);
}

/// Lineage of one column as sorted `relation.column:kind` strings.
fn lineage_of(bundle: &PlanBundle, column: &str) -> Vec<String> {
    let lineage = bundle.lineage.iter().find(|entry| entry.column == column).unwrap_or_else(|| panic!("no lineage for `{column}`"));
    let kind =
        |edge: &viewdag_driver::viewdag_artifact::LineageEdge| serde_json::to_value(edge.kind).unwrap().as_str().unwrap().to_string();
    let mut edges: Vec<String> =
        lineage.depends_on.iter().map(|edge| format!("{}.{}:{}", edge.relation, edge.column, kind(edge))).collect();
    edges.sort();
    edges
}

fn strings(items: &[&str]) -> Vec<String> {
    let mut items: Vec<String> = items.iter().map(|item| item.to_string()).collect();
    items.sort();
    items
}

const LINEAGE_SPEC: &str = r#"
version: 1
sources:
  orders:    { format: delta,   path: data/orders }
  customers: { format: parquet, path: data/customers.parquet }
  regions:   { format: csv,     path: data/regions.csv, schema: { region_id: int64, region: utf8 } }
views:
  paid:
    filter: { input: orders, predicate: "status = 'paid'" }
  joined:
    join: { left: orders, right: customers, kind: inner, on: [[customer_id, customer_id]], filter: "segment <> 'test'" }
  totals:
    aggregate: { input: paid, group_by: [customer_id], measures: { total: "sum(amount)", orders: "count(*)" } }
  customer_labels:
    project: { input: customers, columns: { label: name } }
  region_labels:
    project: { input: regions, columns: { label: "upper(region)" } }
  labels:
    union: { inputs: [customer_labels, region_labels] }
  spenders:
    sql: |
      SELECT c.name, sum(o.amount) AS spent
      FROM orders o JOIN customers c ON o.customer_id = c.customer_id
      WHERE o.status = 'paid'
      GROUP BY c.name
      ORDER BY spent DESC
"#;

#[test]
fn lineage_matches_hand_written_expectations() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().unwrap();
    let response = compile_all_views(&project, &mut compiler, "spec.yaml", LINEAGE_SPEC);
    assert!(!response.has_errors(), "{:?}", response.diagnostics);
    let bundle = |view: &str| compiler.snapshot().view_bundle(view).unwrap().unwrap().bundle.as_ref().clone();

    // A filter: values flow through, the predicate's column is a filter edge of every column.
    let paid = bundle("paid");
    assert_eq!(lineage_of(&paid, "amount"), strings(&["orders.amount:value", "orders.status:filter"]));
    assert_eq!(lineage_of(&paid, "status"), strings(&["orders.status:value", "orders.status:filter"]));

    // A join: both keys are join-key edges, the extra filter a filter edge.
    let joined = bundle("joined");
    let join_rows = ["orders.customer_id:join_key", "customers.customer_id:join_key", "customers.segment:filter"];
    let mut name = vec!["customers.name:value"];
    name.extend(join_rows);
    assert_eq!(lineage_of(&joined, "name"), strings(&name));
    let mut amount = vec!["orders.amount:value"];
    amount.extend(join_rows);
    assert_eq!(lineage_of(&joined, "amount"), strings(&amount));

    // An aggregate over a filter: group keys and the upstream filter reach every measure.
    let totals = bundle("totals");
    assert_eq!(lineage_of(&totals, "total"), strings(&["orders.amount:value", "orders.customer_id:group_key", "orders.status:filter"]));
    assert_eq!(lineage_of(&totals, "orders"), strings(&["orders.customer_id:group_key", "orders.status:filter"]));
    assert_eq!(
        lineage_of(&totals, "customer_id"),
        strings(&["orders.customer_id:value", "orders.customer_id:group_key", "orders.status:filter"])
    );

    // A union: each input contributes by position.
    let labels = bundle("labels");
    assert_eq!(lineage_of(&labels, "label"), strings(&["customers.name:value", "regions.region:value"]));

    // A SQL view through aliases: ON keys, WHERE, GROUP BY and ORDER BY.
    let spenders = bundle("spenders");
    let sql_rows = [
        "orders.customer_id:join_key",
        "customers.customer_id:join_key",
        "orders.status:filter",
        "customers.name:group_key",
        "orders.amount:sort_key",
    ];
    let mut spent = vec!["orders.amount:value"];
    spent.extend(sql_rows);
    assert_eq!(lineage_of(&spenders, "spent"), strings(&spent));
    let mut name = vec!["customers.name:value"];
    name.extend(sql_rows);
    assert_eq!(lineage_of(&spenders, "name"), strings(&name));
    for view in ["paid", "joined", "totals", "labels", "spenders"] {
        assert!(bundle(view).warnings.is_empty(), "{view}: {:?}", bundle(view).warnings);
    }
}

#[test]
fn bundles_carry_providers_digests_and_sql() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let out = project.path().join("out");
    compile_to(&spec, &out);
    let output = read_compile_output(&out).unwrap();
    let top = &output.bundles["top_regions"];
    assert_eq!(top.schema_version, 1);
    assert_eq!(top.providers.keys().map(String::as_str).collect::<Vec<_>>(), vec!["customers", "orders", "regions"]);
    assert_eq!(top.providers["orders"].canonical(), "delta:data/orders@v0");
    assert_eq!(top.surface_manifest_hash, output.envelope.surface_manifest_hash);
    assert!(top.plans.p2.text.contains("$ROOT/data/"), "P2 text is normalized to $ROOT");
    assert!(top.serialized.sql.as_deref().unwrap_or("").starts_with("SELECT"), "{:?}", top.serialized);
    // The proto bytes name relations, never files or the machine's paths.
    let proto = decode_base64(top.serialized.proto.as_deref().expect("every example view has proto bytes")).unwrap();
    let proto_text = String::from_utf8_lossy(&proto);
    assert!(proto_text.contains("orders") && proto_text.contains("regions"), "{proto_text}");
    assert!(!proto_text.contains(project.path().to_str().unwrap()) && !proto_text.contains("parquet"), "{proto_text}");
    assert_eq!(top.serialized.substrait.is_some(), cfg!(feature = "substrait"), "{:?}", top.serialized.substrait_error);
    assert!(top.pass_trace.iter().any(|entry| entry.pass.starts_with("logical/p1/") && entry.changed), "{:?}", top.pass_trace);
    assert!(top.pass_trace.iter().any(|entry| entry.pass.starts_with("physical/")));
    assert!(top.pass_trace.iter().all(|entry| entry.outcome == "changed" || entry.outcome == "unchanged"));
    assert!(
        top.pushdown_report.iter().any(|entry| entry.plan == "p1" && entry.relation == "orders" && entry.verdict == "honoured"),
        "{:?}",
        top.pushdown_report
    );
    let mut compiler = Compiler::new().unwrap();
    let response = compiler.compile(&CompileRequest::new(&spec)).unwrap();
    // `top_regions` is a task (an output's view): planned by a default compile.
    let viewdag_driver::ViewStatus::Compiled { p0_digest, p1_digest, p2_digest, .. } = &response.view("top_regions").unwrap().status else {
        panic!("top_regions compiles");
    };
    assert_eq!((&top.plans.p0.digest, &top.plans.p1.digest, &top.plans.p2.digest), (p0_digest, p1_digest, p2_digest));
    // The materialized view's readers scan its table.
    assert_eq!(output.bundles["largest_orders"].providers["enriched"].canonical(), "materialized:enriched");
    // The cost model: revenue reads the Delta table's data files, customers.parquet and
    // regions.csv, exactly their sizes on disk; a materialization's critical path runs
    // through its readers.
    let size = |path: &Path| std::fs::metadata(path).unwrap().len();
    let data = project.path().join("data");
    let orders_bytes: u64 = std::fs::read_dir(data.join("orders"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "parquet"))
        .map(|path| size(&path))
        .sum();
    let cost = |id: &str| output.envelope.tasks.iter().find(|task| task.id == id).unwrap().cost.clone();
    let revenue = cost("output:revenue");
    assert_eq!(revenue.input_bytes, orders_bytes + size(&data.join("customers.parquet")) + size(&data.join("regions.csv")));
    assert_eq!(revenue.work, revenue.input_bytes + revenue.output_bytes);
    let (enriched, labels) = (cost("view:enriched"), cost("output:labels"));
    assert!(labels.input_bytes >= enriched.output_bytes, "{labels:?} reads {enriched:?}");
    assert_eq!(enriched.critical_path, enriched.work + labels.work.max(cost("output:largest_orders").work));
    assert_eq!(viewdag(&["schedule", spec.to_str().unwrap(), "--jobs", "2"]), 0);
    let task_ids: Vec<&str> = output.envelope.tasks.iter().map(|task| task.id.as_str()).collect();
    assert_eq!(task_ids, vec!["output:revenue", "output:top_regions", "view:enriched", "output:labels", "output:largest_orders"]);
}

#[test]
fn readers_reject_newer_schema_versions_and_tampered_envelopes() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let out = project.path().join("out");
    compile_to(&spec, &out);
    let bundle_text = std::fs::read_to_string(out.join("paid_orders.bundle.json")).unwrap();
    assert!(read_bundle(&bundle_text).is_ok());
    let newer = bundle_text.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1);
    let error = read_bundle(&newer).unwrap_err();
    assert!(matches!(error, ArtifactReadError::NewerSchemaVersion { found: 2, supported: 1, .. }), "{error:?}");
    assert!(error.to_string().contains("newer than this viewdag reads"), "{error}");

    let envelope_text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(read_envelope(&envelope_text).is_ok());
    let newer = envelope_text.replacen("\"schema_version\": 1", "\"schema_version\": 7", 1);
    assert!(matches!(read_envelope(&newer), Err(ArtifactReadError::NewerSchemaVersion { found: 7, .. })));
    let tampered = envelope_text.replacen("\"wave\": 1", "\"wave\": 9", 1);
    assert_ne!(tampered, envelope_text);
    assert_eq!(read_envelope(&tampered).unwrap_err(), ArtifactReadError::EnvelopeHashMismatch);

    // A bundle edited after the fact no longer matches its envelope digest.
    std::fs::write(out.join("paid_orders.bundle.json"), bundle_text.replace("paid", "PAID")).unwrap();
    assert!(read_compile_output(&out).is_err());
}

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas")
}

/// `UPDATE_EXPECT=1` rewrites the committed schemas.
#[test]
fn committed_json_schemas_are_current() {
    let driver_documents = [viewdag_driver::run_report::run_report_json_schema(), viewdag_driver::docs_data::docs_data_json_schema()];
    for (file_name, text) in json_schemas().into_iter().chain(driver_documents) {
        assert!(text.contains("\"schema_version\""), "{file_name} describes schema_version");
        crate::support::assert_snapshot_file(&schema_dir().join(file_name), &text);
    }
}

#[test]
fn replaying_the_example_bundles_executes_and_matches_the_compiled_rows() {
    use viewdag_driver::replay::{PlanForm, ReplayOutcome};
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let out = project.path().join("compiled");
    compile_to(&spec, &out);
    let mut compiler = Compiler::new().unwrap();
    let replayed = compiler.replay(&out, &spec).unwrap();
    assert_eq!(replayed.len(), 12);
    for view in &replayed {
        assert!(view.incompatibilities.is_empty(), "{view:?}");
        assert!(view.succeeded(), "{view:?}");
        // datafusion-proto is an exact round trip: every digest matches.
        let Some(ReplayOutcome::Replayed { rows_match, p0_matches, p1_matches, p2_matches, .. }) = view.form(PlanForm::Proto) else {
            panic!("{view:?}")
        };
        assert!(*rows_match && *p0_matches && *p1_matches && *p2_matches, "{view:?}");
        // SQL may change the plan's shape, never its rows.
        let Some(ReplayOutcome::Replayed { rows_match, p2_matches, .. }) = view.form(PlanForm::Sql) else { panic!("{view:?}") };
        assert!(rows_match, "{view:?}");
        assert!(p2_matches, "{view:?}");
        let substrait = view.form(PlanForm::Substrait).unwrap();
        if cfg!(feature = "substrait") {
            assert!(matches!(substrait, ReplayOutcome::Replayed { rows_match: true, .. }), "{view:?}");
        } else {
            assert!(matches!(substrait, ReplayOutcome::Skipped(reason) if reason.contains("without the `substrait` feature")), "{view:?}");
        }
    }
    let revenue = replayed.iter().find(|view| view.view == "revenue_by_region").unwrap();
    assert!(matches!(revenue.form(PlanForm::Proto), Some(ReplayOutcome::Replayed { rows, .. }) if *rows >= 3), "{revenue:?}");
    assert_eq!(viewdag(&["replay", out.to_str().unwrap(), "--spec", spec.to_str().unwrap()]), 0);

    // New data in a source: the bundles of its readers are no longer replay-compatible.
    viewdag_tests::data::append_delta_table(&project.path().join("data/orders"), vec![viewdag_tests::shop::orders(2)]);
    let replayed = Compiler::new().unwrap().replay(&out, &spec).unwrap();
    let paid = replayed.iter().find(|view| view.view == "paid_orders").unwrap();
    assert!(paid.incompatibilities.iter().any(|problem| problem.contains("providers changed")), "{paid:?}");
    let regions = replayed.iter().find(|view| view.view == "region_names").unwrap();
    assert!(regions.incompatibilities.is_empty(), "{regions:?}");
}

/// A plan over `columns` (all Int64) read from a memory table named `relation`, filtered.
fn plan_over(relation: &str, schema: datafusion::arrow::datatypes::SchemaRef) -> datafusion::logical_expr::LogicalPlan {
    use datafusion::datasource::{MemTable, provider_as_source};
    use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};
    let table = MemTable::try_new(schema, vec![vec![]]).unwrap();
    LogicalPlanBuilder::scan(relation, provider_as_source(std::sync::Arc::new(table)), None)
        .unwrap()
        .filter(col("a").gt(lit(1i64)))
        .unwrap()
        .build()
        .unwrap()
}

#[test]
fn proto_plans_bind_relations_by_name_and_refuse_other_schemas() {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::catalog::TableProvider;
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;
    use viewdag_driver::viewdag_artifact::serialize::proto::{decode_plan, encode_plan};

    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false), Field::new("b", DataType::Int64, true)]));
    let plan = plan_over("t", Arc::clone(&schema));
    let bytes = encode_plan(&plan).unwrap();
    let ctx = SessionContext::new().task_ctx();
    let bind = |schema: Arc<Schema>| -> BTreeMap<String, Arc<dyn TableProvider>> {
        BTreeMap::from([("t".to_string(), Arc::new(MemTable::try_new(schema, vec![vec![]]).unwrap()) as Arc<dyn TableProvider>)])
    };

    let decoded = decode_plan(&bytes, &ctx, &bind(Arc::clone(&schema))).unwrap();
    assert_eq!(decoded.display_indent_schema().to_string(), plan.display_indent_schema().to_string());
    assert!(decode_plan(&bytes, &ctx, &BTreeMap::new()).unwrap_err().to_string().contains("relation `t`, which has no provider"));
    let other = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false), Field::new("b", DataType::Utf8, true)]));
    let error = decode_plan(&bytes, &ctx, &bind(other)).unwrap_err().to_string();
    assert!(error.contains("relation `t` no longer has the schema"), "{error}");

    // Two metadata entries would be written in hash-map order: refused, not written.
    let metadata = std::collections::HashMap::from([("x".to_string(), "1".to_string()), ("y".to_string(), "2".to_string())]);
    let with_metadata = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false).with_metadata(metadata)]));
    let error = encode_plan(&plan_over("t", with_metadata)).unwrap_err().to_string();
    assert!(error.contains("metadata map of more than one entry"), "{error}");
}

#[test]
fn parquet_sources_give_the_cost_model_exact_row_counts() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec(
        "spec.yaml",
        "version: 1\nsources:\n  customers: { format: parquet, path: data/customers.parquet }\nviews:\n  named:\n    project: { input: customers, columns: { name: name } }\noutputs:\n  names: { view: named, path: out/names }\n",
    );
    let out = project.path().join("out-compiled");
    compile_to(&spec, &out);
    let envelope = read_compile_output(&out).unwrap().envelope;
    let cost = &envelope.tasks.iter().find(|task| task.id == "output:names").unwrap().cost;
    let rows = viewdag_tests::shop::customers().num_rows() as u64;
    assert_eq!(cost.input_rows, Some(rows), "{cost:?}");
    assert_eq!(cost.input_bytes, std::fs::metadata(project.path().join("data/customers.parquet")).unwrap().len());
}

#[test]
fn compile_writes_bundles_for_tasks_and_all_views_on_request() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let out = project.path().join("tasks");
    assert_eq!(viewdag(&["compile", spec.to_str().unwrap(), "--out", out.to_str().unwrap()]), 0);
    let envelope = read_compile_output(&out).unwrap().envelope;
    let with_bundles: BTreeSet<&str> =
        envelope.views.iter().filter(|(_, view)| view.bundle_file.is_some()).map(|(name, _)| name.as_str()).collect();
    assert_eq!(with_bundles, ["enriched", "labels", "revenue_by_region", "top_regions", "top_three_orders"].into_iter().collect());
    let checked =
        envelope.views.values().filter(|view| view.status == viewdag_driver::viewdag_artifact::ViewCompileStatus::Checked).count();
    assert_eq!(checked, 7);
    let all = project.path().join("all");
    compile_to(&spec, &all);
    assert!(read_compile_output(&all).unwrap().envelope.views.values().all(|view| view.bundle_file.is_some()));
}

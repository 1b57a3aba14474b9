//! Incrementality, observed through salsa's execution events: an edit re-executes only the
//! queries of the views it touched and of their dependents.

use std::collections::BTreeSet;

use viewdag_driver::{CompileResponse, Compiler};

use crate::support::{TempProject, shop_spec};

/// The relations for which `function` executed, sorted.
fn executed_for(response: &CompileResponse, function: &str) -> BTreeSet<String> {
    response
        .executions
        .iter()
        .filter(|execution| execution.function == function)
        .filter_map(|execution| execution.relation.clone())
        .collect()
}

fn names(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn a_no_op_recompile_executes_nothing() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let first = project.compile(&mut compiler, "spec.yaml", &shop_spec());
    assert!(first.executed("view_plan", None) >= 12, "{:?}", first.executions);
    let second = project.compile(&mut compiler, "spec.yaml", &shop_spec());
    assert!(second.executions.is_empty(), "{:?}", second.executions);
    assert_eq!(first.views, second.views);
}

#[test]
fn editing_a_predicate_replans_only_that_view_and_its_dependents() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let before = project.compile(&mut compiler, "spec.yaml", &shop_spec());
    assert!(!before.has_errors());
    let edited = shop_spec().replace("status = 'paid' AND amount > 0", "status = 'paid' AND amount > 1");
    let after = project.compile(&mut compiler, "spec.yaml", &edited);
    assert!(!after.has_errors());
    // `enriched` is materialized and keeps its schema: its readers scan its table, so they
    // are not re-planned (early cutoff at the task boundary).
    assert_eq!(executed_for(&after, "view_plan"), names(&["paid_orders", "order_lines", "revenue_by_region", "top_regions", "enriched"]));
    // Schemas are asked for materialized views (by their readers) and outputs (contracts).
    assert_eq!(executed_for(&after, "view_schema"), names(&["revenue_by_region", "top_regions", "enriched"]));
    assert!(executed_for(&after, "source_scan").is_empty());
    assert_eq!(executed_for(&after, "materialized_scan"), BTreeSet::new());
    for unaffected in ["customer_regions", "largest_orders", "segments", "labels", "region_names"] {
        assert_eq!(before.view(unaffected), after.view(unaffected), "{unaffected} changed");
    }
    let digest = |response: &CompileResponse, view: &str| match &response.view(view).expect("declared").status {
        viewdag_driver::ViewStatus::Compiled { p0_digest, .. } => p0_digest.clone(),
        other => panic!("{view}: {other:?}"),
    };
    assert_ne!(digest(&before, "paid_orders"), digest(&after, "paid_orders"));
    assert_ne!(digest(&before, "top_regions"), digest(&after, "top_regions"));
}

#[test]
fn changing_a_materialized_views_schema_replans_its_readers() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    project.compile(&mut compiler, "spec.yaml", &shop_spec());
    let edited =
        shop_spec().replace("amount_eur: \"round(amount * 0.92, 2)\"", "amount_eur: \"round(amount * 0.92, 2)\"\n        status: status");
    let after = project.compile(&mut compiler, "spec.yaml", &edited);
    assert!(!after.has_errors(), "{:?}", after.diagnostics);
    assert_eq!(executed_for(&after, "materialized_scan"), names(&["enriched"]));
    assert_eq!(
        executed_for(&after, "view_plan"),
        names(&["enriched", "largest_orders", "top_three_orders", "segment_names", "segments", "labels"])
    );
}

#[test]
fn a_new_delta_commit_on_a_source_replans_its_readers_only() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let before = project.compile(&mut compiler, "spec.yaml", &shop_spec());
    viewdag_tests::data::append_delta_table(&project.path().join("data/orders"), vec![viewdag_tests::shop::orders(3)]);
    let after = project.compile(&mut compiler, "spec.yaml", &shop_spec());
    assert_eq!(executed_for(&after, "source_scan"), names(&["orders"]));
    assert!(executed_for(&after, "view_plan").contains("paid_orders"));
    assert!(!executed_for(&after, "view_plan").contains("customer_regions"));
    // The plan text is the same; the provider identity (the Delta version) is not.
    assert_ne!(before.view("paid_orders"), after.view("paid_orders"));
}

#[test]
fn watch_recompiles_on_edits_and_survives_invalid_yaml() {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// A writer the test can read while `watch` writes to it.
    #[derive(Clone, Default)]
    struct SharedBuffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for SharedBuffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl SharedBuffer {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("buffer lock")).into_owned()
        }
        fn wait_for(&self, needle: &str) -> String {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let text = self.text();
                if text.contains(needle) {
                    return text;
                }
                assert!(Instant::now() < deadline, "timed out waiting for {needle:?}; output so far:\n{text}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let buffer = SharedBuffer::default();
    let mut writer = buffer.clone();
    let watched = spec.clone();
    let options = viewdag_driver::watch::WatchOptions { debounce: Duration::from_millis(100), max_compiles: Some(3) };
    let handle = std::thread::spawn(move || viewdag_driver::watch::watch(&watched, &options, &mut writer));

    buffer.wait_for("[watch] compile #1: 12 of 12 views compiled");
    // Half-typed YAML: reported, and watching goes on.
    std::fs::write(&spec, "version: 1\nviews:\n  broken: { filter: [").expect("written");
    let text = buffer.wait_for("[watch] compile #2");
    assert!(text.contains("V0001"), "{text}");
    // Fixed again with one predicate edited: only the affected views re-execute.
    std::fs::write(&spec, shop_spec().replace("status = 'paid' AND amount > 0", "status = 'paid' AND amount > 2")).expect("written");
    let text = buffer.wait_for("[watch] compile #3: 12 of 12 views compiled");
    handle.join().expect("the watcher thread").expect("watch succeeds");
    let third = &text[text.find("[watch] compile #3").expect("third compile")..];
    let view_plan_line =
        third.lines().find(|line| line.trim_start().starts_with("view_plan")).unwrap_or_else(|| panic!("no view_plan stats in {third}"));
    let numbers: Vec<usize> = view_plan_line.split_whitespace().skip(1).map(|number| number.parse().expect("a count")).collect();
    // The views were dropped by the broken spec and come back: every view is planned again
    // only where the spec changed (all views were absent in compile #2's project).
    assert_eq!(numbers.len(), 2, "{view_plan_line}");
    assert!(numbers[0] >= 5, "{view_plan_line}");
}

#[test]
fn stats_count_executed_and_reused_queries() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let first = project.compile(&mut compiler, "spec.yaml", &shop_spec());
    assert!(first.stats.inputs_changed > 12, "{:?}", first.stats);
    assert_eq!(first.stats.stages["view_plan"].executed, 12);
    assert_eq!(first.stats.stages["physical_view"].executed, 12);
    let edited = shop_spec().replace("status = 'paid' AND amount > 0", "status = 'paid' AND amount > 1");
    let second = project.compile(&mut compiler, "spec.yaml", &edited);
    assert_eq!(second.stats.inputs_changed, 1);
    assert_eq!(second.stats.stages["view_plan"].executed, 5);
    assert_eq!(second.stats.stages["physical_view"].executed, 5);
    assert!(second.stats.stages["physical_view"].reused >= 7, "{:?}", second.stats);
    assert!(second.stats.render().contains("view_plan"));
    let third = project.compile(&mut compiler, "spec.yaml", &edited);
    assert_eq!(third.stats.inputs_changed, 0);
    assert_eq!(third.stats.executed(), 0);
}

#[test]
fn a_schema_keeping_mid_dag_edit_replans_downstream_ephemeral_views_but_stops_at_tasks() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let before = project.compile(&mut compiler, "spec.yaml", &shop_spec());
    // `customer_regions` keeps its schema: a left join becomes an inner join.
    let edited = shop_spec()
        .replace("join: { left: customers, right: regions, kind: left,", "join: { left: customers, right: regions, kind: inner,");
    let after = project.compile(&mut compiler, "spec.yaml", &edited);
    assert!(!after.has_errors(), "{:?}", after.diagnostics);
    assert_eq!(
        executed_for(&after, "view_plan"),
        names(&["customer_regions", "order_lines", "revenue_by_region", "top_regions", "enriched"])
    );
    // `enriched` (materialized) kept its schema, so its readers were not re-planned.
    assert!(executed_for(&after, "materialized_scan").is_empty());
    assert_eq!(before.view("largest_orders"), after.view("largest_orders"));
}

#[test]
fn a_surface_change_reoptimizes_every_view_but_keeps_every_p0() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    let before = project.compile(&mut compiler, "spec.yaml", &shop_spec());
    let edited = shop_spec().replace("  pushdown: warn\n", "  pushdown: warn\n  target_partitions: 2\n");
    let after = project.compile(&mut compiler, "spec.yaml", &edited);
    assert!(!after.has_errors(), "{:?}", after.diagnostics);
    assert_eq!(after.executed("planning_session", None), 1);
    assert_eq!(executed_for(&after, "physical_view").len(), 12);
    for view in after.views.iter() {
        let p0 = |response: &CompileResponse| match &response.view(&view.name).expect("declared").status {
            viewdag_driver::ViewStatus::Compiled { p0_digest, p2_digest, .. } => (p0_digest.clone(), p2_digest.clone()),
            other => panic!("{}: {other:?}", view.name),
        };
        let ((p0_before, p2_before), (p0_after, p2_after)) = (p0(&before), p0(&after));
        assert_eq!(p0_before, p0_after, "{}: P0 must not depend on target_partitions", view.name);
        if view.name == "revenue_by_region" {
            assert_ne!(p2_before, p2_after, "the physical plan repartitions differently");
        }
    }
}

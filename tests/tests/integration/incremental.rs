//! Incrementality, observed through salsa's execution events: an edit re-executes only the
//! queries of the views it touched and of their dependents.

use std::collections::BTreeSet;

use viewdag_driver::{CompileResponse, Compiler, StructureSync};

use crate::support::{TempProject, shop_spec};

/// The relations for which `function` executed, sorted.
fn executed_for(response: &CompileResponse, function: &str) -> BTreeSet<String> {
    response
        .executions
        .iter()
        .filter(|execution| &*execution.function == function)
        .filter_map(|execution| Some(execution.relation.as_deref()?.to_string()))
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
    // Plans are re-built for the tasks that inline the edit (every shop view is in some
    // task's plan).
    assert_eq!(executed_for(&after, "view_plan"), names(&["paid_orders", "order_lines", "revenue_by_region", "top_regions", "enriched"]));
    // The edit keeps `paid_orders`' schema: nothing downstream is re-validated.
    assert_eq!(executed_for(&after, "view_signature"), names(&["paid_orders"]));
    // Its signature came out equal, so even its schema projection is reused.
    assert!(executed_for(&after, "view_schema").is_empty());
    assert!(executed_for(&after, "source_scan").is_empty());
    assert_eq!(executed_for(&after, "materialized_scan"), BTreeSet::new());
    // Views that do not read the edit keep their outcome (and definition digest).
    for unaffected in ["customer_regions", "region_names"] {
        assert_eq!(before.view(unaffected), after.view(unaffected), "{unaffected} changed");
    }
    let digest = |response: &CompileResponse, view: &str| {
        response.view(view).expect("declared").status.definition_digest().expect("valid").to_string()
    };
    // Merkle digests: the edited view's and every downstream view's definition digest change.
    assert_ne!(digest(&before, "paid_orders"), digest(&after, "paid_orders"));
    assert_ne!(digest(&before, "top_regions"), digest(&after, "top_regions"));
    assert_eq!(digest(&before, "customer_regions"), digest(&after, "customer_regions"));
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
    let options = viewdag_cli::watch::WatchOptions { debounce: Duration::from_millis(100), max_compiles: Some(3) };
    let handle = std::thread::spawn(move || viewdag_cli::watch::watch(&watched, &options, &mut writer));

    buffer.wait_for("[watch] compile #1: 12 of 12 views valid");
    // Half-typed YAML: reported, and watching goes on.
    std::fs::write(&spec, "version: 1\nviews:\n  broken: { filter: [").expect("written");
    let text = buffer.wait_for("[watch] compile #2");
    assert!(text.contains("V0001"), "{text}");
    // Fixed again with one predicate edited: only the affected views re-execute.
    std::fs::write(&spec, shop_spec().replace("status = 'paid' AND amount > 0", "status = 'paid' AND amount > 2")).expect("written");
    buffer.wait_for("[watch] compile #3: 12 of 12 views valid");
    handle.join().expect("the watcher thread").expect("watch succeeds");
    // Read after the watcher ended: its statistics follow the summary line it waited for.
    let text = buffer.text();
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
    assert_eq!(first.stats.stages["view_signature"].executed, 12);
    // Every shop view is inlined into some task; only the five tasks are optimized.
    assert_eq!(first.stats.stages["view_plan"].executed, 12);
    assert_eq!(first.stats.stages["physical_view"].executed, 5);
    let edited = shop_spec().replace("status = 'paid' AND amount > 0", "status = 'paid' AND amount > 1");
    let second = project.compile(&mut compiler, "spec.yaml", &edited);
    assert_eq!(second.stats.inputs_changed, 1);
    assert_eq!(second.stats.stages["view_signature"].executed, 1);
    assert_eq!(second.stats.stages["view_plan"].executed, 5);
    // enriched, revenue_by_region and top_regions inline the edit; the readers of
    // `enriched`'s table do not.
    assert_eq!(second.stats.stages["physical_view"].executed, 3);
    assert!(second.stats.stages["physical_view"].reused >= 2, "{:?}", second.stats);
    assert!(second.stats.render().contains("view_plan"));
    let third = project.compile(&mut compiler, "spec.yaml", &edited);
    assert_eq!(third.stats.inputs_changed, 0);
    assert_eq!(third.stats.executed(), 0);
}

/// With the query log off (what `check` does), a compile logs no execution and counts
/// nothing, and reports exactly what it reports with the log on; turned on again, the next
/// compile's log is complete.
#[test]
fn a_compile_without_the_query_log_reports_the_same_and_logs_nothing() {
    let project = TempProject::with_shop_data();
    let mut logged = Compiler::new().expect("a compiler");
    let mut quiet = Compiler::new().expect("a compiler");
    quiet.set_query_log(false);
    let with_log = project.compile(&mut logged, "spec.yaml", &shop_spec());
    let without = project.compile(&mut quiet, "spec.yaml", &shop_spec());
    assert!(with_log.executed("view_signature", None) > 5);
    assert!(without.executions.is_empty(), "{:?}", without.executions);
    assert_eq!(without.stats.executed() + without.stats.reused(), 0, "{:?}", without.stats);
    assert_eq!(without.diagnostics, with_log.diagnostics);
    assert_eq!(without.views, with_log.views);
    quiet.set_query_log(true);
    let edited = shop_spec().replace("status = 'paid' AND amount > 0", "status = 'paid' AND amount > 1");
    let after_edit = project.compile(&mut quiet, "spec.yaml", &edited);
    assert_eq!(after_edit.stats.stages["view_signature"].executed, 1, "{:?}", after_edit.stats);
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
    // Validation stops at the edited view: it kept its schema.
    assert_eq!(executed_for(&after, "view_signature"), names(&["customer_regions"]));
    // `enriched` (materialized) kept its schema, so its readers were not re-planned.
    assert!(executed_for(&after, "materialized_scan").is_empty());
    // Its definition digest (Merkle, through the materialized view) changed; it stays valid.
    assert!(after.view("largest_orders").expect("declared").status.is_valid());
    assert_ne!(before.view("largest_orders"), after.view("largest_orders"));
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
    // The five tasks are re-optimized.
    assert_eq!(executed_for(&after, "physical_view").len(), 5);
    for view in after.views.iter().filter(|view| matches!(view.status, viewdag_driver::ViewStatus::Compiled { .. })) {
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

/// The per-view functions that executed, per relation.
fn per_view_executions(response: &CompileResponse) -> BTreeSet<(String, String)> {
    response
        .executions
        .iter()
        .filter_map(|execution| Some((execution.relation.as_deref()?.to_string(), execution.function.to_string())))
        .collect()
}

#[test]
fn adding_a_view_runs_only_that_views_queries() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    project.compile(&mut compiler, "spec.yaml", &shop_spec());
    let added = shop_spec().replace(
        "  customer_regions:\n",
        "  big_paid_orders:\n    filter: { input: paid_orders, predicate: \"amount > 100\" }\n\n  customer_regions:\n",
    );
    let after = project.compile(&mut compiler, "spec.yaml", &added);
    assert!(!after.has_errors(), "{:?}", after.diagnostics);
    let relations: BTreeSet<String> = per_view_executions(&after).into_iter().map(|(relation, _)| relation).collect();
    assert_eq!(relations, names(&["big_paid_orders"]), "{:?}", per_view_executions(&after));
    assert!(executed_for(&after, "view_signature").contains("big_paid_orders"));
    // It is no task: nothing is planned.
    assert!(executed_for(&after, "view_plan").is_empty());
    assert!(after.view("big_paid_orders").expect("declared").status.is_valid());
}

/// Edits of views nothing reads — added with a typo, the typo fixed, a reader added, both
/// removed — patch the structure in place; an edit of what a read view reads computes it
/// whole; an edit of the profile keeps it. Either way the diagnostics are a fresh compile's (and, in debug builds, the driver
/// asserts that every patched structure equals the one computed whole).
#[test]
fn edits_of_views_nothing_reads_patch_the_structure() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    project.compile(&mut compiler, "spec.yaml", &shop_spec());
    let with = |views: &str| shop_spec().replace("  customer_regions:\n", &format!("{views}  customer_regions:\n"));
    let typo = "  big_paid:\n    filter: { input: paid_ordrs, predicate: \"amount > 100\" }\n\n";
    let fixed = "  big_paid:\n    filter: { input: paid_orders, predicate: \"amount > 100\" }\n\n";
    let repointed = "  big_paid:\n    filter: { input: enriched, predicate: \"amount > 100\" }\n\n";
    let reader = "  bigger_paid:\n    filter: { input: big_paid, predicate: \"amount > 200\" }\n\n";
    let steps = [
        (with(typo), StructureSync::Patched),
        (with(fixed), StructureSync::Patched),
        (with(&format!("{fixed}{reader}")), StructureSync::Patched),
        // `big_paid` has a reader now: what it reads moves the reader too.
        (with(&format!("{repointed}{reader}")), StructureSync::Computed),
        (shop_spec(), StructureSync::Patched),
    ];
    for (step, (text, structure)) in steps.iter().enumerate() {
        let after = project.compile(&mut compiler, "spec.yaml", text);
        assert_eq!(after.stats.structure, *structure, "step {step}");
        let fresh = project.compile(&mut Compiler::new().expect("a compiler"), "spec.yaml", text);
        assert_eq!(after.diagnostics, fresh.diagnostics, "step {step}");
        let statuses =
            |response: &CompileResponse| response.views.iter().map(|view| format!("{} {:?}", view.name, view.status)).collect::<Vec<_>>();
        assert_eq!(statuses(&after), statuses(&fresh), "step {step}");
    }
    // A profile setting is no part of the structure: kept as it was.
    let profiled = project.compile(&mut compiler, "spec.yaml", &shop_spec().replace("  pushdown: warn", "  pushdown: error"));
    assert_eq!(profiled.stats.structure, StructureSync::Kept);
    let typo_response = project.compile(&mut Compiler::new().expect("a compiler"), "spec.yaml", &with(typo));
    let unknown = typo_response.diagnostics.iter().find(|diagnostic| diagnostic.code.id() == "V0101").expect("the typo is reported");
    assert!(unknown.suggestion.as_deref().is_some_and(|suggestion| suggestion.contains("paid_orders")), "{unknown:?}");
}

/// Where a long chain of ephemeral views is cut (a checkpoint, `V0226`) follows every edit
/// of the views as a fresh compile places it, although the checkpoint itself is never
/// edited: a task reading the chain removed and added again (the structure patched), the
/// chain broken in the middle and mended (computed whole), a table declared on the chain.
#[test]
fn checkpoints_follow_edits_of_the_chain_as_a_fresh_compile_places_them() {
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let chain = |broken_at: Option<usize>, declared_at: Option<usize>, sink: bool| {
        let mut text = String::from("version: 1\nsources:\n  orders: { format: delta, path: data/orders }\nviews:\n");
        for index in 0..600 {
            let input = if index == 0 || Some(index) == broken_at { "orders".to_string() } else { format!("c{}", index - 1) };
            text.push_str(&format!("  c{index}:\n    filter: {{ input: {input}, predicate: \"amount > {}\" }}\n", index % 5));
            if Some(index) == declared_at {
                text.push_str("    materialize: table\n");
            }
        }
        if sink {
            text.push_str("  sink:\n    distinct: { input: c599 }\n    materialize: table\n");
        }
        text
    };
    let steps: [(String, &[&str]); 6] = [
        (chain(None, None, true), &["c511", "sink"]),
        (chain(None, None, false), &[]),
        (chain(None, None, true), &["c511", "sink"]),
        (chain(Some(300), None, true), &["sink"]),
        (chain(None, None, true), &["c511", "sink"]),
        (chain(None, Some(400), true), &["c400", "sink"]),
    ];
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            // One compiler per scope: a compile after another scope's is computed whole.
            for check_only in [false, true] {
                let mut compiler = Compiler::new().expect("a compiler");
                for (step, (text, tables)) in steps.iter().enumerate() {
                    let compile = |compiler: &mut Compiler| match check_only {
                        true => compiler.check_text(&spec, text),
                        false => compiler.compile_text(&spec, text),
                    };
                    let after = compile(&mut compiler);
                    if step > 0 {
                        assert!(after.stats.structure != StructureSync::Kept, "step {step} is an edit of the views");
                    }
                    let fresh = compile(&mut Compiler::new().expect("a compiler"));
                    let materialized: Vec<&str> =
                        after.views.iter().filter(|view| view.materialized).map(|view| view.name.as_str()).collect();
                    assert_eq!(materialized, *tables, "step {step}");
                    assert_eq!(after.diagnostics, fresh.diagnostics, "step {step}");
                    assert!(after.views == fresh.views, "step {step}: the views differ from a fresh compile's");
                }
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn renaming_a_view_revalidates_it_and_its_readers_only() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    project.compile(&mut compiler, "spec.yaml", &shop_spec());
    let renamed = shop_spec()
        .replace("  region_names:\n", "  region_labels:\n")
        .replace("inputs: [segments, region_names]", "inputs: [segments, region_labels]");
    let after = project.compile(&mut compiler, "spec.yaml", &renamed);
    assert!(!after.has_errors(), "{:?}", after.diagnostics);
    assert_eq!(executed_for(&after, "view_signature"), names(&["region_labels", "labels"]));
    // `labels` is a task: its plan is rebuilt over the renamed input.
    assert_eq!(executed_for(&after, "view_plan"), names(&["region_labels", "labels"]));
    let relations: BTreeSet<String> = per_view_executions(&after).into_iter().map(|(relation, _)| relation).collect();
    assert!(relations.is_subset(&names(&["region_labels", "labels"])), "{relations:?}");
}

#[test]
fn changing_an_input_revalidates_that_view_only_when_its_schema_stays() {
    let project = TempProject::with_shop_data();
    let mut compiler = Compiler::new().expect("a compiler");
    project.compile(&mut compiler, "spec.yaml", &shop_spec());
    // `largest_orders` has `enriched`'s schema: reading `enriched` directly keeps the schema.
    let edited = shop_spec().replace("limit: { input: largest_orders, count: 3 }", "limit: { input: enriched, count: 3 }");
    let after = project.compile(&mut compiler, "spec.yaml", &edited);
    assert!(!after.has_errors(), "{:?}", after.diagnostics);
    assert_eq!(executed_for(&after, "view_signature"), names(&["top_three_orders"]));
    assert_eq!(executed_for(&after, "view_plan"), names(&["top_three_orders"]));
    assert_eq!(executed_for(&after, "physical_view"), names(&["top_three_orders"]));
}

#[test]
fn check_plans_nothing_and_compile_plans_only_tasks() {
    let project = TempProject::with_shop_data();
    let path = project.write_spec("spec.yaml", &shop_spec());
    let mut compiler = Compiler::new().expect("a compiler");
    let checked = compiler.compile(&viewdag_driver::CompileRequest::check(&path)).expect("readable");
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    assert_eq!(executed_for(&checked, "view_signature").len(), 12);
    assert!(executed_for(&checked, "view_plan").is_empty());
    assert!(executed_for(&checked, "optimized_view").is_empty());
    assert!(checked.views.iter().all(|view| matches!(view.status, viewdag_driver::ViewStatus::Checked { .. })));
    let compiled = compiler.compile(&viewdag_driver::CompileRequest::new(&path)).expect("readable");
    // Validation is reused; the five tasks are optimized.
    assert!(executed_for(&compiled, "view_signature").is_empty());
    assert_eq!(
        executed_for(&compiled, "physical_view"),
        names(&["enriched", "revenue_by_region", "top_regions", "top_three_orders", "labels"])
    );
    let planned: BTreeSet<String> = compiled
        .views
        .iter()
        .filter(|view| matches!(view.status, viewdag_driver::ViewStatus::Compiled { .. }))
        .map(|view| view.name.clone())
        .collect();
    assert_eq!(planned, names(&["enriched", "revenue_by_region", "top_regions", "top_three_orders", "labels"]));
    // The diagnostics of a check and a compile of a clean spec agree.
    assert_eq!(checked.diagnostics, compiled.diagnostics);
}

/// Every edit kind at 10,000 views (`bench-compile`'s transforms DAG), one after another in
/// one compiler, with the queries each executes: a leaf edit, a schema edit, adding, removing
/// and renaming a view each re-run the queries of the views they touch (below a view whose
/// schema stayed, only the Merkle digests that include it) and nothing else, and a
/// re-parsed entry sets one input.
#[test]
fn each_edit_kind_at_ten_thousand_views_executes_only_the_touched_views_queries() {
    use viewdag_tests::synthetic_dag::{DagShape, SyntheticProject};
    let SyntheticProject { directory: _directory, dag, spec_path, text } = SyntheticProject::create(DagShape::Transforms, 10_000);
    let mut compiler = Compiler::new().expect("a compiler");
    let cold = compiler.check_text(&spec_path, &text);
    assert!(!cold.has_errors(), "{:?}", cold.diagnostics.first());
    assert_eq!(executed_for(&cold, "view_signature").len(), 10_000);
    let mut check = |text: &str| {
        let response = compiler.check_text(&spec_path, text);
        assert!(!response.has_errors(), "{:?}", response.diagnostics.first());
        let relations: BTreeSet<String> = per_view_executions(&response).into_iter().map(|(relation, _)| relation).collect();
        (response, relations)
    };
    // Every view that reads `root`, directly or not.
    let downstream = |root: &str| -> BTreeSet<String> {
        let mut below = BTreeSet::new();
        let mut stack = vec![root.to_string()];
        while let Some(name) = stack.pop() {
            for view in dag.views.iter().filter(|view| view.reads.contains(&name)) {
                if below.insert(view.name.clone()) {
                    stack.push(view.name.clone());
                }
            }
        }
        below
    };
    // Below a re-validated view whose schema stayed, only what is computed from the inputs'
    // identities runs again: the Merkle definition digests (and the checks that carry them)
    // (a renamed input is another input).
    let only_digests_below = |response: &CompileResponse, revalidated: &[&str], below: &BTreeSet<String>| {
        for (relation, function) in per_view_executions(response) {
            if !revalidated.contains(&relation.as_str()) {
                assert!(
                    below.contains(&relation) && ["view_definition_digest", "view_check"].contains(&function.as_str()),
                    "{function} ran for {relation}: {:?}",
                    per_view_executions(response)
                );
            }
        }
    };

    // A leaf filter's predicate: one input set, that view re-validated.
    let leaf = dag.leaf_filter().expect("a leaf filter");
    let leaf_edited = dag.with_leaf_edit(&text, leaf);
    let (after, relations) = check(&leaf_edited);
    assert_eq!(after.stats.inputs_changed, 1);
    assert_eq!(executed_for(&after, "view_signature"), names(&[leaf.name.as_str()]));
    assert_eq!(relations, names(&[leaf.name.as_str()]));
    // And salsa did not walk the project to find that out: the last compile was patched
    // (the leaf's chunk and its upstream verified), not every view's memos.
    let walked = |response: &CompileResponse| response.stats.reused() + response.stats.executed();
    assert!(
        walked(&after) * 20 < cold.stats.executed(),
        "{} memos verified of {}: {:?}",
        walked(&after),
        cold.stats.executed(),
        after.stats
    );

    // A mid-DAG projection gains a column: it and its one reader (an explicit column list
    // that keeps its schema) are re-validated, nothing further down.
    let middle = dag.mid_projection().expect("a projection");
    let reader = dag.views.iter().find(|view| view.reads.contains(&middle.name)).expect("its reader");
    let schema_edited = dag.with_extra_column(&leaf_edited, middle);
    let (after, relations) = check(&schema_edited);
    assert_eq!(after.stats.inputs_changed, 1);
    assert_eq!(executed_for(&after, "view_signature"), names(&[middle.name.as_str(), reader.name.as_str()]));
    assert!(relations.contains(&middle.name) && relations.contains(&reader.name));
    only_digests_below(&after, &[middle.name.as_str(), reader.name.as_str()], &downstream(&reader.name));
    // Only what is downstream of the edit, and upstream of that, was visited.
    let visited_bound = 20 * (downstream(&middle.name).len() + 250);
    assert!(walked(&after) < visited_bound, "{} memos verified, {} views downstream", walked(&after), downstream(&middle.name).len());

    // Adding, removing or renaming a view changes the project's shape: the passes over names
    // (the structure, the chunks, the tasks) run again, but salsa does not walk every view's
    // memos: the last compile is patched, and only the chunks whose members changed or that
    // hold an affected view are asked (each verifying its views' memos and their upstream).
    let views_visited =
        |response: &CompileResponse| response.stats.stages.get("view_check").map_or(0, |stage| stage.executed + stage.reused);
    let cold_checks = views_visited(&cold);
    assert_eq!(cold_checks, 10_000);
    let shape_edit_bound = |response: &CompileResponse, what: &str| {
        assert!(views_visited(response) * 5 < cold_checks, "{what}: {} view checks visited: {:?}", views_visited(response), response.stats);
    };

    // A view added in the middle: only its queries (and the per-view projections of the
    // project's structure, backdated).
    let added = dag.with_added_view(&schema_edited);
    let (after, relations) = check(&added);
    assert_eq!(executed_for(&after, "view_signature"), names(&["added_view"]));
    assert_eq!(relations, names(&["added_view"]));
    shape_edit_bound(&after, "add");
    // Nothing reads it: the structure is patched, not computed over every view again.
    assert_eq!(after.stats.structure, StructureSync::Patched);

    // The leaf removed: nothing reads it, nothing is re-validated.
    let removed = dag.without_view(&added, leaf);
    assert!(!removed.contains(&format!("  {}:\n", leaf.name)));
    let (after, relations) = check(&removed);
    assert!(executed_for(&after, "view_signature").is_empty(), "{:?}", executed_for(&after, "view_signature"));
    assert!(relations.is_empty(), "{relations:?}");
    assert!(after.view(&leaf.name).is_none());
    shape_edit_bound(&after, "remove");
    assert_eq!(after.stats.structure, StructureSync::Patched);

    // The mid-DAG projection renamed (and its reader, and an output writing it, follow): the
    // renamed view and its reader are re-validated.
    let renamed_name = format!("{}_renamed", middle.name);
    let renamed = removed
        .replacen(&format!("  {}:\n", middle.name), &format!("  {renamed_name}:\n"), 1)
        .replace(&format!("input: {},", middle.name), &format!("input: {renamed_name},"))
        .replace(&format!("view: {},", middle.name), &format!("view: {renamed_name},"));
    let (after, relations) = check(&renamed);
    assert_eq!(executed_for(&after, "view_signature"), names(&[renamed_name.as_str(), reader.name.as_str()]));
    assert!(relations.contains(&renamed_name) && relations.contains(&reader.name));
    only_digests_below(&after, &[renamed_name.as_str(), reader.name.as_str()], &downstream(&reader.name));
    assert!(after.view(&middle.name).is_none() && after.view(&renamed_name).is_some_and(|view| view.status.is_valid()));
    shape_edit_bound(&after, "rename");
}

/// A compile after edits of view definitions alone patches the last result instead of asking
/// the whole-project query; it must equal a fresh compile whatever happened in between: a run
/// (which binds and unbinds tables: input sets no edit logged), a check (another scope), a
/// background check that completed and one a newer edit cancelled, and edits that change what
/// a view reads or break it (the structure changes).
#[test]
fn a_patched_compile_equals_a_fresh_one_across_runs_scopes_and_background_checks() {
    use viewdag_driver::{CompileRequest, PreparedCheck};
    let project = TempProject::with_shop_data();
    let spec = project.write_spec("spec.yaml", &shop_spec());
    let mut compiler = Compiler::new().expect("a compiler");
    let fresh = |text: &str, check_only: bool| {
        let mut fresh = Compiler::new().expect("a compiler");
        if check_only { fresh.check_text(&spec, text) } else { fresh.compile_text(&spec, text) }
    };
    let same = |a: &CompileResponse, b: &CompileResponse, what: &str| {
        assert_eq!(a.diagnostics, b.diagnostics, "{what}");
        assert_eq!(a.views, b.views, "{what}");
    };
    let texts: Vec<String> = [
        ("status = 'paid' AND amount > 0", "status = 'paid' AND amount > 1"),
        ("status = 'paid' AND amount > 1", "status = 'paid' AND amout > 1"),
        ("status = 'paid' AND amout > 1", "status = 'paid' AND amount > 2"),
    ]
    .iter()
    .scan(shop_spec(), |text, (from, to)| {
        assert!(text.contains(from), "{from}");
        *text = text.replace(from, to);
        Some(text.clone())
    })
    .collect();
    compiler.compile_text(&spec, &shop_spec());
    // A run binds tables between tasks: the next compile cannot patch across it.
    let report = compiler.run(&CompileRequest::new(&spec), &mut |_| {}).expect("readable");
    assert!(report.succeeded(), "{:?}", report.tasks);
    for (step, text) in texts.iter().enumerate() {
        let incremental = compiler.compile_text(&spec, text);
        same(&incremental, &fresh(text, false), &format!("compile after edit {step}"));
        let checked = compiler.check_text(&spec, text);
        same(&checked, &fresh(text, true), &format!("check after edit {step}"));
    }
    // A completed background check leaves its result for the next edit to patch; a cancelled
    // one leaves nothing, and the next compile patches from the last completed result.
    let background = |compiler: &mut Compiler, text: &str| match compiler.prepare_check(&spec, text) {
        PreparedCheck::Pending(check) => Some(check),
        PreparedCheck::Answered(_) => None,
    };
    let completed = background(&mut compiler, &texts[0]).expect("a pending check");
    let response = std::thread::scope(|scope| scope.spawn(|| completed.run()).join().expect("no panic")).expect("not cancelled");
    same(&response, &fresh(&texts[0], true), "a background check");
    // (Run on its own thread while the host sets newer inputs, which cancels it if it is
    // still running: either way the next check must be right.)
    let racing = background(&mut compiler, &texts[1]).expect("a pending check");
    let after = std::thread::scope(|scope| {
        let racing = scope.spawn(|| racing.run());
        let after = compiler.check_text(&spec, &texts[2]);
        let _cancelled_or_not = racing.join().expect("no panic");
        after
    });
    same(&after, &fresh(&texts[2], true), "a check after a racing background check");
    // What a view reads changes (and a view breaks): the structure changes.
    let rewired = texts[2].replace("status = 'paid' AND amount > 2", "status = 'paid' AND amount > 2 AND region_id = missing_column");
    same(&compiler.check_text(&spec, &rewired), &fresh(&rewired, true), "a check after an edit that breaks a view");
    // Views added, renamed (their readers following, or not: an unknown name), materialized,
    // pointed at another input, removed: the shape changes, the last result is patched; in
    // both scopes, and through a background check.
    let shape_edits: Vec<String> = [
        ("  customer_regions:\n", "  early_paid:\n    filter: { input: paid_orders, predicate: \"amount > 10\" }\n\n  customer_regions:\n"),
        ("  customer_regions:\n", "  regions_of_customers:\n"),
        ("right: customer_regions,", "right: regions_of_customers,"),
        (
            "  early_paid:\n    filter: { input: paid_orders, predicate: \"amount > 10\" }\n",
            "  early_paid:\n    filter: { input: paid_orders, predicate: \"amount > 10\" }\n    materialize: table\n",
        ),
        ("filter: { input: paid_orders, predicate: \"amount > 10\" }", "filter: { input: order_lines, predicate: \"amount > 10\" }"),
        ("  early_paid:\n    filter: { input: order_lines, predicate: \"amount > 10\" }\n    materialize: table\n", ""),
    ]
    .iter()
    .scan(rewired, |text, (from, to)| {
        assert!(text.contains(from), "{from}");
        *text = text.replacen(from, to, 1);
        Some(text.clone())
    })
    .collect();
    for (step, text) in shape_edits.iter().enumerate() {
        same(&compiler.compile_text(&spec, text), &fresh(text, false), &format!("compile after shape edit {step}"));
    }
    // Back through the same texts with background checks only (each patching the last one's
    // result, of the same scope).
    for (step, text) in shape_edits.iter().rev().chain(std::iter::once(&shop_spec())).enumerate() {
        let response = background(&mut compiler, text).expect("a pending check").run().expect("not cancelled");
        same(&response, &fresh(text, true), &format!("background check {step} back through the shape edits"));
    }
}

//! Soundness of incremental recompilation: after any sequence of edits (add, remove,
//! rename and modify views, point a view at another input; new source data), an
//! incremental compile gives exactly what a fresh
//! compile of the final spec gives: the same diagnostics, view outcomes, bundles and
//! envelope, byte for byte.
//!
//! Steps: 1,000 by default (40 cases × 25 edits); set `VIEWDAG_SOUNDNESS_STEPS` for more.

use proptest::prelude::*;
use viewdag_driver::{CompileRequest, CompileResponse, Compiler};
use viewdag_ir::{FilterView, Materialize, SourceFormat, Transform, ViewDefinition};
use viewdag_tests::generate::{GeneratedProject, Random};

use crate::support::TempProject;

const EDITS_PER_CASE: usize = 25;

fn case_count() -> u32 {
    let steps: usize = std::env::var("VIEWDAG_SOUNDNESS_STEPS").ok().and_then(|steps| steps.parse().ok()).unwrap_or(1000);
    steps.div_ceil(EDITS_PER_CASE) as u32
}

/// Everything a compile produces that must not depend on history, as text.
pub(crate) fn observable(compiler: &Compiler, response: &CompileResponse) -> String {
    let mut text = String::new();
    for diagnostic in &response.diagnostics {
        text.push_str(&format!("{diagnostic:?}\n"));
    }
    for view in response.views.iter() {
        text.push_str(&format!("{view:?}\n"));
        if let Some(Ok(bundle)) = compiler.snapshot().view_bundle(&view.name) {
            text.push_str(&bundle.file_text);
            text.push('\n');
        }
    }
    let envelope = compiler.snapshot().compile_envelope(response).expect("an envelope");
    text.push_str(&format!("{envelope:?}\n"));
    text
}

/// Applies one random edit to the project model (and, for a data edit, to the files).
pub(crate) fn edit(project: &mut GeneratedProject, random: &mut Random, root: &std::path::Path, step: usize) -> String {
    let names: Vec<String> = project.views.keys().cloned().collect();
    match random.below(12) {
        0 | 1 if names.len() > 1 => {
            let name = random.pick(&names).clone();
            project.views.shift_remove(&name);
            format!("remove {name}")
        }
        2 | 3 => {
            let mut relations: Vec<String> = project.sources.iter().map(|source| source.name.clone()).collect();
            relations.extend(names.iter().cloned());
            let input = random.pick(&relations).clone();
            let name = format!("e{step}");
            let definition = ViewDefinition {
                transform: Transform::Filter(FilterView { input: input.clone(), predicate: "1 = 1".into() }),
                materialize: Materialize::Ephemeral,
                tags: Vec::new(),
                expect: None,
                refresh: None,
            };
            project.views.insert(name.clone(), definition);
            format!("add {name} over {input}")
        }
        4 => {
            let index = random.below(project.sources.len());
            let source = &mut project.sources[index];
            let next = source.ids.len() as i64;
            source.ids.push(next);
            source.keys.push(Some(1));
            source.values.push(Some(2.5));
            source.texts.push(Some("a".into()));
            let batch = source.batch();
            let data = root.join("data");
            match source.format {
                SourceFormat::Delta => {
                    viewdag_tests::data::append_delta_table(&data.join(&source.name), vec![batch.slice(batch.num_rows() - 1, 1)])
                }
                SourceFormat::Parquet => viewdag_tests::data::write_parquet_file(&data.join(format!("{}.parquet", source.name)), &batch),
                SourceFormat::Csv => viewdag_tests::data::write_csv_file(&data.join(format!("{}.csv", source.name)), &batch),
            }
            format!("new data in {}", source.name)
        }
        10 => {
            // Rename a view; its readers follow in half the cases (else they read an unknown
            // name). SQL texts keep the old name.
            let name = random.pick(&names).clone();
            let renamed = format!("r{step}");
            let follow = random.chance(50);
            let views = std::mem::take(&mut project.views);
            for (view, definition) in views {
                let definition = if follow { with_reads_renamed(&definition, &name, &renamed) } else { definition };
                project.views.insert(if view == name { renamed.clone() } else { view }, definition);
            }
            format!("rename {name} to {renamed}{}", if follow { " (readers follow)" } else { "" })
        }
        11 => {
            // Point a single-input view at another relation (possibly making a cycle).
            let name = random.pick(&names).clone();
            let mut relations: Vec<String> = project.sources.iter().map(|source| source.name.clone()).collect();
            relations.extend(names.iter().cloned());
            let input = random.pick(&relations).clone();
            let definition = project.views.get_mut(&name).expect("picked from the keys");
            match &mut definition.transform {
                Transform::Filter(view) => view.input = input.clone(),
                Transform::Project(view) => view.input = input.clone(),
                Transform::Sort(view) => view.input = input.clone(),
                Transform::Limit(view) => view.input = input.clone(),
                Transform::Distinct(view) => view.input = input.clone(),
                _ => return format!("keep {name}"),
            }
            format!("point {name} at {input}")
        }
        _ => {
            let name = random.pick(&names).clone();
            let definition = project.views.get_mut(&name).expect("picked from the keys");
            match &mut definition.transform {
                Transform::Filter(filter) => filter.predicate = format!("({}) AND id >= {}", filter.predicate, random.below(4)),
                Transform::Project(project_view) => {
                    project_view.columns.insert(format!("extra{step}"), "1".into());
                }
                Transform::Sort(sort) => sort.limit = if sort.limit.is_some() { None } else { Some(random.below(5) as i64) },
                Transform::Limit(limit) => limit.count = random.below(6) as i64,
                Transform::Union(union) => union.distinct = !union.distinct,
                _ => {
                    definition.materialize = if definition.is_materialized() { Materialize::Ephemeral } else { Materialize::Table };
                }
            }
            format!("modify {name}")
        }
    }
}

/// `definition` with every relation field naming `from` naming `to` instead.
fn with_reads_renamed(definition: &ViewDefinition, from: &str, to: &str) -> ViewDefinition {
    let mut raw = serde_json::to_value(definition.to_raw()).expect("a definition serializes");
    rename_strings(&mut raw, from, to);
    let raw: viewdag_ir::RawViewSpec = serde_json::from_value(raw).expect("a renamed definition deserializes");
    raw.into_definition().expect("renaming keeps a definition well-formed")
}

/// Replaces every string value equal to `from` in the JSON relation fields (`input`,
/// `left`, `right`, `inputs`).
fn rename_strings(value: &mut serde_json::Value, from: &str, to: &str) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match (key.as_str(), child) {
                    ("input" | "left" | "right", serde_json::Value::String(text)) if text == from => *text = to.to_string(),
                    ("inputs", serde_json::Value::Array(items)) => {
                        for item in items {
                            if item.as_str() == Some(from) {
                                *item = serde_json::Value::String(to.to_string());
                            }
                        }
                    }
                    (_, child) => rename_strings(child, from, to),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| rename_strings(item, from, to)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: case_count(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn incremental_compiles_equal_fresh_compiles((seed, view_count) in (any::<u64>(), 1..6usize)) {
        let directory = TempProject::empty();
        let mut project = GeneratedProject::generate(seed, view_count);
        let spec = project.write(directory.path());
        let mut incremental = Compiler::new().expect("a compiler");
        incremental.compile(&CompileRequest::new(&spec)).expect("readable");
        let mut random = Random::new(seed ^ 0x5EED);
        let mut history = Vec::new();
        for step in 0..EDITS_PER_CASE {
            history.push(edit(&mut project, &mut random, directory.path(), step));
            std::fs::write(&spec, project.spec_yaml()).expect("the spec is written");
            let incremental_response = incremental.compile(&CompileRequest::new(&spec)).expect("readable");
            let mut fresh = Compiler::new().expect("a compiler");
            let fresh_response = fresh.compile(&CompileRequest::new(&spec)).expect("readable");
            let (incremental_text, fresh_text) = (observable(&incremental, &incremental_response), observable(&fresh, &fresh_response));
            prop_assert!(incremental_text == fresh_text, "seed {seed}, after {history:?}:\nincremental:\n{incremental_text}\nfresh:\n{fresh_text}");
        }
    }
}

/// Entries added, removed and renamed above a view with errors (the edits the parse applies
/// by re-parsing those entries and moving the positions after them): after each, the
/// incremental compile's parse (its span index included) and every diagnostic's rendered
/// position equal a fresh compile's.
#[test]
fn entries_added_removed_and_renamed_above_a_diagnostic_keep_its_position() {
    use crate::support::shop_spec;
    let project = TempProject::with_shop_data();
    let broken = shop_spec().replace("columns: { label: segment } }", "columns: { label: no_such_column } }");
    assert_ne!(broken, shop_spec());
    let added = broken.replace(
        "  customer_regions:\n",
        "  big_orders:\n    filter: { input: paid_orders, predicate: \"amount > 100\" }\n    tags: [finance]\n\n  customer_regions:\n",
    );
    let removed = added.replace("  region_names:\n    project: { input: regions, columns: { label: region } }\n\n", "");
    let renamed = removed.replace("  top_three_orders:\n", "  top_orders:\n").replace("view: top_three_orders", "view: top_orders");
    let mut incremental = Compiler::new().expect("a compiler");
    for text in [&broken, &added, &removed, &renamed] {
        let incremental_response = project.compile(&mut incremental, "spec.yaml", text);
        let mut fresh = Compiler::new().expect("a compiler");
        let fresh_response = project.compile(&mut fresh, "spec.yaml", text);
        assert!(incremental_response.has_errors());
        assert!(incremental.parsed_spec() == fresh.parsed_spec(), "the incremental parse differs from a fresh one of:\n{text}");
        let rendered = |compiler: &Compiler, response: &CompileResponse| -> Vec<String> {
            let spans = &compiler.parsed_spec().expect("parsed").spans;
            response.diagnostics.iter().map(|diagnostic| format!("{diagnostic:?} at {:?}", spans.resolve(&diagnostic.location))).collect()
        };
        assert_eq!(rendered(&incremental, &incremental_response), rendered(&fresh, &fresh_response));
        assert!(rendered(&fresh, &fresh_response).iter().any(|line| line.contains("no_such_column")));
    }
}

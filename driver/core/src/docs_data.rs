//! What the docs site shows, as data: every view's definition, schema, plan bundle, tasks
//! with their cost estimates and last results, expectations; the sources and outputs; and
//! the last run's report (`.viewdag/last-run.json`, saved by the command line after `run`).
//!
//! ## Invariants
//! - A pure function of the compile and the last run's report: views in declaration order,
//!   no time, no absolute path.

use serde_json::{Value, json};

use crate::compiler::{Compiler, ViewStatus};

/// Where `run` leaves its last report, relative to the spec's directory.
pub const LAST_RUN_FILE: &str = ".viewdag/last-run.json";

impl Compiler {
    /// Everything the site shows, as one JSON document.
    pub fn docs_data(&self, response: &crate::compiler::CompileResponse) -> Value {
        let (tasks, costs) = self.task_costs();
        let last_run: Value = std::fs::read_to_string(self.root.join(LAST_RUN_FILE))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        let dag = &self.structure().dag;
        let views: Vec<Value> = response
            .views
            .iter()
            .map(|outcome| {
                let name = &outcome.name;
                let definition = self.view_input(name).and_then(|view| view.definition(&self.db).clone());
                let bundle = match &outcome.status {
                    ViewStatus::Compiled { .. } => {
                        self.view_bundle(name).and_then(Result::ok).and_then(|bundle| serde_json::from_str::<Value>(&bundle.file_text).ok())
                    }
                    _ => None,
                };
                let schema: Vec<Value> = match self.view_schema(name) {
                    Some(Ok(schema)) => schema
                        .fields()
                        .iter()
                        .map(
                            |field| json!({ "name": field.name(), "type": field.data_type().to_string(), "nullable": field.is_nullable() }),
                        )
                        .collect(),
                    _ => Vec::new(),
                };
                let view_tasks: Vec<Value> = tasks
                    .iter()
                    .filter(|task| &task.view == name)
                    .map(|task| {
                        let cost = costs.get(&task.id);
                        let ran = last_run["tasks"]
                            .as_array()
                            .and_then(|ran| ran.iter().find(|entry| entry["task"] == task.id.to_string().as_str()))
                            .cloned();
                        json!({
                            "id": task.id.to_string(),
                            "wave": task.wave,
                            "cost": cost.map(|cost| json!({
                                "input_bytes": cost.input.bytes, "input_rows": cost.input.rows,
                                "output_bytes": cost.output.bytes, "output_rows": cost.output.rows,
                                "work": cost.work, "critical_path": cost.critical_path,
                            })),
                            "last_run": ran,
                        })
                    })
                    .collect();
                let expectations: Vec<Value> = definition
                    .as_ref()
                    .and_then(|definition| definition.expect.as_ref())
                    .map(|expect| {
                        expect
                            .expectations()
                            .into_iter()
                            .map(|expectation| json!({ "name": expectation.name, "on_fail": expectation.on_fail.as_str() }))
                            .collect()
                    })
                    .unwrap_or_default();
                let status = match &outcome.status {
                    ViewStatus::Compiled { .. } => "compiled",
                    ViewStatus::Checked { .. } => "valid",
                    ViewStatus::Failed => "failed",
                    ViewStatus::Blocked { .. } => "blocked",
                };
                json!({
                    "name": name,
                    "status": status,
                    "materialized": outcome.materialized,
                    "tags": definition.as_ref().map(|definition| definition.tags.clone()).unwrap_or_default(),
                    "definition": definition.as_ref().map(|definition| serde_json::to_value(definition.to_raw()).unwrap_or(Value::Null)),
                    "reads": dag.reads(name),
                    "schema": schema,
                    "expectations": expectations,
                    "tasks": view_tasks,
                    "bundle": bundle,
                })
            })
            .collect();
        let sources: Vec<Value> = dag
            .nodes()
            .into_iter()
            .filter(|node| node.kind == viewdag_ir::RelationKind::Source)
            .map(|node| json!({ "name": node.name }))
            .collect();
        let outputs: Vec<Value> = self
            .outputs
            .iter()
            .map(|(name, spec)| {
                json!({ "name": name, "view": spec.view, "path": spec.path, "mode": serde_json::to_value(spec.mode).unwrap_or(Value::Null), "expect": spec.expect.as_ref().map(|expect| expect.expectations().into_iter().map(|expectation| expectation.name).collect::<Vec<_>>()) })
            })
            .collect();
        let spec_name = self.spec.as_ref().and_then(|spec| spec.path.file_name()).map(|name| name.to_string_lossy().into_owned());
        json!({ "spec": spec_name, "sources": sources, "views": views, "outputs": outputs, "last_run": last_run.is_object() })
    }
}

/// Saves a run's report (its JSON) where the site reads the last run's results. A failed
/// save is returned as a warning.
pub fn save_last_run(compiler: &Compiler, report: &crate::run::RunReport) -> Option<String> {
    let path = compiler.root.join(LAST_RUN_FILE);
    let text = serde_json::to_string_pretty(&crate::run_report::run_report_json(report)).expect("JSON serializes");
    let saved = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&path, text));
    saved.err().map(|error| format!("the run report was not saved to {}: {error}", path.display()))
}

impl Compiler {
    /// Why `docs --out` may not write into `out` (after a compile), if it may not: like an
    /// output path, it may not be, lie inside or contain a local source, a task's local table
    /// or the project's `.viewdag` — symlinks resolved. (A site written into a source's
    /// directory would be read as part of the source, or overwrite its files.)
    pub fn docs_out_refusal(&self, out: &std::path::Path) -> Option<String> {
        use crate::confinement::resolve;
        use crate::storage::TableLocation;
        let project = viewdag_ir::ProjectInput::try_get(&self.db)?;
        let mut taken: Vec<(String, std::path::PathBuf)> = project
            .sources(&self.db)
            .iter()
            .filter_map(|source| {
                let path = &source.declaration(&self.db).as_ref()?.path;
                (!path.contains("://")).then(|| (format!("source `{}`", source.name(&self.db)), self.root.join(path)))
            })
            .collect();
        taken.extend(self.tasks().into_iter().filter_map(|task| match self.task_target(&task) {
            TableLocation::Local(table) => Some((format!("the table of `{}`", task.id), table)),
            TableLocation::Url(_) => None,
        }));
        taken.push(("the project's `.viewdag`".to_string(), self.root.join(".viewdag")));
        let site = resolve(out);
        taken.into_iter().find_map(|(what, path)| {
            let there = resolve(&path);
            (site.starts_with(&there) || there.starts_with(&site)).then(|| {
                format!(
                    "refused: `{}` is, lies inside or contains {what} ({}); the docs site was not written",
                    out.display(),
                    there.display()
                )
            })
        })
    }
}

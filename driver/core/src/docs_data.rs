//! What the docs site shows, as data: every view's definition, schema, plan bundle, tasks
//! with their cost estimates and last results, expectations; the sources and outputs; and
//! the last run's report (`.viewdag/last-run.json`, saved by the command line after `run`).
//!
//! ## Invariants
//! - A pure function of the compile and the last run's report: views in declaration order,
//!   no time, no absolute path.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::compiler::ViewStatus;
use crate::run_report::{RunReportDocument, TaskDocument};
use crate::snapshot::Snapshot;

/// Where `run` leaves its last report, relative to the spec's directory.
pub const LAST_RUN_FILE: &str = ".viewdag/last-run.json";

/// The version of [`DocsData`]'s shape.
pub const DOCS_DATA_SCHEMA_VERSION: u32 = 1;

/// Everything the docs site shows.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocsData {
    /// The document's shape ([`DOCS_DATA_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The spec's file name.
    pub spec: Option<String>,
    /// The sources, in DAG order.
    pub sources: Vec<DocsSource>,
    /// Views in declaration order.
    pub views: Vec<DocsView>,
    /// The outputs, in declaration order.
    pub outputs: Vec<DocsOutput>,
    /// Whether a last run's report was found (and read).
    pub last_run: bool,
}

/// A source.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocsSource {
    /// Its name.
    pub name: String,
}

/// A view: its definition, schema, plan bundle, tasks and expectations.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocsView {
    /// Its name.
    pub name: String,
    /// `compiled`, `valid`, `failed` or `blocked`.
    pub status: &'static str,
    /// Whether it is `materialize: table`.
    pub materialized: bool,
    /// Its tags.
    pub tags: Vec<String>,
    /// The view's definition as written (the spec's raw form).
    pub definition: Option<Value>,
    /// The relations it reads.
    pub reads: Vec<String>,
    /// Its output columns (empty when it does not validate).
    pub schema: Vec<DocsColumn>,
    /// Its declared expectations.
    pub expectations: Vec<DocsExpectation>,
    /// The tasks that execute it.
    pub tasks: Vec<DocsTask>,
    /// Its plan bundle (`plan-bundle.v1.schema.json`), when it compiled.
    pub bundle: Option<Value>,
}

/// A column of a view's schema.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocsColumn {
    /// Its name.
    pub name: String,
    /// Its Arrow type, as DataFusion prints it.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether it may hold nulls.
    pub nullable: bool,
}

/// A declared expectation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocsExpectation {
    /// Its name.
    pub name: String,
    /// What a failing row does.
    pub on_fail: viewdag_ir::OnFail,
}

/// A task that executes the view: its wave, its cost estimate and its last run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocsTask {
    /// `view:NAME` or `output:NAME`.
    pub id: String,
    /// Its wave in the schedule (tasks of a wave may run at once).
    pub wave: usize,
    /// Its cost estimate, when its view validates.
    pub cost: Option<DocsCost>,
    /// The task's entry in the last run's report.
    pub last_run: Option<TaskDocument>,
}

/// A task's cost estimate (see the schedule crate's cost model).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct DocsCost {
    /// Bytes it reads.
    pub input_bytes: u64,
    /// Rows it reads, when known.
    pub input_rows: Option<u64>,
    /// Bytes it writes (an upper bound).
    pub output_bytes: u64,
    /// Rows it writes, when known (an upper bound).
    pub output_rows: Option<u64>,
    /// Bytes read plus bytes written.
    pub work: u64,
    /// Its work plus the longest chain of work among its readers.
    pub critical_path: u64,
}

/// An output.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocsOutput {
    /// Its name.
    pub name: String,
    /// The view it writes.
    pub view: String,
    /// Its table's location as written in the spec.
    pub path: String,
    /// How it writes.
    pub mode: viewdag_ir::WriteMode,
    /// Its own expectations' names.
    pub expect: Option<Vec<String>>,
}

impl Snapshot<'_> {
    /// Everything the site shows. A last run's report that is missing, unreadable or from a
    /// newer viewdag is left out (`last_run: false`).
    pub fn docs_data(&self, response: &crate::compiler::CompileResponse) -> DocsData {
        let (tasks, costs) = self.task_costs();
        let last_run = std::fs::read_to_string(self.root.join(LAST_RUN_FILE)).ok().and_then(|text| RunReportDocument::read(&text).ok());
        let dag = &self.structure().dag;
        let views = response
            .views
            .iter()
            .map(|outcome| {
                let name = &outcome.name;
                let definition = self.view_input(name).and_then(|view| view.definition(self.db).clone());
                let bundle = match &outcome.status {
                    ViewStatus::Compiled { .. } => {
                        self.view_bundle(name).and_then(Result::ok).and_then(|bundle| serde_json::from_str::<Value>(&bundle.file_text).ok())
                    }
                    _ => None,
                };
                let schema = match self.view_schema(name) {
                    Some(Ok(schema)) => schema
                        .fields()
                        .iter()
                        .map(|field| DocsColumn {
                            name: field.name().clone(),
                            data_type: field.data_type().to_string(),
                            nullable: field.is_nullable(),
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let view_tasks = tasks
                    .iter()
                    .filter(|task| &task.view == name)
                    .map(|task| {
                        let id = task.id.to_string();
                        DocsTask {
                            cost: costs.get(&task.id).map(|cost| DocsCost {
                                input_bytes: cost.input.bytes,
                                input_rows: cost.input.rows,
                                output_bytes: cost.output.bytes,
                                output_rows: cost.output.rows,
                                work: cost.work,
                                critical_path: cost.critical_path,
                            }),
                            last_run: last_run.as_ref().and_then(|run| run.task(&id)).cloned(),
                            wave: task.wave,
                            id,
                        }
                    })
                    .collect();
                let expectations = definition
                    .as_ref()
                    .and_then(|definition| definition.expect.as_ref())
                    .map(|expect| {
                        expect
                            .expectations()
                            .into_iter()
                            .map(|expectation| DocsExpectation { name: expectation.name, on_fail: expectation.on_fail })
                            .collect()
                    })
                    .unwrap_or_default();
                let status = match &outcome.status {
                    ViewStatus::Compiled { .. } => "compiled",
                    ViewStatus::Checked { .. } => "valid",
                    ViewStatus::Failed => "failed",
                    ViewStatus::Blocked { .. } => "blocked",
                };
                DocsView {
                    name: name.clone(),
                    status,
                    materialized: outcome.materialized,
                    tags: definition.as_ref().map(|definition| definition.tags.clone()).unwrap_or_default(),
                    definition: definition.as_ref().and_then(|definition| serde_json::to_value(definition.to_raw()).ok()),
                    reads: dag.reads(name),
                    schema,
                    expectations,
                    tasks: view_tasks,
                    bundle,
                }
            })
            .collect();
        let sources = dag
            .nodes()
            .into_iter()
            .filter(|node| node.kind == viewdag_ir::RelationKind::Source)
            .map(|node| DocsSource { name: node.name.clone() })
            .collect();
        let outputs = self
            .outputs
            .iter()
            .map(|(name, spec)| DocsOutput {
                name: name.clone(),
                view: spec.view.clone(),
                path: spec.path.clone(),
                mode: spec.mode,
                expect: spec.expect.as_ref().map(|expect| expect.expectations().into_iter().map(|expectation| expectation.name).collect()),
            })
            .collect();
        let spec = self.spec.as_ref().and_then(|spec| spec.path.file_name()).map(|name| name.to_string_lossy().into_owned());
        DocsData { schema_version: DOCS_DATA_SCHEMA_VERSION, spec, sources, views, outputs, last_run: last_run.is_some() }
    }
}

/// The committed schema's file name and text.
pub fn docs_data_json_schema() -> (&'static str, String) {
    let schema = schemars::schema_for!(DocsData);
    ("docs-data.v1.schema.json", viewdag_artifact::canonical::canonical_pretty(&schema).unwrap_or_default())
}

/// Saves a run's report (its JSON) where the site reads the last run's results. A failed
/// save is returned as a warning.
pub fn save_last_run(snapshot: Snapshot<'_>, report: &crate::run::RunReport) -> Option<String> {
    let path = snapshot.root.join(LAST_RUN_FILE);
    let text = serde_json::to_string_pretty(&RunReportDocument::of(report)).expect("a run report document serializes");
    let saved = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&path, text));
    saved.err().map(|error| format!("the run report was not saved to {}: {error}", path.display()))
}

impl Snapshot<'_> {
    /// Why `docs --out` may not write into `out` (after a compile), if it may not: like an
    /// output path, it may not be, lie inside or contain a local source, a task's local table
    /// or the project's `.viewdag` — symlinks resolved. (A site written into a source's
    /// directory would be read as part of the source, or overwrite its files.)
    pub fn docs_out_refusal(&self, out: &std::path::Path) -> Option<String> {
        use crate::confinement::resolve;
        use crate::storage::TableLocation;
        let project = viewdag_ir::ProjectInput::try_get(self.db)?;
        let mut taken: Vec<(String, std::path::PathBuf)> = project
            .sources(self.db)
            .iter()
            .filter_map(|source| {
                let path = &source.declaration(self.db).as_ref()?.path;
                (!path.contains("://")).then(|| (format!("source `{}`", source.name(self.db)), self.root.join(path)))
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

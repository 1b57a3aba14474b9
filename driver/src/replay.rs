//! `viewdag replay DIR --spec SPEC`: rebuild each bundle's logical plan from its serialized
//! SQL against the providers the spec loads now, run it through the spec's optimizer
//! pipeline, compare its P1/P2 digests with the bundle's, execute it, and compare its rows
//! with the compiled plan's.
//!
//! Replay-compatibility is reported per view: the same DataFusion major version, the same
//! surface manifest hash, the same provider identities (Delta versions, file lists). A
//! replayed plan may legitimately differ in shape from the compiled one (SQL does not round
//! trip every node); the rows must not.

use std::path::Path;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList, MemorySchemaProvider, SchemaProvider,
};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::physical_plan::collect;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use viewdag_ir::{ProviderIdentity, SurfaceInput};
use viewdag_lower::digest::{logical_plan_text, plan_digest};
use viewdag_lower::{view_plan, view_schema};
use viewdag_optimize::normalize::normalize_plan_text;
use viewdag_optimize::pipeline::outcome::PhaseReporting;
use viewdag_optimize::pipeline::physical_phase::{initial_physical_plan, state_without_physical_rules};
use viewdag_optimize::pipeline::{optimize_logical_plan, optimize_physical_plan};
use viewdag_optimize::{physical_view, resolved_optimizer_pipeline};
use viewdag_surface::{MaterializedViewTable, planning_session};

use crate::artifacts::read_compile_output;
use crate::compiler::{CompileRequest, Compiler};
use crate::error::DriverError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayOutcome {
    /// The bundle carries no SQL (the unparser could not express the plan), or the view no
    /// longer compiles.
    Skipped(String),
    Failed(String),
    Replayed {
        p1_matches: bool,
        p2_matches: bool,
        rows: usize,
        rows_match: bool,
    },
}

#[derive(Debug, Clone)]
pub struct ReplayedView {
    pub view: String,
    /// Why the bundle is not replay-compatible with the current spec and data (empty when it is).
    pub incompatibilities: Vec<String>,
    pub outcome: ReplayOutcome,
}

impl ReplayedView {
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, ReplayOutcome::Replayed { rows_match: true, .. })
    }
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// A session whose catalog holds exactly `tables`, by relation name.
fn session_with_tables(base: &SessionState, tables: Vec<(String, Arc<dyn TableProvider>)>) -> Result<SessionState, String> {
    let schema = Arc::new(MemorySchemaProvider::new());
    for (name, table) in tables {
        schema.register_table(name, table).map_err(|error| error.strip_backtrace())?;
    }
    let catalog = Arc::new(MemoryCatalogProvider::new());
    catalog.register_schema("public", schema).map_err(|error| error.strip_backtrace())?;
    let catalogs = Arc::new(MemoryCatalogProviderList::new());
    catalogs.register_catalog("datafusion".to_string(), catalog);
    Ok(SessionStateBuilder::new_from_existing(base.clone()).with_catalog_list(catalogs).build())
}

impl Compiler {
    /// Replays every bundle in `dir` against the providers `spec` loads now.
    pub fn replay(&mut self, dir: &Path, spec: &Path) -> Result<Vec<ReplayedView>, DriverError> {
        let output = read_compile_output(dir)?;
        self.compile(&CompileRequest::new(spec))?;
        let surface_hash = self.surface_hash();
        let mut replayed = Vec::new();
        for (name, bundle) in &output.bundles {
            let mut incompatibilities = Vec::new();
            if major(&bundle.datafusion_version) != major(datafusion::DATAFUSION_VERSION) {
                incompatibilities.push(format!(
                    "planned with DataFusion {}, replaying with {}",
                    bundle.datafusion_version,
                    datafusion::DATAFUSION_VERSION
                ));
            }
            if bundle.surface_manifest_hash != surface_hash {
                incompatibilities.push("the planning surface changed (its manifest hash differs)".to_string());
            }
            let outcome = match self.view_bundle(name) {
                Some(Ok(current)) => {
                    if current.bundle.providers != bundle.providers {
                        incompatibilities.push("the providers changed (a Delta version or a file list differs)".to_string());
                    }
                    match &bundle.serialized.sql {
                        Some(sql) => self
                            .replay_view(name, sql, &bundle.plans.p1.digest, &bundle.plans.p2.digest)
                            .unwrap_or_else(ReplayOutcome::Failed),
                        None => ReplayOutcome::Skipped(format!(
                            "the bundle has no SQL: {}",
                            bundle.serialized.sql_error.clone().unwrap_or_default()
                        )),
                    }
                }
                _ => ReplayOutcome::Skipped(format!("view `{name}` does not compile from the current spec")),
            };
            replayed.push(ReplayedView { view: name.clone(), incompatibilities, outcome });
        }
        Ok(replayed)
    }

    fn replay_view(&self, name: &str, sql: &str, p1_digest: &str, p2_digest: &str) -> Result<ReplayOutcome, String> {
        let db = &self.db;
        let view = self.view_input(name).ok_or_else(|| format!("view `{name}` is not declared"))?;
        let lowered = view_plan(db, view).clone().map_err(|failure| format!("{failure:?}"))?;
        let mut tables: Vec<(String, Arc<dyn TableProvider>)> = Vec::new();
        for (relation, identity) in lowered.scans.iter() {
            let provider: Arc<dyn TableProvider> = match identity {
                ProviderIdentity::Materialized { view: materialized } => {
                    let input = self.view_input(materialized).ok_or_else(|| format!("view `{materialized}` is gone"))?;
                    let schema = view_schema(db, input).clone().map_err(|failure| format!("{failure:?}"))?;
                    Arc::new(MaterializedViewTable { view: materialized.clone(), schema })
                }
                identity => {
                    viewdag_surface::Db::provider(db, identity).ok_or_else(|| format!("no provider for {}", identity.canonical()))?
                }
            };
            tables.push((relation.clone(), provider));
        }
        let surface = SurfaceInput::get(db);
        let session = planning_session(db, surface);
        let state = session_with_tables(&session.state, tables)?;
        let runtime = Arc::clone(self.db.tokio());
        let plan = runtime
            .block_on(state.create_logical_plan(sql))
            .map_err(|error| format!("the bundle's SQL does not plan: {}", error.strip_backtrace()))?;
        let pipeline = resolved_optimizer_pipeline(db, surface).clone().map_err(|diagnostics| format!("{diagnostics:?}"))?;
        let root = surface.root(db);
        let reporting = PhaseReporting { view_name: name, root, record_plan_text: false };
        let optimized = optimize_logical_plan(&state, plan, &pipeline.config, &pipeline.registry, &reporting)
            .map_err(|failure| format!("{:?}", failure.diagnostics))?;
        let replayed_p1 = plan_digest(&normalize_plan_text(&logical_plan_text(&optimized.plan), root), &lowered.scans);
        let initial = runtime
            .block_on(initial_physical_plan(&state_without_physical_rules(&state), &optimized.plan))
            .map_err(|error| error.strip_backtrace())?;
        let physical = optimize_physical_plan(&state, initial, &pipeline.config, &pipeline.registry, &reporting)
            .map_err(|failure| format!("{:?}", failure.diagnostics))?;
        let text = normalize_plan_text(&datafusion::physical_plan::displayable(physical.plan.as_ref()).indent(true).to_string(), root);
        let replayed_p2 = plan_digest(&text, &lowered.scans);
        let replayed_rows = runtime.block_on(collect(physical.plan, state.task_ctx())).map_err(|error| error.strip_backtrace())?;
        let compiled = physical_view(db, view).clone().map_err(|failure| format!("{failure:?}"))?;
        let compiled_plan = reset_plan_states(compiled.plan).map_err(|error| error.strip_backtrace())?;
        let compiled_rows = runtime.block_on(collect(compiled_plan, session.state.task_ctx())).map_err(|error| error.strip_backtrace())?;
        let (replayed_rows, compiled_rows) = (crate::rows::rows_as_text(&replayed_rows), crate::rows::rows_as_text(&compiled_rows));
        Ok(ReplayOutcome::Replayed {
            p1_matches: replayed_p1 == p1_digest,
            p2_matches: replayed_p2 == p2_digest,
            rows: replayed_rows.len(),
            rows_match: replayed_rows == compiled_rows,
        })
    }
}

//! `viewdag replay DIR --spec SPEC`: rebuild each bundle's logical plan from each of its
//! serialized forms (datafusion-proto bytes, SQL, Substrait) against the providers the spec
//! loads now, run it through the spec's optimizer pipeline, compare its P0/P1/P2 digests
//! with the bundle's, execute it, and compare its rows with the compiled plan's.
//!
//! Replay-compatibility is reported per view: the same DataFusion major version, the same
//! surface manifest hash, the same provider identities (Delta versions, file lists). A
//! replayed plan may legitimately differ in shape from the compiled one (SQL does not round
//! trip every node); the rows must not. The proto form is exact: its P0 must match.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use viewdag_artifact::PlanBundle;
use viewdag_artifact::serialize::proto::decode_plan;
use viewdag_artifact::serialize::{PlanFormError, decode_base64};
use viewdag_ir::{Diagnostic, ProviderIdentity, SurfaceInput};
use viewdag_lower::{ViewFailure, stored_view_schema, view_plan};
use viewdag_optimize::digests::p0_digest;
use viewdag_optimize::pipeline::physical_phase::state_without_physical_rules;
use viewdag_optimize::{PlanningContext, executable_plan, plan_at_start, plan_view, resolved_optimizer_pipeline};
use viewdag_surface::{MaterializedViewTable, planning_session, session_with_tables};

use crate::artifacts::CompileOutput;
use crate::execute::{TaskError, collect_canonical_rows};
use crate::snapshot::Snapshot;

/// A serialized form of the logical plan in a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanForm {
    /// `datafusion-proto` bytes: an exact round trip, so P0 must match too.
    Proto,
    /// SQL through the unparser: rows must match; the plan shape may differ.
    Sql,
    /// Substrait (only in a build with the `substrait` feature).
    Substrait,
}

impl PlanForm {
    /// Every form, in the order replay tries them.
    pub const ALL: [PlanForm; 3] = [PlanForm::Proto, PlanForm::Sql, PlanForm::Substrait];

    /// The form's name in reports (`proto`, `sql`, `substrait`).
    pub fn name(self) -> &'static str {
        match self {
            PlanForm::Proto => "proto",
            PlanForm::Sql => "sql",
            PlanForm::Substrait => "substrait",
        }
    }
}

/// What replaying one form of a bundle's plan gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayOutcome {
    /// The bundle does not carry this form (or this build cannot read it), or the view no
    /// longer compiles.
    Skipped(String),
    /// The form did not decode, plan or execute: why.
    Failed(String),
    /// The form was rebuilt, planned and executed.
    Replayed {
        /// Its P0 digest equals the bundle's.
        p0_matches: bool,
        /// Its P1 digest equals the bundle's.
        p1_matches: bool,
        /// Its P2 digest equals the bundle's.
        p2_matches: bool,
        /// How many rows it returned.
        rows: usize,
        /// Its rows equal the compiled plan's (canonical form).
        rows_match: bool,
    },
}

/// How one form of a bundle's plan replayed.
#[derive(Debug, Clone)]
pub struct FormReplay {
    /// The form.
    pub form: PlanForm,
    /// What replaying it gave.
    pub outcome: ReplayOutcome,
}

/// One view's bundle, replayed.
#[derive(Debug, Clone)]
pub struct ReplayedView {
    /// The view.
    pub view: String,
    /// Why the bundle is not replay-compatible with the current spec and data (empty when it is).
    pub incompatibilities: Vec<String>,
    /// One entry per form, in [`PlanForm::ALL`] order; empty when the view no longer compiles.
    pub forms: Vec<FormReplay>,
    /// Why no form was replayed, when none was.
    pub skipped: Option<String>,
}

impl ReplayedView {
    /// At least one form replayed, every replayed form gave the compiled rows, none failed,
    /// and the exact (proto) form, when replayed, rebuilt P0 digest for digest.
    pub fn succeeded(&self) -> bool {
        let mut replayed_any = false;
        for form in &self.forms {
            match &form.outcome {
                ReplayOutcome::Failed(_) => return false,
                ReplayOutcome::Replayed { rows_match, p0_matches, .. } => {
                    if !rows_match || (form.form == PlanForm::Proto && !p0_matches) {
                        return false;
                    }
                    replayed_any = true;
                }
                ReplayOutcome::Skipped(_) => {}
            }
        }
        replayed_any
    }

    /// What replaying `form` gave, if it was tried.
    pub fn form(&self, form: PlanForm) -> Option<&ReplayOutcome> {
        self.forms.iter().find(|replay| replay.form == form).map(|replay| &replay.outcome)
    }
}

/// One line for a form's outcome, as `viewdag replay` prints it.
pub fn describe_outcome(outcome: &ReplayOutcome) -> String {
    match outcome {
        ReplayOutcome::Replayed { p0_matches, p1_matches, p2_matches, rows, rows_match } => {
            let same = |matches: &bool| if *matches { "same" } else { "differs" };
            format!(
                "{rows} rows, {}; P0 {}, P1 {}, P2 {}",
                if *rows_match { "rows match the compiled plan" } else { "ROWS DIFFER from the compiled plan" },
                same(p0_matches),
                same(p1_matches),
                same(p2_matches)
            )
        }
        ReplayOutcome::Skipped(reason) => format!("skipped: {reason}"),
        ReplayOutcome::Failed(reason) => format!("FAILED: {reason}"),
    }
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

impl Snapshot<'_> {
    /// Replays every bundle of `output` (a compile output directory, read) against the
    /// providers of the last compile.
    pub fn replay_bundles(&self, output: &CompileOutput) -> Vec<ReplayedView> {
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
            let (forms, skipped) = match self.view_bundle(name) {
                Some(Ok(current)) => {
                    if current.bundle.providers != bundle.providers {
                        incompatibilities.push("the providers changed (a Delta version or a file list differs)".to_string());
                    }
                    match self.replay_forms(name, bundle) {
                        Ok(forms) => (forms, None),
                        Err(failure) => (
                            PlanForm::ALL
                                .iter()
                                .map(|&form| FormReplay { form, outcome: ReplayOutcome::Failed(failure.to_string()) })
                                .collect(),
                            None,
                        ),
                    }
                }
                _ => (Vec::new(), Some(format!("view `{name}` does not compile from the current spec"))),
            };
            replayed.push(ReplayedView { view: name.clone(), incompatibilities, forms, skipped });
        }
        replayed
    }

    /// Replays every form of `bundle`'s plan against the providers of the current spec.
    fn replay_forms(&self, name: &str, bundle: &PlanBundle) -> Result<Vec<FormReplay>, ReplayFailure> {
        let db = self.db;
        let view = self.view_input(name).ok_or_else(|| ReplayFailure::Undeclared(name.to_string()))?;
        let lowered = view_plan(db, view).clone().map_err(ReplayFailure::View)?;
        let mut tables: BTreeMap<String, Arc<dyn TableProvider>> = BTreeMap::new();
        for (relation, identity) in lowered.scans.iter() {
            let provider: Arc<dyn TableProvider> = match identity {
                ProviderIdentity::Materialized { view: materialized } => {
                    let input = self.view_input(materialized).ok_or_else(|| ReplayFailure::Gone(materialized.clone()))?;
                    let schema =
                        Arc::clone(stored_view_schema(db, input).as_ref().map_err(|failure| ReplayFailure::View(failure.clone()))?.inner());
                    Arc::new(MaterializedViewTable { view: materialized.clone(), schema })
                }
                identity => viewdag_surface::Db::provider(db, identity).ok_or_else(|| ReplayFailure::NoProvider(identity.canonical()))?,
            };
            tables.insert(relation.clone(), provider);
        }
        let surface = SurfaceInput::get(db);
        let session = planning_session(db, surface);
        let state = Arc::new(session_with_tables(&session.state, tables.iter().map(|(name, table)| (name.clone(), Arc::clone(table))))?);
        let runtime = Arc::clone(self.db.tokio());
        // One `now()` for the compiled plan and every replayed form: their rows must compare equal.
        let started_at = chrono::Utc::now();
        let compiled_plan = executable_plan(db, view, started_at).map_err(ReplayFailure::View)?;
        let compiled_rows = collect_canonical_rows(&runtime, name, compiled_plan, Arc::clone(&session.state))?;
        let pipeline = resolved_optimizer_pipeline(db, surface).clone().map_err(ReplayFailure::Pipeline)?;
        let root = surface.root(db);
        let bare_state = state_without_physical_rules(&state);
        let context = PlanningContext { state: &state, bare_state: &bare_state, pipeline: &pipeline, root, runtime: &runtime };

        let replay_plan = |plan: LogicalPlan| -> Result<ReplayOutcome, ReplayFailure> {
            let replayed_p0 = p0_digest(&plan, &lowered.scans, root);
            let (optimized, physical) = plan_view(&context, name, plan, Arc::clone(&lowered.scans)).map_err(ReplayFailure::View)?;
            let executed = plan_at_start(&context, name, &optimized, &physical, started_at).map_err(ReplayFailure::View)?;
            let rows = collect_canonical_rows(&runtime, name, executed, Arc::clone(&state))?;
            Ok(ReplayOutcome::Replayed {
                p0_matches: replayed_p0 == bundle.plans.p0.digest,
                p1_matches: optimized.digest == bundle.plans.p1.digest,
                p2_matches: physical.digest == bundle.plans.p2.digest,
                rows: rows.len(),
                rows_match: rows == compiled_rows,
            })
        };
        let serialized = &bundle.serialized;
        let mut forms = Vec::new();
        for form in PlanForm::ALL {
            let (value, error) = match form {
                PlanForm::Proto => (&serialized.proto, &serialized.proto_error),
                PlanForm::Sql => (&serialized.sql, &serialized.sql_error),
                PlanForm::Substrait => (&serialized.substrait, &serialized.substrait_error),
            };
            let outcome = match value {
                None => ReplayOutcome::Skipped(format!("the bundle has no {} form: {}", form.name(), error.clone().unwrap_or_default())),
                Some(value) => match decode_form(form, value, &state, &tables, &runtime) {
                    Ok(Some(plan)) => replay_plan(plan).unwrap_or_else(|failure| ReplayOutcome::Failed(failure.to_string())),
                    Ok(None) => ReplayOutcome::Skipped(format!("this build cannot read the {} form", form.name())),
                    Err(failure) => ReplayOutcome::Failed(failure.to_string()),
                },
            };
            forms.push(FormReplay { form, outcome });
        }
        Ok(forms)
    }
}

/// Why a bundle's plan could not be replayed (the text is the replay report's `FAILED:`).
#[derive(Debug, thiserror::Error)]
enum ReplayFailure {
    /// The view is not declared in the current spec.
    #[error("view `{0}` is not declared")]
    Undeclared(String),
    /// A materialized view the plan scans is no longer declared.
    #[error("view `{0}` is gone")]
    Gone(String),
    /// The view (or the replayed plan) does not plan.
    #[error("{0:?}")]
    View(ViewFailure),
    /// A relation the plan scans has no loaded provider (names its identity).
    #[error("no provider for {0}")]
    NoProvider(String),
    /// The spec's optimizer pipeline does not resolve.
    #[error("{0:?}")]
    Pipeline(Arc<Vec<Diagnostic>>),
    /// DataFusion refused (the session, or a plan's state).
    #[error("{}", .0.strip_backtrace())]
    DataFusion(#[from] DataFusionError),
    /// A plan failed to execute.
    #[error(transparent)]
    Execution(#[from] TaskError),
    /// A binary form's text is not base64.
    #[error(transparent)]
    Form(#[from] PlanFormError),
    /// The proto bytes do not rebuild a plan.
    #[error("the proto bytes do not decode: {0}")]
    Proto(PlanFormError),
    /// The SQL does not plan.
    #[error("the bundle's SQL does not plan: {}", .0.strip_backtrace())]
    Sql(DataFusionError),
    /// The Substrait bytes do not rebuild a plan.
    #[cfg_attr(not(feature = "substrait"), allow(dead_code))]
    #[error("the Substrait plan does not decode: {0}")]
    Substrait(PlanFormError),
}

/// The logical plan `value` (a bundle's field for `form`) encodes, or `None` when this build
/// cannot read that form.
fn decode_form(
    form: PlanForm,
    value: &str,
    state: &SessionState,
    tables: &BTreeMap<String, Arc<dyn TableProvider>>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Option<LogicalPlan>, ReplayFailure> {
    match form {
        PlanForm::Proto => {
            let bytes = decode_base64(value)?;
            decode_plan(&bytes, &state.task_ctx(), tables).map(Some).map_err(ReplayFailure::Proto)
        }
        PlanForm::Sql => runtime.block_on(state.create_logical_plan(value)).map(Some).map_err(ReplayFailure::Sql),
        PlanForm::Substrait => decode_substrait_form(value, state, runtime),
    }
}

#[cfg(feature = "substrait")]
fn decode_substrait_form(
    value: &str,
    state: &SessionState,
    runtime: &tokio::runtime::Runtime,
) -> Result<Option<LogicalPlan>, ReplayFailure> {
    let bytes = decode_base64(value)?;
    runtime.block_on(viewdag_artifact::serialize::substrait::decode_substrait(&bytes, state)).map(Some).map_err(ReplayFailure::Substrait)
}

#[cfg(not(feature = "substrait"))]
fn decode_substrait_form(_: &str, _: &SessionState, _: &tokio::runtime::Runtime) -> Result<Option<LogicalPlan>, ReplayFailure> {
    Ok(None)
}

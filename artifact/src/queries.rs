//! The tracked queries: `view_bundle` (one view's plan bundle) and `spec_digest`.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::physical_plan::displayable;
use viewdag_ir::{Code, Diagnostic, ProjectInput, SpecLocation, SurfaceInput, ViewInput};
use viewdag_lower::{LowerResult, ViewFailure, view_plan};
use viewdag_optimize::digests::{logical_text, stage_digest};
use viewdag_optimize::normalize::normalize_plan_text;
use viewdag_optimize::{optimized_view, physical_view};
use viewdag_surface::planning_session;

use crate::Db;
use crate::bundle::{BUNDLE_SCHEMA_VERSION, DefinitionRecord, OutputField, PlanBundle, ProviderRecord, StagePlan, StagePlans};
use crate::canonical::{canonical_compact, canonical_pretty, digest_bytes, order_preserving_json};
use crate::lineage::column_lineage;
use crate::serialize::{SUBSTRAIT_NOT_BUILT, serialize_plan};

/// A view's bundle with its file bytes and their digest. Compares by digest.
#[derive(Debug, Clone)]
pub struct ViewBundle {
    pub bundle: Arc<PlanBundle>,
    /// The canonical JSON written to `<view>.bundle.json`.
    pub file_text: Arc<str>,
    /// BLAKE3 of `file_text`.
    pub digest: String,
}

impl PartialEq for ViewBundle {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}
impl Eq for ViewBundle {}

fn internal_failure(view: &str, message: String) -> ViewFailure {
    ViewFailure::Errors(Arc::new(vec![Diagnostic::new(Code::PlanError, SpecLocation::view(view), message)]))
}

/// One view's plan bundle. Fails exactly when the view's P2 fails.
#[salsa::tracked(returns(ref))]
pub fn view_bundle(db: &dyn Db, view: ViewInput) -> LowerResult<ViewBundle> {
    let name = view.name(db);
    let lowered = view_plan(db, view).clone()?;
    let optimized = optimized_view(db, view).clone()?;
    let physical = physical_view(db, view).clone()?;
    let Some(definition) = view.definition(db) else {
        return Err(ViewFailure::Invalid);
    };
    let surface = SurfaceInput::get(db);
    let session = planning_session(db, surface);
    let root = surface.root(db);

    let definition_json = order_preserving_json(definition)
        .map_err(|error| internal_failure(name, format!("the definition of `{name}` does not serialize: {error}")))?;
    let p0_text = logical_text(&lowered.plan, root);
    let p0_digest = stage_digest(&p0_text, &lowered.scans);
    let explain = format!(
        "logical_plan\n{}\nphysical_plan\n{}",
        normalize_plan_text(&optimized.plan.display_indent().to_string(), root).trim_end(),
        normalize_plan_text(&displayable(physical.plan.as_ref()).indent(false).to_string(), root).trim_end(),
    );
    let (lineage, mut warnings) = column_lineage(&lowered.plan);
    let serialized = serialize_plan(&lowered.plan, &session.state);
    if let Some(error) = &serialized.proto_error {
        warnings.push(format!("the plan has no datafusion-proto form: {error}"));
    }
    if let Some(error) = &serialized.sql_error {
        warnings.push(format!("the plan has no SQL form: {error}"));
    }
    if let Some(error) = serialized.substrait_error.as_ref().filter(|error| *error != SUBSTRAIT_NOT_BUILT) {
        warnings.push(format!("the plan has no Substrait form: {error}"));
    }
    let bundle = PlanBundle {
        schema_version: BUNDLE_SCHEMA_VERSION,
        view: name.clone(),
        definition: DefinitionRecord {
            digest: digest_bytes(definition_json.as_bytes()),
            json: definition_json,
            materialized: viewdag_lower::is_materialized(db, view),
        },
        surface_manifest_hash: session.manifest.hash.clone(),
        datafusion_version: session.manifest.datafusion_version.clone(),
        providers: lowered.scans.iter().map(|(relation, identity)| (relation.clone(), ProviderRecord::of(identity))).collect(),
        output_schema: lowered
            .plan
            .schema()
            .fields()
            .iter()
            .map(|field| OutputField {
                name: field.name().clone(),
                data_type: field.data_type().to_string(),
                nullable: field.is_nullable(),
            })
            .collect(),
        plans: StagePlans {
            p0: StagePlan { text: p0_text, digest: p0_digest },
            p1: StagePlan { text: optimized.text.clone(), digest: optimized.digest.clone() },
            p2: StagePlan { text: physical.text.clone(), digest: physical.digest.clone() },
        },
        explain,
        serialized,
        pass_trace: pass_trace(&optimized, &physical),
        pushdown_report: pushdown_report(&optimized, &physical),
        lineage,
        warnings,
    };
    let file_text =
        canonical_pretty(&bundle).map_err(|error| internal_failure(name, format!("the bundle of `{name}` does not serialize: {error}")))?;
    let digest = digest_bytes(file_text.as_bytes());
    Ok(ViewBundle { bundle: Arc::new(bundle), file_text: Arc::from(file_text), digest })
}

/// BLAKE3 of the spec's meaning, independent of declaration order: sources, views and
/// outputs keyed by name (each value the entry's order-preserving JSON, since the order
/// *inside* an entry is meaning), plus the profile.
#[salsa::tracked(returns(ref))]
pub fn spec_digest(db: &dyn Db, project: ProjectInput) -> String {
    let mut sections: BTreeMap<&str, BTreeMap<String, Option<String>>> = BTreeMap::new();
    let sources = sections.entry("sources").or_default();
    for source in project.sources(db) {
        sources.insert(source.name(db).clone(), source.declaration(db).as_ref().map(entry_json));
    }
    let views = sections.entry("views").or_default();
    for view in project.views(db) {
        views.insert(view.name(db).clone(), view.definition(db).as_ref().map(entry_json));
    }
    let outputs = sections.entry("outputs").or_default();
    for (name, output) in project.outputs(db).iter() {
        outputs.insert(name.clone(), output.as_ref().map(entry_json));
    }
    sections.entry("profile").or_default().insert("profile".to_string(), Some(entry_json(project.profile(db))));
    let canonical = canonical_compact(&sections).unwrap_or_default();
    digest_bytes(canonical.as_bytes())
}

/// An entry's compact JSON in its own order. Spec types serialize infallibly (string keys,
/// no custom errors), so a failure cannot happen; it would digest as an empty string.
fn entry_json<T: serde::Serialize>(value: &T) -> String {
    order_preserving_json(value).unwrap_or_default()
}

/// The analyzer, logical and physical passes, in order. Elapsed times are left out.
fn pass_trace(
    optimized: &viewdag_optimize::OptimizedView,
    physical: &viewdag_optimize::PhysicalView,
) -> Vec<crate::bundle::PassTraceEntry> {
    optimized
        .trace
        .phases
        .iter()
        .chain(physical.trace.phases.iter())
        .flat_map(|phase| phase.entries.iter())
        .map(|entry| crate::bundle::PassTraceEntry {
            pass: entry.pass_id.clone(),
            outcome: entry.outcome.as_str().to_string(),
            before_digest: entry.before_digest.clone(),
            after_digest: entry.after_digest.clone(),
            changed: entry.changed,
        })
        .collect()
}

fn kebab(value: impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
}

/// Every scan predicate's pushdown verdict in P1 and P2.
fn pushdown_report(
    optimized: &viewdag_optimize::OptimizedView,
    physical: &viewdag_optimize::PhysicalView,
) -> Vec<crate::bundle::PushdownReportEntry> {
    let mut entries = Vec::new();
    for (plan, report) in [("p1", &optimized.pushdown), ("p2", &physical.pushdown)] {
        for scan in &report.scans {
            for predicate in &scan.predicates {
                entries.push(crate::bundle::PushdownReportEntry {
                    plan: plan.to_string(),
                    relation: scan.relation.clone(),
                    predicate: predicate.predicate.clone(),
                    outcome: predicate.classification.as_str().to_string(),
                    placement: kebab(predicate.placement),
                    verdict: kebab(predicate.verdict),
                });
            }
        }
    }
    entries
}

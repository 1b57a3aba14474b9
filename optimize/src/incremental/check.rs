//! What `check` says about `refresh` (it plans only the P0 of tasks that declare
//! `refresh: incremental`, the one exception to "checking plans nothing"):
//!
//! - `V1002 refresh-not-applicable`: `refresh` on a view that is not materialized (no task
//!   writes it), or `refresh: incremental` on an output whose mode is not `overwrite`
//!   (append, merge and replace_where outputs keep their own meaning);
//! - `V1001 refresh-never-incremental`: `refresh: incremental` on a task whose plan can
//!   never absorb appended rows ([`refresh_feasibility`]), with the reason.
//!
//! Both point at the `refresh` key.

use std::sync::Arc;

use viewdag_ir::{Code, Diagnostic, FieldPath, OutputSpec, RefreshPolicy, SpecLocation, ViewInput, WriteMode};
use viewdag_lower::view_plan;

use super::feasibility::refresh_feasibility;
use super::reason::NotIncremental;
use crate::Db;

/// Why `view`'s task plan can never be refreshed incrementally (`None`: it can, or the
/// view does not plan — its own diagnostics say why).
#[salsa::tracked(returns(ref))]
pub fn never_incremental(db: &dyn Db, view: ViewInput) -> Option<NotIncremental> {
    let lowered = view_plan(db, view).as_ref().ok()?;
    refresh_feasibility(&lowered.plan).err()
}

/// The `refresh` diagnostics of one view (nothing is planned unless it declares
/// `refresh: incremental` and is materialized).
#[salsa::tracked(returns(ref))]
pub fn view_refresh_diagnostics(db: &dyn Db, view: ViewInput) -> Arc<Vec<Diagnostic>> {
    let Some(definition) = view.definition(db) else { return Arc::default() };
    let Some(refresh) = definition.refresh else { return Arc::default() };
    let name = view.name(db);
    let location = SpecLocation::view(name).with_field(FieldPath::from(["refresh"]));
    if !definition.is_materialized() {
        let diagnostic = Diagnostic::new(
            Code::RefreshNotApplicable,
            location,
            format!("view `{name}` sets `refresh: {}` but is not materialized: no task refreshes it", refresh.as_str()),
        )
        .with_suggestion("add `materialize: table`, or set `refresh` on the output that writes it");
        return Arc::new(vec![diagnostic]);
    }
    Arc::new(never_incremental_diagnostic(db, view, refresh, location, &format!("view `{name}`")).into_iter().collect())
}

/// The `refresh` diagnostics of one output (`view`: the view it writes, when it resolves).
pub fn output_refresh_diagnostics(db: &dyn Db, output: &str, spec: &OutputSpec, view: Option<ViewInput>) -> Vec<Diagnostic> {
    let Some(refresh) = spec.refresh else { return Vec::new() };
    let location = SpecLocation::output(output).with_field(FieldPath::from(["refresh"]));
    if refresh == RefreshPolicy::Incremental && spec.mode != WriteMode::Overwrite {
        let mode = match spec.mode {
            WriteMode::Append => "append",
            WriteMode::Merge => "merge",
            WriteMode::ReplaceWhere => "replace_where",
            WriteMode::Overwrite => "overwrite",
        };
        let diagnostic = Diagnostic::new(
            Code::RefreshNotApplicable,
            location,
            format!("output `{output}` writes in `{mode}` mode: `refresh: incremental` applies to `overwrite` outputs only"),
        )
        .with_note("append, merge and replace_where outputs write what their view yields on every run; their refresh is always full")
        .with_suggestion("remove `refresh`, or write the output with `mode: overwrite`");
        return vec![diagnostic];
    }
    let Some(view) = view else { return Vec::new() };
    never_incremental_diagnostic(db, view, refresh, location, &format!("output `{output}`")).into_iter().collect()
}

fn never_incremental_diagnostic(
    db: &dyn Db,
    view: ViewInput,
    refresh: RefreshPolicy,
    location: SpecLocation,
    task: &str,
) -> Option<Diagnostic> {
    if refresh != RefreshPolicy::Incremental {
        return None;
    }
    let refusal = never_incremental(db, view).as_ref()?;
    Some(
        Diagnostic::new(
            Code::RefreshNeverIncremental,
            location,
            format!("{task} is `refresh: incremental`, but its change can never be derived: {refusal}"),
        )
        .with_note("every run would fail it (V1003) instead of refreshing it")
        .with_suggestion("use `refresh: auto` (incremental when possible, else a full refresh), or `refresh: full`"),
    )
}

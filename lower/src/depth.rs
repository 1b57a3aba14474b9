//! How deep a view's inlined plan nests: the longest chain of ephemeral views it inlines,
//! itself included (a source or a materialized view ends a chain: it is one scan).
//! DataFusion walks plans recursively (its optimizer rules, physical planning, display and
//! drop), so a task inlining a very long chain would overflow the stack; such a view is
//! refused with `V0225 plan-too-deep` before any plan of it is built.
//!
//! ## Invariants
//! - [`inlined_depth`] reads only per-view and per-name queries, and stops at broken views
//!   (so it never recurses around a cycle). `warm_in_dependency_order` asks it in dependency order,
//!   so it never recurses more than one level deep.
//! - A view at most [`MAX_INLINED_DEPTH`] deep is planned as before; a deeper one fails in
//!   `view_plan` without planning its inputs further.

use viewdag_ir::{Code, Diagnostic, ProjectInput, SpecLocation, ViewInput};
use viewdag_validate::{Relation, resolve_relation, view_is_broken, view_reads};

use crate::Db;

/// The deepest chain of ephemeral views one plan may inline. Planning a plan this deep
/// needs a deeper stack than a default 2 MiB thread in a debug build; the CLI plans on a
/// 256 MiB one.
pub const MAX_INLINED_DEPTH: usize = 512;

/// 1 + the deepest ephemeral input's depth.
#[salsa::tracked(returns(copy))]
pub fn inlined_depth(db: &dyn Db, view: ViewInput) -> usize {
    if view_is_broken(db, view) {
        return 1;
    }
    let project = ProjectInput::get(db);
    let mut deepest = 0;
    for read in &view_reads(db, view).reads {
        if let Some(Relation::View(input)) = resolve_relation(db, project, read.name.clone())
            && !view_is_broken(db, input)
            && !input.definition(db).as_ref().is_some_and(|definition| definition.is_materialized())
        {
            deepest = deepest.max(inlined_depth(db, input));
        }
    }
    deepest + 1
}

/// `V0225` for a view whose inlined plan is deeper than the limit.
pub fn too_deep(name: &str, depth: usize) -> Diagnostic {
    Diagnostic::new(
        Code::PlanTooDeep,
        SpecLocation::view(name),
        format!("view `{name}` inlines a chain of {depth} ephemeral views; a plan may inline at most {MAX_INLINED_DEPTH}"),
    )
    .with_note("each ephemeral view is planned into every plan that reads it, and DataFusion walks plans recursively")
    .with_suggestion("materialize a view in the middle of the chain (`materialize: table`): its readers then scan its table")
}

//! The project's path checks, as one query: every output path and `profile.tables`
//! confined to the project (or an allowed root or URL prefix, `V0505`), clear of every
//! source (`V0504`, `V0520`), and every URL and storage option usable (`V0307`, `V0308`).
//! Source paths are checked by the driver before it loads them (the same pure checks:
//! `storage_url_invalid::check_source`, then `path_outside_project::check_source`), so a
//! refused source is never opened.
//!
//! Invariant: lexical only, no I/O; relative paths are relative to the spec's directory
//! (`SurfaceInput::root`, which lets a relative and an absolute spelling meet).

use viewdag_ir::{Diagnostic, ProjectInput, SurfaceInput};

use crate::Db;
use crate::checks::{output_path_conflict, path_outside_project, storage_option_invalid, storage_url_invalid, tables_location_conflict};
use crate::lexical_path::PathSpace;

#[salsa::tracked(returns(ref))]
pub fn project_path_diagnostics(db: &dyn Db, project: ProjectInput) -> Vec<Diagnostic> {
    let root = SurfaceInput::try_get(db).map(|surface| surface.root(db).clone());
    let space = PathSpace::new(root.as_deref());
    let profile = project.profile(db);
    let outputs = project.outputs(db);
    let mut diagnostics = storage_url_invalid::check_project(outputs, profile);
    diagnostics.extend(storage_option_invalid::check(profile));
    diagnostics.extend(
        outputs.iter().filter_map(|(output, spec)| path_outside_project::check_output(output, &spec.as_ref()?.path, profile, &space)),
    );
    diagnostics.extend(path_outside_project::check_tables(profile, &space));
    let sources: Vec<(String, String)> = project
        .sources(db)
        .iter()
        .filter_map(|source| Some((source.name(db).clone(), source.declaration(db).as_ref()?.path.clone())))
        .collect();
    diagnostics.extend(output_path_conflict::check_against_sources(outputs, &sources, &space));
    diagnostics.extend(tables_location_conflict::check(profile, &sources, outputs, &space));
    diagnostics
}

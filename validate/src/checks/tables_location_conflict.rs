//! `V0520 tables-location-conflict`: `profile.tables`, where the tables of `materialize:
//! table` views are written (`TABLES/VIEW`), would mix them with data viewdag does not own
//! there: the project's own directory, `.viewdag` itself (the run state and the run lock),
//! a source's path (or a directory inside or above one), or an output's table (or a
//! directory inside or above one).
//!
//! Why: each materialized view's table is overwritten by its task, so a tables location
//! over a source would replace the source's files and one over an output would nest two
//! tasks' tables (writes that run at the same time). The default, `.viewdag/tables`, is
//! always clear (outputs may not write under `.viewdag`, `V0504`).
//!
//! Invariants: lexical, like `output_path_conflict` (local paths through the spec's
//! directory, URLs by store, bucket and key segments); a `profile.tables` that is an
//! unusable URL is `V0307`'s and skipped here.

use indexmap::IndexMap;
use viewdag_ir::{Code, Diagnostic, FieldPath, OutputSpec, ProfileSpec, Section, SpecLocation};

use crate::lexical_path::{PathSpace, Place};

/// viewdag's own directory, relative to the spec's directory.
const VIEWDAG_DIRECTORY: &str = ".viewdag";

fn tables_location() -> SpecLocation {
    SpecLocation { section: Section::Profile, ..SpecLocation::root() }.with_field(FieldPath::from(["tables"]))
}

/// How `tables` and `other` overlap, if they do.
fn overlap(space: &PathSpace, tables: &Place, other: &Place) -> Option<&'static str> {
    match (space.place_is_inside(tables, other), space.place_is_inside(other, tables)) {
        (true, true) => Some("is"),
        (true, false) => Some("lies inside"),
        (false, true) => Some("contains"),
        (false, false) => None,
    }
}

/// `sources`: each source's name and declared path.
pub fn check(
    profile: &ProfileSpec,
    sources: &[(String, String)],
    outputs: &IndexMap<String, Option<OutputSpec>>,
    space: &PathSpace,
) -> Vec<Diagnostic> {
    let Some(text) = profile.tables.as_deref() else { return Vec::new() };
    let Ok(tables) = Place::parse(text) else { return Vec::new() };
    let conflict = |message: String| Diagnostic::new(Code::TablesLocationConflict, tables_location(), message);
    if tables.is_project_directory() {
        return vec![
            conflict(format!("`profile.tables` (`{text}`) is the project's own directory"))
                .with_note("every materialized view's table would be written next to the spec and its sources"),
        ];
    }
    if tables == Place::Path(vec![VIEWDAG_DIRECTORY.to_string()]) {
        return vec![
            conflict(format!("`profile.tables` (`{text}`) is `.viewdag` itself, which holds the run state and the run lock"))
                .with_suggestion("use a directory of its own, e.g. `.viewdag/tables` (the default)"),
        ];
    }
    let mut diagnostics = Vec::new();
    for (source, path) in sources {
        let Ok(place) = Place::parse(path) else { continue };
        if let Some(relation) = overlap(space, &tables, &place) {
            diagnostics.push(
                conflict(format!("`profile.tables` (`{text}`) {relation} source `{source}` (`{path}`)"))
                    .with_label(SpecLocation::source(source).with_field(FieldPath::from(["path"])), "the source is read here")
                    .with_note("materialized views' tables are overwritten by their tasks: give them a directory of their own"),
            );
        }
    }
    for (output, spec) in outputs {
        let Some(spec) = spec else { continue };
        let Ok(place) = Place::parse(&spec.path) else { continue };
        if let Some(relation) = overlap(space, &tables, &place) {
            diagnostics.push(
                conflict(format!("`profile.tables` (`{text}`) {relation} output `{output}`'s table (`{}`)", spec.path))
                    .with_label(SpecLocation::output(output).with_field(FieldPath::from(["path"])), "written here too")
                    .with_note("tasks run at the same time: materialized views' tables and outputs need directories of their own"),
            );
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;
    use viewdag_ir::ProfileSpec;

    use super::check;
    use crate::lexical_path::PathSpace;

    #[test]
    fn a_tables_location_over_a_source_an_output_or_the_project_is_refused() {
        let space = PathSpace::new(Some("/p"));
        let sources = vec![("orders".to_string(), "data/orders".to_string()), ("lake".to_string(), "s3://lake/raw/events".to_string())];
        let outputs = IndexMap::new();
        let conflicts = |tables: &str| {
            let profile = ProfileSpec { tables: Some(tables.to_string()), ..ProfileSpec::default() };
            check(&profile, &sources, &outputs, &space).len()
        };
        for refused in [".", "", ".viewdag", "data", "data/orders/t", "s3://lake/raw", "s3://lake/raw/events/x", "/p/data"] {
            assert_eq!(conflicts(refused), 1, "{refused}");
        }
        for fine in [".viewdag/tables", "tables", "s3://lake/tables", "s3://lake/rawx", "gs://lake/raw"] {
            assert_eq!(conflicts(fine), 0, "{fine}");
        }
        assert!(check(&ProfileSpec::default(), &sources, &outputs, &space).is_empty(), "the default is always clear");
    }
}

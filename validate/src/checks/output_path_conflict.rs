//! `V0504 output-path-conflict`: an output writes where it would destroy or mix with other
//! data: the same Delta table as another output, or one table inside another's directory
//! (tasks run concurrently, so such writes would conflict or silently replace each other's
//! rows); the project's own directory (`.`, `""`); anything under `.viewdag` (the tables of
//! materialized views and the run state); or a source's path, a directory inside a source or
//! a parent of one ([`check_against_sources`]: an overwrite would replace the source).
//!
//! Paths are compared lexically (relative to the spec's directory, `.` and `..` resolved, no
//! file-system access), so two spellings of one directory are one path; object-store URLs
//! compare with URLs only (store, bucket, whole key segments). Symlinks are resolved by the
//! driver before a run writes anything. An output whose URL cannot be used at all is
//! `V0307`'s (`storage_url_invalid`) and skipped here.

use viewdag_ir::{Code, Diagnostic, FieldPath, SpecLocation};

use super::CheckContext;
use crate::lexical_path::{PathSpace, Place};

/// Where viewdag keeps its own files (the tables of materialized views, the run state),
/// relative to the spec's directory.
const VIEWDAG_DIRECTORY: &str = ".viewdag";

fn path_location(output: &str) -> SpecLocation {
    SpecLocation::output(output).with_field(FieldPath::from(["path"]))
}

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let space = PathSpace::default();
    let mut seen: Vec<(&str, Place)> = Vec::new();
    for (output, spec) in context.outputs {
        let Some(spec) = spec else { continue };
        let Ok(path) = Place::parse(&spec.path) else { continue };
        if path.is_project_directory() {
            diagnostics.push(
                Diagnostic::new(
                    Code::OutputPathConflict,
                    path_location(output),
                    format!("output `{output}` writes the project's own directory (`{}`)", spec.path),
                )
                .with_note("an overwrite would replace every file next to the spec, sources included"),
            );
            continue;
        }
        if matches!(&path, Place::Path(components) if components.first().is_some_and(|first| first == VIEWDAG_DIRECTORY)) {
            diagnostics.push(Diagnostic::new(
                Code::OutputPathConflict,
                path_location(output),
                format!("output `{output}` writes into `.viewdag`, where viewdag keeps the tables of materialized views and the run state"),
            ));
            continue;
        }
        let clash = seen.iter().find(|(_, other)| space.place_is_inside(other, &path) || space.place_is_inside(&path, other));
        if let Some((first, other)) = clash {
            let message = if *other == path {
                format!("output `{output}` writes the same Delta table as output `{first}` (`{}`)", spec.path)
            } else {
                format!("output `{output}`'s Delta table (`{}`) and output `{first}`'s lie one inside the other", spec.path)
            };
            diagnostics.push(
                Diagnostic::new(Code::OutputPathConflict, path_location(output), message)
                    .with_label(path_location(first), "written here too")
                    .with_note("outputs run at the same time: give each its own directory"),
            );
            continue;
        }
        seen.push((output, path));
    }
    diagnostics
}

/// The outputs that write a source's path, a directory inside a source, or a parent of a
/// source (an overwrite there would replace the source's files; a Parquet or CSV directory
/// source would read the output's files as its own). `sources` are (name, path) pairs; the
/// spec's directory, when known, lets relative and absolute spellings meet.
pub fn check_against_sources(
    outputs: &indexmap::IndexMap<String, Option<viewdag_ir::OutputSpec>>,
    sources: &[(String, String)],
    space: &PathSpace,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (output, spec) in outputs {
        let Some(spec) = spec else { continue };
        let Ok(path) = Place::parse(&spec.path) else { continue };
        if path.is_project_directory() {
            continue; // the project root: reported by `check`
        }
        let clash = sources.iter().find_map(|(source, source_path)| {
            let source_place = Place::parse(source_path).ok()?;
            let relation = if space.place_is_inside(&path, &source_place) && space.place_is_inside(&source_place, &path) {
                "is the path of"
            } else if space.place_is_inside(&path, &source_place) {
                "lies inside"
            } else if space.place_is_inside(&source_place, &path) {
                "contains"
            } else {
                return None;
            };
            Some((source, relation))
        });
        if let Some((source, relation)) = clash {
            diagnostics.push(
                Diagnostic::new(
                    Code::OutputPathConflict,
                    path_location(output),
                    format!("output `{output}`'s path (`{}`) {relation} source `{source}`", spec.path),
                )
                .with_label(SpecLocation::source(source).with_field(FieldPath::from(["path"])), "the source is read here")
                .with_note("writing it would replace or mix with the source's files: give the output its own directory"),
            );
        }
    }
    diagnostics
}

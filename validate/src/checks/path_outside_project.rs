//! `V0505 path-outside-project`: a source or output path is absolute, or climbs out of the
//! spec's directory with `..`, and lies in no root that `profile.paths.allow` declares.
//!
//! A spec should only read and write inside its own project: an output at `/data/x` or
//! `../other/x` can replace another project's table, and a source there can read any file
//! the user can (its rows then leak into outputs and diagnostics). Roots outside the project
//! are opt-in, per directory.
//!
//! Invariants: purely lexical (relative paths are relative to the spec's directory; `.` and
//! `..` are applied, symlinks are not followed — the driver resolves them before a run
//! writes anything). The driver runs the source check before loading a source, so a refused
//! source is never opened and its readers are blocked; the output check runs with the
//! project's checks, and a refused output is never written.

use viewdag_ir::{Code, Diagnostic, FieldPath, ProfileSpec, Section, SpecLocation};

use crate::lexical_path::{PathSpace, components, is_absolute};

/// Why `path` may not be used, or `None` when it is inside the project or an allowed root.
pub fn confinement_problem(path: &str, profile: &ProfileSpec, space: &PathSpace) -> Option<String> {
    let normalized = components(path);
    if space.inside_project(&normalized) {
        return None;
    }
    if profile.paths.allow.iter().any(|allowed| space.is_inside(&normalized, &components(allowed))) {
        return None;
    }
    Some(if is_absolute(&normalized) {
        format!("`{path}` is an absolute path")
    } else {
        format!("`{path}` climbs out of the spec's directory")
    })
}

fn diagnostic(section: Section, entry: &str, what: &str, problem: String) -> Diagnostic {
    Diagnostic::new(
        Code::PathOutsideProject,
        SpecLocation::entry(section, entry).with_field(FieldPath::from(["path"])),
        format!("{what} `{entry}`: {problem}, outside the project"),
    )
    .with_note("paths are relative to the spec file's directory and must stay inside it")
    .with_suggestion("move the data into the project, or allow its directory with `profile: { paths: { allow: [DIR] } }`")
}

/// The source check, run by the driver before it loads `source`.
pub fn check_source(source: &str, path: &str, profile: &ProfileSpec, space: &PathSpace) -> Option<Diagnostic> {
    confinement_problem(path, profile, space).map(|problem| diagnostic(Section::Sources, source, "source", problem))
}

/// The output check.
pub fn check_output(output: &str, path: &str, profile: &ProfileSpec, space: &PathSpace) -> Option<Diagnostic> {
    confinement_problem(path, profile, space).map(|problem| diagnostic(Section::Outputs, output, "output", problem))
}

#[cfg(test)]
mod tests {
    use viewdag_ir::{PathsProfile, ProfileSpec};

    use super::confinement_problem;
    use crate::lexical_path::PathSpace;

    #[test]
    fn only_paths_inside_the_project_or_an_allowed_root_pass() {
        let space = PathSpace::new(Some("/work/project"));
        let none = ProfileSpec::default();
        for inside in ["out/a", "./out", "a/../b", "../project/out", "/work/project/out"] {
            assert_eq!(confinement_problem(inside, &none, &space), None, "{inside}");
        }
        for outside in ["/etc/passwd", "../x", "a/../../x", "/work/other"] {
            assert!(confinement_problem(outside, &none, &space).is_some(), "{outside}");
        }
        let allowed = ProfileSpec { paths: PathsProfile { allow: vec!["../shared".into(), "/data".into()] }, ..ProfileSpec::default() };
        for inside in ["../shared/t", "/work/shared/t", "/data/x/y"] {
            assert_eq!(confinement_problem(inside, &allowed, &space), None, "{inside}");
        }
        for outside in ["../sharedx", "/dat", "/etc"] {
            assert!(confinement_problem(outside, &allowed, &space).is_some(), "{outside}");
        }
    }
}

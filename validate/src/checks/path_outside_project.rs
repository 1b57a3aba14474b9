//! `V0505 path-outside-project`: a source or output path (or `profile.tables`) is absolute,
//! climbs out of the spec's directory with `..`, or is an object-store URL, and lies in no
//! root or URL prefix that `profile.paths.allow` declares.
//!
//! A spec should only read and write inside its own project: an output at `/data/x` or
//! `../other/x` can replace another project's table, and a source there can read any file
//! the user can (its rows then leak into outputs and diagnostics). Roots outside the project
//! are opt-in, per directory. Object stores are outside every project: a URL is allowed
//! only under an allowed URL prefix (`s3://lake/sales`), compared by whole key segments.
//!
//! Invariants: purely lexical (relative paths are relative to the spec's directory; `.` and
//! `..` are applied, symlinks are not followed — the driver resolves them before a run
//! writes anything). The driver runs the source check before loading a source, so a refused
//! source is never opened and its readers are blocked; the output check runs with the
//! project's checks, and a refused output is never written.

use viewdag_ir::{Code, Diagnostic, FieldPath, ProfileSpec, Section, SpecLocation, StorageUrl};

use super::storage_url_invalid;
use crate::lexical_path::{PathSpace, Place, is_absolute};

/// Why `path` may not be used, or `None` when it is inside the project or an allowed root.
/// A URL that cannot be used at all is `V0307`'s to report (`storage_url_invalid`), not
/// this check's: it returns `None` for one.
pub fn confinement_problem(path: &str, profile: &ProfileSpec, space: &PathSpace) -> Option<String> {
    let place = Place::parse(path).ok()?;
    if space.place_inside_project(&place) {
        return None;
    }
    let allowed = profile.paths.allow.iter().filter_map(|allowed| Place::parse(allowed).ok());
    if allowed.into_iter().any(|allowed| space.place_is_inside(&place, &allowed)) {
        return None;
    }
    Some(match &place {
        Place::Url(url) => format!("`{path}` is an object-store location ({url}) under no allowed URL prefix"),
        Place::Path(normalized) if is_absolute(normalized) => format!("`{path}` is an absolute path"),
        Place::Path(_) => format!("`{path}` climbs out of the spec's directory"),
    })
}

fn diagnostic(location: SpecLocation, what: &str, path: &str, problem: String) -> Diagnostic {
    let diagnostic = Diagnostic::new(Code::PathOutsideProject, location, format!("{what}: {problem}, outside the project"));
    if StorageUrl::looks_like_url(path) {
        diagnostic
            .with_note("object-store locations are outside every project: each needs an allowed URL prefix")
            .with_suggestion("allow the prefix with `profile: { paths: { allow: [\"s3://BUCKET/PREFIX\"] } }`")
    } else {
        diagnostic
            .with_note("paths are relative to the spec file's directory and must stay inside it")
            .with_suggestion("move the data into the project, or allow its directory with `profile: { paths: { allow: [DIR] } }`")
    }
}

fn entry_diagnostic(section: Section, entry: &str, what: &str, path: &str, problem: String) -> Diagnostic {
    diagnostic(SpecLocation::entry(section, entry).with_field(FieldPath::from(["path"])), &format!("{what} `{entry}`"), path, problem)
}

/// The source check, run by the driver before it loads `source`: a URL it cannot use
/// (`V0307`, which this code refines: only a usable location can be inside or outside),
/// then the confinement.
pub fn check_source(source: &str, path: &str, profile: &ProfileSpec, space: &PathSpace) -> Option<Diagnostic> {
    storage_url_invalid::check_source(source, path).or_else(|| {
        confinement_problem(path, profile, space).map(|problem| entry_diagnostic(Section::Sources, source, "source", path, problem))
    })
}

/// The output check.
pub fn check_output(output: &str, path: &str, profile: &ProfileSpec, space: &PathSpace) -> Option<Diagnostic> {
    confinement_problem(path, profile, space).map(|problem| entry_diagnostic(Section::Outputs, output, "output", path, problem))
}

/// The check of `profile.tables` (where materialized views' tables are written), when set.
pub fn check_tables(profile: &ProfileSpec, space: &PathSpace) -> Option<Diagnostic> {
    let tables = profile.tables.as_deref()?;
    let location = SpecLocation { section: Section::Profile, ..SpecLocation::root() }.with_field(FieldPath::from(["tables"]));
    confinement_problem(tables, profile, space).map(|problem| diagnostic(location, "`profile.tables`", tables, problem))
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

    #[test]
    fn urls_pass_only_under_an_allowed_url_prefix() {
        let space = PathSpace::new(Some("/work/project"));
        let none = ProfileSpec::default();
        assert!(confinement_problem("s3://lake/t", &none, &space).is_some(), "no URL is inside the project");
        let allowed =
            ProfileSpec { paths: PathsProfile { allow: vec!["s3://lake/sales/".into(), "out".into()] }, ..ProfileSpec::default() };
        for inside in ["s3://lake/sales", "s3a://lake/sales/t", "S3://LAKE/sales/x/y"] {
            assert_eq!(confinement_problem(inside, &allowed, &space), None, "{inside}");
        }
        for outside in ["s3://lake/salesx", "s3://lake", "gs://lake/sales/t", "s3://other/sales/t"] {
            assert!(confinement_problem(outside, &allowed, &space).is_some(), "{outside}");
        }
        assert_eq!(confinement_problem("ftp://x/y", &none, &space), None, "an unusable URL is V0307's");
    }
}

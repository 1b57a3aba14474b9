//! What to watch to see a source change: for each source the spec may read, the one path
//! whose changes mean new data — a Delta table's `_delta_log`, a Parquet or CSV file, or a
//! directory of files — and whether that path is watched recursively.
//!
//! ## Invariants
//! - Only sources that pass the source checks are watched: a source outside the project and
//!   every allowed root (`V0504`/`V0505`), an object-store URL (nothing local to watch) or a
//!   format the profile does not allow is never watched, whatever exists at its path.
//! - Nothing outside the project's directory (symlinks resolved) is watched recursively: a
//!   Delta log and a file are watched alone, a directory of files inside the project with
//!   its subdirectories, a directory outside it (under an allowed root) without them. So the
//!   number of watches is bounded by what the project holds, never by what a path names.
//! - Reads only (`exists`, `canonicalize`); deterministic order (sorted, deduplicated).

use std::path::{Path, PathBuf};

use viewdag_ir::{ProfileSpec, SourceFormat, SourceSpec, StorageUrl};
use viewdag_validate::checks::path_outside_project::check_source;
use viewdag_validate::checks::source_format_not_allowed;
use viewdag_validate::lexical_path::PathSpace;

use crate::confinement::resolve;
use crate::sources::root_path_text;

/// One path to watch for a source's changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceWatch {
    /// The path (a Delta log directory, a file, or a directory of files).
    pub path: PathBuf,
    /// Whether its subdirectories are watched too (only directories inside the project).
    pub recursive: bool,
}

/// The watches for `sources` (name and declaration) of a spec whose directory is `root`.
pub fn source_watches<'a>(
    root: &Path,
    profile: &ProfileSpec,
    sources: impl IntoIterator<Item = (&'a str, &'a SourceSpec)>,
) -> Vec<SourceWatch> {
    let space = PathSpace::new(Some(&root_path_text(root)));
    let resolved_root = resolve(root);
    let mut watches: Vec<SourceWatch> = sources
        .into_iter()
        .filter(|(name, spec)| {
            !StorageUrl::looks_like_url(&spec.path)
                && source_format_not_allowed::check(name, spec, profile).is_none()
                && check_source(name, &spec.path, profile, &space).is_none()
        })
        .filter_map(|(_, spec)| {
            let path = root.join(&spec.path);
            let watch = match spec.format {
                SourceFormat::Delta => SourceWatch { path: path.join("_delta_log"), recursive: false },
                _ if path.is_dir() => SourceWatch { recursive: resolve(&path).starts_with(&resolved_root), path },
                _ => SourceWatch { path, recursive: false },
            };
            watch.path.exists().then_some(watch)
        })
        .collect();
    watches.sort();
    watches.dedup();
    watches
}

//! Before a run writes anything: where each task's table really lands once symlinks are
//! resolved. The lexical checks (`V0504`, `V0505` in `viewdag_validate`) see only the spec's
//! text; a symlink inside the project (`out -> /elsewhere`, `.viewdag -> data`) can still
//! point a write outside the allowed roots or onto a source. Here every path is resolved by
//! the file system: the nearest existing ancestor is canonicalized and the rest (which does
//! not exist yet, so holds no symlink) is appended lexically.
//!
//! ## Invariants
//! - A task whose resolved target lies outside the project's (resolved) directory and every
//!   resolved `profile.paths.allow` root, or is a source's resolved path, lies inside one or
//!   contains one, is refused: it fails with a message saying where it would have written,
//!   and nothing is written for it.
//! - Two tasks whose resolved tables are one (or one inside the other) are both refused
//!   ([`shared_table_refusals`]): each would otherwise overwrite the other's rows and the
//!   next run would report the other up to date. An output whose resolved table lies in the
//!   project's resolved `.viewdag` is refused likewise.
//! - Reads are confined the same way ([`source_escape`], [`delta_table_escape`]): a local
//!   source whose path — for Parquet/CSV any entry of its directory, for Delta its log's
//!   entries and every data file of the loaded version — resolves outside the project and
//!   every allowed root is refused at `check` (`V0505`), never read.
//! - Reads only (`canonicalize`, which follows links); creates nothing.
//! - An object-store target has no links to resolve: it is checked again lexically (inside
//!   an allowed URL prefix, on no source's URL), the same rule as `V0504`/`V0505`, so the
//!   one refusal path covers every kind of target.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use viewdag_ir::{Code, Diagnostic, FieldPath, SpecLocation, StorageUrl};

use crate::storage::TableLocation;

/// The resolved roots a run may write into and the resolved sources it may not write.
#[derive(Debug, Clone)]
pub struct WriteConfinement {
    allowed_roots: Vec<PathBuf>,
    sources: Vec<(String, PathBuf)>,
    /// The allowed URL prefixes.
    allowed_prefixes: Vec<StorageUrl>,
    /// The sources in object stores.
    source_urls: Vec<(String, StorageUrl)>,
}

/// `path` with symlinks resolved as far as it exists: the nearest existing ancestor
/// canonicalized, the missing rest appended with `.` dropped and `..` applied.
pub fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut missing: Vec<Component> = Vec::new();
    let base = loop {
        if let Ok(canonical) = std::fs::canonicalize(existing) {
            break canonical;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                missing.push(last);
                existing = parent;
            }
            _ => break existing.to_path_buf(),
        }
    };
    let mut resolved = base;
    for component in missing.into_iter().rev() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            other => resolved.push(other),
        }
    }
    resolved
}

impl WriteConfinement {
    /// `root`: the spec's directory; `allow`: `profile.paths.allow` (relative to `root` or
    /// absolute); `sources`: each source's name and declared path.
    pub fn new(root: &Path, allow: &[String], sources: &[(String, String)]) -> Self {
        let url = |text: &str| StorageUrl::parse(text).ok().flatten();
        let mut allowed_roots = vec![resolve(root)];
        allowed_roots.extend(allow.iter().filter(|directory| url(directory).is_none()).map(|directory| resolve(&root.join(directory))));
        let allowed_prefixes = allow.iter().filter_map(|prefix| url(prefix)).collect();
        let source_urls = sources.iter().filter_map(|(name, path)| Some((name.clone(), url(path)?))).collect();
        let sources =
            sources.iter().filter(|(_, path)| url(path).is_none()).map(|(name, path)| (name.clone(), resolve(&root.join(path)))).collect();
        WriteConfinement { allowed_roots, sources, allowed_prefixes, source_urls }
    }

    /// Why writing a table at `target` is refused, or `None` when it may be written.
    pub fn refusal(&self, target: &TableLocation) -> Option<String> {
        match target {
            TableLocation::Local(path) => self.local_refusal(path),
            TableLocation::Url(url) => self.url_refusal(url),
        }
    }

    fn url_refusal(&self, target: &StorageUrl) -> Option<String> {
        if !self.allowed_prefixes.iter().any(|prefix| target.is_inside(prefix)) {
            return Some(format!("refused: `{target}` is under no `profile.paths.allow` URL prefix; nothing was written"));
        }
        let (source, url) = self.source_urls.iter().find(|(_, source)| target.is_inside(source) || source.is_inside(target))?;
        Some(format!("refused: `{target}` overlaps source `{source}` ({url}); nothing was written"))
    }

    fn local_refusal(&self, target: &Path) -> Option<String> {
        let resolved = resolve(target);
        if !self.allowed_roots.iter().any(|root| resolved.starts_with(root)) {
            return Some(format!(
                "refused: `{}` resolves to {}, outside the project's directory and every `profile.paths.allow` root (a symlink?); nothing was written",
                target.display(),
                resolved.display()
            ));
        }
        let (source, path) = self.sources.iter().find(|(_, source)| resolved.starts_with(source) || source.starts_with(&resolved))?;
        let relation = if &resolved == path {
            "is"
        } else if resolved.starts_with(path) {
            "lies inside"
        } else {
            "contains"
        };
        Some(format!(
            "refused: `{}` resolves to {}, which {relation} source `{source}` ({}); nothing was written",
            target.display(),
            resolved.display(),
            path.display()
        ))
    }
}

/// One task's table, for [`shared_table_refusals`].
#[derive(Debug, Clone)]
pub struct TaskTable {
    /// The task's id.
    pub id: String,
    /// Its table's directory, as the spec names it.
    pub target: PathBuf,
    /// Whether it is a materialized view's table (which belongs in `.viewdag`).
    pub materialized: bool,
}

/// For every task whose table, once symlinks are resolved, is another task's table, lies
/// inside one or contains one — or, for an output, lies in the project's `.viewdag` (under
/// `root`) — why it is refused. Both tasks of a pair are refused: neither may overwrite the
/// other's rows.
pub fn shared_table_refusals(root: &Path, tables: &[TaskTable]) -> BTreeMap<String, String> {
    let store = resolve(&root.join(".viewdag"));
    let resolved: Vec<PathBuf> = tables.iter().map(|table| resolve(&table.target)).collect();
    let mut refusals = BTreeMap::new();
    for (index, table) in tables.iter().enumerate() {
        let here = &resolved[index];
        let other = tables
            .iter()
            .zip(&resolved)
            .enumerate()
            .find(|(other, (_, there))| *other != index && (here.starts_with(there) || there.starts_with(here)));
        let why = match other {
            Some((_, (other, there))) => Some(format!(
                "refused: `{}` resolves to {}, which is or shares the table of `{}` ({}); neither is written (a symlink?)",
                table.target.display(),
                here.display(),
                other.id,
                there.display()
            )),
            None if !table.materialized && here.starts_with(&store) => Some(format!(
                "refused: `{}` resolves to {}, inside the project's `.viewdag` (a symlink?); nothing was written",
                table.target.display(),
                here.display()
            )),
            None => None,
        };
        if let Some(why) = why {
            refusals.insert(table.id.clone(), why);
        }
    }
    refusals
}

/// At most this many entries of a source directory are resolved (a bound on a link cycle).
const MAX_SOURCE_ENTRIES: usize = 100_000;

/// The resolved directories a local source may read from: the project's and every local
/// `profile.paths.allow` root.
fn readable_roots(root: &Path, allow: &[String]) -> Vec<PathBuf> {
    std::iter::once(resolve(root))
        .chain(allow.iter().filter(|allowed| !allowed.contains("://")).map(|allowed| resolve(&root.join(allowed))))
        .collect()
}

/// Where a local source at `path` (relative to `root`) reads outside `root` and every `allow`
/// root once symlinks are followed, if it does: the entry (the path itself, or with
/// `every_entry` any file or directory under it) and where it resolves. Object-store URLs
/// are not local: `None`.
pub fn source_escape(root: &Path, allow: &[String], path: &str, every_entry: bool) -> Option<(PathBuf, PathBuf)> {
    if path.contains("://") {
        return None;
    }
    let roots = readable_roots(root, allow);
    let mut stack = vec![root.join(path)];
    let mut seen = 0;
    while let Some(entry) = stack.pop() {
        let resolved = resolve(&entry);
        if !roots.iter().any(|allowed| resolved.starts_with(allowed)) {
            return Some((entry, resolved));
        }
        seen += 1;
        if !every_entry || seen > MAX_SOURCE_ENTRIES {
            continue;
        }
        if entry.is_dir()
            && let Ok(entries) = std::fs::read_dir(&entry)
        {
            stack.extend(entries.filter_map(Result::ok).map(|found| found.path()));
        }
    }
    None
}

/// Where a local Delta table at `table_dir` reads outside `root` and every `allow` root once
/// symlinks are followed, if it does: its `_delta_log` and each entry of it, then each data
/// file of the loaded version (`data_files`: the paths its log records, relative to the
/// table, or `file://` URLs). A data file named by another URL scheme is not local and
/// escapes by definition. The table's own directory is checked by [`source_escape`].
pub fn delta_table_escape(root: &Path, allow: &[String], table_dir: &Path, data_files: &[String]) -> Option<(PathBuf, PathBuf)> {
    let roots = readable_roots(root, allow);
    let escapes = |entry: PathBuf| {
        let resolved = resolve(&entry);
        (!roots.iter().any(|allowed| resolved.starts_with(allowed))).then_some((entry, resolved))
    };
    let log = table_dir.join("_delta_log");
    let log_entries = std::fs::read_dir(&log).into_iter().flatten().filter_map(Result::ok).map(|entry| entry.path());
    if let Some(escape) = std::iter::once(log.clone()).chain(log_entries).take(MAX_SOURCE_ENTRIES).find_map(escapes) {
        return Some(escape);
    }
    data_files.iter().take(MAX_SOURCE_ENTRIES).find_map(|file| match url::Url::parse(file) {
        Ok(url) if url.scheme() == "file" => url.to_file_path().ok().and_then(escapes),
        // A single letter is a Windows drive, not a scheme.
        Ok(url) if url.scheme().len() > 1 => Some((PathBuf::from(file), PathBuf::from(file))),
        _ => escapes(table_dir.join(file)),
    })
}

/// `V0505` for a local source that reads `entry`, which resolves to `resolved` outside the
/// project and every `profile.paths.allow` root (through a symlink, or a Delta log naming a
/// file elsewhere): the source is not read.
pub(crate) fn source_escape_diagnostic(name: &str, root: &Path, entry: &Path, resolved: &Path) -> Diagnostic {
    Diagnostic::new(
        Code::PathOutsideProject,
        SpecLocation::source(name).with_field(FieldPath::from(["path"])),
        format!(
            "source `{name}`: `{}` resolves to {} through a symlink, outside the project and every `profile.paths.allow` root; it is not read",
            crate::storage::location::relative_location(root, entry),
            resolved.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use viewdag_ir::StorageUrl;

    use super::WriteConfinement;
    use crate::storage::TableLocation;

    #[test]
    fn object_store_targets_need_an_allowed_prefix_and_keep_off_sources() {
        let root = tempfile::tempdir().unwrap();
        let sources = [("events".to_string(), "s3://lake/raw/events".to_string()), ("local".to_string(), "data".to_string())];
        let confinement = WriteConfinement::new(root.path(), &["s3://lake".to_string()], &sources);
        let url = |text: &str| TableLocation::Url(StorageUrl::parse(text).unwrap().unwrap());
        assert_eq!(confinement.refusal(&url("s3://lake/out/t")), None);
        assert!(confinement.refusal(&url("s3://other/out/t")).is_some_and(|refusal| refusal.contains("no `profile.paths.allow`")));
        assert!(confinement.refusal(&url("s3://lake/raw")).is_some_and(|refusal| refusal.contains("source `events`")));
        assert!(confinement.refusal(&url("s3://lake/raw/events/x")).is_some());
        assert_eq!(confinement.refusal(&TableLocation::Local(root.path().join("out"))), None);
        assert!(confinement.refusal(&TableLocation::Local(root.path().join("data/x"))).is_some());
        assert!(confinement.refusal(&TableLocation::Local(Path::new("/elsewhere").to_path_buf())).is_some());
    }
}

//! Loading sources: the only place that opens sources' Delta logs and lists their files or
//! objects. Each source becomes a provider identity, a schema and a provider, or a
//! diagnostic.
//!
//! - [`local`]: a local Delta table or local Parquet/CSV files;
//! - [`remote`]: the same in an object store (`s3://`, `gs://`, `az://`, `abfss://`), with
//!   the bucket's options (`crate::storage`);
//! - [`providers`]: what both end with (the provider, the identity, the volume);
//! - [`parquet_schema`]: a Parquet source's schema, inferred in time linear in its width.
//!
//! ## Invariants
//! - A source is opened only after its path passed the lexical checks (`V0307`, `V0505`:
//!   the compiler runs them first).
//! - An identity names the data and its version, never a credential or an option; a
//!   remote source's diagnostics are redacted.

mod local;
mod parquet_schema;
mod providers;
mod remote;

use std::path::{Path, PathBuf};

use datafusion::execution::session_state::SessionState;
use viewdag_ir::{Code, CsvOptions, Diagnostic, FieldPath, SourceFormat, SourceSpec, SpecLocation, StorageUrl};

pub(crate) use self::providers::pinned_files_table;
pub use self::providers::{LoadedSource, delta_volume};
use crate::storage::StorageSettings;
pub use crate::storage::location::{directory_url, relative_location};

/// The spec's directory as absolute text with `/` separators, for the lexical path checks.
pub fn root_path_text(root: &Path) -> String {
    std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()).to_string_lossy().into_owned()
}

/// A cheap fingerprint of what a local source reads: the names, sizes and modification
/// times of its files (for Delta, of its `_delta_log`). `None` when the path cannot be read
/// or is in an object store, so the source is loaded again (and its diagnostic reported).
pub fn source_fingerprint(root: &Path, spec: &SourceSpec) -> Option<String> {
    if StorageUrl::looks_like_url(&spec.path) {
        return None;
    }
    let (files, extension) = source_files(&root.join(&spec.path), spec.format);
    observe_files(&files, extension, false).map(|(fingerprint, _)| fingerprint)
}

/// Where a local source's files are listed and the end of their names: a Delta table's
/// `_delta_log` (every file), Parquet or CSV files below the path.
pub(crate) fn source_files(absolute: &Path, format: SourceFormat) -> (PathBuf, &'static str) {
    match format {
        SourceFormat::Delta => (absolute.join("_delta_log"), ""),
        SourceFormat::Parquet => (absolute.to_path_buf(), ".parquet"),
        SourceFormat::Csv => (absolute.to_path_buf(), ".csv"),
    }
}

/// The names, sizes and modification times of the files below `path` whose names end with
/// `extension` (`path` itself when it is a file), and the newest modification time among
/// them. When `thorough`: also each file's canonical path where it differs from the listed
/// one (a symlink), and the newest time counts `path`'s and each listed file's directory's
/// own times (a file removed or renamed changes its directory's time, not a file's). `None`
/// when `path` cannot be listed.
pub(crate) fn observe_files(path: &Path, extension: &str, thorough: bool) -> Option<(String, Option<std::time::SystemTime>)> {
    let modified = |path: &Path| std::fs::metadata(path).ok().and_then(|metadata| metadata.modified().ok());
    let mut fingerprint = String::new();
    let mut newest = if thorough { modified(path) } else { None };
    let mut directories = std::collections::BTreeSet::new();
    for file in local::list_files(path, extension).ok()? {
        let metadata = std::fs::metadata(&file).ok()?;
        let modified_at = metadata.modified().ok();
        newest = newest.max(modified_at);
        let nanos =
            modified_at.and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok()).map(|duration| duration.as_nanos()).unwrap_or(0);
        fingerprint.push_str(&format!("{}:{}:{nanos}", file.display(), metadata.len()));
        if thorough {
            if let Some(resolved) = std::fs::canonicalize(&file).ok().filter(|resolved| *resolved != file) {
                fingerprint.push_str(&format!("=>{}", resolved.display()));
            }
            if let Some(directory) = file.parent()
                && directories.insert(directory.to_path_buf())
            {
                newest = newest.max(modified(directory));
            }
        }
        fingerprint.push(';');
    }
    Some((fingerprint, newest))
}

/// What a source is loaded with besides its declaration.
pub(crate) struct SourceContext<'a> {
    /// The spec's directory.
    pub root: &'a Path,
    /// `profile.paths.allow`: the other roots a local source may read from.
    pub allow: &'a [String],
    /// How every CSV source is read.
    pub csv: &'a CsvOptions,
    /// The session whose runtime receives the sources' object stores.
    pub state: &'a SessionState,
    /// Object-store options and the redactor.
    pub storage: &'a StorageSettings,
}

pub(crate) async fn load_source(name: &str, spec: &SourceSpec, context: &SourceContext<'_>) -> LoadedSource {
    let SourceSpec { format, path, schema, version } = spec;
    let SourceContext { root, allow, csv, state, storage } = context;
    let location = SpecLocation::source(name).with_field(FieldPath::from(["path"]));
    let url = match StorageUrl::parse(path) {
        Ok(url) => url,
        Err(problem) => {
            return LoadedSource::failed(Diagnostic::new(Code::StorageUrlInvalid, location, format!("source `{name}`'s path: {problem}")));
        }
    };
    if url.is_none() && !root.join(path).exists() {
        return LoadedSource::failed(
            Diagnostic::new(Code::SourceNotFound, location, format!("source `{name}`: `{path}` does not exist"))
                .with_note(format!("paths are relative to the spec file's directory ({})", root.display())),
        );
    }
    let declared = match schema.as_ref().map(|columns| providers::declared_schema(name, columns)).transpose() {
        Ok(declared) => declared,
        Err(diagnostic) => return LoadedSource::failed(diagnostic),
    };
    if *format != SourceFormat::Delta && version.is_some() {
        return LoadedSource::failed(Diagnostic::new(
            Code::InvalidValue,
            SpecLocation::source(name).with_field(FieldPath::from(["version"])),
            format!("source `{name}`: `version` applies to Delta tables only"),
        ));
    }
    let version = match providers::pinned_version(name, *version, &location) {
        Ok(version) => version,
        Err(diagnostic) => return LoadedSource::failed(diagnostic),
    };
    match url {
        None => {
            let source = local::LocalSource { name, format: *format, absolute: root.join(path), root, allow, location };
            match format {
                SourceFormat::Delta => local::load_delta(source, version, state).await,
                SourceFormat::Parquet | SourceFormat::Csv => local::load_files(source, declared, csv, state).await,
            }
        }
        Some(url) => {
            let source = remote::RemoteSource { name, format: *format, url, location, storage };
            let loaded = match format {
                SourceFormat::Delta => remote::load_delta(source, version, state).await,
                SourceFormat::Parquet | SourceFormat::Csv => remote::load_files(source, declared, csv, state).await,
            };
            remote::redacted(loaded, storage)
        }
    }
}

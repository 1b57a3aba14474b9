//! Sources in object stores (`s3://`, `gs://`, `az://`, `abfss://`): a Delta table opened
//! by deltalake with the bucket's options, or Parquet/CSV objects (one object, or every
//! object below a prefix) listed through the bucket's object store, which is registered in
//! the session's runtime so DataFusion's scans read them.
//!
//! ## Invariants
//! - A store's refusal is a diagnostic with its own code (`V0310` credentials, `V0311`
//!   missing bucket, `V0312` unreachable endpoint; `V0309` a `profile.storage` variable that
//!   is not set), and every message made from a store's answer is redacted: no credential
//!   reaches a diagnostic.
//! - Objects are listed like local files: sorted, hidden (`.`) and `_`-prefixed names below
//!   the prefix skipped, only the format's extension in a prefix; each object's identity is
//!   its URL, size and ETag.

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::execution::session_state::SessionState;
use deltalake::DeltaTableError;
use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use viewdag_ir::{Code, CsvOptions, Diagnostic, SourceFile, SourceFormat, SpecLocation, StorageUrl};

use super::providers::{ListedFiles, LoadedSource, data_extension, delta_source, listing_source};
use crate::storage::location::{TableLocation, open_delta_table};
use crate::storage::registry::{object_store, register_object_store};
use crate::storage::{StorageError, StorageFailure, StorageSettings, StoreOptions};

/// How much of a store's answer a diagnostic quotes.
const QUOTED_ANSWER: usize = 400;

/// A source in an object store.
pub(crate) struct RemoteSource<'a> {
    pub name: &'a str,
    pub format: SourceFormat,
    pub url: StorageUrl,
    pub location: SpecLocation,
    pub storage: &'a StorageSettings,
}

impl RemoteSource<'_> {
    /// The bucket's options, or the diagnostic of why there are none.
    fn options(&self) -> Result<StoreOptions, Diagnostic> {
        self.storage.options(&self.url).map_err(|error| self.storage_error(&error))
    }

    fn storage_error(&self, error: &StorageError) -> Diagnostic {
        let code = error.code().unwrap_or(Code::SourceLoadFailed);
        let message = self.storage.redactor().redact(&error.to_string());
        let message = message.strip_prefix(&format!("error[{}]: ", code.id())).unwrap_or(&message).to_string();
        Diagnostic::new(code, self.location.clone(), format!("source `{}`: {message}", self.name))
    }

    /// The diagnostic of a store's error: its failure's own code when it is one, else `V0303`.
    fn refused(&self, error: &(dyn std::error::Error + 'static), doing: &str) -> Diagnostic {
        let answer = self.storage.redactor().redact(&error.to_string());
        match StorageFailure::of_error(error) {
            Some(failure) => {
                let quoted: String = answer.chars().take(QUOTED_ANSWER).collect();
                Diagnostic::new(
                    failure.source_code(),
                    self.location.clone(),
                    format!("source `{}` ({}): {}", self.name, self.url, failure.describe()),
                )
                .with_note(format!("the store answered: {quoted}"))
                .with_suggestion(failure.suggestion())
            }
            None => Diagnostic::new(
                Code::SourceLoadFailed,
                self.location.clone(),
                format!("source `{}` ({}): {doing}: {answer}", self.name, self.url),
            ),
        }
    }

    /// The key below the bucket, as object_store's path.
    fn key(&self) -> Result<ObjectPath, Diagnostic> {
        ObjectPath::parse(self.url.key().join("/")).map_err(|error| {
            Diagnostic::new(
                Code::SourceLoadFailed,
                self.location.clone(),
                format!("source `{}`: `{}` is not a usable key: {error}", self.name, self.url),
            )
        })
    }

    /// Whether anything lies below the source's key (to tell a missing table from a prefix
    /// that holds something else), or the diagnostic of why the store could not say.
    async fn holds_anything(&self, store: &dyn ObjectStore) -> Result<bool, Diagnostic> {
        let key = self.key()?;
        match store.list(Some(&key)).next().await {
            None => Ok(false),
            Some(Ok(_)) => Ok(true),
            Some(Err(error)) => Err(self.refused(&error, "cannot list it")),
        }
    }
}

/// Opens the Delta table at the source's URL, at `version` (else the latest).
pub(crate) async fn load_delta(source: RemoteSource<'_>, version: Option<u64>, state: &SessionState) -> LoadedSource {
    let options = match source.options() {
        Ok(options) => options,
        Err(diagnostic) => return LoadedSource::failed(diagnostic),
    };
    match open_delta_table(&TableLocation::Url(source.url.clone()), &options, version).await {
        Ok(table) => delta_source(source.name, table, source.url.to_string(), state, source.location.clone()).await,
        Err(error) if StorageFailure::of_error(&error).is_some() => {
            LoadedSource::failed(source.refused(&error, "cannot open the Delta table"))
        }
        Err(DeltaTableError::NotATable(_)) => {
            let store = match object_store(&source.url, &options) {
                Ok(store) => store,
                Err(error) => return LoadedSource::failed(source.storage_error(&error)),
            };
            let diagnostic = match source.holds_anything(store.as_ref()).await {
                Err(diagnostic) => diagnostic,
                Ok(false) => Diagnostic::new(
                    Code::SourceNotFound,
                    source.location.clone(),
                    format!("source `{}`: `{}` does not exist", source.name, source.url),
                ),
                Ok(true) => Diagnostic::new(
                    Code::SourceNotDelta,
                    source.location.clone(),
                    format!(
                        "source `{}` is declared `format: delta`, but `{}` is not a Delta table (it has no `_delta_log`)",
                        source.name, source.url
                    ),
                )
                .with_suggestion("use `format: parquet` or `format: csv` for plain files"),
            };
            LoadedSource::failed(diagnostic)
        }
        Err(error) => LoadedSource::failed(source.refused(&error, "cannot open the Delta table")),
    }
}

/// Whether `object` (below `prefix`) is a data file of a prefix source: no hidden or
/// `_`-prefixed name below the prefix, and the format's extension.
fn is_data_object(object: &ObjectMeta, prefix: &ObjectPath, extension: &str) -> bool {
    let Some(below) = object.location.prefix_match(prefix) else { return false };
    let parts: Vec<String> = below.map(|part| part.as_ref().to_string()).collect();
    !parts.iter().any(|part| part.starts_with('.') || part.starts_with('_')) && parts.last().is_some_and(|name| name.ends_with(extension))
}

/// Lists the Parquet or CSV objects of the source (the object its URL names, else every
/// data object below it) and makes the listing table over them.
pub(crate) async fn load_files(
    source: RemoteSource<'_>,
    declared: Option<datafusion::arrow::datatypes::SchemaRef>,
    csv: &CsvOptions,
    state: &SessionState,
) -> LoadedSource {
    let options = match source.options() {
        Ok(options) => options,
        Err(diagnostic) => return LoadedSource::failed(diagnostic),
    };
    // Registered in the session's runtime: DataFusion's scans of the source read through it.
    let store = match register_object_store(state.runtime_env(), &source.url, &options) {
        Ok(store) => store,
        Err(error) => return LoadedSource::failed(source.storage_error(&error)),
    };
    let key = match source.key() {
        Ok(key) => key,
        Err(diagnostic) => return LoadedSource::failed(diagnostic),
    };
    let extension = data_extension(source.format);
    let single = if source.url.key().is_empty() {
        None
    } else {
        match store.head(&key).await {
            Ok(object) => Some(object),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(error) => return LoadedSource::failed(source.refused(&error, "cannot read it")),
        }
    };
    let single_file = single.is_some();
    let objects = match single {
        Some(object) => vec![object],
        None => {
            let mut objects = Vec::new();
            let mut listing = store.list(Some(&key));
            while let Some(object) = listing.next().await {
                match object {
                    Ok(object) if is_data_object(&object, &key, extension) => objects.push(object),
                    Ok(_) => {}
                    Err(error) => return LoadedSource::failed(source.refused(&error, "cannot list it")),
                }
            }
            objects.sort_by(|a, b| a.location.cmp(&b.location));
            objects
        }
    };
    if objects.is_empty() {
        return LoadedSource::failed(Diagnostic::new(
            Code::SourceNotFound,
            source.location.clone(),
            format!("source `{}`: no `*{extension}` objects under `{}`", source.name, source.url),
        ));
    }
    let root = source.url.store_root();
    let files: Vec<SourceFile> = objects
        .iter()
        .map(|object| SourceFile {
            path: format!("{root}/{}", object.location),
            size: object.size,
            modified: object.last_modified.timestamp_nanos_opt().unwrap_or(0),
        })
        .collect();
    let listed_url = if single_file { source.url.to_string() } else { format!("{}/", source.url) };
    let table_url = match ListingTableUrl::parse(&listed_url) {
        Ok(url) => url,
        Err(error) => {
            return LoadedSource::failed(Diagnostic::new(
                Code::SourceLoadFailed,
                source.location.clone(),
                format!("source `{}`: {}", source.name, error.strip_backtrace()),
            ));
        }
    };
    let file_urls = match files.iter().map(|file| ListingTableUrl::parse(&file.path)).collect::<Result<Vec<_>, _>>() {
        Ok(urls) => urls,
        Err(error) => {
            return LoadedSource::failed(Diagnostic::new(
                Code::SourceLoadFailed,
                source.location.clone(),
                format!("source `{}`: {}", source.name, error.strip_backtrace()),
            ));
        }
    };
    let location_text = source.url.to_string();
    let listed = ListedFiles { format: source.format, location_text, table_url, file_urls, single_file, files, rows: None, declared };
    listing_source(source.name, listed, csv, state, source.location.clone()).await
}

/// `loaded`, with a failure's message redacted (opening a table or reading a schema reads
/// objects, and their errors are quoted).
pub(crate) fn redacted(loaded: LoadedSource, storage: &StorageSettings) -> LoadedSource {
    match loaded.resolution {
        viewdag_ir::SourceResolution::Failed(mut diagnostic) => {
            let redactor = storage.redactor();
            diagnostic.message = redactor.redact(&diagnostic.message);
            diagnostic.notes = diagnostic.notes.iter().map(|note| redactor.redact(note)).collect();
            LoadedSource::failed(diagnostic)
        }
        resolution => LoadedSource { resolution, ..loaded },
    }
}

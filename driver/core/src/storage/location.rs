//! Where a Delta table is: a local directory or an object-store URL, and how to open the
//! table there with the store's options. Every table viewdag opens (outputs,
//! materialized views' tables, an `append` output's existing schema) goes through here.
//!
//! ## Invariants
//! - A location's text (in reports, the run state and provider identities) is the path
//!   relative to the spec's directory, or the canonical URL: never an option value.
//! - Opening never creates anything; only [`delta_table_for_writing`] creates a local
//!   directory (an object store needs none).

use std::path::{Path, PathBuf};

use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use viewdag_ir::{StorageUrl, StorageUrlProblem};

use super::options::StoreOptions;

/// Where a table is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TableLocation {
    /// A local directory.
    Local(PathBuf),
    /// An object-store location.
    Url(StorageUrl),
}

/// Why a location has no URL deltalake can open.
#[derive(Debug, thiserror::Error)]
pub enum LocationUrlError {
    /// The path cannot be made absolute (the current directory cannot be read).
    #[error(transparent)]
    NotAbsolute(#[from] std::io::Error),
    /// The absolute path is not one a `file://` URL can name.
    #[error("cannot make a URL of {}", .0.display())]
    NotAFileUrl(PathBuf),
    /// An object-store location that does not parse as a URL.
    #[error(transparent)]
    Unparsable(#[from] url::ParseError),
}

/// `file://` URL of a directory (with a trailing slash).
pub fn directory_url(path: &Path) -> Result<url::Url, LocationUrlError> {
    let absolute = std::path::absolute(path)?;
    url::Url::from_directory_path(&absolute).map_err(|()| LocationUrlError::NotAFileUrl(absolute))
}

/// A path relative to `root`, with `/` separators (the path itself when it is not below `root`).
pub fn relative_location(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative.components().map(|component| component.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

impl TableLocation {
    /// The location a spec writes as `text` (relative to the spec's directory `root`, or a URL).
    pub fn of(root: &Path, text: &str) -> Result<TableLocation, StorageUrlProblem> {
        Ok(match StorageUrl::parse(text)? {
            Some(url) => TableLocation::Url(url),
            None => TableLocation::Local(root.join(text)),
        })
    }

    /// The location `name` below this one (a materialized view's table below `profile.tables`).
    pub fn join(&self, name: &str) -> TableLocation {
        match self {
            TableLocation::Local(path) => TableLocation::Local(path.join(name)),
            TableLocation::Url(url) => TableLocation::Url(url.join(name)),
        }
    }

    /// How reports, the run state and identities name it: relative to `root`, or the URL.
    pub fn text(&self, root: &Path) -> String {
        match self {
            TableLocation::Local(path) => relative_location(root, path),
            TableLocation::Url(url) => url.to_string(),
        }
    }

    /// The object-store location, when it is one.
    pub fn storage_url(&self) -> Option<&StorageUrl> {
        match self {
            TableLocation::Local(_) => None,
            TableLocation::Url(url) => Some(url),
        }
    }

    /// deltalake's URL of the table.
    pub fn url(&self) -> Result<url::Url, LocationUrlError> {
        match self {
            TableLocation::Local(path) => directory_url(path),
            TableLocation::Url(url) => Ok(url::Url::parse(&format!("{url}/"))?),
        }
    }
}

fn builder(location: &TableLocation, options: &StoreOptions) -> Result<DeltaTableBuilder, DeltaTableError> {
    let url = location.url().map_err(|error| DeltaTableError::InvalidTableLocation(error.to_string()))?;
    let builder = DeltaTableBuilder::from_url(url)?;
    Ok(match location {
        TableLocation::Local(_) => builder,
        TableLocation::Url(_) => builder.with_storage_options(options.to_map()),
    })
}

/// The Delta table at `location`, at `version` (else the latest).
pub async fn open_delta_table(
    location: &TableLocation,
    options: &StoreOptions,
    version: Option<u64>,
) -> Result<DeltaTable, DeltaTableError> {
    let builder = builder(location, options)?;
    match version {
        Some(version) => builder.with_version(version).load().await,
        None => builder.load().await,
    }
}

/// The table at `location` ready to be written: loaded when it exists, not yet created
/// (`version()` is `None`) when it does not. A local location's directory is created.
pub async fn delta_table_for_writing(location: &TableLocation, options: &StoreOptions) -> Result<DeltaTable, DeltaTableError> {
    if let TableLocation::Local(path) = location {
        std::fs::create_dir_all(path)
            .map_err(|error| DeltaTableError::InvalidTableLocation(format!("cannot create {}: {error}", path.display())))?;
    }
    let mut table = builder(location, options)?.build()?;
    match table.load().await {
        Ok(()) | Err(DeltaTableError::NotATable(_)) => Ok(table),
        Err(error) => Err(error),
    }
}

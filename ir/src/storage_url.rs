//! Object-store locations: `s3://bucket/key`, `gs://bucket/key`, `az://container/key`,
//! `abfss://container@account.dfs.core.windows.net/key`, wherever a spec names a path
//! (sources, outputs, `profile.tables`, `profile.paths.allow`) or a store (`profile.storage`).
//!
//! A path is a URL when it starts with `SCHEME://`; anything else is a local path. Parsing
//! is lexical and total: a text that looks like a URL but cannot be used is a
//! [`StorageUrlProblem`] (reported as `V0307 storage-url-invalid`), never a panic and never
//! silently a local path.
//!
//! ## Invariants
//! - Two spellings of one location parse to one [`StorageUrl`]: scheme aliases are
//!   canonical (`s3a` → `s3`, `azure` → `az`, `abfs` → `abfss`), the bucket is lowercase,
//!   empty key segments (a trailing or doubled `/`) are dropped. Keys stay case-sensitive.
//! - A key never holds `.` or `..` segments: object stores take them literally (`a/../b` is
//!   a key of its own), so they are refused instead of applied, and a URL cannot climb out
//!   of a prefix.
//! - A URL never carries credentials: user information (`s3://KEY:SECRET@bucket`), a query
//!   (`?X-Amz-Signature=…`, an Azure SAS) or a fragment is refused, so no secret can reach a
//!   plan, a digest or a message through a path. Credentials come from the environment.

use std::fmt;

/// Which object store a URL addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreKind {
    /// Amazon S3 and S3-compatible stores (`s3://`, `s3a://`).
    S3,
    /// Google Cloud Storage (`gs://`).
    Gcs,
    /// Azure Blob Storage / ADLS Gen2 (`az://`, `azure://`, `abfs://`, `abfss://`).
    Azure,
}

impl StoreKind {
    /// The family's name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::S3 => "S3",
            StoreKind::Gcs => "Google Cloud Storage",
            StoreKind::Azure => "Azure",
        }
    }
}

/// The schemes viewdag reads and writes, with their canonical spelling and store.
const SCHEMES: [(&str, &str, StoreKind); 6] = [
    ("s3", "s3", StoreKind::S3),
    ("s3a", "s3", StoreKind::S3),
    ("gs", "gs", StoreKind::Gcs),
    ("az", "az", StoreKind::Azure),
    ("azure", "az", StoreKind::Azure),
    ("abfss", "abfss", StoreKind::Azure),
];

/// `abfs` is `abfss` without TLS; both address the same data and object_store treats them alike.
const ABFS_ALIAS: &str = "abfs";

/// A location in an object store, canonical.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageUrl {
    /// The canonical scheme (`s3`, `gs`, `az`, `abfss`).
    scheme: &'static str,
    kind: StoreKind,
    /// The bucket or container (for `abfss`, `container@account.host`), lowercase.
    bucket: String,
    /// The key's segments below the bucket (empty: the bucket itself).
    key: Vec<String>,
}

/// Why a text that starts like a URL cannot be used as a location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageUrlProblem {
    #[error("`{scheme}://` is not an object store viewdag reads or writes (use s3://, gs://, az:// or abfss://, or a plain path)")]
    UnsupportedScheme { scheme: String },
    #[error("the URL names no bucket or container")]
    MissingBucket,
    #[error("the URL carries credentials or parameters (`{part}`): credentials come from the environment, never from a path")]
    CarriesCredentials { part: &'static str },
    #[error("the URL's key has a `{segment}` segment: object stores take it literally, so it is refused")]
    DotSegment { segment: String },
    #[error("the URL holds a control character")]
    ControlCharacter,
}

impl StorageUrl {
    /// `Ok(None)` when `text` is not a URL (a local path), `Ok(Some(url))` for a usable
    /// object-store location, `Err` for a URL that cannot be used.
    pub fn parse(text: &str) -> Result<Option<StorageUrl>, StorageUrlProblem> {
        let Some((scheme, rest)) = split_scheme(text) else { return Ok(None) };
        if text.chars().any(char::is_control) {
            return Err(StorageUrlProblem::ControlCharacter);
        }
        let lowercase = scheme.to_ascii_lowercase();
        let written = if lowercase == ABFS_ALIAS { "abfss" } else { lowercase.as_str() };
        let Some(&(_, canonical, kind)) = SCHEMES.iter().find(|(alias, _, _)| *alias == written) else {
            return Err(StorageUrlProblem::UnsupportedScheme { scheme: lowercase });
        };
        if rest.contains('?') {
            return Err(StorageUrlProblem::CarriesCredentials { part: "?query" });
        }
        if rest.contains('#') {
            return Err(StorageUrlProblem::CarriesCredentials { part: "#fragment" });
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        // `abfss://container@account.dfs.core.windows.net` names its container before the
        // `@`; anywhere else an `@` (or a `:` in abfss) is user information.
        let carries_user = match kind {
            StoreKind::Azure if canonical == "abfss" => authority.contains(':') || authority.matches('@').count() > 1,
            _ => authority.contains('@') || authority.contains(':'),
        };
        if carries_user {
            return Err(StorageUrlProblem::CarriesCredentials { part: "user:password@" });
        }
        if authority.is_empty() || authority.starts_with('@') || authority.ends_with('@') {
            return Err(StorageUrlProblem::MissingBucket);
        }
        let mut key = Vec::new();
        for segment in path.split('/') {
            match segment {
                "" => {}
                "." | ".." => return Err(StorageUrlProblem::DotSegment { segment: segment.to_string() }),
                segment => key.push(segment.to_string()),
            }
        }
        Ok(Some(StorageUrl { scheme: canonical, kind, bucket: authority.to_ascii_lowercase(), key }))
    }

    /// Whether `text` is spelled as a URL (`SCHEME://…`), usable or not.
    pub fn looks_like_url(text: &str) -> bool {
        split_scheme(text).is_some()
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// The canonical scheme (`s3`, `gs`, `az`, `abfss`).
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The bucket or container (lowercase).
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key's segments below the bucket.
    pub fn key(&self) -> &[String] {
        &self.key
    }

    /// The store this location lives in: `scheme://bucket`, without a key. Object stores
    /// (and their credentials) are configured per store root.
    pub fn store_root(&self) -> StorageUrl {
        StorageUrl { key: Vec::new(), ..self.clone() }
    }

    /// Whether this location is `other` or lies below it (`s3://b/a/x` is inside
    /// `s3://b/a`, not inside `s3://b/ab`).
    pub fn is_inside(&self, other: &StorageUrl) -> bool {
        self.scheme == other.scheme && self.bucket == other.bucket && self.key.starts_with(&other.key)
    }

    /// `self` with `segments` appended (each a single key segment, e.g. a view name).
    pub fn join(&self, segment: &str) -> StorageUrl {
        let mut joined = self.clone();
        joined.key.extend(segment.split('/').filter(|part| !part.is_empty()).map(str::to_string));
        joined
    }
}

/// Canonical text: `scheme://bucket/key` with no trailing slash.
impl fmt::Display for StorageUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}://{}", self.scheme, self.bucket)?;
        for segment in &self.key {
            write!(formatter, "/{segment}")?;
        }
        Ok(())
    }
}

/// `(scheme, rest)` when `text` starts with `SCHEME://` (an ASCII letter, then letters,
/// digits, `+`, `-`, `.`). A Windows drive (`C:\`) or a relative path never matches.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let mut characters = scheme.chars();
    let first = characters.next()?;
    (first.is_ascii_alphabetic() && characters.all(|character| character.is_ascii_alphanumeric() || "+-.".contains(character)))
        .then_some((scheme, rest))
}

#[cfg(test)]
mod tests {
    use super::{StorageUrl, StorageUrlProblem, StoreKind};

    fn url(text: &str) -> StorageUrl {
        StorageUrl::parse(text).unwrap().unwrap()
    }

    #[test]
    fn spellings_of_one_location_are_one_url() {
        assert_eq!(url("s3://lake/a/b"), url("s3a://Lake/a//b/"));
        assert_eq!(url("azure://c/x"), url("az://c/x"));
        assert_eq!(url("abfs://c@acct.dfs.core.windows.net/x"), url("abfss://c@acct.dfs.core.windows.net/x/"));
        assert_eq!(url("s3://lake/a/b").to_string(), "s3://lake/a/b");
        assert_eq!(url("gs://b").to_string(), "gs://b");
        assert_ne!(url("s3://lake/A"), url("s3://lake/a"), "keys are case-sensitive");
        assert_eq!(url("gs://b/x").kind(), StoreKind::Gcs);
    }

    #[test]
    fn local_paths_are_not_urls() {
        for path in ["data/orders", "/abs/x", "C:\\data", "./x://y", "", "1s3://b"] {
            assert_eq!(StorageUrl::parse(path), Ok(None), "{path}");
        }
    }

    #[test]
    fn unusable_urls_are_refused() {
        let problem = |text: &str| StorageUrl::parse(text).unwrap_err();
        assert!(matches!(problem("ftp://host/x"), StorageUrlProblem::UnsupportedScheme { .. }));
        assert!(matches!(problem("file:///tmp/x"), StorageUrlProblem::UnsupportedScheme { .. }));
        assert_eq!(problem("s3:///key"), StorageUrlProblem::MissingBucket);
        assert!(matches!(problem("s3://KEY:SECRET@lake/x"), StorageUrlProblem::CarriesCredentials { .. }));
        assert!(matches!(problem("s3://lake/x?X-Amz-Signature=abc"), StorageUrlProblem::CarriesCredentials { .. }));
        assert!(matches!(problem("abfss://c:pw@acct.host/x"), StorageUrlProblem::CarriesCredentials { .. }));
        assert!(matches!(problem("s3://lake/a/../b"), StorageUrlProblem::DotSegment { .. }));
        assert!(matches!(problem("gs://lake/./b"), StorageUrlProblem::DotSegment { .. }));
    }

    #[test]
    fn inside_is_by_whole_segments_within_one_bucket() {
        assert!(url("s3://b/a/x").is_inside(&url("s3://b/a")));
        assert!(url("s3://b/a").is_inside(&url("s3://b")));
        assert!(url("s3://b/a").is_inside(&url("s3://b/a/")));
        assert!(!url("s3://b/ab").is_inside(&url("s3://b/a")));
        assert!(!url("s3://c/a").is_inside(&url("s3://b")));
        assert!(!url("gs://b/a").is_inside(&url("s3://b")));
        assert_eq!(url("s3://b/t").join("view").to_string(), "s3://b/t/view");
        assert_eq!(url("s3://b/t/x").store_root().to_string(), "s3://b");
    }
}

//! Provider identities: what a plan reads, precisely enough that a changed input (a new
//! Delta version, a rewritten file) gives a different identity.
//!
//! DataFusion's `LogicalPlan` equality ignores a `TableScan`'s provider, so every value
//! that must change when data changes carries one of these next to its plan.
//!
//! A location is a path relative to the spec's directory, or an object-store URL in its
//! canonical form ([`crate::StorageUrl`]'s text, e.g. `s3://lake/orders`). An identity
//! never carries credentials, endpoints or any other storage option: only where the data
//! is and which version of it was read.
//!
//! [`ProviderIdentity::shape`] is the identity without its data version (the Delta version,
//! the file list): what a plan's *shape* depends on. Incremental refresh compares shapes
//! to tell "the same plan over more data" from "another plan".

use serde::Serialize;

use crate::spec::SourceFormat;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderIdentity {
    /// A Delta table at one version; `location` is relative to the spec's directory, or a URL.
    Delta { location: String, version: i64 },
    /// Parquet or CSV files (paths relative to the spec's directory, or URLs) sorted by path;
    /// `options` is how they are read when that differs from the defaults
    /// (`CsvOptions::canonical`), else empty.
    Files { format: SourceFormat, location: String, files: Vec<SourceFile>, options: String },
    /// A materialized view read by a downstream task: the table its task writes.
    Materialized { view: String },
}

/// One file of a Parquet or CSV source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SourceFile {
    /// Relative to the spec's directory, or the object's URL.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// For an object in an object store, its version as the store reports it (the ETag,
    /// which changes with the content even when the size does not); `None` for local files
    /// (whose modification times are not part of an identity, so a fresh checkout of the
    /// same files has the same identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl SourceFile {
    /// A local file.
    pub fn local(path: String, size: u64) -> Self {
        SourceFile { path, size, version: None }
    }
}

impl ProviderIdentity {
    /// A canonical one-line rendering, used in digests and plan bundles.
    pub fn canonical(&self) -> String {
        match self {
            ProviderIdentity::Delta { location, version } => format!("delta:{location}@v{version}"),
            ProviderIdentity::Files { format, location, files, options } => {
                let files: Vec<String> = files
                    .iter()
                    .map(|SourceFile { path, size, version }| match version {
                        Some(version) => format!("{path}:{size}@{version}"),
                        None => format!("{path}:{size}"),
                    })
                    .collect();
                let options = if options.is_empty() { String::new() } else { format!("({options})") };
                format!("{}{options}:{location}[{}]", format.as_str(), files.join(","))
            }
            ProviderIdentity::Materialized { view } => format!("materialized:{view}"),
        }
    }

    /// The identity without its data version: the table or file location and how it is
    /// read, never which version or which files (`delta:data/orders`,
    /// `parquet:data/facts`). Two identities with one shape read one relation at two points
    /// in its history.
    pub fn shape(&self) -> String {
        match self {
            ProviderIdentity::Delta { location, version: _ } => format!("delta:{location}"),
            ProviderIdentity::Files { format, location, files: _, options } => {
                let options = if options.is_empty() { String::new() } else { format!("({options})") };
                format!("{}{options}:{location}", format.as_str())
            }
            ProviderIdentity::Materialized { view } => format!("materialized:{view}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_has_no_data_version() {
        let at = |version| ProviderIdentity::Delta { location: "data/orders".into(), version };
        assert_eq!(at(3).shape(), at(4).shape());
        assert_eq!(at(3).shape(), "delta:data/orders");
        assert_ne!(at(3).canonical(), at(4).canonical());
        let files = |size| ProviderIdentity::Files {
            format: SourceFormat::Csv,
            location: "data/regions.csv".into(),
            files: vec![SourceFile::local("regions.csv".into(), size)],
            options: "delimiter=';'".into(),
        };
        assert_eq!(files(1).shape(), files(2).shape());
        assert_eq!(files(1).shape(), "csv(delimiter=';'):data/regions.csv");
    }
}

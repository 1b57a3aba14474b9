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
//! A file source (Parquet, CSV) is identified by its files, each with its size and its
//! modification time (nanoseconds since the Unix epoch, as the file system or the object
//! store reports it): a file rewritten in place with new contents of the same size gets a
//! new modification time, so the identity changes. No content hash is computed: a tool that
//! rewrites a file and then restores both its size and its modification time (`touch -r`,
//! `rsync -t` of other contents of the same size) is not seen.
//!
//! [`ProviderIdentity::shape`] is the identity without its data version (the Delta version,
//! the file list): what a plan's *shape* depends on. Incremental refresh compares shapes
//! to tell "the same plan over more data" from "another plan".

use serde::{Deserialize, Serialize};

use crate::spec::SourceFormat;

/// One file of a file source, as listed when the source was loaded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceFile {
    /// Relative to the spec's directory with `/` separators, or a URL.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, nanoseconds since the Unix epoch (0 when unknown).
    pub modified: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderIdentity {
    /// A Delta table at one version; `location` is relative to the spec's directory, or a URL.
    Delta { location: String, version: i64 },
    /// Parquet or CSV files (paths relative to the spec's directory, or URLs), each with its
    /// size in bytes and modification time, sorted by path; `options` is how they are read
    /// when that differs from the defaults (`CsvOptions::canonical`), else empty.
    Files { format: SourceFormat, location: String, files: Vec<SourceFile>, options: String },
    /// A materialized view read by a downstream task: the table its task writes.
    Materialized { view: String },
}

impl ProviderIdentity {
    /// A canonical one-line rendering, used in digests and plan bundles.
    pub fn canonical(&self) -> String {
        match self {
            ProviderIdentity::Delta { location, version } => format!("delta:{location}@v{version}"),
            ProviderIdentity::Files { format, location, files, options } => {
                let files: Vec<String> = files.iter().map(|file| format!("{}:{}@{}", file.path, file.size, file.modified)).collect();
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
        let files = |modified| ProviderIdentity::Files {
            format: SourceFormat::Csv,
            location: "data/regions.csv".into(),
            files: vec![SourceFile { path: "data/regions.csv".into(), size: 42, modified }],
            options: "delimiter=';'".into(),
        };
        assert_eq!(files(1).shape(), files(2).shape());
        // A file rewritten with the same size: another identity.
        assert_ne!(files(1).canonical(), files(2).canonical());
        assert_eq!(files(1).canonical(), "csv(delimiter=';'):data/regions.csv[data/regions.csv:42@1]");
        assert_eq!(files(1).shape(), "csv(delimiter=';'):data/regions.csv");
    }
}

//! Change detection per input, exact, from the Delta log or the file listing: how a relation
//! a task reads changed between the version its last refresh read (recorded in the run
//! state) and the version this run reads.
//!
//! - A Delta table whose commits since then hold only `add` actions with `dataChange: true`
//!   (plus commit infos, transactions, and rearrangements without data change) has
//!   **appended** exactly the files those commits added, read from the log
//!   (`LogStore::read_commit_entry` + `get_actions`, as deltalake's CDF loader does). A
//!   `remove` with data change, a `metaData` or `protocol` action, a deletion vector, a
//!   missing commit, an older version, or an appended file that is no longer active (a
//!   compaction since) is a **rewrite**.
//! - A file source whose earlier files are all still there with the same size and
//!   modification time, and that has new files, has appended those files. Any changed or
//!   removed file is a rewrite.
//!
//! An upstream viewdag table is a Delta table like any other: refreshed by an append, its
//! delta is that commit's files; merged or overwritten, it was rewritten.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use deltalake::kernel::{Action, Add};
use deltalake::logstore::get_actions;
use viewdag_ir::{ProviderIdentity, SourceFile};

/// How one relation changed since the last refresh read it.
#[derive(Debug, Clone)]
pub enum DetectedChange {
    /// The same version, the same files.
    Unchanged,
    /// Rows were appended, and nothing else changed.
    Appended(Appended),
    /// Anything else: a full refresh is needed.
    Rewritten(RewriteCause),
}

/// What was appended to a relation.
#[derive(Debug, Clone)]
pub enum Appended {
    /// Delta commits `from_version + 1 ..= to_version` added `adds` (data-changing adds only).
    Delta {
        /// The version the last refresh read.
        from_version: i64,
        /// The version read now.
        to_version: i64,
        /// The data-changing `add` actions of the commits in between.
        adds: Vec<Add>,
    },
    /// A file source gained `new_files`; `previous_files` are the ones the last refresh read.
    Files {
        /// Files listed now that were not listed then.
        new_files: Vec<SourceFile>,
        /// The files the last refresh read (all still unchanged).
        previous_files: Vec<SourceFile>,
        /// The new files' rows, once counted (`Compiler::with_counted_rows`: a Parquet
        /// file's footer, a CSV file read); `None` before, or when they cannot be read.
        rows: Option<u64>,
    },
}

impl Appended {
    /// How many files were appended.
    pub fn file_count(&self) -> usize {
        match self {
            Appended::Delta { adds, .. } => adds.len(),
            Appended::Files { new_files, .. } => new_files.len(),
        }
    }

    /// Their size in bytes.
    pub fn bytes(&self) -> u64 {
        match self {
            Appended::Delta { adds, .. } => adds.iter().map(|add| u64::try_from(add.size).unwrap_or(0)).sum(),
            Appended::Files { new_files, .. } => new_files.iter().map(|file| file.size).sum(),
        }
    }

    /// Their rows, when every file's statistics say (Delta `numRecords`) or the files were
    /// counted (Parquet, CSV); `None` otherwise.
    pub fn rows(&self) -> Option<u64> {
        match self {
            Appended::Delta { adds, .. } => adds.iter().try_fold(0u64, |rows, add| {
                let stats = add.get_stats().ok()??;
                Some(rows + u64::try_from(stats.num_records).ok()?)
            }),
            Appended::Files { rows, .. } => *rows,
        }
    }
}

/// Why a relation counts as rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewriteCause {
    /// The last refresh did not read it (a new input, or no refresh recorded).
    NotReadBefore,
    /// It is another table or another kind of source than the one last read.
    OtherRelation,
    /// Its version is older than the one last read (time travel back, a re-created table).
    VersionBehind {
        /// The version last read.
        read: i64,
        /// The version now.
        now: i64,
    },
    /// A commit in between could not be read (log cleaned up, unreadable).
    CommitUnreadable {
        /// The commit.
        version: i64,
        /// Why it cannot be read.
        message: String,
    },
    /// A commit removed data (an overwrite, a delete, an update, a merge).
    DataRemoved {
        /// The commit.
        version: i64,
    },
    /// A commit changed the table's metadata (schema, partitioning, properties).
    MetadataChanged {
        /// The commit.
        version: i64,
    },
    /// A commit changed the table's protocol.
    ProtocolChanged {
        /// The commit.
        version: i64,
    },
    /// A commit added a file with a deletion vector.
    DeletionVector {
        /// The commit.
        version: i64,
    },
    /// A file the appended commits added is no longer active (compacted since).
    AppendedFileGone {
        /// The file, as the log names it (decoded).
        path: String,
    },
    /// A file of a file source changed (size or modification time) or disappeared.
    FileChanged {
        /// The file, relative to the spec's directory.
        path: String,
    },
    /// An earlier task of the same run rewrites it (a merge, or a full refresh of a table
    /// refreshed before) before this task reads it: `viewdag plan` foresees it, and `run`
    /// holds to it even when the commit reads as an append (an overwrite of an empty table).
    RefreshedFirst,
    /// Opening the table failed.
    Unreadable {
        /// Why.
        message: String,
    },
}

impl fmt::Display for RewriteCause {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RewriteCause::NotReadBefore => write!(formatter, "it was not read by the last refresh"),
            RewriteCause::OtherRelation => write!(formatter, "it is not the table or files the last refresh read"),
            RewriteCause::VersionBehind { read, now } => write!(formatter, "its version {now} is older than the version {read} last read"),
            RewriteCause::CommitUnreadable { version, message } => write!(formatter, "its commit {version} cannot be read ({message})"),
            RewriteCause::DataRemoved { version } => write!(formatter, "its commit {version} removed data"),
            RewriteCause::MetadataChanged { version } => {
                write!(formatter, "its commit {version} changed its metadata (schema, partitioning or properties)")
            }
            RewriteCause::ProtocolChanged { version } => write!(formatter, "its commit {version} changed its protocol"),
            RewriteCause::DeletionVector { version } => write!(formatter, "its commit {version} added a deletion vector"),
            RewriteCause::AppendedFileGone { path } => {
                write!(formatter, "the appended file `{path}` is no longer active (compacted since)")
            }
            RewriteCause::FileChanged { path } => write!(formatter, "its file `{path}` changed or disappeared"),
            RewriteCause::RefreshedFirst => write!(formatter, "an earlier task of this run rewrites it first"),
            RewriteCause::Unreadable { message } => write!(formatter, "it cannot be read ({message})"),
        }
    }
}

/// How a file source changed from `previous` (what the last refresh listed) to `now`.
pub fn files_change(previous: &[SourceFile], now: &[SourceFile]) -> DetectedChange {
    let current: BTreeMap<&str, &SourceFile> = now.iter().map(|file| (file.path.as_str(), file)).collect();
    for file in previous {
        if current.get(file.path.as_str()) != Some(&file) {
            return DetectedChange::Rewritten(RewriteCause::FileChanged { path: file.path.clone() });
        }
    }
    let known: BTreeSet<&str> = previous.iter().map(|file| file.path.as_str()).collect();
    let new_files: Vec<SourceFile> = now.iter().filter(|file| !known.contains(file.path.as_str())).cloned().collect();
    if new_files.is_empty() {
        DetectedChange::Unchanged
    } else {
        DetectedChange::Appended(Appended::Files { new_files, previous_files: previous.to_vec(), rows: None })
    }
}

/// How a Delta table changed from `read` to `now`, from its commits in between: `commit(v)`
/// gives commit `v`'s bytes (`None`: missing). `active(path)` says whether a file (its
/// decoded path) is active at `now`.
pub async fn delta_change<Commit, CommitFuture, CommitError>(
    read: i64,
    now: i64,
    mut commit: Commit,
    active: impl Fn(&str) -> bool,
) -> DetectedChange
where
    Commit: FnMut(i64) -> CommitFuture,
    CommitFuture: std::future::Future<Output = Result<Option<bytes::Bytes>, CommitError>>,
    CommitError: std::fmt::Display,
{
    if now == read {
        return DetectedChange::Unchanged;
    }
    if now < read {
        return DetectedChange::Rewritten(RewriteCause::VersionBehind { read, now });
    }
    let mut adds = Vec::new();
    for version in read + 1..=now {
        let unreadable = |message: String| DetectedChange::Rewritten(RewriteCause::CommitUnreadable { version, message });
        let bytes = match commit(version).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return unreadable("missing from the log".to_string()),
            Err(error) => return unreadable(error.to_string()),
        };
        let actions = match u64::try_from(version)
            .map_err(|error| error.to_string())
            .and_then(|unsigned| get_actions(unsigned, &bytes).map_err(|error| error.to_string()))
        {
            Ok(actions) => actions,
            Err(message) => return unreadable(message),
        };
        for action in actions {
            let cause = match action {
                Action::Add(add) if add.deletion_vector.is_some() => Some(RewriteCause::DeletionVector { version }),
                Action::Add(add) => {
                    if add.data_change {
                        adds.push(add);
                    }
                    None
                }
                Action::Remove(remove) if remove.data_change => Some(RewriteCause::DataRemoved { version }),
                Action::Metadata(_) => Some(RewriteCause::MetadataChanged { version }),
                Action::Protocol(_) => Some(RewriteCause::ProtocolChanged { version }),
                // A change-data file accompanies a data change the other actions show.
                Action::Remove(_) | Action::Cdc(_) | Action::Txn(_) | Action::CommitInfo(_) | Action::DomainMetadata(_) => None,
            };
            if let Some(cause) = cause {
                return DetectedChange::Rewritten(cause);
            }
        }
    }
    if let Some(gone) = adds.iter().find(|add| !active(&percent_decoded(&add.path))) {
        return DetectedChange::Rewritten(RewriteCause::AppendedFileGone { path: percent_decoded(&gone.path) });
    }
    DetectedChange::Appended(Appended::Delta { from_version: read, to_version: now, adds })
}

/// A Delta log path with its `%XX` escapes decoded (as the snapshot lists paths).
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escape {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The files of a file source identity, or `None` for another kind of relation.
pub fn identity_files(identity: &ProviderIdentity) -> Option<&[SourceFile]> {
    match identity {
        ProviderIdentity::Files { files, .. } => Some(files),
        ProviderIdentity::Delta { .. } | ProviderIdentity::Materialized { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64, modified: i64) -> SourceFile {
        SourceFile { path: path.to_string(), size, modified }
    }

    #[test]
    fn new_files_are_appended_and_a_touched_file_is_a_rewrite() {
        let old = vec![file("d/a.csv", 10, 1)];
        assert!(matches!(files_change(&old, &old), DetectedChange::Unchanged));
        let grown = vec![file("d/a.csv", 10, 1), file("d/b.csv", 5, 2)];
        let DetectedChange::Appended(Appended::Files { new_files, .. }) = files_change(&old, &grown) else { panic!("an append") };
        assert_eq!(new_files, [file("d/b.csv", 5, 2)]);
        let same_size_rewritten = vec![file("d/a.csv", 10, 3), file("d/b.csv", 5, 2)];
        assert!(matches!(
            files_change(&old, &same_size_rewritten),
            DetectedChange::Rewritten(RewriteCause::FileChanged { path }) if path == "d/a.csv"
        ));
        assert!(matches!(files_change(&grown, &old), DetectedChange::Rewritten(RewriteCause::FileChanged { .. })));
    }

    fn run(future: impl std::future::Future<Output = DetectedChange>) -> DetectedChange {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    fn commits(lines: &[&'static str]) -> impl FnMut(i64) -> std::future::Ready<Result<Option<bytes::Bytes>, std::convert::Infallible>> {
        let lines: Vec<&'static str> = lines.to_vec();
        move |version| std::future::ready(Ok(lines.get(usize::try_from(version - 1).unwrap()).map(|line| bytes::Bytes::from(*line))))
    }

    const ADD: &str = r#"{"add":{"path":"part%20one.parquet","partitionValues":{},"size":100,"modificationTime":1,"dataChange":true,"stats":"{\"numRecords\":7}"}}"#;
    const REMOVE: &str = r#"{"remove":{"path":"old.parquet","dataChange":true,"deletionTimestamp":1}}"#;
    const COMPACTION: &str = "{\"remove\":{\"path\":\"x.parquet\",\"dataChange\":false,\"deletionTimestamp\":1}}\n{\"add\":{\"path\":\"y.parquet\",\"partitionValues\":{},\"size\":9,\"modificationTime\":1,\"dataChange\":false}}";

    #[test]
    fn commits_of_adds_only_are_an_append_of_their_files() {
        let change = run(delta_change(0, 2, commits(&[ADD, COMPACTION]), |path| path == "part one.parquet"));
        let DetectedChange::Appended(appended) = change else { panic!("an append: {change:?}") };
        assert_eq!((appended.file_count(), appended.bytes(), appended.rows()), (1, 100, Some(7)));
        let rewritten = run(delta_change(0, 2, commits(&[ADD, REMOVE]), |_| true));
        assert!(matches!(rewritten, DetectedChange::Rewritten(RewriteCause::DataRemoved { version: 2 })));
        let compacted_away = run(delta_change(0, 1, commits(&[ADD]), |_| false));
        assert!(matches!(compacted_away, DetectedChange::Rewritten(RewriteCause::AppendedFileGone { .. })));
        assert!(matches!(run(delta_change(3, 1, commits(&[]), |_| true)), DetectedChange::Rewritten(RewriteCause::VersionBehind { .. })));
        assert!(matches!(
            run(delta_change(0, 1, commits(&[]), |_| true)),
            DetectedChange::Rewritten(RewriteCause::CommitUnreadable { .. })
        ));
    }
}

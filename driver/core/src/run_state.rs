//! What the last runs wrote (`.viewdag/run-state.json` next to the spec): per task, the table
//! it wrote, the version it committed and a fingerprint of what produced it (the task digest
//! — the view's Merkle definition digest, which covers every source's identity and version
//! and every upstream definition, plus the optimizer pipeline — and how it was written).
//! A task whose fingerprint is unchanged, whose table is still at the recorded version and
//! none of whose upstream tasks was rewritten in this run is up to date: it is neither
//! planned nor run again.
//!
//! Runs are numbered (`run`). A run marks the state incomplete before its first commit and
//! complete after its last; every Delta commit it makes carries a Delta application
//! transaction (`txn`, app id [`APP_ID`]) whose version is the run's number. A run that
//! starts after an incomplete one (killed) resumes it: it keeps the number, and an append
//! task whose table already carries that number committed in the interrupted run and is not
//! appended again — even when the kill came between the commit and the state's save.
//!
//! The fingerprint is the canonical JSON of a typed value ([`TaskFingerprint`]: sorted keys,
//! no `Debug` text), so a change of how a type prints never re-runs a task; a change of what
//! it holds does. State files written before fingerprints were typed (no `format`) stay
//! readable — run numbers and the resume promise carry over — but their fingerprints match no
//! typed one, so their overwrite tasks run once more (an append is never up to date anyway).
//!
//! Each record also holds what the write *read* (every source's identity, every upstream
//! table's version) and the task's shape: a task is up to date only while everything it
//! reads is still what its record says (an upstream table rewritten by another run, even one
//! that ran only that table with `--select`, makes it out of date), and an incremental
//! refresh derives the change since from those reads (see `crate::refresh`).
//!
//! ## Invariants
//! - Only overwrite tasks are ever up to date: an append adds rows on every run.
//! - A missing or unreadable state file means nothing is up to date (everything runs); the
//!   file is replaced whole (temporary file, then rename) after each task's commit, so a
//!   crash leaves the state as of the last committed task, never a torn one, and a failed
//!   save leaves no temporary file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use viewdag_ir::ExpectationsSpec;
use viewdag_schedule::TaskId;

use crate::execute::RunStateSaveError;
use crate::execute::merge::TableWrite;

/// Where the state lives, relative to the spec's directory.
pub const RUN_STATE_FILE: &str = ".viewdag/run-state.json";

/// The Delta application-transaction id of viewdag's commits.
pub const APP_ID: &str = "viewdag";

/// The run state's format: 2 = typed fingerprints (files without `format` are 1).
pub const RUN_STATE_FORMAT: u32 = 2;

/// What the last runs wrote: `.viewdag/run-state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// The format this file was written in ([`RUN_STATE_FORMAT`]; 1 when absent).
    #[serde(default = "first_format")]
    pub format: u32,
    /// The number of the last run that started (0: none yet).
    #[serde(default)]
    pub run: u64,
    /// Whether that run finished (a killed run leaves `false`).
    #[serde(default = "finished_by_default")]
    pub complete: bool,
    /// Task id → what it last wrote.
    pub tasks: BTreeMap<TaskId, RecordedTask>,
    /// Task id → what a task executing in the current run will have written when its
    /// commit lands (`version`: the table's version before it, -1 for none). Saved before the
    /// task executes, so a run killed between a commit and the state's save is resumed with
    /// the record of what that commit read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<TaskId, RecordedTask>,
}

impl Default for RunState {
    fn default() -> Self {
        RunState { format: RUN_STATE_FORMAT, run: 0, complete: true, tasks: BTreeMap::new(), pending: BTreeMap::new() }
    }
}

fn first_format() -> u32 {
    1
}

fn finished_by_default() -> bool {
    true
}

/// One task's last write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTask {
    /// The table's location relative to the spec's directory.
    pub target: String,
    /// What its table was written from: [`TaskFingerprint::canonical_text`] (up-to-date check).
    pub fingerprint: String,
    /// The Delta version that write committed.
    pub version: i64,
    /// The task's shape when it wrote (its fingerprint without the data versions it read):
    /// an incremental refresh needs it unchanged. Empty in states written before it existed.
    #[serde(default)]
    pub shape: String,
    /// Every relation the write read (sources, materialized views' tables), at the
    /// identity it read: the task is up to date only while each is still what it reads, and
    /// an incremental refresh derives what changed since.
    #[serde(default)]
    pub reads: BTreeMap<String, viewdag_ir::ProviderIdentity>,
}

/// What produces a task's table, as recorded: the task digest (the view's Merkle definition
/// digest, which covers every source's identity and version and every upstream definition,
/// plus the surface and the optimizer pipeline), how the table is written, and an output's
/// own expectations (a view's are part of its definition digest).
#[derive(Debug, Serialize)]
pub struct TaskFingerprint<'a> {
    /// The view's task digest.
    pub task_digest: &'a str,
    /// Mode, partitioning and merge settings.
    pub write: &'a TableWrite,
    /// An output's expectations (they decide which rows land).
    pub output_expectations: Option<&'a ExpectationsSpec>,
}

impl TaskFingerprint<'_> {
    /// The fingerprint as the run state records it: canonical (sorted-key, compact) JSON.
    pub fn canonical_text(&self) -> String {
        viewdag_artifact::canonical::canonical_compact(self).expect("a fingerprint serializes")
    }
}

fn state_path(root: &Path) -> PathBuf {
    root.join(RUN_STATE_FILE)
}

impl RunState {
    /// The run state of the project at `root` (the default when there is none or it does not parse).
    pub fn load(root: &Path) -> RunState {
        std::fs::read_to_string(state_path(root)).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
    }

    /// Writes the state (to a temporary file first, then renamed over the old one).
    pub fn save(&self, root: &Path) -> Result<(), RunStateSaveError> {
        let state = RunState { format: RUN_STATE_FORMAT, ..self.clone() };
        let path = state_path(root);
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory)
                .map_err(|error| RunStateSaveError::CreateDirectory { directory: directory.to_path_buf(), message: error.to_string() })?;
        }
        let text = serde_json::to_string_pretty(&state).map_err(|error| RunStateSaveError::Serialize { message: error.to_string() })?;
        let temporary = path.with_extension("json.tmp");
        let unwritten = |path: PathBuf| move |error: std::io::Error| RunStateSaveError::Write { path, message: error.to_string() };
        let written = std::fs::write(&temporary, text)
            .map_err(unwritten(temporary.clone()))
            .and_then(|()| std::fs::rename(&temporary, &path).map_err(unwritten(path.clone())));
        if written.is_err() {
            // Never leave a half-written temporary file behind.
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }

    /// Starts a run: a new number after a complete run, the same number after an
    /// interrupted one. Returns the number and whether this run resumes an interrupted one.
    pub fn begin_run(&mut self) -> (u64, bool) {
        let resuming = !self.complete && self.run > 0;
        if !resuming {
            self.run += 1;
        }
        self.complete = false;
        (self.run, resuming)
    }

    /// The recorded version when `task` last wrote `target` with `fingerprint`, reading
    /// exactly `reads`.
    pub fn recorded_version(
        &self,
        task: &TaskId,
        target: &str,
        fingerprint: &str,
        reads: &BTreeMap<String, viewdag_ir::ProviderIdentity>,
    ) -> Option<i64> {
        self.tasks
            .get(task)
            .filter(|recorded| recorded.target == target && recorded.fingerprint == fingerprint && &recorded.reads == reads)
            .map(|recorded| recorded.version)
    }

    /// What `task` last wrote into `target`.
    pub fn recorded(&self, task: &TaskId, target: &str) -> Option<&RecordedTask> {
        self.tasks.get(task).filter(|recorded| recorded.target == target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state file from before typed fingerprints: still read (the run number and the
    /// resume flag carry over), its fingerprints simply match no typed one.
    #[test]
    fn a_state_file_without_a_format_is_read_and_saved_in_the_current_one() {
        let old = r#"{ "run": 7, "complete": false, "tasks": { "view:a": { "target": ".viewdag/tables/a", "fingerprint": "abc Overwrite []", "version": 3 } } }"#;
        let state: RunState = serde_json::from_str(old).expect("an old state file parses");
        assert_eq!((state.format, state.run, state.complete), (1, 7, false));
        let write = TableWrite::materialized();
        let typed = TaskFingerprint { task_digest: "abc", write: &write, output_expectations: None }.canonical_text();
        assert_eq!(state.recorded_version(&TaskId::View("a".into()), ".viewdag/tables/a", "abc Overwrite []", &BTreeMap::new()), Some(3));
        assert_eq!(
            state.recorded_version(&TaskId::View("a".into()), ".viewdag/tables/a", &typed, &BTreeMap::new()),
            None,
            "the old fingerprint is not the typed one"
        );

        let root = std::env::temp_dir().join(format!("viewdag-run-state-{}", std::process::id()));
        state.save(&root).expect("saved");
        let saved = RunState::load(&root);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!((saved.format, saved.run, saved.complete), (RUN_STATE_FORMAT, 7, false));
    }

    /// The fingerprint is canonical JSON of typed values: keys sorted, every write setting by
    /// name, and a change of any of them changes it.
    #[test]
    fn the_fingerprint_is_canonical_json_of_what_produced_the_table() {
        let write = TableWrite::materialized();
        let text = TaskFingerprint { task_digest: "d1", write: &write, output_expectations: None }.canonical_text();
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(value["task_digest"], "d1");
        assert_eq!(value["write"]["mode"], "overwrite");
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "sorted keys: {keys:?}");
        let partitioned = TableWrite { partition_by: vec!["day".to_string()], ..TableWrite::materialized() };
        let other = TaskFingerprint { task_digest: "d1", write: &partitioned, output_expectations: None }.canonical_text();
        assert_ne!(text, other);
    }
}

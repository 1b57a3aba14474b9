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

/// Where the state lives, relative to the spec's directory.
pub const RUN_STATE_FILE: &str = ".viewdag/run-state.json";

/// The Delta application-transaction id of viewdag's commits.
pub const APP_ID: &str = "viewdag";

/// What the last runs wrote: `.viewdag/run-state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// The number of the last run that started (0: none yet).
    #[serde(default)]
    pub run: u64,
    /// Whether that run finished (a killed run leaves `false`).
    #[serde(default = "finished_by_default")]
    pub complete: bool,
    /// Task id → what it last wrote.
    pub tasks: BTreeMap<String, RecordedTask>,
    /// Task id → what a task executing in the current run will have written when its
    /// commit lands (`version`: the table's version before it, -1 for none). Saved before the
    /// task executes, so a run killed between a commit and the state's save is resumed with
    /// the record of what that commit read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, RecordedTask>,
}

impl Default for RunState {
    fn default() -> Self {
        RunState { run: 0, complete: true, tasks: BTreeMap::new(), pending: BTreeMap::new() }
    }
}

fn finished_by_default() -> bool {
    true
}

/// One task's last write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTask {
    /// The table's location relative to the spec's directory.
    pub target: String,
    /// The task digest its table was written from (up-to-date check).
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

fn state_path(root: &Path) -> PathBuf {
    root.join(RUN_STATE_FILE)
}

impl RunState {
    /// The run state of the project at `root` (the default when there is none or it does not parse).
    pub fn load(root: &Path) -> RunState {
        std::fs::read_to_string(state_path(root)).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
    }

    /// Writes the state (to a temporary file first, then renamed over the old one).
    pub fn save(&self, root: &Path) -> Result<(), String> {
        let path = state_path(root);
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory).map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|error| error.to_string())?;
        let temporary = path.with_extension("json.tmp");
        let written = std::fs::write(&temporary, text)
            .map_err(|error| format!("cannot write {}: {error}", temporary.display()))
            .and_then(|()| std::fs::rename(&temporary, &path).map_err(|error| format!("cannot write {}: {error}", path.display())));
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
        task: &str,
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
    pub fn recorded(&self, task: &str, target: &str) -> Option<&RecordedTask> {
        self.tasks.get(task).filter(|recorded| recorded.target == target)
    }
}

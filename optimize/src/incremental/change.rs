//! What the derivation is told about its inputs: which relations gained rows since the
//! table was last refreshed, each with two scan sources the driver builds (it does the
//! I/O: reading the Delta log, listing files, time travel).
//!
//! A relation is named as its scans name it (a source's or a materialized view's name).
//! Every relation not listed is unchanged. The pass itself never reads data.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::logical_expr::TableSource;

/// A relation that gained rows: its new rows and the relation as last read.
#[derive(Clone)]
pub struct AppendedInput {
    /// A source reading exactly the appended rows (the files the new commits added, or the
    /// new files of a file source), with the relation's schema.
    pub delta: Arc<dyn TableSource>,
    /// A source reading the relation as the last refresh read it (the Delta version it
    /// read, the files it listed), with the relation's schema. Joins need it: the change
    /// of `L ⋈ R` is `ΔL ⋈ R_new ∪ L_old ⋈ ΔR`.
    pub previous: Arc<dyn TableSource>,
}

impl std::fmt::Debug for AppendedInput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("AppendedInput").finish_non_exhaustive()
    }
}

/// Which relations a task reads gained rows (and nothing else) since its last refresh.
#[derive(Debug, Clone, Default)]
pub struct InputChanges {
    appended: BTreeMap<String, AppendedInput>,
}

impl InputChanges {
    /// No relation changed.
    pub fn new() -> Self {
        InputChanges::default()
    }

    /// `relation` gained rows.
    pub fn with_appended(mut self, relation: impl Into<String>, input: AppendedInput) -> Self {
        self.appended.insert(relation.into(), input);
        self
    }

    /// The appended input named `relation`, if it gained rows.
    pub fn appended(&self, relation: &str) -> Option<&AppendedInput> {
        self.appended.get(relation)
    }

    /// The relations that gained rows, by name.
    pub fn relations(&self) -> impl Iterator<Item = &str> {
        self.appended.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.appended.is_empty()
    }
}

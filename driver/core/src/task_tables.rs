//! Where each task's Delta table is — an output's `path`, or a materialized view's table
//! below `profile.tables` (default `.viewdag/tables`), on disk or in an object store — and
//! opening it with its store's options. `run`, `run --select` and `viewdag test` read task
//! tables through here.
//!
//! ## Invariants
//! - A task's location is a function of the spec alone (no I/O); its text (reports, the run
//!   state, the identity a materialized view's readers scan) is the path relative to the
//!   spec's directory, or the canonical URL.
//! - A location the spec spells as an unusable URL (`V0307` on the output or on
//!   `profile.tables`) is never written: such a task is blocked by its diagnostic (see
//!   `run`), and the location given here for it is only a name.

use deltalake::DeltaTable;
use viewdag_ir::{DEFAULT_TABLES_LOCATION, ProjectInput};
use viewdag_schedule::{Task, TaskKind};

use crate::snapshot::Snapshot;
use crate::storage::location::open_delta_table;
use crate::storage::{StorageError, StoreOptions, TableLocation};

/// Why a task's table cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskTableError {
    /// The options of the table's store cannot be used.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The table does not open (it may not exist yet).
    #[error("{redacted}")]
    Unopened {
        /// deltalake's error, every credential of the environment replaced by `***`.
        redacted: String,
    },
}

impl Snapshot<'_> {
    /// Where `task`'s table is.
    pub(crate) fn task_target(&self, task: &Task) -> TableLocation {
        let location = |text: &str| {
            TableLocation::of(self.root, text).unwrap_or_else(|_| TableLocation::Local(self.root.join(DEFAULT_TABLES_LOCATION)))
        };
        match &task.kind {
            TaskKind::Materialize => {
                let profile = ProjectInput::try_get(self.db).map(|project| project.profile(self.db).tables_location().to_string());
                location(profile.as_deref().unwrap_or(DEFAULT_TABLES_LOCATION)).join(&task.view)
            }
            TaskKind::Output { output } => {
                let spec = self.outputs.iter().find(|(name, _)| name == output).map(|(_, spec)| spec).expect("tasks come from the outputs");
                location(&spec.path)
            }
        }
    }

    /// How reports and the run state name `task`'s table.
    pub(crate) fn task_target_text(&self, task: &Task) -> String {
        self.task_target(task).text(self.root)
    }

    /// The options of the store `location` is in (none for a local directory).
    pub(crate) fn location_options(&self, location: &TableLocation) -> Result<StoreOptions, StorageError> {
        match location.storage_url() {
            None => Ok(StoreOptions::default()),
            Some(url) => self.storage.options(url),
        }
    }

    /// `task`'s table at its latest version, or why it cannot be opened (redacted).
    pub(crate) fn open_task_table(&self, task: &Task) -> Result<DeltaTable, TaskTableError> {
        let target = self.task_target(task);
        let options = self.location_options(&target)?;
        self.db
            .tokio()
            .block_on(open_delta_table(&target, &options, None))
            .map_err(|error| TaskTableError::Unopened { redacted: self.storage.redactor().redact(&error.to_string()) })
    }
}

//! Deciding how a task that is not up to date is refreshed, with the I/O it needs (opening
//! Delta logs, listing files): what the task reads now (`Snapshot::task_reads`), how each
//! input changed since the last refresh read it, and the resulting [`RefreshPath`]. `run`
//! decides this way before planning a task, and `viewdag plan` the same way without running.
//!
//! ## Invariants
//! - Incremental only when everything but the data is unchanged: the task's shape (its
//!   definition, upstream definitions, source schemas, surface, pipeline and how it writes),
//!   its table's version (nobody else wrote it), and every input either unchanged or appended
//!   to (and at least one appended).
//! - Every other case is a full refresh with its reason; nothing is guessed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use viewdag_ir::{ExpectationKind, ProjectInput, ProviderIdentity, RefreshPolicy, SourceResolution, SurfaceInput, WriteMode};
use viewdag_optimize::incremental::AppendedInput;
use viewdag_schedule::{Task, TaskKind, reads_through_ephemeral_views};
use viewdag_surface::planning_session;
use viewdag_validate::{Relation, resolve_relation};

use super::change_detection::{Appended, DetectedChange, RewriteCause, delta_change, files_change};
use super::increment_sources::{AppendedReadError, delta_appended_input, files_appended_input};
use super::path::{AppendedRelation, FullRefreshReason, RefreshPath};
use crate::run_state::RunState;
use crate::snapshot::Snapshot;
use crate::sources::{directory_url, pinned_files_table};

/// What a task's refresh decision is made from, besides its inputs.
#[derive(Debug, Clone)]
pub struct RefreshFacts<'a> {
    /// `--full-refresh` or `--force`, when given.
    pub requested: Option<&'static str>,
    /// The shape and reads its last refresh recorded, with the table version it committed
    /// (`None`: no refresh recorded for this table).
    pub recorded: Option<RecordedRefresh<'a>>,
    /// The task's shape now (`None`: it has none, e.g. a broken view).
    pub shape: Option<&'a str>,
    /// The table's version now (`None`: no table).
    pub table_version: Option<i64>,
    /// The engine's name when it refreshes every task fully.
    pub engine_refreshes_fully: Option<String>,
}

/// What the last refresh of a task recorded.
#[derive(Debug, Clone, Copy)]
pub struct RecordedRefresh<'a> {
    /// Its shape fingerprint.
    pub shape: &'a str,
    /// Every relation it read, at the identity it read.
    pub reads: &'a BTreeMap<String, ProviderIdentity>,
    /// The version it committed.
    pub version: i64,
}

impl Snapshot<'_> {
    /// What `task` reads now, by relation: each source's loaded identity and each
    /// materialized input's bound table (`Materialized { view }` while none is bound).
    pub(crate) fn task_reads(&self, task: &Task) -> BTreeMap<String, ProviderIdentity> {
        let materialized = |name: &str| self.is_materialized(name);
        let project = ProjectInput::get(self.db);
        let mut reads = BTreeMap::new();
        for name in reads_through_ephemeral_views(&self.structure().dag, &task.view, &materialized) {
            match resolve_relation(self.db, project, name.clone()) {
                Some(Relation::Source(source)) => {
                    if let SourceResolution::Resolved { identity, .. } = source.resolution(self.db) {
                        reads.insert(name, identity.clone());
                    }
                }
                Some(Relation::View(view)) if materialized(&name) => {
                    let bound = view.materialized_table(self.db).clone();
                    reads.insert(name.clone(), bound.unwrap_or(ProviderIdentity::Materialized { view: name }));
                }
                Some(Relation::View(_)) | None => {}
            }
        }
        reads
    }

    /// The facts `task`'s refresh is decided from: `(force, full_refresh)` as `run` was
    /// asked, what `run_state` recorded of its last refresh, its `shape` now, its table's
    /// version now, and whether the engine refreshes fully.
    pub(crate) fn refresh_facts<'a>(
        &self,
        task: &Task,
        run_state: &'a RunState,
        shape: &'a str,
        (force, full_refresh): (bool, bool),
        engine_refreshes_fully: Option<String>,
    ) -> RefreshFacts<'a> {
        let requested = if force {
            Some("--force")
        } else if full_refresh {
            Some("--full-refresh")
        } else {
            None
        };
        let recorded = run_state.recorded(&task.id, &self.task_target_text(task));
        RefreshFacts {
            requested,
            recorded: recorded.map(|recorded| RecordedRefresh {
                shape: &recorded.shape,
                reads: &recorded.reads,
                version: recorded.version,
            }),
            shape: Some(shape),
            table_version: recorded.and_then(|_| self.table_version(task)),
            engine_refreshes_fully,
        }
    }

    /// The task's `refresh` (a materialized view's, or an output's), `auto` when unset.
    pub(crate) fn refresh_policy(&self, task: &Task) -> RefreshPolicy {
        let declared = match &task.kind {
            TaskKind::Materialize => {
                self.view_input(&task.view).and_then(|view| view.definition(self.db).as_ref().and_then(|definition| definition.refresh))
            }
            TaskKind::Output { output } => self.outputs.iter().find(|(name, _)| name == output).and_then(|(_, spec)| spec.refresh),
        };
        declared.unwrap_or_default()
    }

    /// The first expectation of `task` that is checked over the whole table rather than row
    /// by row (`unique`, `row_count`), which an increment cannot check.
    pub(crate) fn whole_table_expectation(&self, task: &Task) -> Option<&'static str> {
        self.task_expectation_blocks(task).iter().flat_map(|(_, block)| block.expectations()).find_map(|expectation| {
            match expectation.kind {
                ExpectationKind::Unique { .. } => Some("unique"),
                ExpectationKind::RowCount { .. } => Some("row_count"),
                _ => None,
            }
        })
    }

    /// Whether `task` has expectations at all.
    pub(crate) fn has_expectations(&self, task: &Task) -> bool {
        self.task_expectation_blocks(task).iter().any(|(_, block)| !block.is_empty())
    }

    /// How `task`, which is not up to date, is refreshed, given `facts` and what it reads
    /// now (`reads`). Reads Delta logs and file listings.
    pub(crate) fn refresh_path(
        &self,
        task: &Task,
        mode: WriteMode,
        facts: &RefreshFacts<'_>,
        reads: &BTreeMap<String, ProviderIdentity>,
    ) -> RefreshPath {
        let full = RefreshPath::Full;
        if let Some(mode) = write_mode_name(mode) {
            return full(FullRefreshReason::WriteMode { mode });
        }
        if let Some(flag) = facts.requested {
            return full(FullRefreshReason::Requested { flag });
        }
        if self.refresh_policy(task) == RefreshPolicy::Full {
            return full(FullRefreshReason::PolicyFull);
        }
        let Some(recorded) = facts.recorded else { return full(FullRefreshReason::FirstRefresh) };
        if facts.shape != Some(recorded.shape) {
            return full(FullRefreshReason::DefinitionChanged);
        }
        if facts.table_version != Some(recorded.version) {
            return full(FullRefreshReason::TableChanged { recorded: recorded.version, now: facts.table_version });
        }
        if let Some(engine) = &facts.engine_refreshes_fully {
            return full(FullRefreshReason::Engine { engine: engine.clone() });
        }
        if let Some(kind) = self.whole_table_expectation(task) {
            return full(FullRefreshReason::WholeTableExpectation { kind });
        }
        let mut appended = Vec::new();
        for (relation, now) in reads {
            let change = match recorded.reads.get(relation) {
                None => DetectedChange::Rewritten(RewriteCause::NotReadBefore),
                Some(read) => self.detect_change(read, now),
            };
            match change {
                DetectedChange::Unchanged => {}
                DetectedChange::Appended(change) => {
                    appended.push(AppendedRelation { relation: relation.clone(), appended: self.with_counted_rows(change, now) })
                }
                DetectedChange::Rewritten(cause) => {
                    return full(FullRefreshReason::InputRewritten { relation: relation.clone(), cause });
                }
            }
        }
        if appended.is_empty() {
            // Nothing it reads changed, yet it is not up to date: how it is written did.
            return full(FullRefreshReason::WriteSettingsChanged);
        }
        RefreshPath::Incremental(appended)
    }

    /// How a relation changed from `read` (what the last refresh read) to `now`.
    pub(crate) fn detect_change(&self, read: &ProviderIdentity, now: &ProviderIdentity) -> DetectedChange {
        if read == now {
            return DetectedChange::Unchanged;
        }
        match (read, now) {
            (ProviderIdentity::Delta { location: before, version: read }, ProviderIdentity::Delta { location, version: now })
                if before == location =>
            {
                self.delta_change(location, *read, *now)
            }
            (
                ProviderIdentity::Files { format: read_format, location: read_location, files: read_files, options: read_options },
                ProviderIdentity::Files { format, location, files, options },
            ) if read_format == format && read_location == location && read_options == options => files_change(read_files, files),
            _ => DetectedChange::Rewritten(RewriteCause::OtherRelation),
        }
    }

    fn delta_change(&self, location: &str, read: i64, now: i64) -> DetectedChange {
        if now <= read {
            return self.db.tokio().block_on(delta_change(
                read,
                now,
                |_| std::future::ready(Ok::<_, std::convert::Infallible>(None)),
                |_| true,
            ));
        }
        let unreadable = |message: String| DetectedChange::Rewritten(RewriteCause::Unreadable { message });
        let url = match location_url(self.root, location) {
            Ok(url) => url,
            Err(error) => return unreadable(error.to_string()),
        };
        self.db.tokio().block_on(async {
            let unsigned = u64::try_from(now).map_err(|error| error.to_string());
            let table = match unsigned {
                Ok(version) => deltalake::open_table_with_version(url, version).await.map_err(|error| error.to_string()),
                Err(message) => Err(message),
            };
            let table = match table {
                Ok(table) => table,
                Err(message) => return unreadable(message),
            };
            let active: BTreeSet<String> = match table.snapshot() {
                Ok(state) => state.log_data().iter().map(|file| file.path().into_owned()).collect(),
                Err(error) => return unreadable(error.to_string()),
            };
            let log_store = table.log_store();
            delta_change(
                read,
                now,
                |version| {
                    let log_store = Arc::clone(&log_store);
                    async move {
                        let version = u64::try_from(version)?;
                        Ok::<_, AppendedReadError>(log_store.read_commit_entry(version).await?)
                    }
                },
                |path| active.contains(path),
            )
            .await
        })
    }

    /// `change` with a file source's new files' rows counted, so that every append reports
    /// `+N rows`: read as the source reads them (a Parquet file's count comes from its
    /// footer, a CSV file is read). Left uncounted when they cannot be read (the increment
    /// reading them fails the same way).
    fn with_counted_rows(&self, change: Appended, now: &ProviderIdentity) -> Appended {
        let (Appended::Files { new_files, previous_files, rows: None }, ProviderIdentity::Files { format, .. }) = (&change, now) else {
            return change;
        };
        let count = || -> Option<u64> {
            let schema = viewdag_surface::Db::provider(self.db, now)?.schema();
            let csv = &ProjectInput::get(self.db).profile(self.db).surface.csv;
            let table = pinned_files_table(*format, csv, self.root, new_files, &schema).ok()?;
            let state = planning_session(self.db, SurfaceInput::get(self.db)).state.as_ref().clone();
            let context = SessionContext::new_with_state(state);
            let rows = self.db.tokio().block_on(async { context.read_table(Arc::new(table)).ok()?.count().await.ok() })?;
            u64::try_from(rows).ok()
        };
        let rows = count();
        Appended::Files { new_files: new_files.clone(), previous_files: previous_files.clone(), rows }
    }

    /// The derivation's scan sources for a relation that gained rows (`now`: how it is read
    /// now).
    pub(crate) fn appended_input(&self, relation: &AppendedRelation, now: &ProviderIdentity) -> Result<AppendedInput, AppendedReadError> {
        let provider =
            viewdag_surface::Db::provider(self.db, now).ok_or_else(|| AppendedReadError::NoProvider(relation.relation.clone()))?;
        let schema = provider.schema();
        match (&relation.appended, now) {
            (Appended::Delta { from_version, to_version, adds }, ProviderIdentity::Delta { location, .. }) => {
                let url = location_url(self.root, location)?;
                self.db.tokio().block_on(delta_appended_input(&url, *to_version, *from_version, adds.clone(), &schema))
            }
            (Appended::Files { new_files, previous_files, .. }, ProviderIdentity::Files { format, .. }) => {
                let csv = &ProjectInput::get(self.db).profile(self.db).surface.csv;
                files_appended_input(self.root, *format, csv, new_files, previous_files, &schema)
            }
            _ => Err(AppendedReadError::ChangedKind(relation.relation.clone())),
        }
    }
}

/// The mode's name when it is one that is always refreshed fully.
fn write_mode_name(mode: WriteMode) -> Option<&'static str> {
    match mode {
        WriteMode::Overwrite => None,
        WriteMode::Append => Some("append"),
        WriteMode::Merge => Some("merge"),
        WriteMode::ReplaceWhere => Some("replace_where"),
    }
}

/// The URL of a local table location (relative to the spec's directory). A Delta table in an
/// object store is not read here: its changes are not derived (opening it needs its store's
/// options), so a task reading one that changed is refreshed fully.
pub(crate) fn location_url(root: &Path, location: &str) -> Result<url::Url, AppendedReadError> {
    if viewdag_ir::StorageUrl::looks_like_url(location) {
        return Err(AppendedReadError::InObjectStore(location.to_string()));
    }
    Ok(directory_url(&root.join(location))?)
}

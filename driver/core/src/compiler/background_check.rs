//! A check that runs away from the host: what an editor needs to answer requests while the
//! whole project is being checked, and to drop a check a newer edit made stale.
//!
//! [`Compiler::prepare_check`](crate::Compiler::prepare_check) sets the inputs of a text
//! (parse, sources, existing data: the host's part) and returns a [`BackgroundCheck`]: an
//! owned handle of the same salsa database, the project and the text's span index. Its
//! [`BackgroundCheck::run`] asks the project's check queries on whatever thread it is
//! called from, while the host keeps answering other queries (a hover's schemas, the DAG)
//! on its own handle: salsa shares memos between handles, and a query one handle is
//! computing is waited for, never computed twice.
//!
//! ## Invariants
//! - A background check never sets an input (it holds a database handle, not the host).
//! - The next input the host sets cancels it (salsa 0.28: setting an input waits until every
//!   other handle is dropped, after flagging them; a flagged handle unwinds with
//!   `salsa::Cancelled` at its next query). [`BackgroundCheck::run`] catches that unwinding
//!   and returns [`CheckCancelled`], having dropped its handle, so the host's setter goes
//!   on. What the cancelled check had finished stays memoized; the next check verifies it
//!   and computes the rest.
//! - Because the host's setter waits for the handle, a `BackgroundCheck` must be run (or
//!   dropped) by a thread other than the host's: holding one on the host's thread while
//!   setting inputs would wait forever.
//! - [`BackgroundCheck::edited_views_check`] answers the edited entries first: the
//!   diagnostics of the views whose definitions this text changed (or added): what the
//!   DAG's structure says of them and each view's own, from the queries the whole check
//!   reads (so the check reuses them). When only definitions changed since the last result,
//!   each view keeping its name, what it reads and whether it is materialized
//!   ([`BackgroundCheck::keeps_shape`]), the structure is that result's: its diagnostics
//!   were published with it, and only the views' own are new.
//!   Diagnostics an edit causes elsewhere (a reader now blocked) come with the whole check.
//! - A completed run's response is exactly what `check_text` of the same text returns
//!   (the same collecting function), but its `executions` and `stats` stay empty: they are
//!   named by the host.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use viewdag_ir::{Diagnostic, ProjectInput, Section, SpanIndex};
use viewdag_lower::{view_check, view_expectation_diagnostics};
use viewdag_validate::{Relation, resolve_relation, spec_structure};

use super::edit_scope::{AssemblySlot, CompilePlan};
use super::{AppliedSource, CompileRequest, CompileResponse, Compiler, Planning, SpecInput, collect_response, sort_by_position};
use crate::database::Database;

impl Compiler {
    /// Sets the inputs for `text` (without asking a query) and hands back the check of the
    /// new inputs, to run on any thread: a newer `check_text`, `prepare_check` or compile
    /// cancels it (see [`BackgroundCheck`]). An unreadable text held over the last readable
    /// one (`set_hold_inputs_while_unreadable`) needs no query: its response comes back at once.
    pub fn prepare_check(&mut self, spec_path: &Path, text: &str) -> PreparedCheck {
        let request = CompileRequest::of(SpecInput::File(spec_path.to_path_buf()), Planning::CheckOnly);
        match self.apply_source(spec_path, text, &request) {
            AppliedSource::Unreadable(response) => PreparedCheck::Answered(response),
            AppliedSource::InputsSet { .. } => {
                // Events so far were this host's; the background check's are not named.
                drop(self.db.take_events());
                let spans = Arc::clone(&self.spec.as_ref().expect("spec is read").spans);
                let plan = self.compile_plan(Planning::CheckOnly);
                PreparedCheck::Pending(BackgroundCheck {
                    plan,
                    slot: Arc::clone(&self.assembly),
                    database: self.db.clone(),
                    project: self.project.expect("inputs are set"),
                    spans,
                    spec_path: spec_path.to_path_buf(),
                    planning: Planning::CheckOnly,
                    edited_views: self.edited_views.clone(),
                })
            }
        }
    }
}

/// What [`Compiler::prepare_check`](crate::Compiler::prepare_check) hands back.
pub enum PreparedCheck {
    /// The response needs no query (a text that does not parse, the last readable inputs
    /// held): here it is.
    Answered(CompileResponse),
    /// The check of the new inputs, to run on another thread.
    Pending(BackgroundCheck),
}

/// A check of the inputs set for one text, runnable on any thread until a newer input
/// cancels it.
pub struct BackgroundCheck {
    database: Database,
    project: ProjectInput,
    spans: Arc<SpanIndex>,
    spec_path: PathBuf,
    planning: Planning,
    /// How the project's compile is got, and where the result goes (the host's slot).
    plan: CompilePlan,
    slot: AssemblySlot,
    /// The views whose definitions the text changed or added, in declaration order.
    edited_views: Vec<String>,
}

/// A newer edit set inputs while the check ran: its answer would describe an older text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the check was cancelled: newer inputs were set while it ran")]
pub struct CheckCancelled;

impl BackgroundCheck {
    /// The views whose definitions the checked text changed or added, in declaration order.
    pub fn edited_views(&self) -> &[String] {
        &self.edited_views
    }

    /// Whether the checked inputs keep the shape of the last result (only view definitions
    /// were set since it, each keeping its name, what it reads and whether it is
    /// materialized): that result's structure — names, the DAG, the structural diagnostics
    /// — is this text's too.
    pub fn keeps_shape(&self) -> bool {
        self.plan.keeps_shape()
    }

    /// The diagnostics of the edited views alone (the structure's about them — unless
    /// [`BackgroundCheck::keeps_shape`], when they are the last result's and the structure
    /// is not read —, their own and their expectations'), sorted by position: what an
    /// editor shows first, before the whole check completes.
    pub fn edited_views_check(&self) -> Result<Vec<Diagnostic>, CheckCancelled> {
        let checked = salsa::Cancelled::catch(AssertUnwindSafe(|| {
            // What the structure says of them (unknown references, cycles), then their checks.
            let mut diagnostics: Vec<Diagnostic> = Vec::new();
            if !self.keeps_shape() {
                let structure = spec_structure(&self.database);
                diagnostics.extend(
                    structure
                        .diagnostics
                        .iter()
                        .filter(|diagnostic| {
                            diagnostic.location.section == Section::Views
                                && diagnostic.entry().is_some_and(|entry| self.edited_views.iter().any(|name| name == entry))
                        })
                        .cloned(),
                );
            }
            for name in &self.edited_views {
                let Some(Relation::View(view)) = resolve_relation(&self.database, self.project, name.clone()) else { continue };
                diagnostics.extend(view_check(&self.database, view).diagnostics.iter().cloned());
                diagnostics.extend(view_expectation_diagnostics(&self.database, view).iter().cloned());
            }
            diagnostics
        }));
        let mut diagnostics = checked.map_err(|_cancelled| CheckCancelled)?;
        sort_by_position(&mut diagnostics, &self.spans);
        diagnostics.dedup();
        Ok(diagnostics)
    }

    /// Runs the check; its database handle is dropped before this returns, cancelled or not.
    pub fn run(self) -> Result<CompileResponse, CheckCancelled> {
        let BackgroundCheck { database, project, spans, spec_path, planning, plan, slot, edited_views: _ } = self;
        let outcome =
            salsa::Cancelled::catch(AssertUnwindSafe(|| collect_response(&database, project, &spans, &spec_path, planning, plan, &slot)));
        drop(database);
        outcome.map_err(|_cancelled| CheckCancelled)
    }
}

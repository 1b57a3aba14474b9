//! One open spec and the long-lived incremental [`Compiler`] that checks it.
//!
//! Every edit feeds the compiler the document's in-memory text (unsaved edits, half-typed
//! YAML included), in two steps: [`SpecProject::apply`] sets the inputs (the parse, the
//! sources: fast, on the message loop) and hands back the check of those inputs, which runs
//! on a thread of its own (`viewdag_driver::BackgroundCheck`; the next `apply` cancels it);
//! [`SpecProject::finish`] keeps the response of a check that completed. Requests read the
//! parse and the schemas of the applied text (so they are answered while a check runs, and
//! about the text the client has) and the last completed check's response (view statuses,
//! diagnostics). A request never checks the project, and hover, definition and completion
//! cost the size of their answer: the name under the cursor is found in the entry at the
//! cursor (`occurrences::occurrence_at`), a view's outcome at its declaration index
//! ([`SpecProject::view_outcome`]). Only references read the whole occurrence index,
//! computed on first use after an apply, so an edit that no such request follows pays
//! nothing for it.
//! While the text does not parse at all (an unclosed bracket or quote), the compiler holds
//! the last readable text's inputs (`Compiler::set_hold_inputs_while_unreadable`): the
//! published diagnostics are still exactly the text's, and completion still knows every
//! relation's schema.
//!
//! The view DAG requests read (what a view reads and what reads it, every relation's name)
//! is the structure's, read where the compiler keeps it (a salsa input: reading it costs
//! nothing, and holding no copy of it lets the next edit patch it in place).
//!
//! Invariant: `generation` numbers the applied text (the server numbers every apply, over
//! all documents); a check's response is kept only if no text was applied after the one it
//! checked (a stale check's answer is never published).

use std::cell::OnceCell;

use viewdag_driver::{AsyncRuntime, CompileResponse, Compiler, PreparedCheck, ViewOutcome};
use viewdag_ir::{Diagnostic, Section, ViewDag};

use super::documents::Document;
use super::occurrences::{Occurrence, occurrences};

pub struct SpecProject {
    pub compiler: Compiler,
    /// The response of the last check that completed.
    pub response: Option<CompileResponse>,
    /// The number the server gave the applied text.
    pub generation: u64,
    occurrences: OnceCell<Vec<Occurrence>>,
}

impl SpecProject {
    pub fn new(runtime: &AsyncRuntime) -> SpecProject {
        let mut compiler = Compiler::with_runtime(runtime);
        // Half-typed YAML keeps the last readable text's schemas (for completion) and costs
        // no re-check of every view once repaired.
        compiler.set_hold_inputs_while_unreadable(true);
        SpecProject { compiler, response: None, generation: 0, occurrences: OnceCell::new() }
    }

    /// Sets the inputs of the document's current text (cancelling a check still running on
    /// the previous ones) and returns its check (without planning: what `viewdag check`
    /// does), to run on another thread, or its answer when it needs none.
    pub fn apply(&mut self, document: &Document, generation: u64) -> PreparedCheck {
        let prepared = self.compiler.prepare_check(&document.path, &document.text);
        self.occurrences = OnceCell::new();
        self.generation = generation;
        prepared
    }

    /// Keeps the response of the check of the text applied as `generation`; `false` (and
    /// nothing kept) when a newer text was applied since.
    pub fn finish(&mut self, generation: u64, response: CompileResponse) -> bool {
        if generation != self.generation {
            return false;
        }
        self.response = Some(response);
        true
    }

    /// The last completed check's outcome of view `name`: looked up at the view's
    /// declaration index in the applied text (outcomes are in declaration order), or
    /// searched for when that check's text declared the views otherwise.
    pub fn view_outcome(&self, name: &str) -> Option<&ViewOutcome> {
        let response = self.response.as_ref()?;
        match self.chunk_holding(name) {
            Some((chunk, index)) => Some(&response.views.chunks()[chunk].views[index]),
            None => response.view(name),
        }
    }

    /// The diagnostics the last completed check's chunk holding view `name` has about it
    /// (its check's, refresh's and plans'; not the structure's nor the parse's), or `None`
    /// when that check's text declared the views otherwise.
    pub fn chunk_diagnostics_of<'project>(&'project self, name: &'project str) -> Option<impl Iterator<Item = &'project Diagnostic>> {
        let (chunk, _) = self.chunk_holding(name)?;
        let chunk = &self.response.as_ref()?.views.chunks()[chunk];
        Some(
            chunk
                .diagnostics
                .iter()
                .filter(move |diagnostic| diagnostic.location.section == Section::Views && diagnostic.entry() == Some(name)),
        )
    }

    /// Where the last completed check's outcome of view `name` is (its chunk, and its index
    /// in that chunk): at the view's declaration index in the applied text, when that
    /// check's outcome there is the view's.
    fn chunk_holding(&self, name: &str) -> Option<(usize, usize)> {
        let response = self.response.as_ref()?;
        let index = self.compiler.parsed_spec()?.views.get_index_of(name)?;
        let mut skipped = 0;
        for (chunk_index, chunk) in response.views.chunks().iter().enumerate() {
            if index < skipped + chunk.views.len() {
                return (chunk.views[index - skipped].name == name).then_some((chunk_index, index - skipped));
            }
            skipped += chunk.views.len();
        }
        None
    }

    /// The view DAG of the applied inputs (see the module docs).
    pub fn dag(&self) -> &ViewDag {
        &self.compiler.snapshot().structure().dag
    }

    /// Every occurrence of a relation name in the applied text, in document order.
    pub fn occurrences(&self) -> &[Occurrence] {
        self.occurrences.get_or_init(|| self.compiler.parsed_spec().map(occurrences).unwrap_or_default())
    }
}

//! One open spec and the long-lived incremental [`Compiler`] that checks it.
//!
//! Every check feeds the compiler the document's in-memory text (`Compiler::check_text`:
//! unsaved edits, half-typed YAML included), so only what the edit touched re-runs. The
//! last response and the occurrence index (computed on first use after a check, so an edit
//! that no request follows pays nothing for it) are what every request reads; a request
//! never compiles. While the text does not parse at all (an unclosed bracket or quote),
//! the compiler holds the last readable text's inputs
//! (`Compiler::set_hold_inputs_while_unreadable`): the published diagnostics are still
//! exactly the text's, and completion still knows every relation's schema.

use std::cell::OnceCell;

use viewdag_driver::{AsyncRuntime, CompileResponse, Compiler};

use super::documents::Document;
use super::occurrences::{Occurrence, occurrences};

pub struct SpecProject {
    pub compiler: Compiler,
    /// The response of the last check.
    pub response: Option<CompileResponse>,
    occurrences: OnceCell<Vec<Occurrence>>,
}

impl SpecProject {
    pub fn new(runtime: &AsyncRuntime) -> SpecProject {
        let mut compiler = Compiler::with_runtime(runtime);
        // Half-typed YAML keeps the last readable text's schemas (for completion) and costs
        // no re-check of every view once repaired.
        compiler.set_hold_inputs_while_unreadable(true);
        SpecProject { compiler, response: None, occurrences: OnceCell::new() }
    }

    /// Checks the document's current text (without planning: what `viewdag check` does).
    pub fn check(&mut self, document: &Document) {
        let response = self.compiler.check_text(&document.path, &document.text);
        self.occurrences = OnceCell::new();
        self.response = Some(response);
    }

    /// Every occurrence of a relation name in the checked text, in document order.
    pub fn occurrences(&self) -> &[Occurrence] {
        self.occurrences.get_or_init(|| self.compiler.parsed_spec().map(occurrences).unwrap_or_default())
    }
}

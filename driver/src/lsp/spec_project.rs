//! One open spec and the long-lived incremental [`Compiler`] that checks it.
//!
//! Every check feeds the compiler the document's in-memory text (`Compiler::check_text`:
//! unsaved edits, half-typed YAML included), so only what the edit touched re-runs. The
//! last response and the occurrence index (computed on first use after a check, so an edit
//! that no request follows pays nothing for it) are what every request reads; a request
//! never compiles.

use std::cell::OnceCell;

use crate::compiler::{CompileResponse, Compiler};
use crate::error::DriverError;

use super::documents::Document;
use super::occurrences::{Occurrence, occurrences};

pub struct SpecProject {
    pub compiler: Compiler,
    /// The response of the last check, and the document version it checked.
    pub response: Option<CompileResponse>,
    pub checked_version: Option<i32>,
    occurrences: OnceCell<Vec<Occurrence>>,
}

impl SpecProject {
    pub fn new() -> Result<SpecProject, DriverError> {
        Ok(SpecProject { compiler: Compiler::new()?, response: None, checked_version: None, occurrences: OnceCell::new() })
    }

    /// Checks the document's current text (without planning: what `viewdag check` does).
    pub fn check(&mut self, document: &Document) {
        let response = self.compiler.check_text(&document.path, &document.text);
        self.checked_version = Some(document.version);
        self.occurrences = OnceCell::new();
        self.response = Some(response);
    }

    /// Every occurrence of a relation name in the checked text, in document order.
    pub fn occurrences(&self) -> &[Occurrence] {
        self.occurrences.get_or_init(|| self.compiler.parsed_spec().map(occurrences).unwrap_or_default())
    }
}

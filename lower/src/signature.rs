//! A view's signature: what its readers and its own report need. A leaf of the crate: the
//! queries compute it, the signature memo (`crate::signature_memo`) stores it.

use std::sync::Arc;

use datafusion::common::DFSchemaRef;
use viewdag_ir::Diagnostic;

/// What a view's readers and its own report need: its output schema and its warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSignature {
    /// The output schema, unqualified (readers qualify it with the view's name), with the
    /// functional dependencies the view's plan derives.
    pub schema: DFSchemaRef,
    /// Warnings and notes of a view that validates.
    pub warnings: Arc<Vec<Diagnostic>>,
}

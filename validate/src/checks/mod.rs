//! Structural checks, one per file; each file's name is its code's name.

use indexmap::IndexMap;
use viewdag_ir::{Diagnostic, OutputSpec, ViewDag};

use crate::relations::{Read, RelationIndex};

pub mod contract;
pub mod cycle;
pub mod duplicate_name;
pub mod output_unknown_view;
pub mod unknown_reference;

/// What a structural check may look at.
pub struct CheckContext<'a> {
    /// Source names in declaration order.
    pub project_sources: Vec<String>,
    /// View names in declaration order.
    pub project_views: Vec<String>,
    /// Each view's reads, in declaration order of the views.
    pub view_reads: &'a [(String, Vec<Read>)],
    pub index: &'a RelationIndex,
    pub dag: &'a ViewDag,
    pub outputs: &'a IndexMap<String, Option<OutputSpec>>,
}

impl CheckContext<'_> {
    /// Every declared relation name, for did-you-mean suggestions.
    pub fn all_names(&self) -> Vec<&str> {
        self.project_sources.iter().chain(self.project_views.iter()).map(String::as_str).collect()
    }
}

pub fn run_structural_checks(context: &CheckContext) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    diagnostics.extend(duplicate_name::check(context));
    diagnostics.extend(unknown_reference::check(context));
    diagnostics.extend(cycle::check(context));
    diagnostics.extend(output_unknown_view::check(context));
    diagnostics
}

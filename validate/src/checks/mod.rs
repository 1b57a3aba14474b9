//! Checks, one per file; each file's name is its code's kebab name, snake_cased (the
//! exception, `contract`, holds the two output-contract codes).
//!
//! Staged: the structural checks (names and references, run in order by
//! [`crate::structure`] over the whole spec, each given a [`CheckContext`]), then the
//! per-view semantic checks, which are pure functions over DataFusion schemas and
//! expressions that `lower` calls while it plans each view (schemas → expressions →
//! aggregation, joins, unions → output schema), then the output checks the driver runs on
//! each output's schema (`contract`, `append_schema_mismatch`, `write_schema_mismatch`, which
//! refines the append check's differences) and the source check it runs
//! on each loaded source (`source_schema_mismatch`).
//!
//! A check imports shared helpers ([`crate::expression`], [`crate::relations`],
//! [`crate::lexical_path`], this module's [`CheckContext`]) and, where one code refines
//! another, that check (`type_mismatch` → `wrong_arity`, `join_key_coercion` →
//! `join_key_type_mismatch`, `write_schema_mismatch` → `append_schema_mismatch`); never [`crate::typing`] or [`crate::planning_error`], which
//! call the checks. So the files form no import cycle (the `hygiene` test checks it).

use indexmap::IndexMap;
use viewdag_ir::{OutputSpec, ViewDag};

use crate::relations::{Read, RelationIndex};

pub mod aggregate_in_group_by;
pub mod ambiguous_column;
pub mod append_schema_mismatch;
pub mod column_names_differ_in_case;
pub mod column_type_not_storable;
pub mod contract;
pub mod cycle;
pub mod duplicate_column;
pub mod duplicate_name;
pub mod expression_too_complex;
pub mod invalid_limit;
pub mod join_key_coercion;
pub mod join_key_count;
pub mod join_key_type_mismatch;
pub mod join_name_clash;
pub mod measure_without_aggregate;
pub mod nested_aggregate;
pub mod non_boolean_predicate;
pub mod output_path_conflict;
pub mod output_unknown_view;
pub mod path_outside_project;
pub mod source_format_not_allowed;
pub mod source_schema_mismatch;
pub mod storage_option_invalid;
pub mod storage_url_invalid;
pub mod tables_location_conflict;
pub mod too_few_items;
pub mod type_mismatch;
pub mod ungrouped_column;
pub mod union_arity;
pub mod union_name_mismatch;
pub mod union_type_mismatch;
pub mod unknown_column;
pub mod unknown_function;
pub mod unknown_reference;
pub mod unnamed_group_key;
pub mod view_name_not_path_component;
pub mod write_schema_mismatch;
pub mod wrong_arity;

/// What a structural check may look at.
pub struct CheckContext<'a> {
    /// Source names in declaration order.
    pub project_sources: Vec<&'a str>,
    /// View names in declaration order.
    pub project_views: Vec<&'a str>,
    /// Each view's reads, in declaration order of the views.
    pub view_reads: &'a [(&'a str, &'a [Read])],
    pub index: &'a RelationIndex,
    pub dag: &'a ViewDag,
    pub outputs: &'a IndexMap<String, Option<OutputSpec>>,
}

impl CheckContext<'_> {
    /// Every declared relation name, for did-you-mean suggestions.
    pub fn all_names(&self) -> Vec<&str> {
        self.project_sources.iter().chain(self.project_views.iter()).copied().collect()
    }
}

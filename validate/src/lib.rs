//! # Validation: is the spec a well-formed view DAG?
//!
//! Staged like a compiler front end; each stage assumes the ones before it passed:
//! 1. **names** ([`relations`]): which relation each name denotes, what each view reads
//!    (for `sql` views, found by parsing the query, which also enforces the SQL
//!    restrictions in [`sql`]);
//! 2. **structure** ([`structure`], patched per edit by [`structure_patch`]): the view DAG and the structural checks in [`checks`]
//!    (unknown reference, duplicate name, cycle, output of an unknown view);
//! 3. **schemas and expressions** ([`expression`] and the semantic checks in [`checks`]):
//!    pure functions over DataFusion schemas and expressions, called by `lower` while it
//!    plans each view (a view's output schema is its P0 plan's), so a view's errors come
//!    back with its plan and its dependents are blocked;
//! 4. **contracts**: the output checks in [`checks`], run by the driver on each output's
//!    schema (and on an existing table's schema for `append`).
//!
//! ## Invariants
//! - Never panics and never stops at the first error: every check runs and reports all
//!   it finds. A view with an error makes its dependents *blocked* (one note each), and
//!   unrelated views are unaffected.
//! - Every query is a salsa tracked function over the `ir` inputs; nothing here does I/O.
//! - Diagnostics are sorted deterministically; their locations are logical.

#![allow(clippy::result_large_err, reason = "a check's error is its diagnostic, returned by value like its success")]

pub mod checks;
pub mod expression;
pub mod fields_by_name;
pub mod lexical_path;
pub mod paths;
pub mod planning_error;
pub mod reads;
pub mod reads_memo;
pub mod relations;
pub mod resolve;
pub mod sql;
pub mod structure;
pub mod structure_patch;
pub mod typing;

pub use paths::project_path_diagnostics;
pub use relations::{RelationIndex, ViewReads, view_reads};
pub use resolve::{Relation, relation_index, resolve_relation};
pub use structure::{Structure, StructureInput, compute_structure, declares_table, spec_structure, view_is_broken};
pub use structure_patch::{ViewDifference, view_difference};

/// The validation database: the IR inputs plus this crate's queries.
#[salsa::db]
pub trait Db: viewdag_ir::Db {
    /// The table of `sql` views' reads [`view_reads`] consults, when the host keeps one
    /// across processes (see [`reads_memo`]: its values are pure functions of their keys).
    fn reads_memo(&self) -> Option<&viewdag_ir::persistent_memo::MemoTable>;
}

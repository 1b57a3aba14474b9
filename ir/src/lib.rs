//! # viewdag IR: the spec and the view DAG
//!
//! A **spec** (version 1, YAML or JSON, see [`spec`]) declares three kinds of entries:
//!
//! - **sources**: named relations backed by data — a Delta table, Parquet files or a CSV
//!   file, with a path relative to the spec file;
//! - **views**: named relations defined by exactly one transform (filter, project, join,
//!   aggregate, union, sort, limit, distinct, sql) over other relations, optionally
//!   `materialize: table`;
//! - **outputs**: a view written to a Delta table, with a write mode, partition columns and
//!   an optional schema contract.
//!
//! Sources and views share one namespace. Names are case-sensitive. A view *reads* the
//! relations its transform names; those reads are the edges of the **view DAG** (see
//! [`dag`]), a petgraph `StableDiGraph` whose nodes are sources and views.
//!
//! ## Invariants
//! - This crate does no I/O and knows nothing of DataFusion. It depends on `arrow-schema`
//!   for type names and schemas only.
//! - Parsing never panics and never stops at the first problem: every problem becomes a
//!   [`Diagnostic`] with a stable [`Code`] and a logical [`SpecLocation`]; a malformed entry
//!   loses only itself.
//! - Locations are logical (section, entry, field path, range inside a string). The
//!   [`SpanIndex`] maps them to lines and columns at render time, so nothing computed from
//!   the salsa inputs depends on where text sits in the file.
//! - Every map in the spec keeps declaration order; order is meaning (column order).

pub mod dag;
pub mod db;
pub mod delta_types;
pub mod diagnostic;
pub mod expectation;
pub mod identity;
pub mod nesting;
pub mod number_bounds;
pub mod parse;
pub mod persistent_memo;
mod piece_memo;
pub mod reparse;
pub mod selection;
pub mod spans;
pub mod spec;
pub mod spec_format;
pub mod spec_schema;
pub mod split_parse;
pub mod sql_text;
pub mod storage_url;
pub mod suggestion;
pub mod types;
pub mod yaml_value;

pub use dag::{RelationKind, ViewDag};
pub use db::{Db, ExistingDataInput, PlanningSurfaceSpec, ProjectInput, SourceInput, SourceResolution, SurfaceInput, ViewInput};
pub use diagnostic::{Code, Diagnostic, Label, Section, Severity, SpecLocation};
pub use expectation::{AcceptedValue, Expectation, ExpectationKind, ExpectationsSpec, OnFail};
pub use identity::{ProviderIdentity, SourceFile};
pub use parse::{ParsedSpec, parse_spec};
pub use reparse::{EditedEntries, reparse_edited_entry};
pub use spans::{Position, SpanIndex};
pub use spec::*;
pub use spec_format::SpecFormat;
pub use storage_url::{StorageUrl, StorageUrlProblem, StoreKind};

//! The salsa inputs and the base database trait.
//!
//! Inputs are fine-grained so that one edit changes one input:
//! - [`ProjectInput`]: the lists of sources and views (declaration order), the outputs, the
//!   profile, and the diagnostics found while parsing;
//! - [`ViewInput`]: one per view — its name and definition (`None` if it failed to parse),
//!   and the structure's verdict on it (`broken`, set by the driver from the structure query);
//! - [`SourceInput`]: one per source — its declaration and what loading it found (provider
//!   identity and schema, or the diagnostic explaining why it could not be loaded);
//! - [`SurfaceInput`]: the planning surface knobs;
//! - [`ExistingDataInput`]: what already exists on disk that the spec is checked against
//!   (read by the driver).
//!
//! `ProjectInput`, `SurfaceInput` and `ExistingDataInput` are singletons: one database
//! compiles one project.
//!
//! Nothing here holds a line number: positions live in the driver's span index, so moving
//! text around does not invalidate any query.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use indexmap::IndexMap;

use crate::diagnostic::Diagnostic;
use crate::identity::ProviderIdentity;
use crate::number_bounds::{BATCH_SIZE, TARGET_PARTITIONS};
use crate::spec::{OutputSpec, ProfileSpec, SourceSpec, SurfaceProfile, ViewDefinition};

/// The base database trait; each stage crate extends it with its own.
#[salsa::db]
pub trait Db: salsa::Database {}

#[salsa::input(singleton, debug)]
pub struct ProjectInput {
    #[returns(ref)]
    pub sources: Vec<SourceInput>,
    #[returns(ref)]
    pub views: Vec<ViewInput>,
    #[returns(ref)]
    pub outputs: Arc<IndexMap<String, Option<OutputSpec>>>,
    #[returns(ref)]
    pub profile: ProfileSpec,
    #[returns(ref)]
    pub parse_diagnostics: Vec<Diagnostic>,
}

#[salsa::input(debug)]
pub struct ViewInput {
    #[returns(ref)]
    pub name: String,
    /// `None` when the view failed to parse (a diagnostic says why).
    #[returns(ref)]
    pub definition: Option<Arc<ViewDefinition>>,
    /// For a materialized view during a run: the Delta table its task wrote. Readers then
    /// scan that table instead of the placeholder. `None` when compiling.
    #[returns(ref)]
    pub materialized_table: Option<ProviderIdentity>,
    /// Whether the view cannot be planned because of its own error (a parse error, a
    /// structural error, SQL that could not be analyzed): the verdict of the project's
    /// structure (`viewdag_validate::spec_structure`), copied here by the driver whenever what
    /// the views read may have changed, so that a per-view query reads one input instead of
    /// the whole project's structure (which salsa would verify by visiting every view).
    #[returns(copy)]
    pub broken: bool,
}

#[salsa::input(debug)]
pub struct SourceInput {
    #[returns(ref)]
    pub name: String,
    /// `None` when the declaration failed to parse.
    #[returns(ref)]
    pub declaration: Option<SourceSpec>,
    #[returns(ref)]
    pub resolution: SourceResolution,
}

/// What the driver found when it loaded a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceResolution {
    Resolved { identity: ProviderIdentity, schema: SchemaRef },
    Failed(Diagnostic),
}

/// The planning surface: every setting that can change a plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PlanningSurfaceSpec {
    pub target_partitions: usize,
    pub batch_size: usize,
    /// `profile.surface` (absent from the manifest when it is the default).
    #[serde(skip_serializing_if = "SurfaceProfile::is_default")]
    pub surface: SurfaceProfile,
}

impl Default for PlanningSurfaceSpec {
    fn default() -> Self {
        PlanningSurfaceSpec { target_partitions: 4, batch_size: 8192, surface: SurfaceProfile::default() }
    }
}

impl PlanningSurfaceSpec {
    pub fn from_profile(profile: &ProfileSpec) -> Self {
        let defaults = PlanningSurfaceSpec::default();
        PlanningSurfaceSpec {
            // Out-of-range numbers are `V0008` errors (`number_bounds`); planning goes on
            // with the nearest value in range, never with an absurd one.
            target_partitions: TARGET_PARTITIONS.clamp_usize(profile.target_partitions.unwrap_or(defaults.target_partitions)),
            batch_size: BATCH_SIZE.clamp_usize(profile.batch_size.unwrap_or(defaults.batch_size)),
            surface: profile.surface.clone(),
        }
    }
}

#[salsa::input(singleton, debug)]
pub struct SurfaceInput {
    #[returns(ref)]
    pub spec: PlanningSurfaceSpec,
    /// The spec's directory as an absolute path. Used only to make plan text relative
    /// (machine-independent); never part of the surface manifest.
    #[returns(ref)]
    pub root: String,
}

/// Existing data the spec is checked against, read by the driver before the queries run.
#[salsa::input(singleton, debug)]
pub struct ExistingDataInput {
    /// Output name → the schema of the Delta table already at its path (`append`, `merge` and
    /// `replace_where` outputs: the modes that keep its rows).
    #[returns(ref)]
    pub target_schemas: BTreeMap<String, SchemaRef>,
    /// Source name → the column names in the first CSV file's header (declared CSV only).
    #[returns(ref)]
    pub csv_headers: BTreeMap<String, Vec<String>>,
}

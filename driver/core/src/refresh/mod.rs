//! Incremental refresh, the driver's half: what changed in each input since a task's last
//! refresh ([`change_detection`], from the Delta log or the file listing), the scan sources
//! the derivation needs for the inputs that gained rows ([`increment_sources`]), and how a
//! refresh is decided and reported ([`path`]), and what the next run would do ([`forecast`],
//! `viewdag plan`). The derivation itself is a compiler pass
//! (`viewdag_optimize::incremental`); the run applies its result (`crate::run`,
//! `crate::execute::increment_merge`).

pub mod change_detection;
pub mod decide;
pub mod forecast;
pub mod increment_sources;
pub mod path;
pub(crate) mod prepare;

pub use change_detection::{Appended, DetectedChange, RewriteCause};
pub use forecast::{PlannedAction, PlannedTask, RefreshPlan};
pub use path::{AppendedRelation, AppendedSummary, AppliedAs, FullRefreshReason, RefreshPath, RefreshSummary};

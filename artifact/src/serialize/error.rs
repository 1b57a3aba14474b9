//! Why a plan has no form of one kind, or a recorded form does not rebuild a plan. The text
//! is what a bundle records in its `*_error` fields, so it is part of the artifact: a
//! variant's message never changes without a new bundle schema.

use datafusion::error::DataFusionError;

/// What `substrait_error` says in bundles written by a build without the feature.
pub const SUBSTRAIT_NOT_BUILT: &str = "viewdag was built without the `substrait` feature";

/// Why a serialized form of a plan could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum PlanFormError {
    /// DataFusion refused (its message, without a backtrace).
    #[error("{}", .0.strip_backtrace())]
    DataFusion(#[from] DataFusionError),
    /// A schema with a metadata map of more than one entry, which datafusion-proto writes in
    /// hash-map order (so the bytes would not be deterministic); names its owner.
    #[error("{0} carries a metadata map of more than one entry, which datafusion-proto writes in hash-map order")]
    UnorderedMetadata(String),
    /// A binary form's text is not standard base64.
    #[error("not base64: {0}")]
    NotBase64(#[from] base64::DecodeError),
    /// The bytes are not a Substrait plan.
    #[cfg(feature = "substrait")]
    #[error("the bytes are not a Substrait plan: {0}")]
    NotSubstrait(#[from] prost::DecodeError),
    /// This build has no Substrait support.
    #[error("{}", SUBSTRAIT_NOT_BUILT)]
    SubstraitNotBuilt,
}

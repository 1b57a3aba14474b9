//! The logical plan (P0) in the forms another process can rebuild it from:
//! `datafusion-proto` bytes ([`proto`], always), SQL ([`sql`], where DataFusion's unparser
//! can express the plan) and Substrait ([`substrait`], with the `substrait` cargo feature).
//!
//! Each form is recorded or its error is, never raised: a plan that one form cannot express
//! still gets a bundle. Binary forms are written as standard base64.

pub mod error;
pub mod proto;
pub mod sql;
#[cfg(feature = "substrait")]
pub mod substrait;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;

pub use self::error::{PlanFormError, SUBSTRAIT_NOT_BUILT};
use crate::bundle::SerializedPlan;

/// Every form of `plan`; `state` is the planning session (Substrait resolves functions in it).
pub fn serialize_plan(plan: &LogicalPlan, state: &SessionState) -> SerializedPlan {
    let (proto, proto_error) = split(proto::encode_plan(plan).map(|bytes| STANDARD.encode(bytes)));
    let (sql, sql_error) = split(sql::plan_as_sql(plan));
    let (substrait, substrait_error) = split(substrait_form(plan, state));
    SerializedPlan { proto, proto_error, sql, sql_error, substrait, substrait_error }
}

/// The bytes of a base64 field of a bundle.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, PlanFormError> {
    Ok(STANDARD.decode(text)?)
}

#[cfg(feature = "substrait")]
fn substrait_form(plan: &LogicalPlan, state: &SessionState) -> Result<String, PlanFormError> {
    substrait::encode_substrait(plan, state).map(|bytes| STANDARD.encode(bytes))
}

#[cfg(not(feature = "substrait"))]
fn substrait_form(_: &LogicalPlan, _: &SessionState) -> Result<String, PlanFormError> {
    Err(PlanFormError::SubstraitNotBuilt)
}

fn split(form: Result<String, PlanFormError>) -> (Option<String>, Option<String>) {
    match form {
        Ok(value) => (Some(value), None),
        Err(error) => (None, Some(error.to_string())),
    }
}

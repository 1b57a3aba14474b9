//! Substrait plans (only with the `substrait` cargo feature): scans become named tables, so
//! a consumer binds them through its own catalog by relation name.
//!
//! ## Invariants
//! - Deterministic: DataFusion's producer numbers function anchors in order of first use
//!   but lists the extension declarations in hash-map order; they are sorted (kind, then
//!   anchor) before encoding, so equal plans give equal bytes in every process.

use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion_substrait::logical_plan::consumer::from_substrait_plan;
use datafusion_substrait::logical_plan::producer::to_substrait_plan;
use datafusion_substrait::substrait::proto::Plan;
use datafusion_substrait::substrait::proto::extensions::SimpleExtensionDeclaration;
use datafusion_substrait::substrait::proto::extensions::simple_extension_declaration::MappingType;
use prost::Message;

use super::PlanFormError;

/// `plan` as Substrait protobuf bytes.
pub fn encode_substrait(plan: &LogicalPlan, state: &SessionState) -> Result<Vec<u8>, PlanFormError> {
    let mut plan = to_substrait_plan(plan, state)?;
    plan.extensions.sort_by_key(declaration_order);
    Ok(plan.encode_to_vec())
}

/// Functions, then types, then type variations, each by anchor.
fn declaration_order(declaration: &SimpleExtensionDeclaration) -> (u8, u32) {
    match &declaration.mapping_type {
        Some(MappingType::ExtensionFunction(function)) => (0, function.function_anchor),
        Some(MappingType::ExtensionType(declared)) => (1, declared.type_anchor),
        Some(MappingType::ExtensionTypeVariation(variation)) => (2, variation.type_variation_anchor),
        None => (3, 0),
    }
}

/// Rebuilds a logical plan from [`encode_substrait`]'s bytes; named tables resolve through
/// `state`'s catalog.
pub async fn decode_substrait(bytes: &[u8], state: &SessionState) -> Result<LogicalPlan, PlanFormError> {
    let plan = Plan::decode(bytes)?;
    Ok(from_substrait_plan(state, &plan).await?)
}

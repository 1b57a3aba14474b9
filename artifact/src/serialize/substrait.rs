//! Substrait plans (only with the `substrait` cargo feature): scans become named tables, so
//! a consumer binds them through its own catalog by relation name.

use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion_substrait::logical_plan::consumer::from_substrait_plan;
use datafusion_substrait::logical_plan::producer::to_substrait_plan;
use datafusion_substrait::substrait::proto::Plan;
use prost::Message;

/// `plan` as Substrait protobuf bytes.
pub fn encode_substrait(plan: &LogicalPlan, state: &SessionState) -> Result<Vec<u8>, String> {
    to_substrait_plan(plan, state).map(|plan| plan.encode_to_vec()).map_err(|error| error.strip_backtrace())
}

/// Rebuilds a logical plan from [`encode_substrait`]'s bytes; named tables resolve through
/// `state`'s catalog.
pub async fn decode_substrait(bytes: &[u8], state: &SessionState) -> Result<LogicalPlan, String> {
    let plan = Plan::decode(bytes).map_err(|error| format!("the bytes are not a Substrait plan: {error}"))?;
    from_substrait_plan(state, &plan).await.map_err(|error| error.strip_backtrace())
}

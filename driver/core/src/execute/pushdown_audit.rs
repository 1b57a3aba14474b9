//! The execution-time audit of the `Exact` pushdown claims a task's plan relies on (see
//! `viewdag_optimize::pushdown::exact_audit`), run before the task's rows are written.
//!
//! ## Invariants
//! - Under `strict` a broken claim fails the task before anything is written; under `warn`
//!   it is a warning of the task; `off` audits nothing (no claim is collected).

use datafusion::execution::session_state::SessionState;
use viewdag_ir::PushdownPolicy;
use viewdag_optimize::pushdown::ExactClaim;

use super::error::TaskError;

/// What the execution-time audit of `Exact` pushdown claims found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSummary {
    /// How many `Exact` claims were checked against the data.
    pub claims_checked: usize,
    /// One line per broken claim, under the `warn` policy (under `strict` the task fails).
    pub warnings: Vec<String>,
}

/// Checks every `Exact` claim against the data. A broken claim fails the task under
/// `strict` (before anything is written) and is a warning under `warn`.
pub(crate) async fn audit_claims(
    view: &str,
    claims: &[ExactClaim],
    policy: PushdownPolicy,
    state: &SessionState,
) -> Result<AuditSummary, TaskError> {
    let mut summary = AuditSummary::default();
    for claim in claims {
        let audit = claim.audit(state).await.map_err(|error| {
            TaskError::Audit(format!(
                "auditing the pushdown of `{}` into `{}` failed: {}",
                claim.predicate,
                claim.relation,
                error.strip_backtrace()
            ))
        })?;
        summary.claims_checked += 1;
        if audit.violating_rows == 0 {
            continue;
        }
        let problem = format!(
            "the provider of `{}` claims to apply `{}` exactly, but returned {} row(s) that fail it, so `{view}` would be wrong",
            audit.relation, audit.predicate, audit.violating_rows
        );
        match policy {
            PushdownPolicy::Strict => return Err(TaskError::Audit(format!("{problem} (nothing was written)"))),
            PushdownPolicy::Warn | PushdownPolicy::Off => summary.warnings.push(problem),
        }
    }
    Ok(summary)
}

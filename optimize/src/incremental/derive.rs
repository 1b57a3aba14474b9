//! The derivation's driver: the entry point [`derive_increment`] and the walk that asks
//! each operator's rule (`rules/`) for the change of its subtree.
//!
//! The walk is bottom-up and linear in the plan: a subtree whose inputs are all unchanged
//! (and whose expressions' subqueries read nothing appended) is unchanged, whatever its
//! operators, so rules see only operators on the path of a change. A changed subtree's
//! change is an append: `new = old ⊎ delta` as multisets of rows. Only the task's top
//! operator may instead be an aggregate or `distinct`, whose change is merged into the
//! table by group keys (`rules::aggregate`, `rules::distinct`).

use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::{LogicalPlan, TableScan};

use super::change::InputChanges;
use super::expressions::{appended_relation_in_subquery, first_non_deterministic};
use super::increment::{ApplyIncrement, Increment};
use super::reason::{NotIncremental, Reason};
use super::rules;
use super::subtree::{SubtreeChange, Subtrees};

/// Derives the change of a task's plan (its P0) given which relations gained rows, or the
/// reason it cannot be derived. Pure: the driver supplies every scan source in `changes`.
pub fn derive_increment(plan: &LogicalPlan, changes: &InputChanges) -> Result<Increment, NotIncremental> {
    if let Some(function) = first_non_deterministic(plan) {
        return Err(Reason::NonDeterministic { function }.into());
    }
    let deriver = Deriver { changes };
    // A table has no order: a sort without a limit on top changes nothing of its rows.
    let top = without_top_sorts(plan);
    if let Some(merge) = rules::aggregate::top_level(top, &deriver).or_else(|| rules::distinct::top_level(top, &deriver)) {
        let (plan, merge) = merge?;
        return Ok(Increment { plan, apply: ApplyIncrement::Merge(merge) });
    }
    match deriver.subtree(plan)? {
        SubtreeChange::Appended(delta) => Ok(Increment { plan: delta, apply: ApplyIncrement::Append }),
        SubtreeChange::Unchanged => Err(Reason::NothingAppended.into()),
    }
}

/// `plan` below any sorts without a limit at its top.
fn without_top_sorts(mut plan: &LogicalPlan) -> &LogicalPlan {
    while let LogicalPlan::Sort(sort) = plan
        && sort.fetch.is_none()
    {
        plan = sort.input.as_ref();
    }
    plan
}

/// The walk over one plan, with what it was told about the inputs.
pub struct Deriver<'a> {
    pub changes: &'a InputChanges,
}

impl Subtrees for Deriver<'_> {
    fn subtree(&self, plan: &LogicalPlan) -> Result<SubtreeChange, NotIncremental> {
        if let LogicalPlan::TableScan(scan) = plan {
            return rules::scan::derive(scan, self.changes);
        }
        let mut children = Vec::new();
        for input in plan.inputs() {
            let change = self.subtree(input);
            // A refusal inside an inlined view names that view.
            let change = match plan {
                LogicalPlan::SubqueryAlias(alias) => change.map_err(|refusal| refusal.within(alias.alias.table())),
                _ => change,
            }?;
            children.push(change);
        }
        let subquery_reads_appended = appended_relation_in_subquery(plan, self.changes);
        if let Some(relation) = subquery_reads_appended {
            return Err(Reason::SubqueryReadsAppendedInput { relation }.into());
        }
        if children.iter().all(SubtreeChange::is_unchanged) {
            return Ok(SubtreeChange::Unchanged);
        }
        rules::derive_operator(plan, children, self)
    }

    fn previous(&self, plan: &LogicalPlan) -> Result<LogicalPlan, NotIncremental> {
        let previous = plan.clone().transform_up_with_subqueries(|node| match node {
            LogicalPlan::TableScan(scan) => match self.changes.appended(scan.table_name.table()) {
                Some(appended) => {
                    Ok(Transformed::yes(LogicalPlan::TableScan(TableScan { source: Arc::clone(&appended.previous), ..scan })))
                }
                None => Ok(Transformed::no(LogicalPlan::TableScan(scan))),
            },
            other => Ok(Transformed::no(other)),
        })?;
        Ok(previous.data)
    }
}

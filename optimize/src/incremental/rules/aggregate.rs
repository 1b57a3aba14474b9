//! Aggregates. Below the task's top an aggregate over changed rows updates its groups in
//! place, which no operator above can consume as an append: refused. At the top (under a
//! projection of its columns and an optional filter on group keys only) its change is one
//! row per group the appended rows touch, merged into the table by the group keys:
//!
//! - every measure is `count`, `sum`, `min` or `max` (one aggregate each, not `DISTINCT`
//!   for count and sum): the increment aggregates only the appended rows and the merge
//!   combines each measure with the table's value ([`Combine`]): only touched groups change;
//!   a global aggregate (no keys) merges its one row;
//! - otherwise (`avg`, `count(DISTINCT …)`, a measure computed from several aggregates)
//!   the increment recomputes the touched groups over *all* their rows — the input joined
//!   (semi, null-safe) with the touched keys — and the merge replaces their values. That
//!   reads the whole input again; it still rewrites only the touched groups.
//!
//! Group keys must be output columns (the merge finds groups by them). A filter over
//! measures (`HAVING`) is refused: a touched group may start or stop passing it.

use std::sync::Arc;

use datafusion::common::{Column, NullEquality, TableReference};
use datafusion::logical_expr::{Aggregate, Distinct, Expr, Filter, Join, JoinConstraint, JoinType, LogicalPlan, Projection, SubqueryAlias};

use crate::incremental::increment::{Combine, GroupMerge, MergedMeasure};
use crate::incremental::reason::{NotIncremental, Reason};
use crate::incremental::subtree::{SubtreeChange, Subtrees, with_inputs};

/// An aggregate below the task's top, over changed rows.
pub fn derive_below_top() -> Result<SubtreeChange, NotIncremental> {
    Err(Reason::AggregateBelowTop { operator: "an aggregate" }.into())
}

/// What one output column of the top aggregate is.
enum OutputColumn {
    /// The aggregate's group key at this position.
    Key(usize),
    /// The aggregate's measure at this position.
    Measure(usize),
    /// Anything else (an expression over several aggregates).
    Computed,
}

/// The merge of a task whose top operator is an aggregate (`None`: it is not).
pub fn top_level(plan: &LogicalPlan, deriver: &dyn Subtrees) -> Option<Result<(LogicalPlan, GroupMerge), NotIncremental>> {
    let (projection, having, aggregate) = match plan {
        LogicalPlan::Projection(projection) => match projection.input.as_ref() {
            LogicalPlan::Aggregate(aggregate) => (Some(projection), None, aggregate),
            LogicalPlan::Filter(filter) => match filter.input.as_ref() {
                LogicalPlan::Aggregate(aggregate) => (Some(projection), Some(filter), aggregate),
                _ => return None,
            },
            _ => return None,
        },
        LogicalPlan::Aggregate(aggregate) => (None, None, aggregate),
        _ => return None,
    };
    Some(merge_of(plan, projection, having, aggregate, deriver))
}

fn merge_of(
    plan: &LogicalPlan,
    projection: Option<&Projection>,
    having: Option<&Filter>,
    aggregate: &Aggregate,
    deriver: &dyn Subtrees,
) -> Result<(LogicalPlan, GroupMerge), NotIncremental> {
    if aggregate.group_expr.iter().any(|expression| matches!(expression, Expr::GroupingSet(_))) {
        return Err(Reason::GroupingSets.into());
    }
    let input_delta = match deriver.subtree(&aggregate.input)? {
        SubtreeChange::Appended(delta) => delta,
        SubtreeChange::Unchanged => return Err(Reason::NothingAppended.into()),
    };
    let aggregate_schema = &aggregate.schema;
    let key_count = aggregate.group_expr.len();
    let position_of = |column: &Column| aggregate_schema.index_of_column(column).ok();
    if let Some(filter) = having
        && filter.predicate.column_refs().iter().any(|column| position_of(column).is_none_or(|position| position >= key_count))
    {
        return Err(Reason::FilterOverMeasures.into());
    }
    let outputs: Vec<(String, OutputColumn)> = match projection {
        Some(projection) => projection
            .expr
            .iter()
            .zip(projection.schema.fields())
            .map(|(expression, field)| {
                // Every alias, not only the outer one: `count(*) AS n` plans as
                // `count(Int64(1)) AS count(*) AS n`.
                let column = match expression.clone().unalias_nested().data {
                    Expr::Column(column) => match position_of(&column) {
                        Some(position) if position < key_count => OutputColumn::Key(position),
                        Some(position) => OutputColumn::Measure(position - key_count),
                        None => OutputColumn::Computed,
                    },
                    _ => OutputColumn::Computed,
                };
                (field.name().clone(), column)
            })
            .collect(),
        None => aggregate_schema
            .fields()
            .iter()
            .enumerate()
            .map(|(position, field)| {
                let column = if position < key_count { OutputColumn::Key(position) } else { OutputColumn::Measure(position - key_count) };
                (field.name().clone(), column)
            })
            .collect(),
    };
    for key in 0..key_count {
        if !outputs.iter().any(|(_, column)| matches!(column, OutputColumn::Key(position) if *position == key)) {
            return Err(Reason::GroupKeyNotInOutput { key: aggregate_schema.field(key).name().clone() }.into());
        }
    }
    let output_schema = plan.schema();
    let combines: Vec<Option<Combine>> = outputs
        .iter()
        .map(|(_, column)| match column {
            OutputColumn::Key(_) => None,
            OutputColumn::Measure(position) => aggregate.aggr_expr.get(*position).and_then(combine_of),
            OutputColumn::Computed => None,
        })
        .collect();
    let combinable =
        outputs.iter().zip(&combines).all(|((_, column), combine)| matches!(column, OutputColumn::Key(_)) || combine.is_some());
    let recomputes_touched_groups = !combinable;
    if recomputes_touched_groups
        && key_count == 0
        && let Some((column, _)) = outputs.iter().zip(&combines).find(|(_, combine)| combine.is_none()).map(|(output, _)| output)
    {
        return Err(Reason::GlobalMeasureNotMergeable { column: column.clone() }.into());
    }
    let aggregate_input = if recomputes_touched_groups { touched_groups_of(aggregate, input_delta)? } else { input_delta };
    let mut delta = with_inputs(&LogicalPlan::Aggregate(aggregate.clone()), vec![aggregate_input])?;
    if let Some(filter) = having {
        delta = with_inputs(&LogicalPlan::Filter(filter.clone()), vec![delta])?;
    }
    if let Some(projection) = projection {
        delta = with_inputs(&LogicalPlan::Projection(projection.clone()), vec![delta])?;
    }
    let mut keys = Vec::new();
    let mut measures = Vec::new();
    for (((name, column), combine), field) in outputs.into_iter().zip(combines).zip(output_schema.fields()) {
        match column {
            OutputColumn::Key(_) if !keys.contains(&name) => keys.push(name),
            OutputColumn::Key(_) => {}
            OutputColumn::Measure(_) | OutputColumn::Computed => {
                let combine = if recomputes_touched_groups { Combine::Replace } else { combine.unwrap_or(Combine::Replace) };
                measures.push(MergedMeasure { column: name, combine, data_type: field.data_type().clone() })
            }
        }
    }
    Ok((delta, GroupMerge { keys, measures, recomputes_touched_groups }))
}

/// How a measure merges, when it can: `count`/`sum` add (not over `DISTINCT` values),
/// `min`/`max` keep the extreme.
fn combine_of(expression: &Expr) -> Option<Combine> {
    let Expr::AggregateFunction(function) = expression.clone().unalias_nested().data else { return None };
    match (function.func.name(), function.params.distinct) {
        ("count" | "sum", false) => Some(Combine::Add),
        ("min", _) => Some(Combine::Min),
        ("max", _) => Some(Combine::Max),
        _ => None,
    }
}

/// The aggregate's new input restricted to the groups `delta` touches: a semi join of the
/// whole input with the touched keys, nulls matching nulls.
fn touched_groups_of(aggregate: &Aggregate, delta: LogicalPlan) -> Result<LogicalPlan, NotIncremental> {
    let touched_names: Vec<String> = (0..aggregate.group_expr.len()).map(|position| format!("__viewdag_touched_{position}")).collect();
    let keys: Vec<Expr> =
        aggregate.group_expr.iter().zip(&touched_names).map(|(expression, name)| expression.clone().alias(name.as_str())).collect();
    let projected = LogicalPlan::Projection(Projection::try_new(keys, Arc::new(delta))?);
    let distinct = LogicalPlan::Distinct(Distinct::All(Arc::new(projected)));
    let touched = LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(Arc::new(distinct), TableReference::bare("__viewdag_touched"))?);
    let on: Vec<(Expr, Expr)> = aggregate
        .group_expr
        .iter()
        .zip(&touched_names)
        .map(|(expression, name)| (expression.clone(), Expr::Column(Column::new(Some(TableReference::bare("__viewdag_touched")), name))))
        .collect();
    let join = Join::try_new(
        Arc::clone(&aggregate.input),
        Arc::new(touched),
        on,
        None,
        JoinType::LeftSemi,
        JoinConstraint::On,
        NullEquality::NullEqualsNull,
        false,
    )?;
    Ok(LogicalPlan::Join(join))
}

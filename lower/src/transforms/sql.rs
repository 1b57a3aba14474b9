//! `sql`: a SELECT over declared relations, planned by DataFusion's SQL planner over a
//! catalog of exactly the relations the query names (`viewdag_surface::RelationsContext`:
//! the planning session's functions and options, no session built per view).
//!
//! Ephemeral views are registered as view tables over their P0 plans; after planning,
//! their scans are replaced by the plans themselves (as `SubqueryAlias(name, plan)`), so
//! P0 of a SQL view looks like the P0 of any other view. A top projection that only repeats
//! its input (`SELECT *`) is left out.
//!
//! The analyzer runs on the planned query to find its type errors now (so an accepted view
//! never fails in the optimizer), over the view's own nodes only: each inlined input is cut
//! to an empty relation of its schema first (it was checked when it was lowered).

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::DFSchema;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::{ViewTable, source_as_provider};
use datafusion::logical_expr::{EmptyRelation, Expr, LogicalPlan, SubqueryAlias, TableScan};
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use viewdag_ir::{Code, Diagnostic, SqlView};
use viewdag_surface::{GeneratedSeries, RelationsContext};
use viewdag_validate::sql::MAX_GENERATED_ROWS;

use super::context::{LowerContext, TransformResult};
use super::predicate_subquery::predicate_subquery_outside_filter;
use crate::expressions::error_diagnostic;

pub fn lower(context: &LowerContext, view: &SqlView) -> TransformResult {
    let SqlView { query } = view;
    let location = viewdag_ir::SpecLocation::view(context.view).with_field(["sql"]);
    // Every input's columns, qualified by its name: to explain ambiguous references (built
    // only for a query that fails: an accepted view never needs it).
    let failed = |error: &datafusion::error::DataFusionError| {
        let mut inputs_schema = DFSchema::empty();
        for input in context.inputs {
            match input.plan.as_ref() {
                LogicalPlan::SubqueryAlias(_) => inputs_schema.merge(input.plan.schema()),
                // A signature's unaliased placeholder (`crate::queries`): qualified as it
                // would have been.
                _ => match crate::inputs::alias(&input.plan, &input.name) {
                    Ok(aliased) => inputs_schema.merge(aliased.schema()),
                    Err(_) => inputs_schema.merge(input.plan.schema()),
                },
            }
        }
        vec![error_diagnostic(context.state, error, query, &inputs_schema, &location)]
    };
    // Register the unaliased plans: the SQL planner qualifies each scan by its own name.
    let inners: Vec<LogicalPlan> = context
        .inputs
        .iter()
        .map(|input| match input.plan.as_ref() {
            LogicalPlan::SubqueryAlias(alias) => alias.input.as_ref().clone(),
            other => other.clone(),
        })
        .collect();
    let tables = context
        .inputs
        .iter()
        .zip(&inners)
        .map(|(input, inner)| (input.name.clone(), Arc::new(ViewTable::new(inner.clone(), None)) as Arc<dyn TableProvider>));
    let relations = RelationsContext::new(context.state, tables);
    let mut statements = DFParser::parse_sql_with_dialect(query, &GenericDialect {}).map_err(|error| failed(&error))?;
    let Some(statement) = statements.pop_front() else {
        return Err(vec![Diagnostic::new(Code::SqlForbiddenStatement, location.clone(), "the SQL query is empty")]);
    };
    // Spans let DataFusion say where in the query a column is (they never change a plan).
    let plan = relations.statement_to_plan(statement, true).map_err(|error| failed(&error))?;
    // Type errors surface only when the analyzer coerces types: find them now, so that an
    // accepted view never fails in the optimizer.
    let state = context.state;
    let own_nodes = without_inlined_inputs(plan.clone(), &inners).map_err(|error| failed(&error))?;
    state.analyzer().execute_and_check(own_nodes, state.config_options(), |_, _| {}).map_err(|error| failed(&error))?;
    if let Some(diagnostic) = too_many_generated_rows(context.view, query, &plan, &location) {
        return Err(vec![diagnostic]);
    }
    if let Some(diagnostic) = predicate_subquery_outside_filter(context.view, query, &plan, &location) {
        return Err(vec![diagnostic]);
    }
    inline_view_scans(plan).map(without_identity_projection).map_err(|error| failed(&error))
}

/// `plan` with each input the SQL planner inlined (`SubqueryAlias(name, input's plan)`) cut
/// down to an empty relation of the input's schema: what the analyzer must check of a view is
/// its own nodes — type coercion reads only their inputs' schemas, kept as they were — and
/// each input was checked when it was lowered. Analyzing the inputs again at every view of a
/// chain cost O(depth × width²) per view (each projection's fields are looked up by name).
fn without_inlined_inputs(plan: LogicalPlan, inners: &[LogicalPlan]) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_down_with_subqueries(|node| {
        let LogicalPlan::SubqueryAlias(alias) = &node else { return Ok(Transformed::no(node)) };
        if !inners.iter().any(|inner| inner == alias.input.as_ref()) {
            return Ok(Transformed::no(node));
        }
        let schema = Arc::clone(alias.input.schema());
        let placeholder = LogicalPlan::EmptyRelation(EmptyRelation { produce_one_row: false, schema });
        let cut = SubqueryAlias::try_new(Arc::new(placeholder), alias.alias.clone())?;
        Ok(Transformed::new(LogicalPlan::SubqueryAlias(cut), true, TreeNodeRecursion::Jump))
    })
    .map(|transformed| transformed.data)
}

/// `plan` without its top projection when that projection repeats its input's columns, in
/// order, with the input's schema (what `SELECT * … WHERE …` plans): the view's schema is
/// the same (names, qualifiers, types, nullability), and a chain of such views inlines with
/// one node less per view — over a wide chain, each projection costs every plan-wide pass
/// O(width²) in DataFusion (its fields are looked up by name one by one).
fn without_identity_projection(plan: LogicalPlan) -> LogicalPlan {
    let LogicalPlan::Projection(projection) = &plan else { return plan };
    let input = projection.input.schema();
    let repeats_input = projection.expr.len() == input.fields().len()
        && projection.expr.iter().zip(input.iter()).all(|(expression, (qualifier, field))| {
            matches!(expression, Expr::Column(column) if column.relation.as_ref() == qualifier && column.name == *field.name())
        });
    if repeats_input && projection.schema.as_ref() == input.as_ref() { projection.input.as_ref().clone() } else { plan }
}

/// `V0205` when the query's row generators (`range`, `generate_series`) can produce more
/// than [`MAX_GENERATED_ROWS`] rows: each call counted with its folded arguments (so
/// `range(2000000 * 1000)` counts like `range(2000000000)`), multiplied through joins
/// without equality keys (a cross join of two allowed ranges), added through unions.
/// Literal bounds are refused earlier, with the call's position (`viewdag_validate::sql`).
fn too_many_generated_rows(view: &str, query: &str, plan: &LogicalPlan, location: &viewdag_ir::SpecLocation) -> Option<Diagnostic> {
    let rows = generated_rows(plan);
    if rows <= MAX_GENERATED_ROWS {
        return None;
    }
    let mut at = location.clone();
    let lowered = query.to_ascii_lowercase();
    if let Some((offset, name)) =
        ["generate_series", "range"].iter().filter_map(|name| Some((lowered.find(name)?, *name))).min_by_key(|(offset, _)| *offset)
    {
        at = at.with_range(offset, offset + name.len());
    }
    Some(
        Diagnostic::new(
            Code::InvalidLimit,
            at,
            format!(
                "SQL of view `{view}` generates up to {rows:.3e} rows with its row generators; at most {MAX_GENERATED_ROWS:.0e} are allowed"
            ),
        )
        .with_note("a join without equality keys multiplies the rows of its sides"),
    )
}

/// Whether a join matches rows by equal columns (`ON a.x = b.y`, in `on` or, before the
/// optimizer extracts it, in its filter): then it is not a product of its sides.
fn has_equality_keys(join: &datafusion::logical_expr::Join) -> bool {
    use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
    !join.on.is_empty()
        || join.filter.as_ref().is_some_and(|filter| {
            datafusion::logical_expr::utils::split_conjunction(filter).iter().any(|conjunct| {
                matches!(conjunct, Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right })
                    if matches!(left.as_ref(), Expr::Column(_)) && matches!(right.as_ref(), Expr::Column(_)))
            })
        })
}

/// The most rows the row generators under `plan` produce (1 where none is scanned).
fn generated_rows(plan: &LogicalPlan) -> f64 {
    let inputs = || plan.inputs().into_iter().map(generated_rows);
    match plan {
        LogicalPlan::TableScan(TableScan { source, .. }) => source_as_provider(source)
            .ok()
            .and_then(|provider| (provider.as_ref() as &dyn std::any::Any).downcast_ref::<GeneratedSeries>().map(|series| series.rows))
            .unwrap_or(1.0),
        LogicalPlan::Join(join) if !has_equality_keys(join) => inputs().product(),
        LogicalPlan::Union(_) => inputs().sum(),
        _ => inputs().fold(1.0, f64::max),
    }
}

/// Replaces each scan of a registered view table by `SubqueryAlias(name, view plan)`.
fn inline_view_scans(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up(|node| {
        let LogicalPlan::TableScan(TableScan { table_name, source, projection, filters, fetch, .. }) = &node else {
            return Ok(Transformed::no(node));
        };
        let Some(inner) = source.get_logical_plan() else {
            return Ok(Transformed::no(node));
        };
        if projection.is_some() || !filters.is_empty() || fetch.is_some() {
            return Ok(Transformed::no(node));
        }
        let inlined = datafusion::logical_expr::LogicalPlanBuilder::from(inner.into_owned()).alias(table_name.clone())?.build()?;
        Ok(Transformed::yes(inlined))
    })
    .map(|transformed| transformed.data)
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};

    use super::*;

    /// An input's plan: a filter over two literal rows.
    fn input_plan() -> LogicalPlan {
        let rows = vec![vec![lit(1_i64), lit("a")], vec![lit(2_i64), lit("b")]];
        LogicalPlanBuilder::values(rows).unwrap().filter(col("column1").gt(lit(0_i64))).unwrap().build().unwrap()
    }

    /// A view over `input` inlined as the SQL planner inlines it, read twice (a self-join).
    fn view_over(input: &LogicalPlan) -> LogicalPlan {
        let side = |name: &str| LogicalPlanBuilder::from(input.clone()).alias(name).unwrap().build().unwrap();
        LogicalPlanBuilder::from(side("a"))
            .cross_join(side("b"))
            .unwrap()
            .filter(col("a.column1").eq(col("b.column1")))
            .unwrap()
            .build()
            .unwrap()
    }

    #[test]
    fn inlined_inputs_are_cut_to_their_schemas_and_the_views_own_nodes_kept() {
        let input = input_plan();
        let view = view_over(&input);
        let cut = without_inlined_inputs(view.clone(), std::slice::from_ref(&input)).unwrap();
        assert_eq!(cut.schema(), view.schema(), "the same schema at every level above the cut");
        let LogicalPlan::Filter(filter) = &cut else { panic!("the view's own filter stays: {}", cut.display_indent()) };
        let LogicalPlan::Join(join) = filter.input.as_ref() else { panic!("the join stays: {}", cut.display_indent()) };
        for side in [&join.left, &join.right] {
            let LogicalPlan::SubqueryAlias(alias) = side.as_ref() else { panic!("each side keeps its alias") };
            assert!(matches!(alias.input.as_ref(), LogicalPlan::EmptyRelation(_)), "{}", cut.display_indent());
            assert_eq!(alias.input.schema(), input.schema());
        }
        // A plan that is not one of the inputs is left whole.
        let other = LogicalPlanBuilder::from(input.clone()).limit(0, Some(1)).unwrap().build().unwrap();
        assert_eq!(without_inlined_inputs(view.clone(), &[other]).unwrap(), view);
    }
}

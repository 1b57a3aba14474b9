//! `sql`: a SELECT over declared relations, planned by DataFusion's SQL planner over a
//! catalog of exactly the relations the query names (`viewdag_surface::RelationsContext`:
//! the planning session's functions and options, no session built per view).
//!
//! Ephemeral views are registered as view tables over their P0 plans; after planning,
//! their scans are replaced by the plans themselves (as `SubqueryAlias(name, plan)`), so
//! P0 of a SQL view looks like the P0 of any other view.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::DFSchema;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::ViewTable;
use datafusion::logical_expr::{LogicalPlan, TableScan};
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use viewdag_ir::{Code, Diagnostic, SqlView};
use viewdag_surface::RelationsContext;

use super::context::{LowerContext, TransformResult};
use crate::expressions::error_diagnostic;

pub fn lower(context: &LowerContext, view: &SqlView) -> TransformResult {
    let SqlView { query } = view;
    let location = viewdag_ir::SpecLocation::view(context.view).with_field(["sql"]);
    // Every input's columns, qualified by its name: to explain ambiguous references.
    let mut inputs_schema = DFSchema::empty();
    for input in context.inputs {
        inputs_schema.merge(input.plan.schema());
    }
    let failed =
        |error: &datafusion::error::DataFusionError| vec![error_diagnostic(context.state, error, query, &inputs_schema, &location)];
    let tables = context.inputs.iter().map(|input| {
        // Register the unaliased plan: the SQL planner qualifies the scan by its own name.
        let inner = match input.plan.as_ref() {
            LogicalPlan::SubqueryAlias(alias) => alias.input.as_ref().clone(),
            other => other.clone(),
        };
        (input.name.clone(), Arc::new(ViewTable::new(inner, None)) as Arc<dyn TableProvider>)
    });
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
    state.analyzer().execute_and_check(plan.clone(), state.config_options(), |_, _| {}).map_err(|error| failed(&error))?;
    inline_view_scans(plan).map_err(|error| failed(&error))
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

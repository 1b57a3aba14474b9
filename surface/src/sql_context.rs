//! Planning a SQL query over a fixed set of relations without building a session: a
//! [`ContextProvider`] that lends the planning session's functions, planners and options and
//! holds exactly the given tables (how every `sql` view is validated and lowered).
//!
//! Building a `SessionState` per query (a catalog list, then `SessionStateBuilder::build`,
//! which registers every function again) cost more than planning the query itself; this
//! borrows everything from the one planning session and allocates only the table map.
//!
//! ## Invariants
//! - Plans exactly as `SessionState::statement_to_plan` over a session whose catalog holds
//!   only `tables` (`catalog::session_with_tables`): the same name resolution (the session's
//!   default catalog and schema, case as the session's identifier options say), the same
//!   "table … not found" error for any other name, the same functions and parser options.
//! - Holds no state of its own beyond the table map: nothing here can reach a digest.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::cte_worktable::CteWorkTable;
use datafusion::catalog::{TableFunctionArgs, TableProvider};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DFSchema, Result, TableReference, plan_datafusion_err};
use datafusion::datasource::provider_as_source;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::planner::{ExprPlanner, RelationPlanner};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{AggregateUDF, Expr, HigherOrderUDF, LogicalPlan, ScalarUDF, TableSource, WindowUDF};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::sql::parser::Statement;
use datafusion::sql::planner::{ContextProvider, ParserOptions, SqlToRel};

/// The planning session's functions and options over exactly `tables` (by relation name).
pub struct RelationsContext<'a> {
    state: &'a SessionState,
    tables: HashMap<String, Arc<dyn TableSource>>,
}

impl<'a> RelationsContext<'a> {
    /// `state`'s functions over `tables` (name → provider).
    pub fn new(state: &'a SessionState, tables: impl IntoIterator<Item = (String, Arc<dyn TableProvider>)>) -> Self {
        let tables = tables.into_iter().map(|(name, table)| (name, provider_as_source(table))).collect();
        RelationsContext { state, tables }
    }

    /// Plans one parsed statement with the session's parser options (`collect_spans` as
    /// asked: spans never change a plan, they only say where an error is).
    pub fn statement_to_plan(&self, statement: Statement, collect_spans: bool) -> Result<LogicalPlan> {
        let mut options = ParserOptions::from(&self.state.config_options().sql_parser);
        options.collect_spans = collect_spans;
        SqlToRel::new_with_options(self, options).statement_to_plan(statement)
    }
}

impl ContextProvider for RelationsContext<'_> {
    fn get_table_source(&self, name: TableReference) -> Result<Arc<dyn TableSource>> {
        let catalog = &self.state.config_options().catalog;
        let resolved = name.resolve(&catalog.default_catalog, &catalog.default_schema);
        let in_default_schema =
            resolved.catalog.as_ref() == catalog.default_catalog.as_str() && resolved.schema.as_ref() == catalog.default_schema.as_str();
        in_default_schema
            .then(|| self.tables.get(resolved.table.as_ref()).cloned())
            .flatten()
            .ok_or_else(|| plan_datafusion_err!("table '{resolved}' not found"))
    }

    fn get_table_function_source(&self, name: &str, args: Vec<Expr>) -> Result<Arc<dyn TableSource>> {
        let function =
            self.state.table_functions().get(name).cloned().ok_or_else(|| plan_datafusion_err!("table function '{name}' not found"))?;
        let simplify_context = SimplifyContext::builder()
            .with_config_options(Arc::clone(self.state.config_options()))
            .with_query_execution_start_time(self.state.execution_props().query_execution_start_time)
            .build();
        let simplifier = ExprSimplifier::new(simplify_context);
        let schema = DFSchema::empty();
        let args = args
            .into_iter()
            .map(|argument| simplifier.coerce(argument, &schema).and_then(|argument| simplifier.simplify(argument)))
            .collect::<Result<Vec<_>>>()?;
        let provider = function.create_table_provider_with_args(TableFunctionArgs::new(&args, self.state))?;
        Ok(provider_as_source(provider))
    }

    fn create_cte_work_table(&self, name: &str, schema: SchemaRef) -> Result<Arc<dyn TableSource>> {
        Ok(provider_as_source(Arc::new(CteWorkTable::new(name, schema))))
    }

    fn get_expr_planners(&self) -> &[Arc<dyn ExprPlanner>] {
        self.state.expr_planners()
    }

    fn get_relation_planners(&self) -> &[Arc<dyn RelationPlanner>] {
        self.state.relation_planners()
    }

    fn get_function_meta(&self, name: &str) -> Option<Arc<ScalarUDF>> {
        self.state.scalar_functions().get(name).cloned()
    }

    fn get_higher_order_meta(&self, name: &str) -> Option<Arc<HigherOrderUDF>> {
        self.state.higher_order_functions().get(name).cloned()
    }

    fn get_aggregate_meta(&self, name: &str) -> Option<Arc<AggregateUDF>> {
        self.state.aggregate_functions().get(name).cloned()
    }

    fn get_window_meta(&self, name: &str) -> Option<Arc<WindowUDF>> {
        self.state.window_functions().get(name).cloned()
    }

    fn get_variable_type(&self, variable_names: &[String]) -> Option<DataType> {
        use datafusion::logical_expr::var_provider::{VarType, is_system_variables};
        if variable_names.is_empty() {
            return None;
        }
        let kind = if is_system_variables(variable_names) { VarType::System } else { VarType::UserDefined };
        self.state.execution_props().var_providers.as_ref().and_then(|providers| providers.get(&kind)?.get_type(variable_names))
    }

    fn options(&self) -> &ConfigOptions {
        self.state.config_options()
    }

    fn udf_names(&self) -> Vec<String> {
        self.state.scalar_functions().keys().cloned().collect()
    }

    fn higher_order_function_names(&self) -> Vec<String> {
        self.state.higher_order_functions().keys().cloned().collect()
    }

    fn udaf_names(&self) -> Vec<String> {
        self.state.aggregate_functions().keys().cloned().collect()
    }

    fn udwf_names(&self) -> Vec<String> {
        self.state.window_functions().keys().cloned().collect()
    }
}

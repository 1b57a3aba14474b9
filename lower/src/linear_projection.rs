//! A `Projection` built in time linear in the number of its expressions and its input's
//! columns. `LogicalPlanBuilder::project` computes the output schema by looking up every
//! projected column in the input's `DFSchema` (a scan of the fields each) and maps each
//! expression back to an input column by scanning the input's field names again: a
//! projection naming every column of a 40,000-column input makes 1.6 × 10⁹ comparisons.
//!
//! ## Invariants
//! - [`project`] returns the plan `LogicalPlanBuilder::project` returns for the same
//!   expressions (the same expressions after the same normalization, the same output
//!   schema with its metadata and functional dependencies, the same errors in the same
//!   order), only with column lookups through a [`ColumnIndex`] and field names hashed.
//!   A projection with a wildcard is left to the builder.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::{DFSchema, FunctionalDependencies, Result};
use datafusion::logical_expr::builder::validate_unique_names;
use datafusion::logical_expr::expr_rewriter::normalize_col;
use datafusion::logical_expr::utils::columnize_expr;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Projection};

use crate::column_index::ColumnIndex;

/// `expressions` over `input`, whose schema `columns` indexes.
pub fn project(input: &Arc<LogicalPlan>, expressions: Vec<Expr>, columns: &ColumnIndex) -> Result<LogicalPlan> {
    #[expect(deprecated, reason = "a wildcard expression is still an `Expr` variant; the builder expands it")]
    let has_wildcard = expressions.iter().any(|expression| matches!(expression, Expr::Wildcard { .. }));
    if has_wildcard {
        return LogicalPlanBuilder::new_from_arc(Arc::clone(input)).project(expressions).and_then(LogicalPlanBuilder::build);
    }
    let expressions =
        expressions.into_iter().map(|expression| columnize_expr(normalize_col(expression, input)?, input)).collect::<Result<Vec<_>>>()?;
    validate_unique_names("Projections", expressions.iter())?;
    let fields = expressions.iter().map(|expression| expression.to_field(columns)).collect::<Result<Vec<_>>>()?;
    let dependencies = projected_dependencies(&expressions, input.schema());
    let schema = DFSchema::new_with_metadata(fields, input.schema().metadata().clone())?.with_functional_dependencies(dependencies)?;
    Projection::try_new_with_schema(expressions, Arc::clone(input), Arc::new(schema)).map(LogicalPlan::Projection)
}

/// The input's functional dependencies carried through the projection: DataFusion's
/// `calc_func_dependencies_for_project` (each expression, or an alias's inner expression,
/// maps to the first input field whose qualified name is its text), with the field names
/// hashed instead of scanned.
fn projected_dependencies(expressions: &[Expr], input: &DFSchema) -> FunctionalDependencies {
    /// What DataFusion maps an expression that is no input column to.
    const COMPUTED_EXPRESSION: usize = usize::MAX;
    if input.functional_dependencies().is_empty() {
        // Nothing to carry: skip rendering every field and expression name.
        return FunctionalDependencies::empty();
    }
    let mut first_position: HashMap<String, usize> = HashMap::with_capacity(input.fields().len());
    for (position, name) in input.field_names().into_iter().enumerate() {
        first_position.entry(name).or_insert(position);
    }
    let input_positions: Vec<usize> = expressions
        .iter()
        .map(|expression| {
            let text = match expression {
                Expr::Alias(alias) => alias.expr.to_string(),
                other => other.to_string(),
            };
            first_position.get(&text).copied().unwrap_or(COMPUTED_EXPRESSION)
        })
        .collect();
    input.functional_dependencies().project_functional_dependencies(&input_positions, expressions.len())
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::common::{Column, Constraint, Constraints, TableReference};
    use datafusion::logical_expr::{EmptyRelation, col, lit};

    use super::*;

    /// An input `t(a, b, c)` with `a` its primary key, so functional dependencies show.
    fn input() -> Arc<LogicalPlan> {
        let fields =
            vec![Field::new("a", DataType::Int64, false), Field::new("b", DataType::Utf8, true), Field::new("c", DataType::Float64, true)];
        let schema = DFSchema::try_from_qualified_schema("t", &Schema::new(fields)).expect("a schema");
        let constraints = Constraints::new_unverified(vec![Constraint::PrimaryKey(vec![0])]);
        let dependencies = FunctionalDependencies::new_from_constraints(Some(&constraints), 3);
        let schema = schema.with_functional_dependencies(dependencies).expect("valid dependencies");
        Arc::new(LogicalPlan::EmptyRelation(EmptyRelation { produce_one_row: false, schema: Arc::new(schema) }))
    }

    fn column(name: &str) -> Expr {
        Expr::Column(Column::new(Some(TableReference::bare("t")), name))
    }

    #[test]
    fn equals_the_builders_projection() {
        let input = input();
        let columns = ColumnIndex::new(input.schema());
        let expressions =
            vec![column("c").alias("c"), column("a").alias("key"), (column("c") + lit(1.0)).alias("d"), column("b"), col("a")];
        let built = LogicalPlanBuilder::new_from_arc(Arc::clone(&input)).project(expressions.clone()).and_then(LogicalPlanBuilder::build);
        let linear = project(&input, expressions, &columns);
        let (built, linear) = (built.expect("the builder projects"), linear.expect("the linear projection"));
        assert_eq!(linear, built);
        assert_eq!(linear.schema(), built.schema());
        assert_eq!(linear.schema().functional_dependencies(), built.schema().functional_dependencies());
        assert_ne!(linear.schema().functional_dependencies(), &FunctionalDependencies::empty(), "the key is carried through");
    }

    #[test]
    fn fails_as_the_builder_fails() {
        let input = input();
        let columns = ColumnIndex::new(input.schema());
        for expressions in [vec![column("a").alias("x"), column("b").alias("x")], vec![column("missing")]] {
            let built =
                LogicalPlanBuilder::new_from_arc(Arc::clone(&input)).project(expressions.clone()).and_then(LogicalPlanBuilder::build);
            let linear = project(&input, expressions, &columns);
            assert_eq!(
                linear.map_err(|error| error.strip_backtrace()).err(),
                built.map_err(|error| error.strip_backtrace()).err(),
                "the same error"
            );
        }
    }
}

//! Compiling a task's expectations against the schema of the rows it writes: row checks
//! become DataFusion physical expressions (built with `Expr` builders — column names are
//! never parsed, so `a.b` is one column — and coerced the way a filter is; only a
//! user-written `predicate` is SQL), column lists become column indexes.
//!
//! ## Invariants
//! - Pure apart from the session's function registry; an expectation that does not compile
//!   here is an error of the task (validation reports it first, with a location).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::{Column, DFSchema};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, lit};
use datafusion::physical_expr::PhysicalExpr;
use viewdag_ir::{AcceptedValue, ExpectationKind, ExpectationsSpec, OnFail};

use super::error::{ExpectationError, ExpectationProblem};

/// How one expectation is checked.
#[derive(Debug, Clone)]
pub enum Check {
    /// A row passes when the expression is true.
    Row {
        /// The expression, over the task's rows.
        passes: Arc<dyn PhysicalExpr>,
    },
    /// Every non-null value of `column` appears among `values`: both sides cast to
    /// `compare_as` (their common comparison type: an `int64` key matches a `float64` one of
    /// equal value), then compared in that type's text form.
    Relationship {
        /// The checked column's index in the rows.
        column: usize,
        /// The relation the values come from.
        to: String,
        /// Its column.
        to_column: String,
        /// Its values, in `compare_as`'s text form (loaded before the rows flow).
        values: Arc<HashSet<String>>,
        /// The type both sides are compared in.
        compare_as: DataType,
    },
    /// Rows whose key columns (all non-null) repeat an earlier row's key fail.
    Unique {
        /// The key columns' indexes in the rows.
        columns: Vec<usize>,
    },
    /// The number of rows written lies in `min..=max`.
    RowCount {
        /// The fewest rows allowed.
        min: Option<u64>,
        /// The most rows allowed.
        max: Option<u64>,
    },
}

/// One expectation, ready to check rows.
#[derive(Debug, Clone)]
pub struct CompiledExpectation {
    /// `view`, `output` or `merge`.
    pub owner: String,
    /// The expectation's name.
    pub name: String,
    /// What a failing row does.
    pub on_fail: OnFail,
    /// How it is checked.
    pub check: Check,
}

/// A task's expectations, in their fixed order.
#[derive(Debug, Clone, Default)]
pub struct CompiledExpectations {
    /// The expectations.
    pub expectations: Vec<CompiledExpectation>,
}

impl CompiledExpectations {
    /// Whether the task has none.
    pub fn is_empty(&self) -> bool {
        self.expectations.is_empty()
    }

    /// The `(expectation index, its name, relation, column, the checked column's type)` of
    /// every relationship, whose values must be loaded before the rows flow.
    pub fn relationships(&self) -> Vec<(usize, &CompiledExpectation, String, String, DataType)> {
        self.expectations
            .iter()
            .enumerate()
            .filter_map(|(index, expectation)| match &expectation.check {
                Check::Relationship { to, to_column, compare_as, .. } => {
                    Some((index, expectation, to.clone(), to_column.clone(), compare_as.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Sets a relationship's target values (in `compare_as`'s text form) and the type both
    /// sides are compared in.
    pub fn set_relationship_values(&mut self, index: usize, loaded: HashSet<String>, common: DataType) {
        if let Some(CompiledExpectation { check: Check::Relationship { values, compare_as, .. }, .. }) = self.expectations.get_mut(index) {
            *values = Arc::new(loaded);
            *compare_as = common;
        }
    }
}

/// A SQL identifier, quoted.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Compiles `blocks` (owner, expectations) and, for a merge, the uniqueness of its key.
pub fn compile_expectations(
    state: &SessionState,
    schema: &SchemaRef,
    blocks: &[(String, &ExpectationsSpec)],
    merge_key: &[String],
) -> Result<CompiledExpectations, ExpectationError> {
    let df_schema = DFSchema::try_from(Arc::clone(schema)).map_err(|error| ExpectationError::Schema(error.strip_backtrace()))?;
    let column = |name: &str| schema.index_of(name).map_err(|_| ExpectationProblem::MissingColumn { column: name.to_string() });
    let planned = |expression: Expr| -> Result<Check, ExpectationProblem> {
        let passes =
            state.create_physical_expr(expression, &df_schema).map_err(|error| ExpectationProblem::DoesNotPlan(error.strip_backtrace()))?;
        Ok(Check::Row { passes })
    };
    let mut expectations = Vec::new();
    for (owner, block) in blocks {
        for expectation in block.expectations() {
            let check = (|| -> Result<Check, ExpectationProblem> {
                Ok(match &expectation.kind {
                    ExpectationKind::NotNull { column: name } => {
                        column(name)?;
                        planned(column_expr(name).is_not_null())?
                    }
                    ExpectationKind::AcceptedValues { column: name, values } => {
                        column(name)?;
                        let is_null = column_expr(name).is_null();
                        let literals: Vec<Expr> = values.iter().map(accepted_literal).collect();
                        planned(if literals.is_empty() { is_null } else { is_null.or(column_expr(name).in_list(literals, false)) })?
                    }
                    ExpectationKind::Predicate { predicate } => planned(
                        state
                            .create_logical_expr(predicate, &df_schema)
                            .map_err(|error| ExpectationProblem::DoesNotPlan(error.strip_backtrace()))?,
                    )?,
                    ExpectationKind::Unique { columns } => {
                        Check::Unique { columns: columns.iter().map(|name| column(name)).collect::<Result<_, _>>()? }
                    }
                    ExpectationKind::Relationship { column: name, to, to_column } => {
                        let index = column(name)?;
                        Check::Relationship {
                            column: index,
                            to: to.clone(),
                            to_column: to_column.clone(),
                            values: Arc::new(HashSet::new()),
                            compare_as: schema.field(index).data_type().clone(),
                        }
                    }
                    ExpectationKind::RowCount { min: Some(min), max: Some(max) } if min > max => {
                        return Err(ExpectationProblem::EmptyRowCountRange { min: *min, max: *max });
                    }
                    ExpectationKind::RowCount { min, max } => Check::RowCount { min: *min, max: *max },
                })
            })()
            // Every error names the expectation (`check` reports these with positions first).
            .map_err(|problem| ExpectationError::Expectation {
                expectation: expectation.name.clone(),
                owner: owner.clone(),
                problem,
            })?;
            expectations.push(CompiledExpectation { owner: owner.clone(), name: expectation.name, on_fail: expectation.on_fail, check });
        }
    }
    if !merge_key.is_empty() {
        expectations.push(CompiledExpectation {
            owner: "merge".to_string(),
            name: format!("unique_key({})", merge_key.join(", ")),
            on_fail: OnFail::Fail,
            check: Check::Unique {
                columns: merge_key.iter().map(|name| column(name)).collect::<Result<_, _>>().map_err(ExpectationError::MergeKey)?,
            },
        });
    }
    Ok(CompiledExpectations { expectations })
}

/// The column `name`, unqualified and never parsed (a `.` is part of the name).
fn column_expr(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

/// One `accepted_values` literal, typed as SQL would type it (coerced to the column's type
/// when the check is planned).
fn accepted_literal(value: &AcceptedValue) -> Expr {
    match value {
        AcceptedValue::Bool(value) => lit(*value),
        AcceptedValue::Integer(value) => lit(*value),
        AcceptedValue::Float(value) => lit(*value),
        AcceptedValue::Text(value) => lit(value.clone()),
    }
}

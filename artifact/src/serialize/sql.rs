//! The logical plan as SQL, through DataFusion's unparser (where the unparser can express
//! the plan).
//!
//! Before unparsing, every `SubqueryAlias` whose input is neither a projection nor a scan
//! gets an explicit projection of all its columns: DataFusion 55's unparser otherwise folds
//! e.g. `SubqueryAlias(paid_orders, Filter(..))` into the enclosing `SELECT` and loses the
//! alias. The rewrite changes only the SQL text, never P0.
//!
//! The unparser quotes identifiers as DataFusion's `DefaultDialect` does, through
//! [`BundleDialect`]: the same decision without compiling a regular expression for every
//! identifier printed (which DataFusion 55 does, a tenth of a wide plan's bundle).

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;
use datafusion::sql::unparser::Unparser;
use datafusion::sql::unparser::dialect::Dialect;

use super::PlanFormError;

/// `plan` as one SQL statement.
pub fn plan_as_sql(plan: &LogicalPlan) -> Result<String, PlanFormError> {
    Ok(projection_under_every_alias(plan).and_then(|rewritten| Unparser::new(&BundleDialect).plan_to_sql(&rewritten))?.to_string())
}

/// DataFusion's `DefaultDialect` (quote keywords but `ID`, anything not a plain identifier,
/// and anything with an uppercase letter, which the parser would fold), with its plain-identifier
/// test (`^[a-zA-Z_][a-zA-Z0-9_]*$`) written out instead of compiled on every call.
struct BundleDialect;

impl Dialect for BundleDialect {
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        let upper = identifier.to_uppercase();
        let plain = identifier.starts_with(|character: char| character.is_ascii_alphabetic() || character == '_')
            && identifier.chars().all(|character| character.is_ascii_alphanumeric() || character == '_');
        let keyword = upper != "ID" && ALL_KEYWORDS.contains(&upper.as_str());
        (keyword || !plain || identifier.chars().any(|character| character.is_ascii_uppercase())).then_some('"')
    }
}

fn projection_under_every_alias(plan: &LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.clone()
        .transform_up(|node| {
            let LogicalPlan::SubqueryAlias(alias) = &node else {
                return Ok(Transformed::no(node));
            };
            if matches!(alias.input.as_ref(), LogicalPlan::Projection(_) | LogicalPlan::TableScan(_)) {
                return Ok(Transformed::no(node));
            }
            let columns: Vec<Expr> = alias.input.schema().columns().into_iter().map(Expr::Column).collect();
            let rebuilt = LogicalPlanBuilder::new_from_arc(alias.input.clone()).project(columns)?.alias(alias.alias.clone())?.build()?;
            Ok(Transformed::yes(rebuilt))
        })
        .map(|transformed| transformed.data)
}

#[cfg(test)]
mod tests {
    use datafusion::sql::unparser::dialect::{DefaultDialect, Dialect};

    use super::BundleDialect;

    #[test]
    fn identifiers_are_quoted_as_the_default_dialect_quotes_them() {
        let identifiers = [
            "", "a", "_", "_a1", "a_b_9", "1a", "a b", "a-b", "id", "ID", "Id", "select", "SELECT", "Order", "order", "ümlaut", "naïve",
            "a\n", "x$",
        ];
        for identifier in identifiers {
            assert_eq!(
                BundleDialect.identifier_quote_style(identifier),
                DefaultDialect {}.identifier_quote_style(identifier),
                "{identifier:?}"
            );
        }
    }
}

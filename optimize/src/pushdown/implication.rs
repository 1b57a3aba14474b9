//! When a residual filter above a scan implies a predicate pushed into it: DataFusion's
//! simplifier keeps only the tightest of two bounds on one expression (`x > 0 AND x > 4`
//! becomes `x > 4` above the scan), while the scan still lists both as pushed. The weaker
//! bound is then applied — by the stronger one — and its contract is honoured.
//!
//! Invariants: only single bounds against literals of the same expression are compared
//! (`e > c`, `e >= c`, `e < c`, `e <= c`, `e = c`); anything else implies nothing, so the
//! check can only remove false alarms, never hide a dropped residual that no other filter
//! covers. NULL literals imply nothing.

use std::cmp::Ordering;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

use crate::pushdown::predicate_key::predicate_key;

/// The first residual that implies `pushed`, if any.
pub fn implied_by<'a>(pushed: &Expr, residuals: &'a [Expr]) -> Option<&'a Expr> {
    let (expression, operator, bound) = literal_bound(pushed)?;
    let key = predicate_key(expression);
    residuals.iter().find(|residual| {
        literal_bound(residual).is_some_and(|(other, other_operator, other_bound)| {
            predicate_key(other) == key && bound_implies(other_operator, other_bound, operator, bound)
        })
    })
}

/// `e OP literal`.
fn literal_bound(expression: &Expr) -> Option<(&Expr, Operator, &ScalarValue)> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expression else { return None };
    let Expr::Literal(value, _) = right.as_ref() else { return None };
    (!value.is_null()).then_some((left.as_ref(), *op, value))
}

/// Whether `e held_operator held` implies `e wanted_operator wanted`.
fn bound_implies(held_operator: Operator, held: &ScalarValue, wanted_operator: Operator, wanted: &ScalarValue) -> bool {
    use Operator::{Eq, Gt, GtEq, Lt, LtEq};
    let Some(order) = held.partial_cmp(wanted) else { return false };
    let at_least = order != Ordering::Less;
    let at_most = order != Ordering::Greater;
    match (held_operator, wanted_operator) {
        (Gt, Gt | GtEq) | (GtEq, GtEq) => at_least,
        (GtEq, Gt) => order == Ordering::Greater,
        (Lt, Lt | LtEq) | (LtEq, LtEq) => at_most,
        (LtEq, Lt) => order == Ordering::Less,
        (Eq, Gt) => order == Ordering::Greater,
        (Eq, GtEq) => at_least,
        (Eq, Lt) => order == Ordering::Less,
        (Eq, LtEq) => at_most,
        (Eq, Eq) => order == Ordering::Equal,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::{col, lit};

    use super::implied_by;

    #[test]
    fn a_tighter_bound_implies_a_looser_one_and_nothing_else_does() {
        let x = || col("v") * lit(1.01);
        let residuals = vec![x().gt(lit(4.0)), x().lt(lit(40.0))];
        assert!(implied_by(&x().gt(lit(0.0)), &residuals).is_some());
        assert!(implied_by(&x().gt_eq(lit(4.0)), &residuals).is_some());
        assert!(implied_by(&x().lt_eq(lit(50.0)), &residuals).is_some());
        // Looser or unrelated: not implied.
        assert!(implied_by(&x().gt(lit(5.0)), &residuals).is_none());
        assert!(implied_by(&x().lt(lit(30.0)), &residuals).is_none());
        assert!(implied_by(&(col("v") * lit(1.02)).gt(lit(0.0)), &residuals).is_none());
        assert!(implied_by(&col("k").not_eq(lit(0)), &residuals).is_none());
        // `>=` does not imply `>` at the same bound; `=` implies the bounds it satisfies.
        assert!(implied_by(&col("a").gt(lit(3)), &[col("a").gt_eq(lit(3))]).is_none());
        assert!(implied_by(&col("a").gt(lit(3)), &[col("a").eq(lit(4))]).is_some());
        assert!(implied_by(&col("a").gt(lit(3)), &[col("a").eq(lit(datafusion::common::ScalarValue::Int32(None)))]).is_none());
    }
}

//! A derived increment: the plan of a task's change and how it lands in the task's table.
//!
//! - [`ApplyIncrement::Append`]: the plan yields exactly the rows to add (filters,
//!   projections, `union all`, joins over appended inputs); one Delta append commit.
//! - [`ApplyIncrement::Merge`]: the plan yields one row per group the appended rows touch
//!   (a top aggregate or `distinct`); one Delta merge by the group keys, matched null-safely
//!   (`IS NOT DISTINCT FROM`), updating each measure with [`Combine::merged_value`] and
//!   inserting new groups.
//!
//! The merge's expressions are built here, from the derivation's own description of the
//! measures, so what the pass proved is what the driver applies.

use std::fmt;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, TableReference};
use datafusion::logical_expr::{BinaryExpr, Case, Expr, LogicalPlan, Operator, cast, lit};

/// How the table's old value of a measure and the increment's value combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Combine {
    /// `count` and `sum`: old + new, a null side (a sum over no values) counting as absent.
    Add,
    /// `min`: the smaller, nulls absent.
    Min,
    /// `max`: the larger, nulls absent.
    Max,
    /// The increment recomputed the whole group (over every row of the touched groups): its
    /// value replaces the old one.
    Replace,
}

impl Combine {
    pub fn as_str(self) -> &'static str {
        match self {
            Combine::Add => "add",
            Combine::Min => "min",
            Combine::Max => "max",
            Combine::Replace => "replace",
        }
    }

    /// The merged value of a measure from the table's value (`target`) and the
    /// increment's (`source`), cast to the column's type.
    pub fn merged_value(self, target: Expr, source: Expr, data_type: &DataType) -> Expr {
        let absent_sides = || vec![(target.clone().is_null(), source.clone()), (source.clone().is_null(), target.clone())];
        let merged = match self {
            Combine::Add => case(absent_sides(), target.clone() + source.clone()),
            Combine::Min => {
                let mut branches = absent_sides();
                branches.push((source.clone().lt(target.clone()), source.clone()));
                case(branches, target.clone())
            }
            Combine::Max => {
                let mut branches = absent_sides();
                branches.push((source.clone().gt(target.clone()), source.clone()));
                case(branches, target.clone())
            }
            Combine::Replace => source,
        };
        cast(merged, data_type.clone())
    }
}

/// `CASE WHEN c1 THEN v1 … ELSE otherwise END`.
fn case(branches: Vec<(Expr, Expr)>, otherwise: Expr) -> Expr {
    let branches = branches.into_iter().map(|(condition, value)| (Box::new(condition), Box::new(value))).collect();
    Expr::Case(Case::new(None, branches, Some(Box::new(otherwise))))
}

/// One measure column of a merged aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MergedMeasure {
    /// The output column.
    pub column: String,
    pub combine: Combine,
    /// The column's type in the task's output (merged values are cast to it).
    pub data_type: DataType,
}

/// How a top aggregate's (or `distinct`'s) increment merges into the table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupMerge {
    /// The output columns holding the group keys (empty: one global row).
    pub keys: Vec<String>,
    /// Every other output column.
    pub measures: Vec<MergedMeasure>,
    /// Whether the increment recomputes the touched groups over all their rows (measures
    /// that cannot be combined, like `avg`): it then reads the whole input again, joined
    /// with the touched keys.
    pub recomputes_touched_groups: bool,
}

impl GroupMerge {
    /// The merge condition: every key equal, nulls equal to nulls (`true` without keys).
    pub fn predicate(&self, target_alias: &str, source_alias: &str) -> Expr {
        self.keys
            .iter()
            .map(|key| {
                Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(qualified(target_alias, key)),
                    Operator::IsNotDistinctFrom,
                    Box::new(qualified(source_alias, key)),
                ))
            })
            .reduce(Expr::and)
            .unwrap_or_else(|| lit(true))
    }

    /// For matched groups: each measure column and its merged value.
    pub fn updates(&self, target_alias: &str, source_alias: &str) -> Vec<(String, Expr)> {
        self.measures
            .iter()
            .map(|measure| {
                let value = measure.combine.merged_value(
                    qualified(target_alias, &measure.column),
                    qualified(source_alias, &measure.column),
                    &measure.data_type,
                );
                (measure.column.clone(), value)
            })
            .collect()
    }
}

/// `alias.column` as a column reference (no parsing: names with dots stay whole).
pub fn qualified(alias: &str, column: &str) -> Expr {
    Expr::Column(Column::new(Some(TableReference::bare(alias)), column))
}

/// How an increment lands in the table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ApplyIncrement {
    /// The plan's rows are appended.
    Append,
    /// The plan's rows (one per touched group) are merged by the group keys.
    Merge(GroupMerge),
}

impl fmt::Display for ApplyIncrement {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyIncrement::Append => write!(formatter, "append the rows below"),
            ApplyIncrement::Merge(merge) => {
                let keys = if merge.keys.is_empty() {
                    "the one global row".to_string()
                } else {
                    format!("({})", merge.keys.iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", "))
                };
                let measures: Vec<String> =
                    merge.measures.iter().map(|measure| format!("`{}` {}", measure.column, measure.combine.as_str())).collect();
                write!(formatter, "merge the rows below by {keys} (null keys match null keys)")?;
                if measures.is_empty() {
                    write!(formatter, ", inserting the groups the table lacks")?;
                } else {
                    write!(formatter, ": {}; new groups inserted", measures.join(", "))?;
                }
                if merge.recomputes_touched_groups {
                    write!(formatter, " (the touched groups are recomputed over all their rows)")?;
                }
                Ok(())
            }
        }
    }
}

/// A task's derived change.
#[derive(Debug, Clone)]
pub struct Increment {
    /// The change's logical plan (like P0: the driver optimizes and plans it). Its output
    /// schema is the task's.
    pub plan: LogicalPlan,
    pub apply: ApplyIncrement,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_values_treat_a_null_side_as_absent() {
        let add = Combine::Add.merged_value(qualified("target", "n"), qualified("source", "n"), &DataType::Int64);
        assert_eq!(
            add.to_string(),
            "CAST(CASE WHEN target.n IS NULL THEN source.n WHEN source.n IS NULL THEN target.n ELSE target.n + source.n END AS Int64)"
        );
        let min = Combine::Min.merged_value(qualified("t", "m"), qualified("s", "m"), &DataType::Float64);
        assert_eq!(
            min.to_string(),
            "CAST(CASE WHEN t.m IS NULL THEN s.m WHEN s.m IS NULL THEN t.m WHEN s.m < t.m THEN s.m ELSE t.m END AS Float64)"
        );
        let replace = Combine::Replace.merged_value(qualified("t", "a"), qualified("s", "a"), &DataType::Float64);
        assert_eq!(replace.to_string(), "CAST(s.a AS Float64)");
    }

    #[test]
    fn the_merge_matches_keys_null_safely_and_a_global_row_always() {
        let merge = GroupMerge { keys: vec!["region".into(), "day.of".into()], measures: Vec::new(), recomputes_touched_groups: false };
        assert_eq!(
            merge.predicate("target", "source").to_string(),
            "target.region IS NOT DISTINCT FROM source.region AND target.day.of IS NOT DISTINCT FROM source.day.of"
        );
        let Expr::BinaryExpr(conjunction) = merge.predicate("target", "source") else { panic!("a conjunction") };
        let Expr::BinaryExpr(second) = conjunction.right.as_ref() else { panic!("a comparison") };
        assert!(matches!(second.left.as_ref(), Expr::Column(column) if column.name == "day.of"), "a dotted name stays one column");
        let global = GroupMerge { keys: Vec::new(), measures: Vec::new(), recomputes_touched_groups: false };
        assert_eq!(global.predicate("target", "source"), lit(true));
    }
}

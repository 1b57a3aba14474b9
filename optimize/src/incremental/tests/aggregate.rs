//! The `aggregate` rule (`rules/aggregate.rs`), alone.

use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, min, sum};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col, lit};

use super::support::*;
use crate::incremental::increment::{ApplyIncrement, Combine};

fn grouped(measures: Vec<datafusion::logical_expr::Expr>) -> LogicalPlan {
    let aggregate = LogicalPlanBuilder::from(scan("orders")).aggregate(vec![col("customer")], measures).unwrap();
    let names: Vec<String> = aggregate.schema().fields().iter().skip(1).map(|field| field.name().clone()).collect();
    let mut outputs = vec![col("customer").alias("customer")];
    for (position, name) in names.iter().enumerate() {
        outputs.push(col(format!("\"{name}\"")).alias(format!("m{position}")));
    }
    aggregate.project(outputs).unwrap().build().unwrap()
}

#[test]
fn count_sum_min_max_merge_by_the_group_keys() {
    let plan = grouped(vec![count(lit(1)), sum(col("amount")), min(col("amount")), max(col("amount"))]);
    let (text, apply) = merged(&plan, &["orders"]);
    assert!(text.contains("Aggregate: groupBy=[[orders.customer]]") && text.ends_with("TableScan: orders#delta"), "{text}");
    let ApplyIncrement::Merge(merge) = apply else { panic!("a merge") };
    assert_eq!(merge.keys, ["customer"]);
    let combines: Vec<Combine> = merge.measures.iter().map(|measure| measure.combine).collect();
    assert_eq!(combines, [Combine::Add, Combine::Add, Combine::Min, Combine::Max]);
    assert!(!merge.recomputes_touched_groups);
    assert_increment_equals_recompute(&plan, &["orders"]);
}

#[test]
fn a_measure_under_two_aliases_merges_like_one_under_one() {
    // `count(*) AS n` in a spec plans as `count(Int64(1)) AS count(*) AS n`.
    let plan = LogicalPlanBuilder::from(scan("orders"))
        .aggregate(vec![col("customer")], vec![count(lit(1i64)), sum(col("amount"))])
        .unwrap()
        .project(vec![
            col("customer"),
            col("\"count(Int64(1))\"").alias("count(*)").alias("n"),
            col("\"sum(orders.amount)\"").alias("total"),
        ])
        .unwrap()
        .build()
        .unwrap();
    let (text, apply) = merged(&plan, &["orders"]);
    assert!(!text.contains("__viewdag_touched"), "only the appended rows are aggregated: {text}");
    let ApplyIncrement::Merge(merge) = apply else { panic!("a merge") };
    assert!(!merge.recomputes_touched_groups);
    let combines: Vec<Combine> = merge.measures.iter().map(|measure| measure.combine).collect();
    assert_eq!(combines, [Combine::Add, Combine::Add]);
    assert_increment_equals_recompute(&plan, &["orders"]);
}

#[test]
fn avg_and_count_distinct_recompute_the_touched_groups() {
    let plan = grouped(vec![avg(col("amount")), count_distinct(col("amount"))]);
    let (text, apply) = merged(&plan, &["orders"]);
    assert!(text.contains("LeftSemi Join: orders.customer = __viewdag_touched.__viewdag_touched_0"), "{text}");
    let ApplyIncrement::Merge(merge) = apply else { panic!("a merge") };
    assert!(merge.recomputes_touched_groups);
    assert!(merge.measures.iter().all(|measure| measure.combine == Combine::Replace));
    assert_increment_equals_recompute(&plan, &["orders"]);
}

#[test]
fn a_global_aggregate_merges_its_one_row_and_refuses_avg() {
    let global = LogicalPlanBuilder::from(scan("orders"))
        .aggregate(Vec::<datafusion::logical_expr::Expr>::new(), vec![sum(col("amount")), count(lit(1))])
        .unwrap()
        .build()
        .unwrap();
    let (_, apply) = merged(&global, &["orders"]);
    let ApplyIncrement::Merge(merge) = apply else { panic!("a merge") };
    assert!(merge.keys.is_empty());
    assert_increment_equals_recompute(&global, &["orders"]);
    let averaged = LogicalPlanBuilder::from(scan("orders"))
        .aggregate(Vec::<datafusion::logical_expr::Expr>::new(), vec![avg(col("amount"))])
        .unwrap()
        .build()
        .unwrap();
    assert!(refusal(&averaged, &["orders"]).starts_with("the measure `avg(orders.amount)` of an aggregate without group keys"));
}

#[test]
fn having_over_measures_and_hidden_keys_are_refused() {
    let having = LogicalPlanBuilder::from(scan("orders"))
        .aggregate(vec![col("customer")], vec![sum(col("amount"))])
        .unwrap()
        .filter(col("\"sum(orders.amount)\"").gt(lit(10)))
        .unwrap()
        .project(vec![col("customer"), col("\"sum(orders.amount)\"").alias("total")])
        .unwrap()
        .build()
        .unwrap();
    assert!(refusal(&having, &["orders"]).starts_with("a filter over aggregated values (HAVING)"));
    let hidden = LogicalPlanBuilder::from(scan("orders"))
        .aggregate(vec![col("customer")], vec![sum(col("amount"))])
        .unwrap()
        .project(vec![col("\"sum(orders.amount)\"").alias("total")])
        .unwrap()
        .build()
        .unwrap();
    assert!(refusal(&hidden, &["orders"]).starts_with("the group key `customer` is not an output column"));
}

#[test]
fn an_aggregate_below_another_operator_is_refused() {
    let plan = LogicalPlanBuilder::from(grouped(vec![sum(col("amount"))]))
        .alias("totals")
        .unwrap()
        .filter(col("m0").gt(lit(1)))
        .unwrap()
        .build()
        .unwrap();
    assert!(
        refusal(&plan, &["orders"]).starts_with("an aggregate over changed rows below another operator"),
        "{}",
        refusal(&plan, &["orders"])
    );
    assert!(refusal(&plan, &["orders"]).ends_with("(in view `totals`)"));
}

#[test]
fn an_aggregate_over_an_unchanged_input_joins_appended_rows() {
    let dims = LogicalPlanBuilder::from(scan("customers"))
        .aggregate(vec![col("id")], vec![count(lit(1))])
        .unwrap()
        .alias("per_customer")
        .unwrap()
        .build()
        .unwrap();
    let plan = LogicalPlanBuilder::from(scan("orders"))
        .join(dims, datafusion::common::JoinType::Inner, (vec!["customer"], vec!["id"]), None)
        .unwrap()
        .build()
        .unwrap();
    assert_increment_equals_recompute(&plan, &["orders"]);
}

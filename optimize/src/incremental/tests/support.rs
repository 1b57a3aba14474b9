//! What the rules' tests share: four small in-memory relations, each in three versions
//! (`new` = `previous` ⊎ `delta`); plans scan `new`. [`appended_text`] renders a derived
//! change with each scan marked `#delta` or `#previous`; [`assert_increment_equals_recompute`]
//! executes the plan over the previous and the new data and checks that the previous
//! result plus the increment (appended, or merged as the increment says) equals the new one.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, TableScan, TableSource};
use datafusion::prelude::SessionContext;

use crate::incremental::change::{AppendedInput, InputChanges};
use crate::incremental::derive::{Deriver, derive_increment};
use crate::incremental::increment::{ApplyIncrement, Combine, GroupMerge};
use crate::incremental::subtree::Subtrees;

struct Versions {
    new: Arc<dyn TableSource>,
    previous: Arc<dyn TableSource>,
    delta: Arc<dyn TableSource>,
}

type Row = Vec<Option<i64>>;

fn orders_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("customer", DataType::Int64, true),
        Field::new("amount", DataType::Int64, true),
    ]))
}

fn int_batch(schema: &SchemaRef, rows: &[Row]) -> RecordBatch {
    let columns = (0..schema.fields().len())
        .map(|column| Arc::new(Int64Array::from(rows.iter().map(|row| row[column]).collect::<Vec<_>>())) as _)
        .collect();
    RecordBatch::try_new(Arc::clone(schema), columns).expect("a batch")
}

fn source(batch: RecordBatch) -> Arc<dyn TableSource> {
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("a table");
    provider_as_source(Arc::new(table))
}

fn versions(schema: SchemaRef, old: &[Row], added: &[Row], batch: fn(&SchemaRef, &[Row]) -> RecordBatch) -> Versions {
    let all: Vec<Row> = old.iter().chain(added).cloned().collect();
    Versions { new: source(batch(&schema, &all)), previous: source(batch(&schema, old)), delta: source(batch(&schema, added)) }
}

fn customers_batch(schema: &SchemaRef, rows: &[Row]) -> RecordBatch {
    let ids = Int64Array::from(rows.iter().map(|row| row[0]).collect::<Vec<_>>());
    let names = StringArray::from(rows.iter().map(|row| row[1].map(|code| format!("c{code}"))).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::clone(schema), vec![Arc::new(ids), Arc::new(names)]).expect("a batch")
}

fn relations() -> &'static BTreeMap<&'static str, Versions> {
    static RELATIONS: OnceLock<BTreeMap<&'static str, Versions>> = OnceLock::new();
    RELATIONS.get_or_init(|| {
        let orders_old: Vec<Row> = vec![
            vec![Some(1), Some(10), Some(5)],
            vec![Some(2), Some(11), Some(20)],
            vec![Some(3), Some(99), Some(7)],
            vec![Some(4), None, Some(1)],
        ];
        let orders_added: Vec<Row> = vec![
            vec![Some(5), Some(10), Some(30)],
            vec![Some(6), Some(12), Some(3)],
            vec![Some(7), None, Some(8)],
            vec![Some(8), Some(11), None],
        ];
        let returns_old: Vec<Row> = vec![vec![Some(1), Some(10), Some(5)], vec![Some(9), Some(12), Some(2)]];
        let returns_added: Vec<Row> = vec![vec![Some(1), Some(10), Some(5)], vec![Some(2), Some(11), Some(20)], vec![Some(10), None, None]];
        let customers_schema =
            Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true), Field::new("name", DataType::Utf8, true)]));
        let customers_old: Vec<Row> = vec![vec![Some(10), Some(1)], vec![Some(11), Some(2)]];
        let customers_added: Vec<Row> =
            vec![vec![Some(12), Some(3)], vec![Some(99), Some(4)], vec![Some(10), Some(5)], vec![None, Some(6)]];
        let dims_schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, true)]));
        BTreeMap::from([
            ("orders", versions(orders_schema(), &orders_old, &orders_added, int_batch)),
            ("returns", versions(orders_schema(), &returns_old, &returns_added, int_batch)),
            ("customers", versions(customers_schema, &customers_old, &customers_added, customers_batch)),
            ("dims", versions(dims_schema, &[vec![Some(1)], vec![Some(2)]], &[vec![Some(3)]], int_batch)),
        ])
    })
}

/// A scan of `name`'s new version.
pub fn scan(name: &str) -> LogicalPlan {
    let versions = &relations()[name];
    LogicalPlanBuilder::scan(name, Arc::clone(&versions.new), None).unwrap().build().unwrap()
}

/// `appended` gained their added rows; the other relations are unchanged.
pub fn changes(appended: &[&str]) -> InputChanges {
    appended.iter().fold(InputChanges::new(), |changes, name| {
        let versions = &relations()[name];
        changes.with_appended(*name, AppendedInput { delta: Arc::clone(&versions.delta), previous: Arc::clone(&versions.previous) })
    })
}

/// `plan` with each scan of a delta or previous version renamed `NAME#delta` /
/// `NAME#previous`, as indented text without schemas.
fn render(plan: &LogicalPlan) -> String {
    let marked = plan
        .clone()
        .transform_up(|node| match node {
            LogicalPlan::TableScan(scan) => {
                let name = scan.table_name.table().to_string();
                let versions = &relations()[name.as_str()];
                let mark = if Arc::ptr_eq(&scan.source, &versions.delta) {
                    "#delta"
                } else if Arc::ptr_eq(&scan.source, &versions.previous) {
                    "#previous"
                } else {
                    ""
                };
                Ok(Transformed::yes(LogicalPlan::TableScan(TableScan { table_name: format!("{name}{mark}").into(), ..scan })))
            }
            other => Ok(Transformed::no(other)),
        })
        .unwrap()
        .data;
    marked.display_indent().to_string()
}

/// The derived append of `plan` when `appended` gained rows.
pub fn appended_text(plan: &LogicalPlan, appended: &[&str]) -> String {
    let increment = derive_increment(plan, &changes(appended)).unwrap_or_else(|refusal| panic!("refused: {refusal}"));
    assert_eq!(increment.apply, ApplyIncrement::Append);
    render(&increment.plan)
}

/// The derived merge of `plan` when `appended` gained rows.
pub fn merged(plan: &LogicalPlan, appended: &[&str]) -> (String, ApplyIncrement) {
    let increment = derive_increment(plan, &changes(appended)).unwrap_or_else(|refusal| panic!("refused: {refusal}"));
    assert!(matches!(increment.apply, ApplyIncrement::Merge(_)), "not a merge: {}", increment.apply);
    (render(&increment.plan), increment.apply)
}

/// Why `plan`'s change cannot be derived when `appended` gained rows.
pub fn refusal(plan: &LogicalPlan, appended: &[&str]) -> String {
    match derive_increment(plan, &changes(appended)) {
        Ok(increment) => panic!("derived: {}\n{}", increment.apply, render(&increment.plan)),
        Err(refusal) => refusal.to_string(),
    }
}

fn rows_of(plan: LogicalPlan) -> Vec<Vec<ScalarValue>> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let batches = runtime.block_on(async { SessionContext::new().execute_logical_plan(plan).await?.collect().await }).expect("executes");
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            rows.push(batch.columns().iter().map(|column| ScalarValue::try_from_array(column, row).expect("a value")).collect());
        }
    }
    rows
}

fn sorted(rows: &[Vec<ScalarValue>]) -> Vec<String> {
    let mut texts: Vec<String> = rows.iter().map(|row| format!("{row:?}")).collect();
    texts.sort();
    texts
}

/// `table` with the increment's `rows` merged in as `merge` says.
fn merge_rows(table: Vec<Vec<ScalarValue>>, rows: Vec<Vec<ScalarValue>>, merge: &GroupMerge, names: &[String]) -> Vec<Vec<ScalarValue>> {
    let position = |name: &String| names.iter().position(|candidate| candidate == name).expect("an output column");
    let keys: Vec<usize> = merge.keys.iter().map(position).collect();
    let mut table = table;
    for row in rows {
        let key_of = |candidate: &Vec<ScalarValue>| keys.iter().map(|key| candidate[*key].clone()).collect::<Vec<_>>();
        match table.iter_mut().find(|existing| key_of(existing) == key_of(&row)) {
            Some(existing) => {
                for measure in &merge.measures {
                    let column = position(&measure.column);
                    let (old, new) = (existing[column].clone(), row[column].clone());
                    existing[column] = match measure.combine {
                        _ if new.is_null() && measure.combine != Combine::Replace => old,
                        _ if old.is_null() => new,
                        Combine::Add => old.add(&new).expect("addable"),
                        Combine::Min => {
                            if new < old {
                                new
                            } else {
                                old
                            }
                        }
                        Combine::Max => {
                            if new > old {
                                new
                            } else {
                                old
                            }
                        }
                        Combine::Replace => new,
                    };
                }
            }
            None => table.push(row),
        }
    }
    table
}

/// Executing `plan` over the new data equals executing it over the previous data and
/// applying the derived increment (appended, or merged).
pub fn assert_increment_equals_recompute(plan: &LogicalPlan, appended: &[&str]) {
    let changes = changes(appended);
    let increment = derive_increment(plan, &changes).unwrap_or_else(|refusal| panic!("refused: {refusal}"));
    let previous = Deriver { changes: &changes }.previous(plan).expect("the previous plan");
    let expected = rows_of(plan.clone());
    let old = rows_of(previous);
    let change = rows_of(increment.plan.clone());
    let names: Vec<String> = plan.schema().fields().iter().map(|field| field.name().clone()).collect();
    let actual = match &increment.apply {
        ApplyIncrement::Append => old.into_iter().chain(change).collect(),
        ApplyIncrement::Merge(merge) => merge_rows(old, change, merge, &names),
    };
    assert_eq!(sorted(&actual), sorted(&expected), "increment {}:\n{}", increment.apply, render(&increment.plan));
}

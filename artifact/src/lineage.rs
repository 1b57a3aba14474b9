//! Column-level lineage: for every output column of a view, the source columns it depends
//! on, each edge labelled by how it is used.
//!
//! Computed by walking the view's P0 plan bottom-up. Every plan node gets a
//! [`NodeLineage`]: for each of its output columns the source columns its *value* comes
//! from, plus the source columns that decide *which rows* exist or their order (filter
//! predicates, join keys and join filters, group keys, sort keys). A column's lineage is its
//! value sources (kind `value`) plus every row-deciding edge of the plan: a changed `WHERE`
//! or join key therefore shows up as a dependency of every column.
//!
//! "Source column" means a column of a relation the plan *scans*: a source, or — across a
//! materialization boundary — a materialized view's table. `SubqueryAlias` and
//! `Projection` only rename; a `Union` merges inputs by position; `Distinct` groups by every
//! column (edges of kind `group_key`).
//!
//! ## Invariants
//! - Deterministic: sets are `BTreeSet`s, columns follow the output schema, warnings are
//!   sorted and deduplicated.
//! - Never panics on any plan: a node this walker does not know is handled conservatively
//!   (every output column depends on every input column) with a warning.

use std::collections::BTreeSet;

use datafusion::common::DFSchema;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{BinaryExpr, Distinct, Expr, JoinType, LogicalPlan, Operator};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How an output column depends on a source column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// The column's value is computed from it (projection, aggregate argument, union input).
    Value,
    /// A filter predicate (including a join's extra filter) reads it.
    Filter,
    /// A join key reads it.
    JoinKey,
    /// A group key (or a `DISTINCT`) reads it.
    GroupKey,
    /// A sort key reads it.
    SortKey,
}

/// One dependency edge of an output column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineageEdge {
    /// The scanned relation (a source, or a materialized view read across a task boundary).
    pub relation: String,
    pub column: String,
    pub kind: EdgeKind,
}

/// The lineage of one output column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnLineage {
    pub column: String,
    /// Sorted by relation, column, kind.
    pub depends_on: Vec<LineageEdge>,
}

/// A column of a scanned relation: `(relation, column)`.
type SourceColumn = (String, String);

/// What a plan node's output depends on.
#[derive(Debug, Clone, Default)]
struct NodeLineage {
    /// Per output column (schema order): the source columns its value comes from.
    columns: Vec<BTreeSet<SourceColumn>>,
    /// Source columns that decide which rows exist or their order, with how.
    rows: BTreeSet<(SourceColumn, EdgeKind)>,
}

/// The lineage of every output column of `plan`, and the warnings about approximations.
pub fn column_lineage(plan: &LogicalPlan) -> (Vec<ColumnLineage>, Vec<String>) {
    let mut warnings = Vec::new();
    let lineage = node_lineage(plan, &mut warnings);
    let mut result = Vec::new();
    for (index, field) in plan.schema().fields().iter().enumerate() {
        let mut edges: BTreeSet<LineageEdge> = BTreeSet::new();
        if let Some(values) = lineage.columns.get(index) {
            for (relation, column) in values {
                edges.insert(LineageEdge { relation: relation.clone(), column: column.clone(), kind: EdgeKind::Value });
            }
        }
        for ((relation, column), kind) in &lineage.rows {
            edges.insert(LineageEdge { relation: relation.clone(), column: column.clone(), kind: *kind });
        }
        result.push(ColumnLineage { column: field.name().clone(), depends_on: edges.into_iter().collect() });
    }
    warnings.sort();
    warnings.dedup();
    (result, warnings)
}

/// Source columns an expression reads, resolved against `schema` whose columns have the
/// value sources `columns`. Subqueries inside the expression contribute their output
/// columns as values and their row edges as rows.
fn expression_sources(
    expression: &Expr,
    schema: &DFSchema,
    columns: &[BTreeSet<SourceColumn>],
    rows: &mut BTreeSet<(SourceColumn, EdgeKind)>,
    warnings: &mut Vec<String>,
) -> BTreeSet<SourceColumn> {
    let mut sources = BTreeSet::new();
    for column in expression.column_refs() {
        match schema.maybe_index_of_column(column).and_then(|index| columns.get(index)) {
            Some(found) => sources.extend(found.iter().cloned()),
            None => warnings.push(format!("lineage: column `{column}` was not found in the input of an expression")),
        }
    }
    let _ = expression.apply(|node| {
        let subquery = match node {
            Expr::ScalarSubquery(subquery) => Some(subquery),
            Expr::Exists(exists) => Some(&exists.subquery),
            Expr::InSubquery(in_subquery) => Some(&in_subquery.subquery),
            _ => None,
        };
        if let Some(subquery) = subquery {
            let inner = node_lineage(&subquery.subquery, warnings);
            for column in inner.columns {
                sources.extend(column);
            }
            rows.extend(inner.rows);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    sources
}

/// Adds an expression's sources to `lineage.rows` with `kind`.
fn add_row_edges(
    lineage_rows: &mut BTreeSet<(SourceColumn, EdgeKind)>,
    expression: &Expr,
    schema: &DFSchema,
    columns: &[BTreeSet<SourceColumn>],
    kind: EdgeKind,
    warnings: &mut Vec<String>,
) {
    let mut subquery_rows = BTreeSet::new();
    let sources = expression_sources(expression, schema, columns, &mut subquery_rows, warnings);
    lineage_rows.extend(sources.into_iter().map(|source| (source, kind)));
    lineage_rows.extend(subquery_rows);
}

/// Output columns computed by `expressions` over an input.
fn computed_columns(
    expressions: &[Expr],
    input_schema: &DFSchema,
    input: &mut NodeLineage,
    warnings: &mut Vec<String>,
) -> Vec<BTreeSet<SourceColumn>> {
    let mut output = Vec::with_capacity(expressions.len());
    for expression in expressions {
        let mut subquery_rows = BTreeSet::new();
        output.push(expression_sources(expression, input_schema, &input.columns, &mut subquery_rows, warnings));
        input.rows.extend(subquery_rows);
    }
    output
}

fn node_lineage(plan: &LogicalPlan, warnings: &mut Vec<String>) -> NodeLineage {
    match plan {
        LogicalPlan::TableScan(scan) => {
            let relation = scan.table_name.to_string();
            let columns =
                scan.projected_schema.fields().iter().map(|field| BTreeSet::from([(relation.clone(), field.name().clone())])).collect();
            let mut rows = BTreeSet::new();
            for filter in &scan.filters {
                for column in filter.column_refs() {
                    rows.insert(((relation.clone(), column.name.clone()), EdgeKind::Filter));
                }
            }
            NodeLineage { columns, rows }
        }
        LogicalPlan::SubqueryAlias(alias) => node_lineage(&alias.input, warnings),
        LogicalPlan::Subquery(subquery) => node_lineage(&subquery.subquery, warnings),
        LogicalPlan::Limit(limit) => node_lineage(&limit.input, warnings),
        LogicalPlan::Repartition(repartition) => node_lineage(&repartition.input, warnings),
        LogicalPlan::Projection(projection) => {
            let mut input = node_lineage(&projection.input, warnings);
            let columns = computed_columns(&projection.expr, projection.input.schema(), &mut input, warnings);
            NodeLineage { columns, rows: input.rows }
        }
        LogicalPlan::Filter(filter) => {
            let mut input = node_lineage(&filter.input, warnings);
            add_row_edges(&mut input.rows, &filter.predicate, filter.input.schema(), &input.columns, EdgeKind::Filter, warnings);
            input
        }
        LogicalPlan::Sort(sort) => {
            let mut input = node_lineage(&sort.input, warnings);
            for sort_expression in &sort.expr {
                add_row_edges(&mut input.rows, &sort_expression.expr, sort.input.schema(), &input.columns, EdgeKind::SortKey, warnings);
            }
            input
        }
        LogicalPlan::Join(join) => {
            let left = node_lineage(&join.left, warnings);
            let right = node_lineage(&join.right, warnings);
            let mut rows: BTreeSet<(SourceColumn, EdgeKind)> = left.rows.iter().chain(right.rows.iter()).cloned().collect();
            for (left_key, right_key) in &join.on {
                add_row_edges(&mut rows, left_key, join.left.schema(), &left.columns, EdgeKind::JoinKey, warnings);
                add_row_edges(&mut rows, right_key, join.right.schema(), &right.columns, EdgeKind::JoinKey, warnings);
            }
            let combined_columns: Vec<BTreeSet<SourceColumn>> = left.columns.iter().chain(right.columns.iter()).cloned().collect();
            if let Some(filter) = &join.filter {
                match join.left.schema().join(join.right.schema()) {
                    Ok(combined_schema) => {
                        for conjunct in split_conjunction(filter) {
                            // `ON l.a = r.b` planned from SQL stays in the filter until the
                            // optimizer extracts it: it is a join key all the same.
                            let kind = if is_equi_join_conjunct(conjunct, join.left.schema(), join.right.schema()) {
                                EdgeKind::JoinKey
                            } else {
                                EdgeKind::Filter
                            };
                            add_row_edges(&mut rows, conjunct, &combined_schema, &combined_columns, kind, warnings);
                        }
                    }
                    Err(error) => warnings.push(format!("lineage: join filter not resolved: {}", error.strip_backtrace())),
                }
            }
            let key_sources: BTreeSet<SourceColumn> = rows
                .iter()
                .filter(|(_, kind)| *kind == EdgeKind::JoinKey || *kind == EdgeKind::Filter)
                .map(|(source, _)| source.clone())
                .collect();
            let columns = match join.join_type {
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => combined_columns,
                JoinType::LeftSemi | JoinType::LeftAnti => left.columns,
                JoinType::RightSemi | JoinType::RightAnti => right.columns,
                // The mark column says whether a match exists: it depends on the keys.
                JoinType::LeftMark => left.columns.into_iter().chain(std::iter::once(key_sources)).collect(),
                JoinType::RightMark => right.columns.into_iter().chain(std::iter::once(key_sources)).collect(),
            };
            let lineage = NodeLineage { columns, rows };
            conform_to_schema(lineage, plan, warnings)
        }
        LogicalPlan::Aggregate(aggregate) => {
            let mut input = node_lineage(&aggregate.input, warnings);
            let input_schema = aggregate.input.schema();
            for group in &aggregate.group_expr {
                add_row_edges(&mut input.rows, group, input_schema, &input.columns, EdgeKind::GroupKey, warnings);
            }
            let aggregate_columns = computed_columns(&aggregate.aggr_expr, input_schema, &mut input, warnings);
            let group_outputs = plan.schema().fields().len().saturating_sub(aggregate.aggr_expr.len());
            let has_grouping_sets = aggregate.group_expr.iter().any(|group| matches!(group, Expr::GroupingSet(_)));
            let mut columns = if has_grouping_sets || group_outputs != aggregate.group_expr.len() {
                // Grouping sets expand into more outputs (and an internal id): every group
                // output depends on every group expression.
                let all: BTreeSet<SourceColumn> =
                    computed_columns(&aggregate.group_expr, input_schema, &mut input, warnings).into_iter().flatten().collect();
                vec![all; group_outputs]
            } else {
                computed_columns(&aggregate.group_expr, input_schema, &mut input, warnings)
            };
            columns.extend(aggregate_columns);
            NodeLineage { columns, rows: input.rows }
        }
        LogicalPlan::Window(window) => {
            let mut input = node_lineage(&window.input, warnings);
            let window_columns = computed_columns(&window.window_expr, window.input.schema(), &mut input, warnings);
            input.columns.extend(window_columns);
            input
        }
        LogicalPlan::Union(union) => {
            let width = plan.schema().fields().len();
            let mut columns = vec![BTreeSet::new(); width];
            let mut rows = BTreeSet::new();
            for input in &union.inputs {
                let lineage = node_lineage(input, warnings);
                for (index, sources) in lineage.columns.into_iter().enumerate().take(width) {
                    columns[index].extend(sources);
                }
                rows.extend(lineage.rows);
            }
            NodeLineage { columns, rows }
        }
        LogicalPlan::Distinct(Distinct::All(input)) => {
            let mut lineage = node_lineage(input, warnings);
            let every_column: Vec<SourceColumn> = lineage.columns.iter().flatten().cloned().collect();
            lineage.rows.extend(every_column.into_iter().map(|source| (source, EdgeKind::GroupKey)));
            lineage
        }
        LogicalPlan::Distinct(Distinct::On(distinct_on)) => {
            let mut input = node_lineage(&distinct_on.input, warnings);
            let input_schema = distinct_on.input.schema();
            for on in &distinct_on.on_expr {
                add_row_edges(&mut input.rows, on, input_schema, &input.columns, EdgeKind::GroupKey, warnings);
            }
            for sort_expression in distinct_on.sort_expr.iter().flatten() {
                add_row_edges(&mut input.rows, &sort_expression.expr, input_schema, &input.columns, EdgeKind::SortKey, warnings);
            }
            let columns = computed_columns(&distinct_on.select_expr, input_schema, &mut input, warnings);
            NodeLineage { columns, rows: input.rows }
        }
        LogicalPlan::EmptyRelation(_) | LogicalPlan::Values(_) => {
            NodeLineage { columns: vec![BTreeSet::new(); plan.schema().fields().len()], rows: BTreeSet::new() }
        }
        other => conservative(other, warnings),
    }
}

/// `left_expression = right_expression` with each side reading only one join input.
fn is_equi_join_conjunct(conjunct: &Expr, left: &DFSchema, right: &DFSchema) -> bool {
    let Expr::BinaryExpr(BinaryExpr { left: first, op: Operator::Eq, right: second }) = conjunct else {
        return false;
    };
    let reads_only = |expression: &Expr, schema: &DFSchema| {
        let columns = expression.column_refs();
        !columns.is_empty() && columns.iter().all(|column| schema.has_column(column))
    };
    (reads_only(first, left) && reads_only(second, right)) || (reads_only(first, right) && reads_only(second, left))
}

/// A node this walker does not model: every output column depends on every input column
/// and every expression of the node.
fn conservative(plan: &LogicalPlan, warnings: &mut Vec<String>) -> NodeLineage {
    warnings.push(format!("lineage through a `{}` node is approximate (every column depends on every input)", plan.display()));
    let mut all: BTreeSet<SourceColumn> = BTreeSet::new();
    let mut rows = BTreeSet::new();
    for input in plan.inputs() {
        let lineage = node_lineage(input, warnings);
        all.extend(lineage.columns.into_iter().flatten());
        rows.extend(lineage.rows);
    }
    NodeLineage { columns: vec![all; plan.schema().fields().len()], rows }
}

/// Makes the column list as long as the node's schema (conservatively, with a warning),
/// so a later lookup by index never misses.
fn conform_to_schema(mut lineage: NodeLineage, plan: &LogicalPlan, warnings: &mut Vec<String>) -> NodeLineage {
    let width = plan.schema().fields().len();
    if lineage.columns.len() != width {
        warnings.push(format!(
            "lineage through a `{}` node is approximate (expected {width} columns, found {})",
            plan.display(),
            lineage.columns.len()
        ));
        let all: BTreeSet<SourceColumn> = lineage.columns.iter().flatten().cloned().collect();
        lineage.columns = vec![all; width];
    }
    lineage
}

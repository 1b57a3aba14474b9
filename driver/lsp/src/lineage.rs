//! Where a column comes from, for hover: followed upstream through the views that pass it
//! on (filter, sort, limit, distinct, a project or group key that names it, a join side,
//! a union's first input) to the source column it is, or to the view that computes it.
//!
//! Reads only the parsed definitions and the relations' schemas (no planning); a step
//! limit keeps it finite on a cycle.

use viewdag_ir::{Transform, ViewDefinition};

use viewdag_driver::Compiler;

const MAX_STEPS: usize = 64;

/// The steps from `relation.column` upstream, most downstream first, e.g.
/// ``["`order_lines` (join, left side)", "`paid_orders` (filter)", "source `orders`, column `amount`"]``.
pub fn column_lineage(compiler: &Compiler, relation: &str, column: &str) -> Vec<String> {
    let Some(parsed) = compiler.parsed_spec() else { return Vec::new() };
    let mut steps = Vec::new();
    let mut relation = relation.to_string();
    let mut column = column.to_string();
    for _ in 0..MAX_STEPS {
        if parsed.sources.contains_key(&relation) {
            steps.push(format!("source `{relation}`, column `{column}`"));
            break;
        }
        let Some(Some(definition)) = parsed.views.get(&relation) else { break };
        let ViewDefinition { transform, .. } = &**definition;
        let has_column =
            |name: &str| compiler.snapshot().relation_schema(name).is_some_and(|schema| schema.field_with_name(&column).is_ok());
        let next: Option<(String, String)> = match transform {
            Transform::Filter(view) => Some((view.input.clone(), column.clone())),
            Transform::Sort(view) => Some((view.input.clone(), column.clone())),
            Transform::Limit(view) => Some((view.input.clone(), column.clone())),
            Transform::Distinct(view) => Some((view.input.clone(), column.clone())),
            Transform::Project(view) => match view.columns.get(&column) {
                Some(expression) if is_plain_identifier(expression) => Some((view.input.clone(), expression.trim().to_string())),
                Some(expression) => {
                    steps.push(format!("computed in `{relation}` as `{expression}`"));
                    None
                }
                None => None,
            },
            Transform::Aggregate(view) => {
                if let Some(measure) = view.measures.get(&column) {
                    steps.push(format!("computed in `{relation}` as `{measure}`"));
                    None
                } else if view.group_by.iter().any(|key| key.trim() == column) {
                    Some((view.input.clone(), column.clone()))
                } else {
                    steps.push(format!("a group key computed in `{relation}`"));
                    None
                }
            }
            Transform::Join(view) => {
                if has_column(&view.left) {
                    Some((view.left.clone(), column.clone()))
                } else if has_column(&view.right) {
                    Some((view.right.clone(), column.clone()))
                } else {
                    None
                }
            }
            Transform::Union(view) => view.inputs.first().map(|first| (first.clone(), column.clone())),
            Transform::Sql(_) => {
                steps.push(format!("computed by the SQL of `{relation}`"));
                None
            }
        };
        let Some((input, input_column)) = next else { break };
        steps.push(format!("`{relation}` ({})", transform.key()));
        relation = input;
        column = input_column;
    }
    steps
}

fn is_plain_identifier(expression: &str) -> bool {
    let expression = expression.trim();
    !expression.is_empty() && expression.chars().all(|character| character.is_alphanumeric() || character == '_')
}

//! Which expectations a task checks, and the values its `relationships` compare with.
//!
//! A task checks its view's expectations and, for an output, the output's own (then, for
//! a merge, the key's uniqueness). `relationships` targets are read once, before the
//! task's rows flow: a source through its provider, a view through its P2.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::physical_plan::ExecutionPlan;
use viewdag_ir::{ExpectationsSpec, ProjectInput, SourceResolution};
use viewdag_optimize::executable_plan;
use viewdag_schedule::{Task, TaskKind};
use viewdag_surface::Db as _;
use viewdag_validate::{Relation, resolve_relation};

use super::error::{ExpectationError, ExpectationProblem};
use super::{CompiledExpectations, compile_expectations};
use crate::snapshot::Snapshot;

impl Snapshot<'_> {
    /// The expectation blocks of a task: `("view", …)` then `("output", …)`.
    pub(crate) fn task_expectation_blocks(&self, task: &Task) -> Vec<(String, ExpectationsSpec)> {
        let mut blocks = Vec::new();
        if let Some(view) = self.view_input(&task.view)
            && let Some(expect) = view.definition(self.db).as_ref().and_then(|definition| definition.expect.clone())
        {
            blocks.push(("view".to_string(), expect));
        }
        if let TaskKind::Output { output } = &task.kind
            && let Some(expect) = self.outputs.iter().find(|(name, _)| name == output).and_then(|(_, spec)| spec.expect.clone())
        {
            blocks.push(("output".to_string(), expect));
        }
        blocks
    }

    /// Compiles a task's expectations against the schema of the rows it writes, with every
    /// `relationships` target's values loaded.
    pub(crate) fn task_expectations(
        &self,
        task: &Task,
        schema: &SchemaRef,
        state: &SessionState,
        merge_key: &[String],
        started_at: DateTime<Utc>,
    ) -> Result<CompiledExpectations, ExpectationError> {
        let blocks = self.task_expectation_blocks(task);
        let borrowed: Vec<(String, &ExpectationsSpec)> = blocks.iter().map(|(owner, block)| (owner.clone(), block)).collect();
        let mut compiled = compile_expectations(state, schema, &borrowed, merge_key)?;
        let relationships: Vec<_> = compiled
            .relationships()
            .into_iter()
            .map(|(index, expectation, relation, column, own_type)| {
                (index, expectation.name.clone(), expectation.owner.clone(), relation, column, own_type)
            })
            .collect();
        for (index, expectation, owner, relation, column, own_type) in relationships {
            let (values, common) = self
                .relation_values(&relation, &column, &own_type, state, started_at)
                .map_err(|problem| ExpectationError::Expectation { expectation, owner, problem })?;
            compiled.set_relationship_values(index, values, common);
        }
        Ok(compiled)
    }

    /// Every non-null value of `relation.column` in the text form of the type it is compared
    /// in with a column of `own_type` (their common comparison type), and that type.
    fn relation_values(
        &self,
        relation: &str,
        column: &str,
        own_type: &DataType,
        state: &SessionState,
        started_at: DateTime<Utc>,
    ) -> Result<(HashSet<String>, DataType), ExpectationProblem> {
        let unreadable = |message: String| ExpectationProblem::UnreadableRelation { relation: relation.to_string(), message };
        let runtime = Arc::clone(self.db.tokio());
        let plan: Arc<dyn ExecutionPlan> = match resolve_relation(self.db, ProjectInput::get(self.db), relation.to_string()) {
            Some(Relation::Source(source)) => {
                let SourceResolution::Resolved { identity, .. } = source.resolution(self.db) else {
                    return Err(unreadable("the source did not load".to_string()));
                };
                let provider = self.db.provider(identity).ok_or_else(|| unreadable("the source has no provider".to_string()))?;
                runtime.block_on(provider.scan(state, None, &[], None)).map_err(|error| unreadable(error.strip_backtrace()))?
            }
            Some(Relation::View(view)) => {
                executable_plan(self.db, view, started_at).map_err(|failure| unreadable(format!("the view failed to plan: {failure}")))?
            }
            None => return Err(ExpectationProblem::UndeclaredRelation { relation: relation.to_string() }),
        };
        let index = plan
            .schema()
            .index_of(column)
            .map_err(|_| ExpectationProblem::RelationColumn { relation: relation.to_string(), column: column.to_string() })?;
        let target_type = plan.schema().field(index).data_type().clone();
        let common = comparison_coercion(own_type, &target_type).ok_or_else(|| ExpectationProblem::Incomparable {
            relation: relation.to_string(),
            column: column.to_string(),
            target: target_type.to_string(),
            own: own_type.to_string(),
        })?;
        let batches = runtime
            .block_on(datafusion::physical_plan::collect(plan, state.task_ctx()))
            .map_err(|error| unreadable(error.strip_backtrace()))?;
        let mut values = HashSet::new();
        for batch in batches {
            let compared = cast(batch.column(index), &common).map_err(|error| unreadable(error.to_string()))?;
            let text = cast(&compared, &DataType::Utf8).map_err(|error| unreadable(error.to_string()))?;
            let text = text
                .as_any()
                .downcast_ref::<datafusion::arrow::array::StringArray>()
                .ok_or_else(|| unreadable("its values did not cast to text".to_string()))?;
            values.extend(text.iter().flatten().map(str::to_string));
        }
        Ok((values, common))
    }
}

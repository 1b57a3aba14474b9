//! The provider that stands for a materialized view inside the plans of the tasks that read
//! it. Compiling never depends on whether the view's table was already written: the plan
//! scans this placeholder (named after the view, with the view's schema), and the driver
//! swaps in the real Delta table when it runs the task.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;

#[derive(Debug, Clone)]
pub struct MaterializedViewTable {
    pub view: String,
    pub schema: SchemaRef,
}

#[async_trait]
impl TableProvider for MaterializedViewTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Compiles to an empty scan: a compiled plan shows where the task reads the view's
    /// table; running a task always replaces this provider first.
    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = match projection {
            Some(projection) => Arc::new(self.schema.project(projection)?),
            None => Arc::clone(&self.schema),
        };
        Ok(Arc::new(EmptyExec::new(schema)))
    }
}

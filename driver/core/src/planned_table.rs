//! A table whose scan is an already planned physical plan: how a task's P2 is handed to
//! deltalake's writer, which then streams its batches into Parquet files instead of the
//! driver collecting every row in memory first.
//!
//! ## Invariants
//! - The scan returns the very plan it was given (so its metrics stay readable afterwards);
//!   a plan executes once, so the table is scanned once.
//! - Only the identity projection is accepted (the writer reads every column); anything else
//!   is an error, never a silently different table.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::internal_err;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

#[derive(Debug)]
pub struct PlannedTable {
    plan: Arc<dyn ExecutionPlan>,
}

impl PlannedTable {
    pub fn new(plan: Arc<dyn ExecutionPlan>) -> Self {
        PlannedTable { plan }
    }
}

#[async_trait]
impl TableProvider for PlannedTable {
    fn schema(&self) -> SchemaRef {
        self.plan.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let width = self.plan.schema().fields().len();
        match projection {
            Some(columns) if !columns.iter().copied().eq(0..width) => {
                internal_err!("a planned table is scanned whole; got projection {columns:?} of {width} columns")
            }
            _ => Ok(Arc::clone(&self.plan)),
        }
    }
}

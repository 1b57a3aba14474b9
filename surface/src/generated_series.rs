//! The row generators `range` and `generate_series`, counted: DataFusion's own table
//! functions, wrapped so that the provider a call returns says how many rows it generates
//! ([`GeneratedSeries::rows`]). `lower` bounds a SQL view's generated rows with it (`V0205`)
//! whatever the arguments' spelling: DataFusion folds `range(2000000 * 1000)` or
//! `range(CAST(… AS BIGINT))` to literals before it calls the function, and this wrapper
//! counts what the function receives.
//!
//! ## Invariants
//! - Behaviour is DataFusion's: the wrapped function makes the provider, the wrapper only
//!   counts (rows, schema, scans and errors are unchanged), and the names are the same, so
//!   the surface manifest and every plan are unchanged.
//! - A count is an upper bound of the rows generated (months count as 28 days, days as 24
//!   hours); arguments the function refuses count as 0 (planning reports the error).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunction, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{ScalarValue, Statistics};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

/// The row-generating table functions, with whether their end is inclusive.
pub const ROW_GENERATORS: [(&str, bool); 2] = [("generate_series", true), ("range", false)];

const NANOSECONDS_PER_DAY: f64 = 86_400e9;

/// Replaces the session's row generators with counted ones (same names, same behaviour).
pub fn count_generated_rows(state: &mut SessionState) {
    for (name, include_end) in ROW_GENERATORS {
        if let Some(inner) = state.table_functions().get(name).cloned() {
            state.register_udtf(name, Arc::new(CountedSeriesFunction { inner, include_end }));
        }
    }
}

#[derive(Debug)]
struct CountedSeriesFunction {
    inner: Arc<TableFunction>,
    include_end: bool,
}

impl TableFunctionImpl for CountedSeriesFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let rows = generated_rows(args.exprs(), self.include_end);
        let inner = self.inner.create_table_provider_with_args(TableFunctionArgs::new(args.exprs(), args.session()))?;
        Ok(Arc::new(GeneratedSeries { inner, rows, function: self.inner.name().to_string() }))
    }
}

/// A row generator's provider with the number of rows it generates.
#[derive(Debug)]
pub struct GeneratedSeries {
    inner: Arc<dyn TableProvider>,
    /// At most this many rows (an upper bound, see the module docs).
    pub rows: f64,
    /// `range` or `generate_series`.
    pub function: String,
}

#[async_trait]
impl TableProvider for GeneratedSeries {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.scan(state, projection, filters, limit).await
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }
}

/// How many rows a generator called with these (folded) arguments generates, at most.
fn generated_rows(arguments: &[Expr], include_end: bool) -> f64 {
    let literal = |index: usize| match arguments.get(index) {
        Some(Expr::Literal(value, _)) => Some(value),
        _ => None,
    };
    let inclusive = if include_end { 1.0 } else { 0.0 };
    let count = |start: f64, end: f64, step: f64| {
        if step == 0.0 || !step.is_finite() {
            return 0.0;
        }
        ((end - start) / step + inclusive).floor().max(0.0)
    };
    let integer = |index: usize| match literal(index) {
        Some(ScalarValue::Int64(Some(value))) => Some(*value as f64),
        _ => None,
    };
    match arguments.len() {
        1 => integer(0).map_or(0.0, |end| count(0.0, end, 1.0)),
        2 => match (integer(0), integer(1)) {
            (Some(start), Some(end)) => count(start, end, 1.0),
            _ => 0.0,
        },
        3 => {
            if let (Some(start), Some(end), Some(step)) = (integer(0), integer(1), integer(2)) {
                return count(start, end, step);
            }
            let instant = |index: usize| match literal(index) {
                Some(ScalarValue::TimestampNanosecond(Some(nanoseconds), _)) => Some(*nanoseconds as f64),
                Some(ScalarValue::Date32(Some(days))) => Some(f64::from(*days) * NANOSECONDS_PER_DAY),
                _ => None,
            };
            let step = match literal(2) {
                Some(ScalarValue::IntervalMonthDayNano(Some(interval))) => {
                    // The shortest the step can be: months of 28 days, days of 24 hours.
                    let shortest = f64::from(interval.months) * 28.0 * NANOSECONDS_PER_DAY
                        + f64::from(interval.days) * NANOSECONDS_PER_DAY
                        + interval.nanoseconds as f64;
                    Some(shortest)
                }
                _ => None,
            };
            match (instant(0), instant(1), step) {
                (Some(start), Some(end), Some(step)) => count(start, end, step),
                _ => 0.0,
            }
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(value: i64) -> Expr {
        Expr::Literal(ScalarValue::Int64(Some(value)), None)
    }

    #[test]
    fn counts_what_the_generator_generates() {
        assert_eq!(generated_rows(&[int(10)], false), 10.0);
        assert_eq!(generated_rows(&[int(1), int(10)], true), 10.0);
        assert_eq!(generated_rows(&[int(-5), int(1_000_000), int(2)], false), 500_002.0);
        assert_eq!(generated_rows(&[int(10), int(1), int(-3)], true), 4.0);
        assert_eq!(generated_rows(&[int(10), int(1)], false), 0.0);
        let day = Expr::Literal(ScalarValue::new_interval_mdn(0, 1, 0), None);
        let dates = [Expr::Literal(ScalarValue::Date32(Some(0)), None), Expr::Literal(ScalarValue::Date32(Some(365)), None), day];
        assert_eq!(generated_rows(&dates, true), 366.0);
        let nanosecond = Expr::Literal(ScalarValue::new_interval_mdn(0, 0, 1), None);
        let instants = [
            Expr::Literal(ScalarValue::TimestampNanosecond(Some(0), None), None),
            Expr::Literal(ScalarValue::TimestampNanosecond(Some(1_000_000_000_000), None), None),
            nanosecond,
        ];
        assert!(generated_rows(&instants, false) >= 1e12);
    }
}

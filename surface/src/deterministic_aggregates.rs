//! `sum` and `avg` over floats, computed exactly ([`ExactSum`]) and rounded once: the same
//! result whatever the order rows arrive in, partial sums are merged in, or a view is read
//! in. DataFusion's own float `sum`/`avg` add in arrival order, which depends on thread
//! scheduling: `union [agg, agg] distinct: true` over a float `sum()` wrote 61, 41 and 32
//! rows on three runs of one spec (each copy of the inlined view summed in another order).
//!
//! [`make_float_aggregates_exact`] replaces the session's `sum` and `avg` by wrappers with
//! the same name, signature, return type and plan behaviour: only the accumulators of
//! `float64` inputs (every float is coerced to `float64` by the signature) differ. Every
//! other input type (integers, decimals, durations) keeps DataFusion's accumulators, which
//! are exact already.
//!
//! ## Invariants
//! - Plans are unchanged (names, signatures, coercions, return types, simplifications):
//!   only what a float accumulator computes differs, so no plan digest moves.
//! - A partial state is `[count: uint64, sum: binary]` ([`ExactSum::to_bytes`]); a
//!   distinct partial state is the list of distinct values. An empty group is NULL.

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Float64Array, ListArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::expr::{AggregateFunction, AggregateFunctionParams, WindowFunctionParams};
use datafusion::logical_expr::function::{AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, EmitTo, Expr, GroupsAccumulator, LogicalPlan, Operator, ReversedUDAF,
    SetMonotonicity, Signature, StatisticsArgs, WindowFunctionDefinition,
};

use crate::exact_sum::ExactSum;

/// Which aggregate a wrapper computes over floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FloatAggregate {
    Sum,
    Average,
}

impl FloatAggregate {
    /// The result of a group from its exact sum and its number of non-null values.
    fn finish(self, sum: &ExactSum, count: u64) -> Option<f64> {
        if count == 0 {
            return None;
        }
        Some(match self {
            FloatAggregate::Sum => sum.value(),
            FloatAggregate::Average => sum.value() / count as f64,
        })
    }
}

/// Replaces the session's `sum` and `avg` with their exact-over-floats wrappers.
pub fn make_float_aggregates_exact(state: &mut SessionState) {
    for (name, kind) in [("sum", FloatAggregate::Sum), ("avg", FloatAggregate::Average)] {
        let Some(inner) = state.aggregate_functions().get(name).cloned() else { continue };
        let wrapper = AggregateUDF::new_from_impl(ExactFloatAggregate { inner, kind });
        // Registering replaces the map entries of the name and its aliases; it never fails.
        let _replaced = state.register_udaf(Arc::new(wrapper));
    }
}

/// `plan` with DataFusion's own `sum` and `avg` where it calls their exact wrappers: for
/// engines whose nodes resolve functions by name in DataFusion's default registry (a
/// Ballista cluster), whose partial states must be DataFusion's.
pub fn with_datafusion_float_aggregates(plan: LogicalPlan) -> Result<LogicalPlan> {
    let unwrap = |function: &Arc<AggregateUDF>| -> Option<Arc<AggregateUDF>> {
        let wrapper = (function.inner().as_ref() as &dyn Any).downcast_ref::<ExactFloatAggregate>()?;
        Some(Arc::clone(&wrapper.inner))
    };
    plan.transform_up_with_subqueries(|node| {
        node.map_expressions(|expression| {
            expression.transform_up(|expression| match expression {
                Expr::AggregateFunction(mut call) => match unwrap(&call.func) {
                    Some(inner) => {
                        call.func = inner;
                        Ok(Transformed::yes(Expr::AggregateFunction(call)))
                    }
                    None => Ok(Transformed::no(Expr::AggregateFunction(call))),
                },
                Expr::WindowFunction(mut call) => match &call.fun {
                    WindowFunctionDefinition::AggregateUDF(function) => match unwrap(function) {
                        Some(inner) => {
                            call.fun = WindowFunctionDefinition::AggregateUDF(inner);
                            Ok(Transformed::yes(Expr::WindowFunction(call)))
                        }
                        None => Ok(Transformed::no(Expr::WindowFunction(call))),
                    },
                    _ => Ok(Transformed::no(Expr::WindowFunction(call))),
                },
                other => Ok(Transformed::no(other)),
            })
        })
    })
    .map(|transformed| transformed.data)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ExactFloatAggregate {
    inner: Arc<AggregateUDF>,
    kind: FloatAggregate,
}

/// Whether an aggregate call takes the exact float path: one `float64` argument.
fn is_float(fields: &[FieldRef]) -> bool {
    matches!(fields, [field] if field.data_type() == &DataType::Float64)
}

impl AggregateUDFImpl for ExactFloatAggregate {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.inner().schema_name(params)
    }

    fn human_display(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.inner().human_display(params)
    }

    fn window_function_schema_name(&self, params: &WindowFunctionParams) -> Result<String> {
        self.inner.inner().window_function_schema_name(params)
    }

    fn display_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.inner().display_name(params)
    }

    fn window_function_display_name(&self, params: &WindowFunctionParams) -> Result<String> {
        self.inner.inner().window_function_display_name(params)
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        self.inner.return_field(arg_fields)
    }

    fn is_nullable(&self) -> bool {
        self.inner.is_nullable()
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if !is_float(args.expr_fields) {
            return self.inner.accumulator(args);
        }
        if args.is_distinct {
            return Ok(Box::new(DistinctFloatAccumulator { kind: self.kind, values: BTreeSet::new() }));
        }
        Ok(Box::new(FloatAccumulator { kind: self.kind, sum: ExactSum::default(), count: 0 }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        if !is_float(args.input_fields) {
            return self.inner.state_fields(args);
        }
        let name = |part: &str| format!("{}[{part}]", args.name);
        if args.is_distinct {
            let list = Field::new_list(name("distinct values"), Field::new_list_field(DataType::Float64, true), false);
            return Ok(vec![Arc::new(list)]);
        }
        Ok(vec![
            Arc::new(Field::new(name("count"), DataType::UInt64, true)),
            Arc::new(Field::new(name("exact sum"), DataType::Binary, true)),
        ])
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        if is_float(args.expr_fields) { !args.is_distinct } else { self.inner.groups_accumulator_supported(args) }
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        if !is_float(args.expr_fields) {
            return self.inner.create_groups_accumulator(args);
        }
        Ok(Box::new(FloatGroupsAccumulator { kind: self.kind, sums: Vec::new(), counts: Vec::new() }))
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if !is_float(args.expr_fields) || args.is_distinct {
            return self.inner.create_sliding_accumulator(args);
        }
        Ok(Box::new(FloatAccumulator { kind: self.kind, sum: ExactSum::default(), count: 0 }))
    }

    fn with_beneficial_ordering(self: Arc<Self>, _beneficial_ordering: bool) -> Result<Option<Arc<dyn AggregateUDFImpl>>> {
        // `sum` and `avg` ignore ordering (DataFusion's return `Ok(None)` as well).
        Ok(None)
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.inner().order_sensitivity()
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        self.inner.simplify()
    }

    fn simplify_expr_op_literal(
        &self,
        agg_function: &AggregateFunction,
        arg: &Expr,
        op: Operator,
        lit: &Expr,
        arg_is_left: bool,
    ) -> Result<Option<Expr>> {
        self.inner.inner().simplify_expr_op_literal(agg_function, arg, op, lit, arg_is_left)
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner.reverse_udf()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn is_descending(&self) -> Option<bool> {
        self.inner.is_descending()
    }

    fn value_from_stats(&self, statistics_args: &StatisticsArgs) -> Option<ScalarValue> {
        self.inner.value_from_stats(statistics_args)
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        self.inner.default_value(data_type)
    }

    fn supports_null_handling_clause(&self) -> bool {
        self.inner.inner().supports_null_handling_clause()
    }

    fn supports_within_group_clause(&self) -> bool {
        self.inner.inner().supports_within_group_clause()
    }

    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner.inner().set_monotonicity(data_type)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

fn floats(array: &ArrayRef) -> Result<&Float64Array> {
    array
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| DataFusionError::Internal(format!("expected float64 values, got {}", array.data_type())))
}

fn exact_sum_at(sums: &BinaryArray, row: usize) -> Result<ExactSum> {
    ExactSum::from_bytes(sums.value(row)).ok_or_else(|| DataFusionError::Internal("an exact sum state that does not decode".to_string()))
}

/// The exact float `sum`/`avg` of one group (also for sliding window frames).
#[derive(Debug)]
struct FloatAccumulator {
    kind: FloatAggregate,
    sum: ExactSum,
    count: u64,
}

impl Accumulator for FloatAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for value in floats(&values[0])?.iter().flatten() {
            self.sum.add(value);
            self.count += 1;
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for value in floats(&values[0])?.iter().flatten() {
            self.sum.remove(value);
            self.count -= 1;
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.kind.finish(&self.sum, self.count)))
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::UInt64(Some(self.count)), ScalarValue::Binary(Some(self.sum.to_bytes()))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let counts = states[0].as_primitive::<UInt64Type>();
        let sums = states[1].as_binary::<i32>();
        for row in 0..counts.len() {
            if counts.is_valid(row) && sums.is_valid(row) {
                self.count += counts.value(row);
                self.sum.merge(&exact_sum_at(sums, row)?);
            }
        }
        Ok(())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.sum.size()
    }
}

/// `sum(DISTINCT …)`/`avg(DISTINCT …)` over floats: the distinct values, summed exactly.
/// Values are kept by bit pattern in a sorted set (`-0.0` as `0.0`, every NaN as one).
#[derive(Debug)]
struct DistinctFloatAccumulator {
    kind: FloatAggregate,
    values: BTreeSet<u64>,
}

fn canonical_bits(value: f64) -> u64 {
    if value == 0.0 {
        0.0f64.to_bits()
    } else if value.is_nan() {
        f64::NAN.to_bits()
    } else {
        value.to_bits()
    }
}

impl Accumulator for DistinctFloatAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.values.extend(floats(&values[0])?.iter().flatten().map(canonical_bits));
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut sum = ExactSum::default();
        for bits in &self.values {
            sum.add(f64::from_bits(*bits));
        }
        Ok(ScalarValue::Float64(self.kind.finish(&sum, self.values.len() as u64)))
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values: Vec<ScalarValue> = self.values.iter().map(|bits| ScalarValue::Float64(Some(f64::from_bits(*bits)))).collect();
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(&values, &DataType::Float64))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists: &ListArray = states[0].as_list::<i32>();
        for row in 0..lists.len() {
            if lists.is_valid(row) {
                let values = lists.value(row);
                self.values.extend(floats(&values)?.iter().flatten().map(canonical_bits));
            }
        }
        Ok(())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + 24 * self.values.len()
    }
}

/// The exact float `sum`/`avg` of many groups at once.
struct FloatGroupsAccumulator {
    kind: FloatAggregate,
    sums: Vec<ExactSum>,
    counts: Vec<u64>,
}

impl FloatGroupsAccumulator {
    fn grow(&mut self, total_num_groups: usize) {
        if self.sums.len() < total_num_groups {
            self.sums.resize(total_num_groups, ExactSum::default());
            self.counts.resize(total_num_groups, 0);
        }
    }
}

fn passes(filter: Option<&BooleanArray>, row: usize) -> bool {
    filter.is_none_or(|filter| filter.is_valid(row) && filter.value(row))
}

fn states_of(sums: &[ExactSum], counts: &[u64]) -> Vec<ArrayRef> {
    let counts: UInt64Array = counts.iter().map(|count| Some(*count)).collect();
    let bytes: Vec<Vec<u8>> = sums.iter().map(ExactSum::to_bytes).collect();
    let sums: BinaryArray = bytes.iter().map(|bytes| Some(bytes.as_slice())).collect();
    vec![Arc::new(counts), Arc::new(sums)]
}

impl GroupsAccumulator for FloatGroupsAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.grow(total_num_groups);
        let values = floats(&values[0])?;
        for (row, group) in group_indices.iter().enumerate() {
            if values.is_valid(row) && passes(opt_filter, row) {
                self.sums[*group].add(values.value(row));
                self.counts[*group] += 1;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let sums = emit_to.take_needed(&mut self.sums);
        let counts = emit_to.take_needed(&mut self.counts);
        let results: Float64Array = sums.iter().zip(&counts).map(|(sum, count)| self.kind.finish(sum, *count)).collect();
        Ok(Arc::new(results))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let sums = emit_to.take_needed(&mut self.sums);
        let counts = emit_to.take_needed(&mut self.counts);
        Ok(states_of(&sums, &counts))
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.grow(total_num_groups);
        let counts = values[0].as_primitive::<UInt64Type>();
        let sums = values[1].as_binary::<i32>();
        for (row, group) in group_indices.iter().enumerate() {
            if counts.is_valid(row) && sums.is_valid(row) {
                self.counts[*group] += counts.value(row);
                self.sums[*group].merge(&exact_sum_at(sums, row)?);
            }
        }
        Ok(())
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let values = floats(&values[0])?;
        let mut sums = Vec::with_capacity(values.len());
        let mut counts = Vec::with_capacity(values.len());
        for row in 0..values.len() {
            let mut sum = ExactSum::default();
            let counted = values.is_valid(row) && passes(opt_filter, row);
            if counted {
                sum.add(values.value(row));
            }
            sums.push(sum);
            counts.push(u64::from(counted));
        }
        Ok(states_of(&sums, &counts))
    }

    fn size(&self) -> usize {
        self.sums.iter().map(ExactSum::size).sum::<usize>() + 8 * self.counts.capacity()
    }
}

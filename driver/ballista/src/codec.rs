//! viewdag's physical extension codec: Ballista's own (shuffle readers and writers, …) plus
//! viewdag's one plan node that Ballista does not know, `DeltaWriteExec` (executors that
//! write a task's data files). The client, the scheduler and every executor need it: the
//! client encodes a job's plan, the scheduler decodes it and re-encodes each stage, the
//! executors decode their stages. `viewdag cluster` installs it on all three; Ballista's stock
//! `ballista-scheduler`/`ballista-executor` binaries do not have it, so with them the rows
//! stream back to the driver instead (see the README).
//!
//! ## Invariants
//! - A buffer this codec writes for a viewdag node starts with [`MARKER`]; every other node
//!   and buffer is Ballista's codec's, byte for byte, so a plan without viewdag nodes encodes
//!   exactly as Ballista's own client would.
//! - The encoded node holds the table URL, the layout and the task's expectations (their
//!   expressions as datafusion-proto physical expressions, a relationship's loaded values):
//!   no credentials.

use std::collections::HashSet;
use std::sync::Arc;

use ballista_core::serde::BallistaPhysicalExtensionCodec;
use datafusion::arrow::datatypes::Schema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::from_proto::parse_physical_expr;
use datafusion_proto::physical_plan::to_proto::serialize_physical_expr;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use datafusion_proto::protobuf::PhysicalExprNode;
use prost::Message;
use viewdag_driver::execute::{DataFileLayout, StatisticsColumns};
use viewdag_driver::expect::{Check, CompiledExpectation, CompiledExpectations};
use viewdag_ir::OnFail;

use crate::delta_write_exec::DeltaWriteExec;

/// How a viewdag node's buffer starts (Ballista's own buffers are protobuf messages, which
/// never start with these bytes: `v` is field 14 with wire type 6, which does not exist).
pub const MARKER: &[u8] = b"viewdag:delta-write:1;";

/// Ballista's codec and viewdag's plan nodes.
#[derive(Debug, Default)]
pub struct ViewdagPhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

/// A `DeltaWriteExec` on the wire (its input travels as the extension node's input).
#[derive(Clone, PartialEq, Message)]
struct DeltaWriteNode {
    #[prost(string, tag = "1")]
    table_url: String,
    #[prost(message, optional, tag = "2")]
    schema: Option<datafusion_proto::protobuf::Schema>,
    #[prost(string, repeated, tag = "3")]
    partition_columns: Vec<String>,
    /// Leading columns with statistics; `-1` every column; ignored when `stats_columns` is set.
    #[prost(int64, tag = "4")]
    indexed_columns: i64,
    #[prost(string, repeated, tag = "5")]
    stats_columns: Vec<String>,
    #[prost(bool, tag = "6")]
    named_stats_columns: bool,
    #[prost(uint64, tag = "7")]
    target_file_size: u64,
    /// The task's expectations, checked before the rows are written (none: unchecked).
    #[prost(message, repeated, tag = "8")]
    expectations: Vec<ExpectationNode>,
    #[prost(bool, tag = "9")]
    checks_expectations: bool,
}

/// One compiled expectation on the wire.
#[derive(Clone, PartialEq, Message)]
struct ExpectationNode {
    #[prost(string, tag = "1")]
    owner: String,
    #[prost(string, tag = "2")]
    name: String,
    /// `warn`, `drop` or `fail`.
    #[prost(string, tag = "3")]
    on_fail: String,
    /// `row`, `relationship`, `unique` or `row_count`.
    #[prost(string, tag = "4")]
    kind: String,
    #[prost(message, optional, tag = "5")]
    passes: Option<PhysicalExprNode>,
    #[prost(uint64, repeated, tag = "6")]
    columns: Vec<u64>,
    #[prost(string, tag = "7")]
    to: String,
    #[prost(string, tag = "8")]
    to_column: String,
    /// A relationship's values, sorted.
    #[prost(string, repeated, tag = "9")]
    values: Vec<String>,
    #[prost(uint64, optional, tag = "10")]
    min: Option<u64>,
    #[prost(uint64, optional, tag = "11")]
    max: Option<u64>,
    /// A relationship's comparison type, in Arrow's text form (`Int64`, `Float64`, …).
    #[prost(string, tag = "12")]
    compare_as: String,
}

impl PhysicalExtensionCodec for ViewdagPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(encoded) = buf.strip_prefix(MARKER) else {
            return self.ballista.try_decode(buf, inputs, ctx, proto_converter);
        };
        let [input] = inputs else {
            return Err(DataFusionError::Internal(format!("DeltaWriteExec has one input, not {}", inputs.len())));
        };
        let node = DeltaWriteNode::decode(encoded)
            .map_err(|error| DataFusionError::Internal(format!("a DeltaWriteExec that does not decode: {error}")))?;
        let expectations = if node.checks_expectations {
            let schema = input.schema();
            let decoded = node
                .expectations
                .iter()
                .map(|expectation| expectation_of(expectation, &|passes| parse_physical_expr(passes, ctx, &schema, self)))
                .collect::<Result<Vec<_>>>()?;
            Some(Arc::new(CompiledExpectations { expectations: decoded }))
        } else {
            None
        };
        Ok(Arc::new(DeltaWriteExec::new(Arc::clone(input), layout_of(node)?, expectations)))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let Some(write) = node.downcast_ref::<DeltaWriteExec>() else {
            return self.ballista.try_encode(node, buf, proto_converter);
        };
        let mut node = node_of(write.layout())?;
        if let Some(expectations) = write.expectations() {
            node.checks_expectations = true;
            node.expectations = expectations
                .expectations
                .iter()
                .map(|expectation| expectation_node(expectation, &|passes| serialize_physical_expr(passes, self)))
                .collect::<Result<Vec<_>>>()?;
        }
        buf.extend_from_slice(MARKER);
        node.encode(buf).map_err(|error| DataFusionError::Internal(format!("cannot encode a DeltaWriteExec: {error}")))
    }
}

fn node_of(layout: &DataFileLayout) -> Result<DeltaWriteNode> {
    let DataFileLayout { table_url, schema, partition_columns, statistics, target_file_size } = layout;
    let (indexed_columns, stats_columns, named_stats_columns) = match statistics {
        StatisticsColumns::Leading(count) => (i64::try_from(*count).unwrap_or(i64::MAX), Vec::new(), false),
        StatisticsColumns::All => (-1, Vec::new(), false),
        StatisticsColumns::Named(columns) => (0, columns.clone(), true),
    };
    Ok(DeltaWriteNode {
        table_url: table_url.to_string(),
        schema: Some(datafusion_proto::protobuf::Schema::try_from(schema.as_ref())?),
        partition_columns: partition_columns.clone(),
        indexed_columns,
        stats_columns,
        named_stats_columns,
        target_file_size: *target_file_size,
        expectations: Vec::new(),
        checks_expectations: false,
    })
}

fn expectation_node(
    expectation: &CompiledExpectation,
    encode: &dyn Fn(&Arc<dyn datafusion::physical_plan::PhysicalExpr>) -> Result<PhysicalExprNode>,
) -> Result<ExpectationNode> {
    let CompiledExpectation { owner, name, on_fail, check } = expectation;
    let mut node =
        ExpectationNode { owner: owner.clone(), name: name.clone(), on_fail: on_fail.as_str().to_string(), ..ExpectationNode::default() };
    let index = |column: usize| u64::try_from(column).unwrap_or(u64::MAX);
    match check {
        Check::Row { passes } => {
            node.kind = "row".to_string();
            node.passes = Some(encode(passes)?);
        }
        Check::Relationship { column, to, to_column, values, compare_as } => {
            node.kind = "relationship".to_string();
            node.compare_as = compare_as.to_string();
            node.columns = vec![index(*column)];
            node.to = to.clone();
            node.to_column = to_column.clone();
            let mut sorted: Vec<String> = values.iter().cloned().collect();
            sorted.sort();
            node.values = sorted;
        }
        Check::Unique { columns } => {
            node.kind = "unique".to_string();
            node.columns = columns.iter().map(|column| index(*column)).collect();
        }
        Check::RowCount { min, max } => {
            node.kind = "row_count".to_string();
            node.min = *min;
            node.max = *max;
        }
    }
    Ok(node)
}

fn expectation_of(
    node: &ExpectationNode,
    decode: &dyn Fn(&PhysicalExprNode) -> Result<Arc<dyn datafusion::physical_plan::PhysicalExpr>>,
) -> Result<CompiledExpectation> {
    let invalid = |what: &str| DataFusionError::Internal(format!("expectation `{}` on the wire: {what}", node.name));
    let on_fail = match node.on_fail.as_str() {
        "warn" => OnFail::Warn,
        "drop" => OnFail::Drop,
        "fail" => OnFail::Fail,
        other => return Err(invalid(&format!("on_fail `{other}`"))),
    };
    let column = |index: &u64| usize::try_from(*index).map_err(|_| invalid("a column index"));
    let check = match node.kind.as_str() {
        "row" => Check::Row { passes: decode(node.passes.as_ref().ok_or_else(|| invalid("no expression"))?)? },
        "relationship" => Check::Relationship {
            column: column(node.columns.first().ok_or_else(|| invalid("no column"))?)?,
            to: node.to.clone(),
            to_column: node.to_column.clone(),
            values: Arc::new(node.values.iter().cloned().collect::<HashSet<String>>()),
            compare_as: node.compare_as.parse().map_err(|_| invalid(&format!("comparison type `{}`", node.compare_as)))?,
        },
        "unique" => Check::Unique { columns: node.columns.iter().map(column).collect::<Result<_>>()? },
        "row_count" => Check::RowCount { min: node.min, max: node.max },
        other => return Err(invalid(&format!("kind `{other}`"))),
    };
    Ok(CompiledExpectation { owner: node.owner.clone(), name: node.name.clone(), on_fail, check })
}

fn layout_of(node: DeltaWriteNode) -> Result<DataFileLayout> {
    let DeltaWriteNode {
        table_url,
        schema,
        partition_columns,
        indexed_columns,
        stats_columns,
        named_stats_columns,
        target_file_size,
        expectations: _,
        checks_expectations: _,
    } = node;
    let schema = schema.ok_or_else(|| DataFusionError::Internal("a DeltaWriteExec without its schema".to_string()))?;
    let statistics = match (named_stats_columns, indexed_columns) {
        (true, _) => StatisticsColumns::Named(stats_columns),
        (false, -1) => StatisticsColumns::All,
        (false, count) => StatisticsColumns::Leading(u64::try_from(count).unwrap_or(0)),
    };
    Ok(DataFileLayout {
        table_url: table_url
            .parse()
            .map_err(|error| DataFusionError::Internal(format!("a DeltaWriteExec table URL {table_url:?}: {error}")))?,
        schema: Arc::new(Schema::try_from(&schema)?),
        partition_columns,
        statistics,
        target_file_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field};

    #[test]
    fn a_layout_survives_the_wire_and_names_no_credentials() {
        let layout = DataFileLayout {
            table_url: "s3://lake/out/revenue/".parse().unwrap(),
            schema: Arc::new(Schema::new(vec![Field::new("region", DataType::Utf8, true), Field::new("n", DataType::Int64, false)])),
            partition_columns: vec!["region".to_string()],
            statistics: StatisticsColumns::Named(vec!["n".to_string()]),
            target_file_size: 1 << 20,
        };
        let node = node_of(&layout).unwrap();
        let mut bytes = MARKER.to_vec();
        node.encode(&mut bytes).unwrap();
        let decoded = DeltaWriteNode::decode(bytes.strip_prefix(MARKER).unwrap()).unwrap();
        assert_eq!(layout_of(decoded).unwrap(), layout);
        for statistics in [StatisticsColumns::All, StatisticsColumns::Leading(7)] {
            let layout = DataFileLayout { statistics, ..layout.clone() };
            assert_eq!(layout_of(node_of(&layout).unwrap()).unwrap(), layout);
        }
    }
}

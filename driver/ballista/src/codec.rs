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
//! - The encoded node holds the table URL, the layout and nothing else: no credentials.

use std::sync::Arc;

use ballista_core::serde::BallistaPhysicalExtensionCodec;
use datafusion::arrow::datatypes::Schema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use prost::Message;
use viewdag_driver::execute::{DataFileLayout, StatisticsColumns};

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
        Ok(Arc::new(DeltaWriteExec::new(Arc::clone(input), layout_of(node)?)))
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
        buf.extend_from_slice(MARKER);
        node_of(write.layout())?.encode(buf).map_err(|error| DataFusionError::Internal(format!("cannot encode a DeltaWriteExec: {error}")))
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
    })
}

fn layout_of(node: DeltaWriteNode) -> Result<DataFileLayout> {
    let DeltaWriteNode { table_url, schema, partition_columns, indexed_columns, stats_columns, named_stats_columns, target_file_size } =
        node;
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

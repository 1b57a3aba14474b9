//! `datafusion-proto` bytes of a logical plan whose scans are *relation references*: every
//! `TableScan` is encoded as a custom scan that carries only its relation name, and decoding
//! binds each reference to the provider the caller supplies for that name.
//!
//! Why references: datafusion-proto 55 encodes a `ListingTable` scan as an empty scan (its
//! files are lost) and cannot encode a Delta table at all. A bundle records its providers'
//! identities beside the plan, so the bytes need only say *which relation* each scan reads.
//!
//! ## Invariants
//! - The bytes hold plan nodes, expressions, schemas and relation names: no path, no
//!   provider state, nothing that depends on the machine.
//! - Deterministic: prost writes protobuf `map` fields (schema and field metadata) in
//!   hash-map order, so a plan whose schemas carry a metadata map of more than one entry is
//!   refused instead of written in an order that could change from one process to the next.
//! - `decode_plan(encode_plan(p), …)` rebuilds `p` node for node when every relation is
//!   bound to a provider with the schema `p` was planned against; a different schema is an
//!   error, never a silently different plan.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::common::{DFSchema, TableReference, internal_err, not_impl_err, plan_datafusion_err, plan_err};
use datafusion::datasource::{TableType, provider_as_source, source_as_provider};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, Extension, LogicalPlan, TableScan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::bytes::{logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec};
use datafusion_proto::logical_plan::LogicalExtensionCodec;

use super::PlanFormError;

/// Encodes `plan` with every scan replaced by a reference to its relation.
pub fn encode_plan(plan: &LogicalPlan) -> Result<Vec<u8>, PlanFormError> {
    let referenced = scans_as_references(plan)?;
    if let Some(schema_owner) = first_unordered_metadata(&referenced) {
        return Err(PlanFormError::UnorderedMetadata(schema_owner));
    }
    Ok(logical_plan_to_bytes_with_extension_codec(&referenced, &RelationReferenceCodec::default())?.to_vec())
}

/// Rebuilds a plan from [`encode_plan`]'s bytes, binding each relation to `providers[name]`.
/// Functions are resolved through `ctx`'s registry.
pub fn decode_plan(
    bytes: &[u8],
    ctx: &TaskContext,
    providers: &BTreeMap<String, Arc<dyn TableProvider>>,
) -> Result<LogicalPlan, PlanFormError> {
    let codec = RelationReferenceCodec { providers: providers.clone() };
    Ok(logical_plan_from_bytes_with_extension_codec(bytes, ctx, &codec)?)
}

fn scans_as_references(plan: &LogicalPlan) -> Result<LogicalPlan> {
    plan.clone()
        .transform_up_with_subqueries(|node| {
            let LogicalPlan::TableScan(scan) = node else {
                return Ok(Transformed::no(node));
            };
            let provider = source_as_provider(&scan.source)?;
            let reference = RelationReference { relation: scan.table_name.table().to_string(), schema: provider.schema() };
            Ok(Transformed::yes(LogicalPlan::TableScan(TableScan { source: provider_as_source(Arc::new(reference)), ..scan })))
        })
        .map(|transformed| transformed.data)
}

/// Names the first node or scanned relation whose schema has a metadata map (schema-level
/// or on a top-level field) with more than one entry.
fn first_unordered_metadata(plan: &LogicalPlan) -> Option<String> {
    let unordered_schema = |schema: &Schema| schema.metadata().len() > 1 || schema.fields().iter().any(|field| field.metadata().len() > 1);
    let unordered_df_schema = |schema: &DFSchema| unordered_schema(schema.as_arrow());
    let mut found = None;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && unordered_schema(&provider.schema())
        {
            found = Some(format!("the schema of relation `{}`", scan.table_name));
        } else if unordered_df_schema(node.schema()) {
            found = Some(format!("the output schema of a {} node", node.display()));
        }
        Ok(if found.is_some() { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    found
}

/// A scan's stand-in while encoding: the relation's name and the schema it was planned against.
#[derive(Debug)]
struct RelationReference {
    relation: String,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for RelationReference {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(&self, _: &dyn Session, _: Option<&Vec<usize>>, _: &[Expr], _: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        internal_err!("relation reference `{}` was never bound to a provider", self.relation)
    }
}

/// Encodes scans of [`RelationReference`]s by relation name; decodes them to the providers
/// it was given.
#[derive(Debug, Default)]
struct RelationReferenceCodec {
    providers: BTreeMap<String, Arc<dyn TableProvider>>,
}

impl LogicalExtensionCodec for RelationReferenceCodec {
    fn try_decode(&self, _: &[u8], _: &[LogicalPlan], _: &TaskContext) -> Result<Extension> {
        not_impl_err!("viewdag plans have no extension nodes")
    }

    fn try_encode(&self, _: &Extension, _: &mut Vec<u8>) -> Result<()> {
        not_impl_err!("viewdag plans have no extension nodes")
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        _: &TableReference,
        schema: SchemaRef,
        _: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        let relation = std::str::from_utf8(buf).map_err(|error| plan_datafusion_err!("a relation reference is not UTF-8: {error}"))?;
        let Some(provider) = self.providers.get(relation) else {
            return plan_err!("the plan scans relation `{relation}`, which has no provider");
        };
        if provider.schema() != schema {
            return plan_err!("relation `{relation}` no longer has the schema the plan was built against");
        }
        Ok(Arc::clone(provider))
    }

    fn try_encode_table_provider(&self, _: &TableReference, node: Arc<dyn TableProvider>, buf: &mut Vec<u8>) -> Result<()> {
        let Some(reference) = node.downcast_ref::<RelationReference>() else {
            return internal_err!("a scan was not replaced by a relation reference before encoding");
        };
        buf.extend_from_slice(reference.relation.as_bytes());
        Ok(())
    }
}

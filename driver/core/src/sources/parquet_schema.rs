//! A Parquet source's schema, inferred in time linear in its width.
//!
//! DataFusion's `ParquetFormat::infer_schema` reads each file's schema from its footer and
//! merges them with arrow's `Schema::try_merge`, which finds each field among the fields
//! merged so far by a scan: N²/2 name comparisons even for one file (8 × 10⁸ for a
//! 40,000-column file, seconds before any view is checked). [`infer_parquet_schema`] does
//! what it does, in the same order, with the merged fields found by name in a hash map.
//!
//! ## Invariants
//! - The schema equals `ListingOptions::infer_schema`'s for the same files and format
//!   (fields in order of first appearance over the files sorted by location, duplicates
//!   merged with `Field::try_merge`, metadata cleared when the format skips it, binary read
//!   as string and view types as the format says). A format with options this module does
//!   not replay (INT96 coercion, decryption), and a location with no files (for its error),
//!   are left to DataFusion.
//! - Reads only footers, through the runtime's file-metadata cache as DataFusion does.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::datasource::physical_plan::parquet::{transform_binary_to_string, transform_schema_to_view};
use datafusion::error::Result;
use datafusion::execution::session_state::SessionState;
use futures::{StreamExt, TryStreamExt};

/// The merged schema of the Parquet files at `table_url` with `extension` (empty: every
/// file), read as `format` reads them; `options` must hold the same format.
pub(crate) async fn infer_parquet_schema(
    state: &SessionState,
    options: &ListingOptions,
    format: &ParquetFormat,
    table_url: &ListingTableUrl,
) -> Result<SchemaRef> {
    let crypto = &format.options().crypto;
    let replayable = format.coerce_int96().is_none() && crypto.file_decryption.is_none() && crypto.factory_id.is_none();
    if !replayable {
        return options.infer_schema(state, table_url).await;
    }
    let store = state.runtime_env().object_store(table_url)?;
    let listed: Vec<_> = table_url.list_all_files(state, store.as_ref(), &options.file_extension).await?.try_collect().await?;
    if listed.is_empty() {
        return options.infer_schema(state, table_url).await;
    }
    // Empty files cannot affect the schema but may fail to read (as DataFusion skips them).
    let files: Vec<_> = listed.into_iter().filter(|file| file.size > 0).collect();
    let cache = state.runtime_env().cache_manager.get_file_metadata_cache();
    let mut schemas: Vec<_> = futures::stream::iter(&files)
        .map(|file| {
            let cache = Arc::clone(&cache);
            let store = Arc::clone(&store);
            async move {
                let schema = DFParquetMetadata::new(store.as_ref(), file)
                    .with_metadata_size_hint(format.metadata_size_hint())
                    .with_file_metadata_cache(Some(cache))
                    .fetch_schema()
                    .await?;
                Ok::<_, datafusion::error::DataFusionError>((file.location.clone(), schema))
            }
        })
        .buffer_unordered(state.config_options().execution.meta_fetch_concurrency.get())
        .try_collect()
        .await?;
    schemas.sort_unstable_by(|(left, _), (right, _)| left.cmp(right));
    let schemas = schemas.into_iter().map(|(_, schema)| if format.skip_metadata() { without_metadata(&schema) } else { schema });
    let mut schema = merge_schemas(schemas)?;
    if format.binary_as_string() {
        schema = transform_binary_to_string(&schema);
    }
    if format.force_view_types() {
        schema = transform_schema_to_view(&schema);
    }
    Ok(Arc::new(schema))
}

/// `schema` without schema-level or field-level metadata.
fn without_metadata(schema: &Schema) -> Schema {
    Schema::new(schema.fields().iter().map(|field| field.as_ref().clone().with_metadata(HashMap::new())).collect::<Vec<_>>())
}

/// arrow's `Schema::try_merge`, with the merged fields found by name in a hash map instead
/// of a scan: fields in order of first appearance, a repeated name merged into the first
/// field with it, schema metadata merged (conflicting values are an error).
fn merge_schemas(schemas: impl IntoIterator<Item = Schema>) -> std::result::Result<Schema, ArrowError> {
    let mut metadata: HashMap<String, String> = HashMap::new();
    let mut fields: Vec<FieldRef> = Vec::new();
    let mut position_of: HashMap<String, usize> = HashMap::new();
    for schema in schemas {
        let Schema { metadata: schema_metadata, fields: schema_fields } = schema;
        for (key, value) in schema_metadata {
            if let Some(old_value) = metadata.get(&key)
                && old_value != &value
            {
                return Err(ArrowError::SchemaError(format!(
                    "Fail to merge schema due to conflicting metadata. Key '{key}' has different values '{old_value}' and '{value}'"
                )));
            }
            metadata.insert(key, value);
        }
        for field in schema_fields.iter() {
            match position_of.entry(field.name().clone()) {
                Entry::Vacant(vacant) => {
                    vacant.insert(fields.len());
                    fields.push(Arc::clone(field));
                }
                Entry::Occupied(occupied) => {
                    let existing = &mut fields[*occupied.get()];
                    if !Arc::ptr_eq(existing, field) {
                        Arc::make_mut(existing).try_merge(field)?;
                    }
                }
            }
        }
    }
    Ok(Schema::new(fields).with_metadata(metadata))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field};

    use super::*;

    #[test]
    fn merges_as_arrow_merges() {
        let first = Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Utf8, false),
            Field::new("a", DataType::Int64, true),
        ])
        .with_metadata(HashMap::from([("k".to_string(), "v".to_string())]));
        let second = Schema::new(vec![Field::new("c", DataType::Float64, true), Field::new("b", DataType::Null, true)]);
        let linear = merge_schemas([first.clone(), second.clone()]).expect("mergeable");
        assert_eq!(linear, Schema::try_merge([first.clone(), second]).expect("mergeable"));
        assert_eq!(linear.fields().len(), 3);
        let conflicting = Schema::new(vec![Field::new("a", DataType::Utf8, true)]);
        assert_eq!(
            merge_schemas([first.clone(), conflicting.clone()]).map_err(|error| error.to_string()),
            Schema::try_merge([first, conflicting]).map_err(|error| error.to_string())
        );
    }
}

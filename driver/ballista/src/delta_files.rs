//! A Delta table, pinned at the version the compile loaded, as a plain Parquet file scan:
//! how Delta sources (and the tables of materialized views) travel to a Ballista cluster,
//! whose default codec carries Parquet scans but not deltalake's `DeltaScanExec`.
//!
//! The table's active files (its add actions at that version) are listed once, when the
//! task is planned; the scan reads exactly those files, with each file's partition values
//! from the log (never parsed from paths), so files that a later commit added or that an
//! earlier one removed are never read.
//!
//! A table in an object store (`s3://bucket/…`, `gs://…`, `az://…`) is scanned through the
//! store of its bucket: the scan names the store by its URL (`s3://bucket`) and each file by
//! its key in the bucket, and every node that decodes the plan resolves that URL in its own
//! object-store registry (`viewdag_driver::storage::object_store_registry`, built from the
//! node's environment). A local table is scanned through the local file system the same way.
//!
//! ## Invariants
//! - The provider's schema is the schema of the Delta provider it replaces, column for
//!   column, so a planned `TableScan`'s projection indices keep their meaning.
//! - Filters handed to `scan` are applied exactly (a `FilterExec` above the file scan): the
//!   Delta provider may have claimed `Exact` for them, and the plan above the scan then has
//!   no filter of its own.
//! - A scan reads the projected columns and the columns its filters name, no other: the
//!   Parquet pages of a table's other columns are never fetched or decompressed.
//! - A scan lists only the files whose partition values pass its filters on partition
//!   columns (evaluated when the task is planned, on the values from the log): a filter on
//!   a day of a table partitioned by day reads that day's files, not a footer of every day.
//! - The scan carries store URLs and keys only, never a credential.
//! - A table whose rows a Parquet scan cannot reproduce (deletion vectors, column mapping)
//!   is refused with a [`DeltaFileScanRefusal`], never read wrong.
//! - Partition columns keep the Delta provider's types: dictionary-encoded, as deltalake
//!   types them. They travel through shuffles intact because every viewdag job pins
//!   Ballista's block transport (`ballista_job`); Arrow Flight would hand them back as plain
//!   arrays to operators that expect dictionaries.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::Column as ColumnExpr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use deltalake::DeltaTable;

/// Why a Delta table cannot be read as a plain Parquet scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaFileScanRefusal {
    /// Some active file has a deletion vector: its deleted rows are still in the Parquet file.
    DeletionVectors { file: String },
    /// Column mapping is on: Parquet column names are not the table's column names.
    ColumnMapping,
    /// The table's log or location could not be read.
    Unreadable(String),
}

impl std::fmt::Display for DeltaFileScanRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeltaFileScanRefusal::DeletionVectors { file } => {
                write!(f, "its file `{file}` has a deletion vector, which a Parquet scan on the cluster would not apply")
            }
            DeltaFileScanRefusal::ColumnMapping => {
                write!(f, "it uses column mapping, so its Parquet column names are not its column names")
            }
            DeltaFileScanRefusal::Unreadable(message) => write!(f, "its log cannot be read: {message}"),
        }
    }
}

/// One active data file of the pinned snapshot.
#[derive(Debug, Clone)]
struct DeltaDataFile {
    /// The file's path in its store: below the bucket for an object store, the absolute path
    /// without its leading `/` for a local file.
    path: String,
    size: u64,
    partition_values: HashMap<String, Option<String>>,
}

/// The pinned snapshot's files, scanned as Parquet.
#[derive(Debug)]
pub struct DeltaFileScan {
    schema: SchemaRef,
    /// The store the files are in: `file://`, or an object store's bucket (`s3://bucket`).
    store: ObjectStoreUrl,
    /// Partition columns, in the order they appear in `schema`.
    partition_columns: Vec<String>,
    files: Vec<DeltaDataFile>,
}

impl DeltaFileScan {
    /// The files of `table` (opened at the pinned version), read with `schema`: the schema of
    /// the Delta provider this scan replaces.
    pub fn from_table(table: &DeltaTable, schema: SchemaRef) -> Result<Self, DeltaFileScanRefusal> {
        let snapshot = table.snapshot().map_err(|error| DeltaFileScanRefusal::Unreadable(error.to_string()))?;
        if snapshot.table_config().column_mapping_mode.is_some_and(|mode| format!("{mode:?}") != "None") {
            return Err(DeltaFileScanRefusal::ColumnMapping);
        }
        let (store, root) = store_and_root(table.table_url())?;
        let mut files = Vec::new();
        for file in snapshot.log_data().iter() {
            let relative = file.path().into_owned();
            if file.deletion_vector_descriptor().is_some() {
                return Err(DeltaFileScanRefusal::DeletionVectors { file: relative });
            }
            files.push(DeltaDataFile {
                path: if root.is_empty() { relative } else { format!("{root}/{relative}") },
                size: u64::try_from(file.size()).unwrap_or(0),
                partition_values: file.partition_values_map(),
            });
        }
        // Deterministic file order (and so partition assignment), whatever the log's order.
        files.sort_by(|left, right| left.path.cmp(&right.path));
        let partition_names: std::collections::BTreeSet<&String> = files.iter().flat_map(|file| file.partition_values.keys()).collect();
        let partition_columns =
            schema.fields().iter().map(|field| field.name().clone()).filter(|name| partition_names.contains(name)).collect();
        Ok(DeltaFileScan { schema, store, partition_columns, files })
    }

    /// The table's columns as the file scan lays them out: data columns, then partition
    /// columns; and for each table column its position in that layout.
    fn layout(&self) -> (SchemaRef, Vec<FieldRef>, Vec<usize>) {
        let is_partition = |field: &Field| self.partition_columns.contains(field.name());
        let data_fields: Vec<FieldRef> = self.schema.fields().iter().filter(|field| !is_partition(field)).cloned().collect();
        let partition_fields: Vec<FieldRef> = self
            .partition_columns
            .iter()
            .filter_map(|name| self.schema.field_with_name(name).ok().map(|field| Arc::new(field.clone())))
            .collect();
        let position_in_layout = self
            .schema
            .fields()
            .iter()
            .map(|field| {
                let name = field.name();
                match self.partition_columns.iter().position(|column| column == name) {
                    Some(index) => data_fields.len() + index,
                    None => data_fields.iter().position(|data| data.name() == name).unwrap_or(0),
                }
            })
            .collect();
        (Arc::new(Schema::new(data_fields)), partition_fields, position_in_layout)
    }

    fn partitioned_file(&self, file: &DeltaDataFile, partition_fields: &[FieldRef]) -> Result<PartitionedFile> {
        let values = partition_fields.iter().map(|field| partition_value(file, field)).collect::<Result<Vec<_>>>()?;
        Ok(PartitionedFile::new(file.path.clone(), file.size).with_partition_values(values))
    }

    /// The files whose partition values pass the filters that DataFusion's listing tables
    /// would evaluate on partition values too (`expr_applicable_for_cols`: partition columns
    /// only, no volatile or stable function, so each such filter has one value per file and
    /// a file it rejects has no row to give); every file when there is no such filter.
    fn files_matching(&self, state: &dyn Session, partition_fields: &[FieldRef], filters: &[Expr]) -> Result<Vec<&DeltaDataFile>> {
        let partition_columns: Vec<&str> = self.partition_columns.iter().map(String::as_str).collect();
        let on_partitions = filters.iter().filter(|filter| expr_applicable_for_cols(&partition_columns, filter));
        let Some(predicate) = conjunction(on_partitions.cloned()) else {
            return Ok(self.files.iter().collect());
        };
        if self.files.is_empty() {
            return Ok(Vec::new());
        }
        // One row per file: its partition values.
        let schema = Arc::new(Schema::new(partition_fields.to_vec()));
        let columns = partition_fields
            .iter()
            .map(|field| {
                ScalarValue::iter_to_array(self.files.iter().map(|file| partition_value(file, field)).collect::<Result<Vec<_>>>()?)
            })
            .collect::<Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        let predicate = state.create_physical_expr(predicate, &DFSchema::try_from(schema.as_ref().clone())?)?;
        let passes = predicate.evaluate(&batch)?.into_array(batch.num_rows())?;
        let passes = passes.as_boolean_opt().ok_or_else(|| {
            datafusion::error::DataFusionError::Internal(format!("a partition filter evaluated to {}", passes.data_type()))
        })?;
        Ok(self.files.iter().enumerate().filter(|(row, _)| passes.is_valid(*row) && passes.value(*row)).map(|(_, file)| file).collect())
    }
}

/// `file`'s value of the partition column `field`, typed as the column (null when the log
/// has none).
fn partition_value(file: &DeltaDataFile, field: &FieldRef) -> Result<ScalarValue> {
    match file.partition_values.get(field.name()).cloned().flatten() {
        Some(text) => ScalarValue::try_from_string(text, field.data_type()),
        None => ScalarValue::try_from(field.data_type()),
    }
}

#[async_trait]
impl TableProvider for DeltaFileScan {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Exact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let (data_schema, partition_fields, position_in_layout) = self.layout();
        let source = ParquetSource::new(TableSchema::builder(data_schema).with_table_partition_cols(partition_fields.clone()).build())
            .with_table_parquet_options(state.table_options().parquet.clone());
        let filters: Vec<Expr> = filters.iter().cloned().map(unqualified).collect();
        let files = self.files_matching(state, &partition_fields, &filters)?;
        let groups = state.config_options().execution.target_partitions.max(1).min(files.len().max(1));
        let mut file_groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); groups];
        for (index, file) in files.into_iter().enumerate() {
            file_groups[index % groups].push(self.partitioned_file(file, &partition_fields)?);
        }
        let file_groups: Vec<FileGroup> = file_groups.into_iter().filter(|group| !group.is_empty()).map(FileGroup::new).collect();
        let wanted = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        // Read the wanted columns and the ones the filters name: a filter's columns are read
        // even when the plan above does not keep them, the table's other columns never.
        let read = columns_read(&self.schema, &wanted, &filters)?;
        let config = FileScanConfigBuilder::new(self.store.clone(), Arc::new(source))
            .with_file_groups(file_groups)
            .with_projection_indices(Some(read.iter().map(|&column| position_in_layout[column]).collect()))?
            .build();
        let scan: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(config);
        let Some(predicate) = conjunction(filters) else {
            return Ok(scan);
        };
        let read_schema = DFSchema::try_from(self.schema.project(&read)?)?;
        let filtered: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(state.create_physical_expr(predicate, &read_schema)?, scan)?);
        if read == wanted {
            return Ok(filtered);
        }
        let columns: Vec<(Arc<dyn datafusion::physical_plan::PhysicalExpr>, String)> = wanted
            .iter()
            .map(|column| {
                let name = self.schema.field(*column).name().clone();
                let position = read.binary_search(column).expect("every wanted column is read");
                (Arc::new(ColumnExpr::new(&name, position)) as Arc<dyn datafusion::physical_plan::PhysicalExpr>, name)
            })
            .collect();
        Ok(Arc::new(ProjectionExec::try_new(columns, filtered)?))
    }
}

/// The store of the table at `url` (`file://`, or `scheme://bucket`) and the table's path in
/// it (without leading or trailing `/`; percent-decoded, as object_store names paths).
fn store_and_root(url: &url::Url) -> Result<(ObjectStoreUrl, String), DeltaFileScanRefusal> {
    let unreadable = |reason: String| DeltaFileScanRefusal::Unreadable(format!("`{url}` {reason}"));
    let store = ObjectStoreUrl::parse(format!("{}://{}", url.scheme(), url.authority()))
        .map_err(|error| unreadable(format!("names no store: {}", error.strip_backtrace())))?;
    let root = object_store::path::Path::from_url_path(url.path()).map_err(|error| unreadable(format!("is not a store path: {error}")))?;
    Ok((store, root.as_ref().to_string()))
}

/// The table columns a scan reads for `wanted` and `filters`: without filters the wanted
/// ones as they are; with filters both, once each, in table order.
fn columns_read(schema: &Schema, wanted: &[usize], filters: &[Expr]) -> Result<Vec<usize>> {
    if filters.is_empty() {
        return Ok(wanted.to_vec());
    }
    let mut read: Vec<usize> = wanted.to_vec();
    for filter in filters {
        for column in filter.column_refs() {
            read.push(schema.index_of(&column.name)?);
        }
    }
    read.sort_unstable();
    read.dedup();
    Ok(read)
}

/// A filter of a `TableScan` names columns with the scan's qualifier; the provider's schema
/// has none.
fn unqualified(expr: Expr) -> Expr {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    expr.transform(|node| match node {
        Expr::Column(column) if column.relation.is_some() => {
            Ok(Transformed::yes(Expr::Column(datafusion::common::Column::new_unqualified(column.name))))
        }
        other => Ok(Transformed::no(other)),
    })
    .map(|transformed| transformed.data)
    .expect("renaming columns cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_in_a_bucket_is_read_through_the_bucket_by_its_keys() {
        let url = url::Url::parse("s3://lake/tables/my%20view/").unwrap();
        let (store, root) = store_and_root(&url).unwrap();
        assert_eq!(store.as_str(), "s3://lake/");
        assert_eq!(root, "tables/my view");
        let (store, root) = store_and_root(&url::Url::parse("gs://lake/").unwrap()).unwrap();
        assert_eq!((store.as_str(), root.as_str()), ("gs://lake/", ""));
    }

    /// A scan of a four-column table with one made-up file (planning never opens it).
    fn four_column_scan() -> DeltaFileScan {
        use datafusion::arrow::datatypes::DataType;
        let schema =
            Arc::new(Schema::new(["a", "b", "c", "d"].map(|name| Field::new(name, DataType::Int64, true)).into_iter().collect::<Vec<_>>()));
        let file = DeltaDataFile { path: "data/part-0.parquet".into(), size: 1, partition_values: HashMap::new() };
        DeltaFileScan { schema, store: ObjectStoreUrl::local_filesystem(), partition_columns: vec![], files: vec![file] }
    }

    fn names(plan: &Arc<dyn ExecutionPlan>) -> Vec<String> {
        plan.schema().fields().iter().map(|field| field.name().clone()).collect()
    }

    /// The file scan at the bottom of `plan` (every node above it has one input).
    fn file_scan(plan: &Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        match plan.children().first() {
            Some(child) => file_scan(child),
            None => Arc::clone(plan),
        }
    }

    #[tokio::test]
    async fn a_filtered_scan_reads_the_wanted_and_the_filtered_columns_only() {
        use datafusion::prelude::{SessionContext, col, lit};
        let state = SessionContext::new().state();
        let scan = four_column_scan();
        let plan = scan.scan(&state, Some(&vec![2]), &[col("t.a").gt(lit(1i64))], None).await.unwrap();
        assert_eq!(names(&file_scan(&plan)), ["a", "c"], "column b and d are never read");
        assert_eq!(names(&plan), ["c"]);
        assert!(plan.downcast_ref::<ProjectionExec>().is_some());

        // Wanted columns out of table order, a filter on one of them: read in table order,
        // handed up in the wanted order.
        let plan = scan.scan(&state, Some(&vec![3, 0]), &[col("d").lt(lit(5i64))], None).await.unwrap();
        assert_eq!(names(&file_scan(&plan)), ["a", "d"]);
        assert_eq!(names(&plan), ["d", "a"]);

        // The filter names wanted columns only and they are in table order: no projection.
        let plan = scan.scan(&state, Some(&vec![0, 1]), &[col("b").is_not_null()], None).await.unwrap();
        assert!(plan.downcast_ref::<FilterExec>().is_some());
        assert_eq!(names(&plan), ["a", "b"]);
    }

    #[tokio::test]
    async fn an_unfiltered_scan_reads_the_wanted_columns_in_their_order() {
        let state = datafusion::prelude::SessionContext::new().state();
        let plan = four_column_scan().scan(&state, Some(&vec![3, 1]), &[], None).await.unwrap();
        assert!(plan.downcast_ref::<DataSourceExec>().is_some());
        assert_eq!(names(&plan), ["d", "b"]);
    }

    /// A table of (`a` Int64, `day` partition) with one file per day, `day` typed as
    /// `day_type` (deltalake types partition columns as dictionaries).
    fn scan_partitioned_by_day(day_type: datafusion::arrow::datatypes::DataType, days: &[Option<&str>]) -> DeltaFileScan {
        use datafusion::arrow::datatypes::DataType;
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true), Field::new("day", day_type, true)]));
        let files = days
            .iter()
            .enumerate()
            .map(|(index, day)| DeltaDataFile {
                path: format!("data/day={}/part-{index}.parquet", day.unwrap_or("__HIVE_DEFAULT_PARTITION__")),
                size: 1,
                partition_values: [("day".to_string(), day.map(str::to_string))].into(),
            })
            .collect();
        DeltaFileScan { schema, store: ObjectStoreUrl::local_filesystem(), partition_columns: vec!["day".to_string()], files }
    }

    /// The paths of the files `plan`'s file scan lists, sorted.
    fn listed_files(plan: &Arc<dyn ExecutionPlan>) -> Vec<String> {
        let scan = file_scan(plan);
        let (config, _) = scan.downcast_ref::<DataSourceExec>().unwrap().downcast_to_file_source::<ParquetSource>().unwrap();
        let mut paths: Vec<String> =
            config.file_groups.iter().flat_map(|group| group.iter().map(|file| file.object_meta.location.to_string())).collect();
        paths.sort();
        paths
    }

    #[tokio::test]
    async fn a_filter_on_partition_columns_lists_only_the_files_of_the_partitions_it_keeps() {
        use datafusion::arrow::datatypes::DataType;
        use datafusion::prelude::{SessionContext, col, lit};
        let state = SessionContext::new().state();
        let days = [Some("2026-12-01"), Some("2026-12-02"), Some("2026-12-03"), None];
        let scan = scan_partitioned_by_day(DataType::Utf8, &days);
        let all = listed_files(&scan.scan(&state, None, &[], None).await.unwrap());
        assert_eq!(all.len(), 4);

        let one_day = scan.scan(&state, None, &[col("t.day").eq(lit("2026-12-02"))], None).await.unwrap();
        assert_eq!(listed_files(&one_day), ["data/day=2026-12-02/part-1.parquet"]);
        let two_days =
            scan.scan(&state, Some(&vec![0]), &[col("day").gt_eq(lit("2026-12-02")), col("a").gt(lit(0i64))], None).await.unwrap();
        assert_eq!(listed_files(&two_days), ["data/day=2026-12-02/part-1.parquet", "data/day=2026-12-03/part-2.parquet"]);
        let null_day = scan.scan(&state, None, &[col("day").is_null()], None).await.unwrap();
        assert_eq!(listed_files(&null_day), ["data/day=__HIVE_DEFAULT_PARTITION__/part-3.parquet"]);

        // A filter that also names a data column decides per row, not per file.
        let mixed = scan.scan(&state, None, &[col("day").eq(lit("2026-12-02")).or(col("a").gt(lit(0i64)))], None).await.unwrap();
        assert_eq!(listed_files(&mixed), all);
        // A volatile filter decides per row: `random()` drawn once per file would drop files
        // whose rows another draw keeps.
        let random_day = col("day").eq(lit("2026-12-02")).and(datafusion::functions::expr_fn::random().lt(lit(2.0)));
        let volatile = scan.scan(&state, None, &[random_day], None).await.unwrap();
        assert_eq!(listed_files(&volatile), all);
        // A filter without columns has one value for every file: false keeps none.
        let never = scan.scan(&state, None, &[lit(1i64).eq(lit(2i64))], None).await.unwrap();
        assert!(listed_files(&never).is_empty());
        // No partition passes: an empty scan that still plans.
        let none = scan.scan(&state, None, &[col("day").eq(lit("2027-01-01"))], None).await.unwrap();
        assert!(listed_files(&none).is_empty());
        assert_eq!(names(&none), ["a", "day"]);
    }

    #[tokio::test]
    async fn dictionary_typed_partition_values_are_compared_as_their_values() {
        use datafusion::arrow::datatypes::DataType;
        use datafusion::prelude::{SessionContext, col, lit};
        let dictionary = DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::Utf8));
        let scan = scan_partitioned_by_day(dictionary, &[Some("2026-12-01"), Some("2026-12-02")]);
        let day = ScalarValue::Dictionary(Box::new(DataType::UInt16), Box::new(ScalarValue::from("2026-12-01")));
        let plan = scan.scan(&SessionContext::new().state(), None, &[col("day").eq(lit(day))], None).await.unwrap();
        assert_eq!(listed_files(&plan), ["data/day=2026-12-01/part-0.parquet"]);
    }

    #[test]
    fn a_local_table_is_read_through_the_file_system_by_its_absolute_path() {
        let (store, root) = store_and_root(&url::Url::parse("file:///work/data/orders/").unwrap()).unwrap();
        assert_eq!(store, ObjectStoreUrl::local_filesystem());
        assert_eq!(root, "work/data/orders");
    }
}

//! [`AilakeTable`]: an ailake table as a DataFusion table, for SQL scans of its rows.
//!
//! One snapshot is read: the table handle's (time travel with `Table::at_snapshot` or the
//! `ailake_scan(table, snapshot_id)` function). Filters prune before anything is read — data
//! files by the column bounds Iceberg records, row groups by their Parquet statistics — and
//! DataFusion still evaluates them on the rows (`Inexact`). Position deletes are honoured.
//! The data files are split into groups of about equal bytes, one partition each.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ailake::catalog::LiveFile;
use ailake::search::{file_may_match, scan_file, Filter};
use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};
use futures::{StreamExt, TryStreamExt};

use crate::error::to_df;
use crate::filter_expr::to_filter;
use crate::source::TableSource;

/// The SQL schema of a table: its columns (vector columns as `FixedSizeList<Float32>`), all
/// nullable (a column added by schema evolution reads as null in older files), without the
/// Parquet field-id metadata.
pub(crate) fn sql_schema(table: &ailake::Table) -> Result<SchemaRef> {
    let schema = table.file_schema().map_err(to_df)?;
    Ok(Arc::new(Schema::new(
        schema.fields().iter().map(|f| Field::new(f.name(), f.data_type().clone(), true)).collect::<Vec<_>>(),
    )))
}

/// `batch`'s columns under `schema` (same names and types; nullability and metadata as
/// the plan declares them).
pub(crate) fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let opts = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &opts)?)
}

/// One snapshot of an ailake table as a DataFusion table (SQL scans of its rows).
#[derive(Debug, Clone)]
pub struct AilakeTable {
    pub(crate) source: TableSource,
    schema: SchemaRef,
}

impl AilakeTable {
    /// The snapshot `table` reads.
    pub fn new(table: &ailake::Table) -> Result<Self> {
        Ok(Self { source: TableSource::of(table), schema: sql_schema(table)? })
    }

    pub(crate) fn from_source(source: TableSource, schema: SchemaRef) -> Self {
        Self { source, schema }
    }

    /// The snapshot read (`None` for a table without commits).
    pub fn snapshot_id(&self) -> Option<i64> {
        self.source.snapshot
    }
}

#[async_trait]
impl TableProvider for AilakeTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if to_filter(f).is_some() {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let session = self.source.session().await?;
        let table = session.table();
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        // Every filter that translates prunes (the rows are still filtered by DataFusion).
        let filter = filters.iter().filter_map(to_filter).reduce(Filter::and);
        let files = table.live_files().await.map_err(to_df)?;
        let mut kept: Vec<&LiveFile> = files
            .iter()
            .filter(|f| filter.as_ref().is_none_or(|flt| file_may_match(flt, &f.data_file, table.schema())))
            .collect();
        // Largest first onto the lightest group: groups of about equal bytes.
        kept.sort_by_key(|f| std::cmp::Reverse(f.data_file.file_size_in_bytes()));
        let parts = state.config_options().execution.target_partitions.clamp(1, kept.len().max(1));
        let mut groups: Vec<(u64, Vec<String>)> = vec![(0, Vec::new()); parts];
        for f in kept {
            let lightest = groups.iter_mut().min_by_key(|g| g.0).expect("at least one group");
            lightest.0 += f.data_file.file_size_in_bytes();
            lightest.1.push(f.path().to_string());
        }
        let groups = groups.into_iter().map(|g| g.1).collect();
        Ok(Arc::new(AilakeScanExec::new(self.source.clone(), schema, groups, filter, limit)))
    }
}

/// What a scan partition counts (DataFusion metrics, shown by `EXPLAIN ANALYZE`).
#[derive(Clone)]
struct ScanCounters {
    files: Count,
    row_groups_pruned: Count,
    rows_deleted: Count,
}

/// Reads groups of data files of one snapshot, one partition per group. Metrics:
/// `files_read`, `row_groups_pruned` (by Parquet statistics) and `rows_deleted`.
#[derive(Debug)]
pub struct AilakeScanExec {
    pub(crate) source: TableSource,
    pub(crate) schema: SchemaRef,
    pub(crate) groups: Vec<Vec<String>>,
    pub(crate) filter: Option<Filter>,
    pub(crate) limit: Option<usize>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl AilakeScanExec {
    pub(crate) fn new(
        source: TableSource,
        schema: SchemaRef,
        groups: Vec<Vec<String>>,
        filter: Option<Filter>,
        limit: Option<usize>,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(groups.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self { source, schema, groups, filter, limit, properties, metrics: ExecutionPlanMetricsSet::new() }
    }

    /// The data files each partition reads.
    pub fn file_groups(&self) -> &[Vec<String>] {
        &self.groups
    }
}

impl DisplayAs for AilakeScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let files: usize = self.groups.iter().map(Vec::len).sum();
        write!(
            f,
            "AilakeScanExec: table={} snapshot={:?} files={files} groups={}",
            self.source.ident,
            self.source.snapshot,
            self.groups.len()
        )?;
        if let Some(filter) = &self.filter {
            write!(f, " prune={filter:?}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for AilakeScanExec {
    fn name(&self) -> &str {
        "AilakeScanExec"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(self: Arc<Self>, _: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let files = self.groups.get(partition).cloned().unwrap_or_default();
        let counters = ScanCounters {
            files: MetricBuilder::new(&self.metrics).counter("files_read", partition),
            row_groups_pruned: MetricBuilder::new(&self.metrics).counter("row_groups_pruned", partition),
            rows_deleted: MetricBuilder::new(&self.metrics).counter("rows_deleted", partition),
        };
        let (source, schema, filter, limit) =
            (self.source.clone(), self.schema.clone(), self.filter.clone(), self.limit);
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let out_schema = schema.clone();
        let stream = futures::stream::once(async move {
            let session = source.session().await?;
            let table = session.table().clone();
            let live = table.live_files().await.map_err(to_df)?;
            let deletes = table.deleted_rows().await.map_err(to_df)?;
            let by_uri: HashMap<&str, &LiveFile> = live.iter().map(|f| (f.path(), f)).collect();
            let chosen: Vec<LiveFile> = files
                .iter()
                .map(|uri| {
                    by_uri.get(uri.as_str()).map(|f| (*f).clone()).ok_or_else(|| {
                        DataFusionError::Plan(format!(
                            "{uri} is not a data file of {} at {:?}",
                            source.ident, source.snapshot
                        ))
                    })
                })
                .collect::<Result<_>>()?;
            let per_file = futures::stream::iter(chosen).then(move |file| {
                let (table, deletes, columns, filter) =
                    (table.clone(), deletes.clone(), columns.clone(), filter.clone());
                let counters = counters.clone();
                async move {
                    let scan =
                        scan_file(&table, &file, &columns, filter.as_ref(), deletes.deleted(file.path()))
                            .await
                            .map_err(to_df)?;
                    counters.files.add(1);
                    counters.row_groups_pruned.add(scan.row_groups_pruned);
                    counters.rows_deleted.add(scan.rows_deleted);
                    Ok::<_, DataFusionError>(futures::stream::iter(scan.batches.into_iter().map(Ok)))
                }
            });
            Ok::<_, DataFusionError>(per_file.try_flatten())
        })
        .try_flatten();
        // Stop reading once `limit` rows came (DataFusion cuts the last batch).
        let mut seen = 0usize;
        let stream = stream
            .take_while(move |b| {
                let go = limit.is_none_or(|l| seen < l);
                if let Ok(b) = b {
                    seen += b.num_rows();
                }
                futures::future::ready(go)
            })
            .map(move |b| b.and_then(|b| conform(&b, &schema)));
        Ok(Box::pin(RecordBatchStreamAdapter::new(out_schema, stream)))
    }
}

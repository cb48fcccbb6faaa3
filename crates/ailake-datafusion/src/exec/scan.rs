//! [`AilakeScanExec`]: reads groups of data files of one snapshot, one partition per group.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ailake::{scan_file, Filter, LiveFile};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};
use futures::{StreamExt, TryStreamExt};

use crate::error::to_df;
use crate::schema::conform;
use crate::source::TableSource;

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

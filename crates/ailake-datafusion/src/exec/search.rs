//! [`VectorSearchExec`]: one partition per group of shards, each searching its group and
//! returning its own top `k`, nearest first (see `provider::search`).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ailake::{Filter, DISTANCE_COLUMN};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};

use crate::error::to_df;
use crate::options::SearchQuery;
use crate::schema::conform;
use crate::source::TableSource;

pub(crate) fn nearest_first(distance: usize) -> PhysicalSortExpr {
    PhysicalSortExpr::new(
        Arc::new(Column::new(DISTANCE_COLUMN, distance)),
        SortOptions { descending: false, nulls_first: false },
    )
}

/// Searches groups of shards of one snapshot for one query, one partition per group; each
/// partition returns its `k` nearest rows, nearest first, with `_distance` last.
#[derive(Debug)]
pub struct VectorSearchExec {
    pub(crate) source: TableSource,
    pub(crate) query: SearchQuery,
    pub(crate) filter: Option<Filter>,
    pub(crate) schema: SchemaRef,
    pub(crate) groups: Vec<Vec<String>>,
    properties: Arc<PlanProperties>,
}

impl VectorSearchExec {
    pub(crate) fn new(
        source: TableSource,
        query: SearchQuery,
        filter: Option<Filter>,
        schema: SchemaRef,
        groups: Vec<Vec<String>>,
    ) -> Self {
        let distance = schema.fields().len() - 1;
        let eq = EquivalenceProperties::new_with_orderings(schema.clone(), [[nearest_first(distance)]]);
        let properties = Arc::new(PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(groups.len().max(1)),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self { source, query, filter, schema, groups, properties }
    }

    /// The shards (data file URIs) each partition searches.
    pub fn shard_groups(&self) -> &[Vec<String>] {
        &self.groups
    }
}

impl DisplayAs for VectorSearchExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let shards: usize = self.groups.iter().map(Vec::len).sum();
        write!(
            f,
            "VectorSearchExec: table={} snapshot={:?} column={} k={} shards={shards} groups={}",
            self.source.ident,
            self.source.snapshot,
            self.query.column,
            self.query.k,
            self.groups.len()
        )?;
        if let Some(filter) = &self.filter {
            write!(f, " filter={filter:?}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for VectorSearchExec {
    fn name(&self) -> &str {
        "VectorSearchExec"
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

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let files = self.groups.get(partition).cloned().unwrap_or_default();
        let (source, query, filter, schema) =
            (self.source.clone(), self.query.clone(), self.filter.clone(), self.schema.clone());
        let out_schema = schema.clone();
        let stream = futures::stream::once(async move {
            if files.is_empty() {
                return Ok(datafusion::arrow::record_batch::RecordBatch::new_empty(schema));
            }
            let session = source.session().await?;
            let columns: Vec<String> =
                schema.fields().iter().map(|f| f.name().clone()).filter(|n| n != DISTANCE_COLUMN).collect();
            let params = query.options.params(&query.column, columns, filter);
            let batch = session.search_files(&files, &query.vector, query.k, &params).await.map_err(to_df)?;
            conform(&batch, &schema)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(out_schema, stream)))
    }
}

//! [`VectorMergeExec`]: the global top-k of a search's partitions.
//!
//! A node of its own rather than DataFusion's sort-preserving merge with a fetch: the
//! physical optimizer may replace that merge (an `ORDER BY` above wants another order) with a
//! plain coalesce that keeps its fetch — any `k` rows instead of the nearest `k`. This node
//! asks for one input partition (DataFusion coalesces the search partitions below it, and
//! Ballista cuts its stages there), and keeps the `k` smallest `_distance`s, nearest first.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, Float32Array, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, SendableRecordBatchStream,
};
use futures::TryStreamExt;

use crate::exec::search::nearest_first;

/// Keeps the `k` rows of its input with the smallest `_distance` (the last column), nearest
/// first, in one partition.
#[derive(Debug)]
pub struct VectorMergeExec {
    pub(crate) input: Arc<dyn ExecutionPlan>,
    pub(crate) k: usize,
    properties: Arc<PlanProperties>,
}

impl VectorMergeExec {
    pub(crate) fn new(input: Arc<dyn ExecutionPlan>, k: usize) -> Self {
        let schema = input.schema();
        let distance = schema.fields().len() - 1;
        let eq = datafusion::physical_expr::EquivalenceProperties::new_with_orderings(
            schema,
            [[nearest_first(distance)]],
        );
        let properties = Arc::new(PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self { input, k, properties }
    }
}

impl DisplayAs for VectorMergeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "VectorMergeExec: k={}", self.k)
    }
}

impl ExecutionPlan for VectorMergeExec {
    fn name(&self) -> &str {
        "VectorMergeExec"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("VectorMergeExec takes one input".into()))?;
        Ok(Arc::new(Self::new(input, self.k)))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "VectorMergeExec has one partition, not {partition}"
            )));
        }
        let parts = self.input.output_partitioning().partition_count();
        let streams =
            (0..parts).map(|p| self.input.execute(p, context.clone())).collect::<Result<Vec<_>>>()?;
        let (schema, k) = (self.schema(), self.k);
        let out_schema = schema.clone();
        let stream = futures::stream::once(async move {
            let mut batches = Vec::new();
            for s in streams {
                batches.extend(s.try_collect::<Vec<_>>().await?);
            }
            nearest(&schema, &batches, k)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(out_schema, stream)))
    }
}

/// The `k` rows of `batches` with the smallest last column (`_distance`), nearest first;
/// rows of equal distance keep their input order.
fn nearest(schema: &SchemaRef, batches: &[RecordBatch], k: usize) -> Result<RecordBatch> {
    let all = concat_batches(schema, batches)?;
    let distances = all
        .column(all.num_columns() - 1)
        .as_any()
        .downcast_ref::<Float32Array>()
        .ok_or_else(|| DataFusionError::Internal("_distance is not Float32".into()))?;
    let mut order: Vec<u32> =
        (0..all.num_rows() as u32).filter(|&i| distances.is_valid(i as usize)).collect();
    order.sort_by(|&a, &b| distances.value(a as usize).total_cmp(&distances.value(b as usize)));
    order.truncate(k);
    Ok(take_record_batch(&all, &UInt32Array::from(order))?)
}

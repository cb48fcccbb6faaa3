//! [`TextSearchExec`]: one partition running the session's full-text or hybrid search (see
//! `provider::text`).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ailake::{Filter, SCORE_COLUMN};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};

use crate::error::to_df;
use crate::options::TextSearchQuery;
use crate::schema::conform;
use crate::source::TableSource;

/// Runs one `text_search` / `hybrid_search` over a snapshot: its `k` best rows, best first,
/// with `_score` last.
#[derive(Debug)]
pub struct TextSearchExec {
    pub(crate) source: TableSource,
    pub(crate) query: TextSearchQuery,
    pub(crate) filter: Option<Filter>,
    pub(crate) schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl TextSearchExec {
    pub(crate) fn new(
        source: TableSource,
        query: TextSearchQuery,
        filter: Option<Filter>,
        schema: SchemaRef,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self { source, query, filter, schema, properties }
    }
}

impl DisplayAs for TextSearchExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "TextSearchExec: table={} snapshot={:?} text_column={} text={:?} k={}",
            self.source.ident, self.source.snapshot, self.query.text_column, self.query.text, self.query.k
        )?;
        if let Some((column, _)) = &self.query.vector {
            write!(f, " hybrid with vector column {column}")?;
        }
        if let Some(filter) = &self.filter {
            write!(f, " filter={filter:?}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for TextSearchExec {
    fn name(&self) -> &str {
        "TextSearchExec"
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

    fn execute(&self, _partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let (source, query, filter, schema) =
            (self.source.clone(), self.query.clone(), self.filter.clone(), self.schema.clone());
        let out_schema = schema.clone();
        let stream = futures::stream::once(async move {
            let session = source.session().await?;
            let columns: Vec<String> =
                schema.fields().iter().map(|f| f.name().clone()).filter(|n| n != SCORE_COLUMN).collect();
            let vector_column = query.vector.as_ref().map_or("", |v| v.0.as_str());
            let mut params = query.options.params(vector_column, columns, filter);
            params.text_column = Some(query.text_column.clone());
            let batch = match &query.vector {
                Some((_, vector)) => session
                    .hybrid_search(vector, &query.text, query.k, &params, &query.options.hybrid())
                    .await
                    .map_err(to_df)?,
                None => {
                    params.column = None;
                    session.text_search(&query.text, query.k, &params).await.map_err(to_df)?
                }
            };
            conform(&batch, &schema)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(out_schema, stream)))
    }
}

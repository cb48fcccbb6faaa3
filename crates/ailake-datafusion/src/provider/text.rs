//! `text_search(...)` and `hybrid_search(...)` as tables: the `k` best BM25 matches of a
//! full-text query (or those fused with a vector query's nearest rows), with `_score`.
//!
//! BM25 scores every file with statistics summed over the whole snapshot, so a text search is
//! one node ([`TextSearchExec`], one partition) that runs the session's own `text_search` /
//! `hybrid_search`: the answer is the session's (same rows, same scores). `WHERE` filters on
//! the table's columns apply before ranking (to both lists of a hybrid search); filters on
//! `_score` apply to the `k` rows found.

use std::any::Any;
use std::sync::Arc;

use ailake::SCORE_COLUMN;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::ranked::{ranked_schema, Ranked};
use crate::exec::text::TextSearchExec;
use crate::options::TextSearchQuery;
use crate::source::TableSource;

/// The result of one `text_search` / `hybrid_search` call: the table's columns plus `_score`.
#[derive(Debug, Clone)]
pub struct TextSearchTable {
    pub(crate) source: TableSource,
    pub(crate) query: TextSearchQuery,
    pub(crate) schema: SchemaRef,
    /// Vector columns: filtering on them is a plan error.
    pub(crate) vector_columns: Vec<String>,
}

/// The schema of a text or hybrid search over a table whose SQL schema is `table`.
pub(crate) fn text_search_schema(table: &Schema) -> SchemaRef {
    ranked_schema(table, SCORE_COLUMN)
}

impl TextSearchTable {
    fn ranked(&self) -> Ranked<'_> {
        Ranked {
            function: self.query.function(),
            score: SCORE_COLUMN,
            schema: &self.schema,
            vector_columns: &self.vector_columns,
        }
    }
}

#[async_trait]
impl TableProvider for TextSearchTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        self.ranked().pushdown(filters)
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let ranked = self.ranked();
        let filter = ranked.filter(filters)?;
        let out = ranked.output(projection)?;
        let exec = Arc::new(TextSearchExec::new(
            self.source.clone(),
            self.query.clone(),
            filter,
            out.schema.clone(),
        ));
        ranked.project(&out, exec)
    }
}

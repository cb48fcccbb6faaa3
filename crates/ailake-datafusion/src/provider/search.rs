//! `vector_search(...)` as a table: the `k` rows nearest a query vector, with `_distance`.
//!
//! Planning asks the snapshot's [`SearchSession`] which shards the query visits (partition-
//! aware: only shards holding the partitions probed) and deals them round-robin into as many
//! groups as DataFusion has target partitions. Each partition of [`VectorSearchExec`] searches
//! its group and returns its own top `k`, nearest first; [`VectorMergeExec`] keeps the
//! global `k`. The answer is the session's own (same rows, same distances): shards the
//! session prunes by their distance bound cannot hold a row nearer than its `k`-th.
//!
//! `WHERE` filters on the table's columns apply before ranking (the `k` nearest rows that
//! match); filters on `_distance` apply to the `k` rows found.

use std::any::Any;
use std::sync::Arc;

use ailake::DISTANCE_COLUMN;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::ranked::{ranked_schema, Ranked};
use crate::error::to_df;
use crate::exec::merge::VectorMergeExec;
use crate::exec::search::VectorSearchExec;
use crate::options::SearchQuery;
use crate::source::TableSource;

/// The result of one `vector_search` call as a table: the table's columns plus `_distance`.
#[derive(Debug, Clone)]
pub struct VectorSearchTable {
    pub(crate) source: TableSource,
    pub(crate) query: SearchQuery,
    pub(crate) schema: SchemaRef,
    /// Vector columns: filtering on them is a plan error.
    pub(crate) vector_columns: Vec<String>,
    /// The placeholder (`$1`) the query vector is, until bound (a prepared statement).
    pub(crate) param: Option<String>,
    /// The searched column's dimension.
    pub(crate) dim: usize,
}

impl VectorSearchTable {
    /// Binds the query vector of a parameterized search (dimension checked).
    pub(crate) fn bind_vector(&mut self, vector: Vec<f32>) -> Result<()> {
        if vector.len() != self.dim {
            return Err(DataFusionError::Plan(format!(
                "vector_search: the query has {} values, column {} has dimension {}",
                vector.len(),
                self.query.column,
                self.dim
            )));
        }
        self.query.vector = vector;
        self.param = None;
        Ok(())
    }
}

/// The schema of a search over a table whose SQL schema is `table`.
pub(crate) fn search_schema(table: &Schema) -> SchemaRef {
    ranked_schema(table, DISTANCE_COLUMN)
}

impl VectorSearchTable {
    fn ranked(&self) -> Ranked<'_> {
        Ranked {
            function: "vector_search",
            score: DISTANCE_COLUMN,
            schema: &self.schema,
            vector_columns: &self.vector_columns,
        }
    }
}

#[async_trait]
impl TableProvider for VectorSearchTable {
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
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(id) = &self.param {
            return Err(DataFusionError::Plan(format!(
                "vector_search: the query vector is parameter {id}; run the statement through \
                 PreparedSearch::new(..).execute(..) with its value"
            )));
        }
        let session = self.source.session().await?;
        let ranked = self.ranked();
        let filter = ranked.filter(filters)?;
        let out = ranked.output(projection)?;
        let q = &self.query;
        let params = q.options.params(&q.column, out.columns.clone(), filter.clone());
        let candidates = session.candidate_shards(&q.vector, q.k, &params).await.map_err(to_df)?;
        let parts = state.config_options().execution.target_partitions.clamp(1, candidates.len().max(1));
        let mut groups = vec![Vec::new(); parts];
        for (i, c) in candidates.into_iter().enumerate() {
            groups[i % parts].push(c.uri);
        }
        let exec = Arc::new(VectorSearchExec::new(
            self.source.clone(),
            q.clone(),
            filter,
            out.schema.clone(),
            groups,
        ));
        let merged: Arc<dyn ExecutionPlan> =
            if parts == 1 { exec } else { Arc::new(VectorMergeExec::new(exec, q.k)) };
        ranked.project(&out, merged)
    }
}

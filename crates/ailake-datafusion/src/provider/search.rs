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

use ailake::{Filter, DISTANCE_COLUMN};
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;

use crate::error::to_df;
use crate::exec::merge::VectorMergeExec;
use crate::exec::search::VectorSearchExec;
use crate::filter_expr::to_filter;
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
    let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(DISTANCE_COLUMN, DataType::Float32, true));
    Arc::new(Schema::new(fields))
}

fn only_distance(e: &Expr) -> bool {
    let cols = e.column_refs();
    !cols.is_empty() && cols.iter().all(|c| c.name == DISTANCE_COLUMN)
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
        filters
            .iter()
            .map(|f| {
                if only_distance(f) {
                    return Ok(TableProviderFilterPushDown::Unsupported);
                }
                let refs = f.column_refs();
                if let Some(c) =
                    refs.iter().find(|c| c.name == DISTANCE_COLUMN || self.vector_columns.contains(&c.name))
                {
                    return Err(DataFusionError::Plan(if c.name == DISTANCE_COLUMN {
                        format!(
                            "vector_search: the filter {f} mixes _distance with the table's columns; \
                             filters on table columns apply before ranking, filters on _distance after"
                        )
                    } else {
                        format!(
                            "vector_search: the filter {f} reads vector column {}; filter on other columns",
                            c.name
                        )
                    }));
                }
                if to_filter(f).is_none() {
                    return Err(DataFusionError::Plan(format!(
                        "vector_search: the filter {f} cannot be applied before ranking (supported: \
                         comparisons of a column with a literal, IN, BETWEEN, AND, OR, NOT)"
                    )));
                }
                Ok(TableProviderFilterPushDown::Exact)
            })
            .collect()
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
        let mut filter = None::<Filter>;
        for f in filters.iter().filter(|f| !only_distance(f)) {
            let f = to_filter(f).ok_or_else(|| {
                DataFusionError::Plan(format!("vector_search: the filter {f} is not supported"))
            })?;
            filter = Some(match filter {
                None => f,
                Some(acc) => acc.and(f),
            });
        }
        let wanted: Vec<usize> =
            projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        // The search's own output: the requested table columns, then `_distance` (merged on).
        let columns: Vec<String> = wanted
            .iter()
            .map(|&i| self.schema.field(i).name().clone())
            .filter(|n| n != DISTANCE_COLUMN)
            .collect();
        let q = &self.query;
        let params = q.options.params(&q.column, columns.clone(), filter.clone());
        let candidates = session.candidate_shards(&q.vector, q.k, &params).await.map_err(to_df)?;
        let parts = state.config_options().execution.target_partitions.clamp(1, candidates.len().max(1));
        let mut groups = vec![Vec::new(); parts];
        for (i, c) in candidates.into_iter().enumerate() {
            groups[i % parts].push(c.uri);
        }
        let mut fields: Vec<Field> =
            columns.iter().map(|c| self.schema.field_with_name(c).cloned()).collect::<Result<_, _>>()?;
        fields.push(Field::new(DISTANCE_COLUMN, DataType::Float32, true));
        let exec = Arc::new(VectorSearchExec::new(
            self.source.clone(),
            self.query.clone(),
            filter,
            Arc::new(Schema::new(fields)),
            groups,
        ));
        let distance = exec.schema().fields().len() - 1;
        let merged: Arc<dyn ExecutionPlan> =
            if parts == 1 { exec } else { Arc::new(VectorMergeExec::new(exec, q.k)) };
        // The columns in the order (and subset) DataFusion asked for.
        let exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = wanted
            .iter()
            .map(|&i| {
                let name = self.schema.field(i).name().clone();
                let at = if name == DISTANCE_COLUMN {
                    distance
                } else {
                    columns.iter().position(|c| *c == name).expect("projected")
                };
                (Arc::new(Column::new(&name, at)) as Arc<dyn PhysicalExpr>, name)
            })
            .collect();
        if exprs.len() == distance + 1
            && exprs
                .iter()
                .enumerate()
                .all(|(i, (e, _))| e.as_any().downcast_ref::<Column>().is_some_and(|c| c.index() == i))
        {
            return Ok(merged);
        }
        Ok(Arc::new(ProjectionExec::try_new(exprs, merged)?))
    }
}

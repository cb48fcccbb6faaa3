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

use ailake::{Filter, SCORE_COLUMN};
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

use crate::exec::text::TextSearchExec;
use crate::filter_expr::to_filter;
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
    let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(SCORE_COLUMN, DataType::Float32, true));
    Arc::new(Schema::new(fields))
}

fn only_score(e: &Expr) -> bool {
    let cols = e.column_refs();
    !cols.is_empty() && cols.iter().all(|c| c.name == SCORE_COLUMN)
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
        let function = self.query.function();
        filters
            .iter()
            .map(|f| {
                if only_score(f) {
                    return Ok(TableProviderFilterPushDown::Unsupported);
                }
                let refs = f.column_refs();
                if let Some(c) =
                    refs.iter().find(|c| c.name == SCORE_COLUMN || self.vector_columns.contains(&c.name))
                {
                    return Err(DataFusionError::Plan(if c.name == SCORE_COLUMN {
                        format!(
                            "{function}: the filter {f} mixes _score with the table's columns; filters on \
                             table columns apply before ranking, filters on _score after"
                        )
                    } else {
                        format!(
                            "{function}: the filter {f} reads vector column {}; filter on other columns",
                            c.name
                        )
                    }));
                }
                if to_filter(f).is_none() {
                    return Err(DataFusionError::Plan(format!(
                        "{function}: the filter {f} cannot be applied before ranking (supported: comparisons \
                         of a column with a literal, IN, BETWEEN, AND, OR, NOT)"
                    )));
                }
                Ok(TableProviderFilterPushDown::Exact)
            })
            .collect()
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let function = self.query.function();
        let mut filter = None::<Filter>;
        for f in filters.iter().filter(|f| !only_score(f)) {
            let f = to_filter(f).ok_or_else(|| {
                DataFusionError::Plan(format!("{function}: the filter {f} is not supported"))
            })?;
            filter = Some(match filter {
                None => f,
                Some(acc) => acc.and(f),
            });
        }
        let wanted: Vec<usize> =
            projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let columns: Vec<String> = wanted
            .iter()
            .map(|&i| self.schema.field(i).name().clone())
            .filter(|n| n != SCORE_COLUMN)
            .collect();
        let mut fields: Vec<Field> =
            columns.iter().map(|c| self.schema.field_with_name(c).cloned()).collect::<Result<_, _>>()?;
        fields.push(Field::new(SCORE_COLUMN, DataType::Float32, true));
        let exec = Arc::new(TextSearchExec::new(
            self.source.clone(),
            self.query.clone(),
            filter,
            Arc::new(Schema::new(fields)),
        ));
        let score = exec.schema().fields().len() - 1;
        let exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = wanted
            .iter()
            .map(|&i| {
                let name = self.schema.field(i).name().clone();
                let at = if name == SCORE_COLUMN {
                    score
                } else {
                    columns.iter().position(|c| *c == name).expect("projected")
                };
                (Arc::new(Column::new(&name, at)) as Arc<dyn PhysicalExpr>, name)
            })
            .collect();
        if exprs.len() == score + 1
            && exprs
                .iter()
                .enumerate()
                .all(|(i, (e, _))| e.as_any().downcast_ref::<Column>().is_some_and(|c| c.index() == i))
        {
            return Ok(exec);
        }
        Ok(Arc::new(ProjectionExec::try_new(exprs, exec)?))
    }
}

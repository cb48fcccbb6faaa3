//! What the search tables (`vector_search`, `text_search`, `hybrid_search`) share: a table's
//! columns plus one score column (`_distance` or `_score`); `WHERE` filters on the table's
//! columns pushed into the search (applied before ranking), filters on the score left to
//! DataFusion (applied to the rows found); and the search node's output (the requested table
//! columns, then the score) projected to the columns and order DataFusion asked for.

use std::sync::Arc;

use ailake::Filter;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;

use crate::filter_expr::to_filter;

/// A search table's shape: the SQL function, its score column and its schema.
pub(crate) struct Ranked<'a> {
    /// The SQL function's name, for error messages.
    pub function: &'a str,
    /// The score column (`_distance` or `_score`).
    pub score: &'a str,
    /// The table's columns plus the score.
    pub schema: &'a SchemaRef,
    /// Vector columns: filtering on them is a plan error.
    pub vector_columns: &'a [String],
}

/// The schema of a search over a table whose SQL schema is `table`: its columns, then `score`.
pub(crate) fn ranked_schema(table: &Schema, score: &str) -> SchemaRef {
    let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(score, DataType::Float32, true));
    Arc::new(Schema::new(fields))
}

/// The columns a search outputs for `projection`: the table columns requested, in order.
pub(crate) struct Output {
    /// Indexes of the requested columns in the search table's schema.
    pub wanted: Vec<usize>,
    /// The requested table columns (the score left out).
    pub columns: Vec<String>,
    /// The search node's schema: `columns`, then the score.
    pub schema: SchemaRef,
}

impl Ranked<'_> {
    fn only_score(&self, e: &Expr) -> bool {
        let cols = e.column_refs();
        !cols.is_empty() && cols.iter().all(|c| c.name == self.score)
    }

    /// Which filters the search applies itself (table columns: exactly) and which DataFusion
    /// applies after (the score); a plan error for a filter mixing both, reading a vector
    /// column or not expressible before ranking.
    pub fn pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        let (function, score) = (self.function, self.score);
        filters
            .iter()
            .map(|f| {
                if self.only_score(f) {
                    return Ok(TableProviderFilterPushDown::Unsupported);
                }
                let refs = f.column_refs();
                if let Some(c) =
                    refs.iter().find(|c| c.name == score || self.vector_columns.contains(&c.name))
                {
                    return Err(DataFusionError::Plan(if c.name == score {
                        format!(
                            "{function}: the filter {f} mixes {score} with the table's columns; filters on \
                             table columns apply before ranking, filters on {score} after"
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

    /// The pushed filters (every one not on the score) as one ailake filter.
    pub fn filter(&self, filters: &[Expr]) -> Result<Option<Filter>> {
        let mut filter = None::<Filter>;
        for f in filters.iter().filter(|f| !self.only_score(f)) {
            let f = to_filter(f).ok_or_else(|| {
                DataFusionError::Plan(format!("{}: the filter {f} is not supported", self.function))
            })?;
            filter = Some(match filter {
                None => f,
                Some(acc) => acc.and(f),
            });
        }
        Ok(filter)
    }

    /// What the search node outputs for DataFusion's `projection`.
    pub fn output(&self, projection: Option<&Vec<usize>>) -> Result<Output> {
        let wanted: Vec<usize> =
            projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let columns: Vec<String> =
            wanted.iter().map(|&i| self.schema.field(i).name().clone()).filter(|n| n != self.score).collect();
        let mut fields: Vec<Field> =
            columns.iter().map(|c| self.schema.field_with_name(c).cloned()).collect::<Result<_, _>>()?;
        fields.push(Field::new(self.score, DataType::Float32, true));
        Ok(Output { wanted, columns, schema: Arc::new(Schema::new(fields)) })
    }

    /// `plan` (whose output is `out.schema`) as the columns DataFusion asked for, in its order.
    pub fn project(&self, out: &Output, plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
        let score_at = out.columns.len();
        let exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = out
            .wanted
            .iter()
            .map(|&i| {
                let name = self.schema.field(i).name().clone();
                let at = if name == self.score {
                    score_at
                } else {
                    out.columns.iter().position(|c| *c == name).expect("projected")
                };
                (Arc::new(Column::new(&name, at)) as Arc<dyn PhysicalExpr>, name)
            })
            .collect();
        if exprs.len() == score_at + 1
            && exprs
                .iter()
                .enumerate()
                .all(|(i, (e, _))| e.as_any().downcast_ref::<Column>().is_some_and(|c| c.index() == i))
        {
            return Ok(plan);
        }
        Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
    }
}

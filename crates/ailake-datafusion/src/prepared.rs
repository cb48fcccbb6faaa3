//! [`PreparedSearch`]: a SQL statement whose `vector_search` query vector is a parameter
//! (`vector_search('t', 'embedding', $1, 10)`), parsed, planned and optimized once, then
//! executed per query vector without parsing a 384-number literal each time
//! ([`PreparedSearch::new`], then [`PreparedSearch::search`] / [`PreparedSearch::execute`]).
//!
//! The table function sees `$1` at planning and returns a search table with the vector
//! unbound; [`PreparedSearch::execute`] binds it into a copy of the optimized logical plan
//! (and any other `$n` of the statement through DataFusion's own parameter substitution),
//! then plans physically and runs it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Float32Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::catalog::default_table_source::{provider_as_source, source_as_provider};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, TableScan};
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::SessionContext;

use crate::args::vector_arg;
use crate::provider::search::VectorSearchTable;

/// A statement prepared once and executed with parameter values (see the module docs).
/// `Send + Sync`: share it between tasks; executions are independent.
#[derive(Debug, Clone)]
pub struct PreparedSearch {
    state: SessionState,
    plan: LogicalPlan,
    /// The types planning gave the placeholders outside `vector_search`'s query argument
    /// (values are cast to them), by id.
    other_params: HashMap<String, Option<DataType>>,
}

impl PreparedSearch {
    /// Parses, plans and optimizes `sql` on `ctx` (where [`crate::AilakeSql`] registered its
    /// functions and tables) once. The statement may take its `vector_search` query vector as
    /// a parameter (`$1`, `$2`, ...); other parameters are DataFusion's (`WHERE _distance <
    /// $2`; filters applied before ranking take literals).
    pub async fn new(ctx: &SessionContext, sql: &str) -> Result<Self> {
        let state = ctx.state();
        let plan = state.create_logical_plan(sql).await?;
        let plan = state.optimize(&plan)?;
        let mut vector_params = HashSet::new();
        plan.apply(|node| {
            if let Some(id) = search_of(node).and_then(|t| t.param.clone()) {
                vector_params.insert(id);
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })?;
        let mut other_params = plan.get_parameter_types()?;
        other_params.retain(|id, _| !vector_params.contains(id));
        Ok(Self { state, plan, other_params })
    }
}

/// The `vector_search` table scanned by `node`, if it is such a scan.
fn search_of(node: &LogicalPlan) -> Option<VectorSearchTable> {
    let LogicalPlan::TableScan(scan) = node else { return None };
    let provider = source_as_provider(&scan.source).ok()?;
    provider.as_any().downcast_ref::<VectorSearchTable>().cloned()
}

/// A query vector as a parameter value (a `FixedSizeList<Float32>`).
pub fn vector_param(vector: &[f32]) -> ScalarValue {
    let values = Arc::new(Float32Array::from(vector.to_vec()));
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    let list = datafusion::arrow::array::FixedSizeListArray::new(item, vector.len() as i32, values, None);
    ScalarValue::FixedSizeList(Arc::new(list))
}

impl PreparedSearch {
    /// Runs the statement with `params` (`params[0]` is `$1`; a query vector as
    /// [`vector_param`] or any numeric list) and collects its rows.
    pub async fn execute(&self, params: &[ScalarValue]) -> Result<Vec<RecordBatch>> {
        let plan = self.physical_plan(params).await?;
        collect(plan, self.state.task_ctx()).await
    }

    /// [`Self::execute`] with one parameter, the query vector.
    pub async fn search(&self, vector: &[f32]) -> Result<Vec<RecordBatch>> {
        self.execute(&[vector_param(vector)]).await
    }

    /// The physical plan of the statement with `params` bound.
    pub async fn physical_plan(&self, params: &[ScalarValue]) -> Result<Arc<dyn ExecutionPlan>> {
        let bound = self
            .plan
            .clone()
            .transform_up(|node| {
                let Some(table) = search_of(&node) else { return Ok(Transformed::no(node)) };
                let Some(id) = table.param.clone() else { return Ok(Transformed::no(node)) };
                let LogicalPlan::TableScan(scan) = node else { unreachable!("search_of matched a scan") };
                let bound = bind(table, &id, params)?;
                Ok(Transformed::yes(LogicalPlan::TableScan(TableScan {
                    source: provider_as_source(Arc::new(bound)),
                    ..scan
                })))
            })?
            .data;
        let bound = if self.other_params.is_empty() {
            bound
        } else {
            let values = params
                .iter()
                .enumerate()
                .map(|(i, v)| match self.other_params.get(&format!("${}", i + 1)) {
                    Some(Some(t)) if v.data_type() != *t => v.cast_to(t).map_err(|e| {
                        DataFusionError::Plan(format!("parameter ${}: {v} is not a {t}: {e}", i + 1))
                    }),
                    _ => Ok(v.clone()),
                })
                .map(|v| v.map(Into::into))
                .collect::<Result<Vec<_>>>()?;
            bound.replace_params_with_values(&ParamValues::List(values))?
        };
        self.state.query_planner().create_physical_plan(&bound, &self.state).await
    }
}

/// `table` with its query vector `id` (`$n`) taken from `params`.
fn bind(mut table: VectorSearchTable, id: &str, params: &[ScalarValue]) -> Result<VectorSearchTable> {
    let n: usize =
        id.strip_prefix('$').and_then(|n| n.parse().ok()).filter(|&n| n >= 1).ok_or_else(|| {
            DataFusionError::Plan(format!("vector_search: parameter {id} is not $1, $2, ..."))
        })?;
    let value = params.get(n - 1).ok_or_else(|| {
        DataFusionError::Plan(format!("vector_search: no value for {id} ({} parameters given)", params.len()))
    })?;
    let vector = vector_arg(&Expr::Literal(value.clone(), None))?;
    table.bind_vector(vector)?;
    Ok(table)
}

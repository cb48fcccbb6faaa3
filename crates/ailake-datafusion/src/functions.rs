//! [`AilakeSql`]: ailake tables and the `vector_search` / `ailake_scan` table functions on a
//! DataFusion `SessionContext`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ailake::sync;
use ailake::Table;
use datafusion::catalog::{TableFunctionImpl, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;

use crate::args::{integer_arg, string_arg, vector_arg};
use crate::error::to_df;
use crate::options::{SearchOptions, SearchQuery};
use crate::provider::search::{search_schema, VectorSearchTable};
use crate::provider::table::AilakeTable;
use crate::source::TableSource;
use crate::text_functions::{HybridSearchFunction, TableLookup, TextSearchFunction};

/// The ailake tables a DataFusion context knows, by SQL name, and the table functions that
/// read them:
///
/// - `vector_search(table, column, query, k [, options])`: the `k` rows of `table` nearest to
///   `query` (an array literal) in vector column `column`, nearest first, with `_distance`
///   (squared Euclidean for `l2`, 1 − cosine for `cosine`, −inner product for `ip`).
///   `options` is a string of `key=value` pairs: `ef`, `nprobe`, `refine`, `probes`
///   (partitions probed), `blocks` (`on`/`off`: partition blocks of clustered files) and
///   `snapshot` (time travel). The query may be a parameter (`$1`) of a statement prepared
///   with [`crate::PreparedSearch`]: parsed and planned once, run per query vector.
/// - `text_search(table, column, 'words', k [, options])` and `hybrid_search(table,
///   vector_column, query, text_column, 'words', k [, options])`: full-text (BM25) and hybrid
///   search with `_score` (see the `text_functions` module).
/// - `ailake_scan(table, snapshot_id)`: the rows of an earlier snapshot.
///
/// A registered table reads the snapshot it had when registered; register it again (or call
/// [`AilakeSql::refresh`]) to see later commits.
#[derive(Debug, Clone, Default)]
pub struct AilakeSql {
    tables: Arc<RwLock<HashMap<String, Table>>>,
}

impl AilakeSql {
    /// No tables yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the table functions on `ctx`.
    pub fn register_functions(&self, ctx: &SessionContext) {
        ctx.register_udtf("vector_search", Arc::new(VectorSearchFunction { sql: self.clone() }));
        ctx.register_udtf("ailake_scan", Arc::new(ScanFunction { sql: self.clone() }));
        let sql = self.clone();
        let tables: TableLookup = Arc::new(move |function: &str, name: &str| sql.table(function, name));
        ctx.register_udtf("text_search", Arc::new(TextSearchFunction { tables: tables.clone() }));
        ctx.register_udtf("hybrid_search", Arc::new(HybridSearchFunction { tables }));
    }

    /// Registers `table` (the snapshot it reads) on `ctx` as `name`, for plain SQL scans and for
    /// the table functions (which also find it by its `namespace.table` identifier). The
    /// snapshot's search session is opened now, so the first query does not pay for it.
    pub async fn register_table(&self, ctx: &SessionContext, name: &str, table: &Table) -> Result<()> {
        let provider = AilakeTable::new(table)?;
        provider.source.session().await?;
        ctx.register_table(name, Arc::new(provider))?;
        let mut tables = sync::write(&self.tables);
        tables.insert(name.to_string(), table.clone());
        tables.insert(table.ident().to_string(), table.clone());
        Ok(())
    }

    /// Moves every registered table to its now-current snapshot and registers it again on `ctx`.
    pub async fn refresh(&self, ctx: &SessionContext) -> Result<()> {
        let tables: Vec<(String, Table)> =
            sync::read(&self.tables).iter().map(|(n, t)| (n.clone(), t.clone())).collect();
        for (name, table) in tables {
            let fresh = table.refresh().await.map_err(to_df)?;
            ctx.deregister_table(name.as_str())?;
            self.register_table(ctx, &name, &fresh).await?;
        }
        Ok(())
    }

    fn table(&self, function: &str, name: &str) -> Result<Table> {
        sync::read(&self.tables).get(name).cloned().ok_or_else(|| {
            DataFusionError::Plan(format!(
                "{function}: unknown table {name:?} (register it with AilakeSql::register_table)"
            ))
        })
    }
}

#[derive(Debug)]
struct VectorSearchFunction {
    sql: AilakeSql,
}

impl TableFunctionImpl for VectorSearchFunction {
    fn call(&self, args: &[Expr]) -> Result<Arc<dyn TableProvider>> {
        const USAGE: &str = "vector_search(table, column, query, k [, options])";
        if !(4..=5).contains(&args.len()) {
            return Err(DataFusionError::Plan(format!("{USAGE} takes 4 or 5 arguments, got {}", args.len())));
        }
        let name = string_arg(&args[0], "vector_search: table")?;
        let column = string_arg(&args[1], "vector_search: column")?;
        let (vector, param) = match &args[2] {
            Expr::Placeholder(p) => (Vec::new(), Some(p.id.clone())),
            e => (vector_arg(e)?, None),
        };
        let k = match integer_arg(&args[3]) {
            Some(k) if k >= 1 => k as usize,
            Some(k) => {
                return Err(DataFusionError::Plan(format!("vector_search: k must be at least 1, got {k}")))
            }
            None => {
                return Err(DataFusionError::Plan(format!(
                    "vector_search: k must be an integer literal, got {}",
                    args[3]
                )))
            }
        };
        let options = match args.get(4) {
            Some(e) => SearchOptions::parse(&string_arg(e, "vector_search: options")?)?,
            None => SearchOptions::default(),
        };
        let mut table = self.sql.table("vector_search", &name)?;
        if let Some(id) = options.snapshot {
            table = table.at_snapshot(id).map_err(to_df)?;
        }
        let specs = table.vector_columns().map_err(to_df)?;
        let Some(spec) = specs.iter().find(|s| s.name == column) else {
            let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            return Err(DataFusionError::Plan(format!(
                "vector_search: {column:?} is not a vector column of {name} (vector columns: {known:?})"
            )));
        };
        if param.is_none() && vector.len() != spec.dim as usize {
            return Err(DataFusionError::Plan(format!(
                "vector_search: the query has {} values, column {column} has dimension {}",
                vector.len(),
                spec.dim
            )));
        }
        let schema = search_schema(crate::schema::sql_schema(&table)?.as_ref());
        Ok(Arc::new(VectorSearchTable {
            source: TableSource::of(&table),
            query: SearchQuery { column, vector, k, options },
            schema,
            vector_columns: specs.iter().map(|s| s.name.clone()).collect(),
            param,
            dim: spec.dim as usize,
        }))
    }
}

#[derive(Debug)]
struct ScanFunction {
    sql: AilakeSql,
}

impl TableFunctionImpl for ScanFunction {
    fn call(&self, args: &[Expr]) -> Result<Arc<dyn TableProvider>> {
        if args.len() != 2 {
            return Err(DataFusionError::Plan(format!(
                "ailake_scan(table, snapshot_id) takes 2 arguments, got {}",
                args.len()
            )));
        }
        let name = string_arg(&args[0], "ailake_scan: table")?;
        let id = integer_arg(&args[1]).ok_or_else(|| {
            DataFusionError::Plan(format!("ailake_scan: snapshot_id must be an integer, got {}", args[1]))
        })?;
        let table = self.sql.table("ailake_scan", &name)?;
        let table = match table.at_snapshot(id) {
            Ok(t) => t,
            Err(e) => {
                return Err(DataFusionError::Plan(format!("ailake_scan: {name} has no snapshot {id}: {e}")))
            }
        };
        Ok(Arc::new(AilakeTable::new(&table)?))
    }
}

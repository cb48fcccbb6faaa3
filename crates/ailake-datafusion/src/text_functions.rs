//! The `text_search` and `hybrid_search` table functions (issue 33).
//!
//! - `text_search(table, column, 'words', k [, options])`: the `k` best BM25 matches of the
//!   full-text query (terms, `"phrases"`, `AND` / `OR`) in string column `column`, with
//!   `_score` (higher is better). A column without a text index is scanned.
//! - `hybrid_search(table, vector_column, query, text_column, 'words', k [, options])`: the
//!   vector query's nearest rows and the words' best matches, fused (`fusion=rrf|weighted`,
//!   `rrf_k`, `weights=V:T`, `depth`, and `vector_search`'s knobs), with `_score`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::{TableFunctionImpl, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

use ailake::Table;

use crate::args::{integer_arg, string_arg, vector_arg};
use crate::error::to_df;
use crate::options::{SearchOptions, TextSearchQuery};
use crate::provider::text::{text_search_schema, TextSearchTable};
use crate::source::TableSource;

/// Finds a registered table: `(function, name)` → the table (a plan error naming `function`
/// when unknown).
pub(crate) type TableLookup = Arc<dyn Fn(&str, &str) -> Result<Table> + Send + Sync>;

pub(crate) struct TextSearchFunction {
    pub(crate) tables: TableLookup,
}

pub(crate) struct HybridSearchFunction {
    pub(crate) tables: TableLookup,
}

impl std::fmt::Debug for TextSearchFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextSearchFunction")
    }
}

impl std::fmt::Debug for HybridSearchFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HybridSearchFunction")
    }
}

impl TableFunctionImpl for TextSearchFunction {
    fn call(&self, args: &[Expr]) -> Result<Arc<dyn TableProvider>> {
        const USAGE: &str = "text_search(table, column, 'words', k [, options])";
        if !(4..=5).contains(&args.len()) {
            return Err(DataFusionError::Plan(format!("{USAGE} takes 4 or 5 arguments, got {}", args.len())));
        }
        let name = string_arg(&args[0], "text_search: table")?;
        let text_column = string_arg(&args[1], "text_search: column")?;
        let text = string_arg(&args[2], "text_search: words")?;
        let k = k_arg("text_search", &args[3])?;
        let options = options_arg("text_search", args.get(4))?;
        provider(
            &self.tables,
            "text_search",
            &name,
            TextSearchQuery { text_column, text, vector: None, k, options },
        )
    }
}

impl TableFunctionImpl for HybridSearchFunction {
    fn call(&self, args: &[Expr]) -> Result<Arc<dyn TableProvider>> {
        const USAGE: &str = "hybrid_search(table, vector_column, query, text_column, 'words', k [, options])";
        if !(6..=7).contains(&args.len()) {
            return Err(DataFusionError::Plan(format!("{USAGE} takes 6 or 7 arguments, got {}", args.len())));
        }
        let name = string_arg(&args[0], "hybrid_search: table")?;
        let vector_column = string_arg(&args[1], "hybrid_search: vector_column")?;
        let vector = vector_arg(&args[2])?;
        let text_column = string_arg(&args[3], "hybrid_search: text_column")?;
        let text = string_arg(&args[4], "hybrid_search: words")?;
        let k = k_arg("hybrid_search", &args[5])?;
        let options = options_arg("hybrid_search", args.get(6))?;
        let query = TextSearchQuery { text_column, text, vector: Some((vector_column, vector)), k, options };
        provider(&self.tables, "hybrid_search", &name, query)
    }
}

fn k_arg(function: &str, e: &Expr) -> Result<usize> {
    match integer_arg(e) {
        Some(k) if k >= 1 => Ok(k as usize),
        Some(k) => Err(DataFusionError::Plan(format!("{function}: k must be at least 1, got {k}"))),
        None => Err(DataFusionError::Plan(format!("{function}: k must be an integer literal, got {e}"))),
    }
}

fn options_arg(function: &str, e: Option<&Expr>) -> Result<SearchOptions> {
    match e {
        Some(e) => SearchOptions::parse(&string_arg(e, &format!("{function}: options"))?),
        None => Ok(SearchOptions::default()),
    }
}

/// The search table of `query` over registered table `name`, its columns checked.
fn provider(
    tables: &TableLookup,
    function: &str,
    name: &str,
    query: TextSearchQuery,
) -> Result<Arc<dyn TableProvider>> {
    if query.text.trim().is_empty() {
        return Err(DataFusionError::Plan(format!("{function}: the text query is empty")));
    }
    let mut table = tables(function, name)?;
    if let Some(id) = query.options.snapshot {
        table = table.at_snapshot(id).map_err(to_df)?;
    }
    let schema = crate::schema::sql_schema(&table)?;
    match schema.field_with_name(&query.text_column).map(|f| f.data_type().clone()) {
        Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {}
        Ok(other) => {
            return Err(DataFusionError::Plan(format!(
                "{function}: {} is {other}, not a text column",
                query.text_column
            )))
        }
        Err(_) => {
            return Err(DataFusionError::Plan(format!(
                "{function}: {name} has no column {:?}",
                query.text_column
            )))
        }
    }
    let specs = table.vector_columns().map_err(to_df)?;
    if let Some((column, vector)) = &query.vector {
        let Some(spec) = specs.iter().find(|s| &s.name == column) else {
            return Err(DataFusionError::Plan(format!(
                "{function}: {column:?} is not a vector column of {name}"
            )));
        };
        if vector.len() != spec.dim as usize {
            return Err(DataFusionError::Plan(format!(
                "{function}: the query has {} values, column {column} has dimension {}",
                vector.len(),
                spec.dim
            )));
        }
    }
    Ok(Arc::new(TextSearchTable {
        source: TableSource::of(&table),
        schema: text_search_schema(&schema),
        vector_columns: specs.iter().map(|s| s.name.clone()).collect(),
        query,
    }))
}

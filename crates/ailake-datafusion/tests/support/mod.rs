//! Tables the SQL tests query: synthetic rows in a SQLite catalog with a local warehouse, and
//! the in-process search session the SQL answers are compared with.
#![allow(dead_code)]

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use ailake::prelude::*;
use ailk_testkit::synthetic::gaussian_mixture;
use arrow_array::{Array, ArrayRef, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use datafusion::prelude::{SessionConfig, SessionContext};

/// Dimension of the vectors.
pub const DIM: u32 = 32;
/// Rows per data file.
pub const FILE_ROWS: usize = 500;

/// `id`, `lang` (`en` / `de` / `fr` by `id % 3`), `n` (`id % 100`).
pub fn attributes() -> Schema {
    Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("lang", DataType::Utf8, true),
        Field::new("n", DataType::Int64, true),
    ])
}

/// The language of row `i`.
pub fn lang(i: usize) -> &'static str {
    ["en", "de", "fr"][i % 3]
}

/// The vectors of rows `0..rows` (a seeded mixture of 8 clusters).
pub fn vectors(rows: usize) -> Vec<f32> {
    gaussian_mixture(rows, DIM as usize, 8, 0.3, 7)
}

/// Rows `ids` with their `embedding` (from `all`, the vectors of every row).
pub fn batch(ids: Range<usize>, all: &[f32]) -> RecordBatch {
    let d = DIM as usize;
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
    let lang: ArrayRef = Arc::new(StringArray::from_iter_values(ids.clone().map(lang)));
    let n: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| (i % 100) as i64)));
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let values = Float32Array::from(all[ids.start * d..ids.end * d].to_vec());
    let emb: ArrayRef =
        Arc::new(FixedSizeListArray::try_new(item, DIM as i32, Arc::new(values), None).unwrap());
    let mut fields: Vec<Field> = attributes().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("embedding", emb.data_type().clone(), false));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), vec![id, lang, n, emb]).unwrap()
}

/// A SQLite catalog and local warehouse under `dir`.
pub async fn catalog(dir: &Path) -> Catalog {
    Catalog::local(dir.join("catalog.db"), "default", dir.join("warehouse")).await.unwrap()
}

/// `docs.<name>` holding rows `0..rows`, one data file per `FILE_ROWS` rows, one commit.
pub async fn table(dir: &Path, name: &str, rows: usize, metric: Metric) -> Table {
    let all = vectors(rows);
    let spec = VectorSpec::new("embedding", DIM, metric);
    let ident = TableIdent::new("docs", name).unwrap();
    let table = catalog(dir).await.create_or_load_table(&ident, &attributes(), &[spec]).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    for start in (0..rows).step_by(FILE_ROWS) {
        writer
            .write(&batch(start..(start + FILE_ROWS).min(rows), &all), &WriteOptions::default())
            .await
            .unwrap();
    }
    writer.commit().await.unwrap();
    table.refresh().await.unwrap()
}

/// A context with `partitions` target partitions and the ailake functions, `table` as `t`.
pub async fn context(table: &Table, partitions: usize) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    let sql = ailake_datafusion::AilakeSql::new();
    sql.register_functions(&ctx);
    sql.register_table(&ctx, "t", table).await.unwrap();
    ctx
}

/// `v` as a SQL array literal, and the vector DataFusion reads from it (decimal → f64 → f32).
pub fn sql_vector(v: &[f32]) -> (String, Vec<f32>) {
    let text: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    let parsed = text.iter().map(|t| t.parse::<f64>().unwrap() as f32).collect();
    (format!("[{}]", text.join(", ")), parsed)
}

/// Runs `sql` on `ctx`; all rows in one batch.
pub async fn run(ctx: &SessionContext, sql: &str) -> RecordBatch {
    let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    arrow_select::concat::concat_batches(&schema, &batches).unwrap()
}

/// Column `name` as `i64`s.
pub fn i64s(b: &RecordBatch, name: &str) -> Vec<i64> {
    let c = b.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
    c.as_any().downcast_ref::<Int64Array>().unwrap().iter().map(|v| v.unwrap()).collect()
}

/// Column `_distance`.
pub fn distances(b: &RecordBatch) -> Vec<f32> {
    let c = b.column_by_name("_distance").unwrap();
    c.as_any().downcast_ref::<Float32Array>().unwrap().values().to_vec()
}

/// Column `name` as strings.
pub fn strings(b: &RecordBatch, name: &str) -> Vec<String> {
    let c = arrow_cast::cast(b.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
    let c = c.as_any().downcast_ref::<StringArray>().unwrap();
    (0..c.len()).map(|i| c.value(i).to_string()).collect()
}

/// The Python with pyarrow, DuckDB and pyiceberg (not every test binary uses it).
#[allow(unused_imports)]
pub use ailk_testkit::python;

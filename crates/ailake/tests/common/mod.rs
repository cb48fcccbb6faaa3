//! Helpers of the end-to-end tests: the real dataset, tables in temp dirs, recall.
#![allow(dead_code)]

pub mod text;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use ailake::prelude::*;
use ailk_testkit::sample::Sample;
use arrow_array::{ArrayRef, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

pub const DIM: usize = 384;

/// `rows` base vectors and `queries` held-out queries of the in-repo real sample
/// (`data/sample`, 4,000 rows; past that, noisy copies of its rows: see
/// `Sample::base_rows_padded`). Tests compute their exact truth over what this returns.
pub fn dataset(rows: usize, queries: usize) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let sample = Sample::load().expect("the committed sample data/sample");
    assert!(queries <= sample.queries.rows(), "the sample has {} queries", sample.queries.rows());
    (sample.base_rows_padded(rows), sample.query_rows(queries))
}

/// Attribute columns: `id: Int64`, `text: Utf8`.
pub fn attributes() -> Schema {
    Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("text", DataType::Utf8, true)])
}

/// Rows `ids` as an attribute batch.
pub fn rows(ids: std::ops::Range<usize>) -> RecordBatch {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.map(|i| format!("doc {i}"))));
    RecordBatch::try_new(Arc::new(attributes()), vec![id, text]).unwrap()
}

/// Rows with ids `ids` (any order) as an attribute batch.
pub fn batch_of(ids: &[usize]) -> RecordBatch {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.iter().map(|&i| i as i64)));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.iter().map(|i| format!("doc {i}"))));
    RecordBatch::try_new(Arc::new(attributes()), vec![id, text]).unwrap()
}

/// Rows `order` of `base` written into `table` (column `embedding`) as files of `per` rows,
/// in that order, one commit.
pub async fn write_files(table: &Table, base: &[Vec<f32>], order: &[usize], per: usize) {
    let writer = table.writer(WritePolicy::default()).unwrap();
    for chunk in order.chunks(per) {
        let values: Vec<f32> = chunk.iter().flat_map(|&i| base[i].iter().copied()).collect();
        writer
            .write_flat(&batch_of(chunk), &[("embedding", &values)], &WriteOptions::default())
            .await
            .unwrap();
    }
    writer.commit().await.unwrap();
}

/// A SQLite catalog and a local warehouse in `dir`.
pub async fn lake(dir: &Path) -> (Arc<dyn CatalogProvider>, Warehouse) {
    let catalog: Arc<dyn CatalogProvider> =
        Arc::new(SqlCatalog::open(dir.join("catalog.db"), "default").await.unwrap());
    (catalog, Warehouse::local(dir.join("warehouse")).unwrap())
}

/// A writer for `docs.<name>` with one cosine column `embedding`.
pub async fn writer(dir: &Path, name: &str) -> TableWriter {
    let (catalog, wh) = lake(dir).await;
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    TableWriter::create_or_open(catalog, wh, WritePolicy::default(), ident(name), &attributes(), &[spec])
        .await
        .unwrap()
}

pub fn ident(name: &str) -> TableIdent {
    TableIdent::new("docs", name).unwrap()
}

pub async fn session(dir: &Path, name: &str) -> SearchSession {
    let (catalog, wh) = lake(dir).await;
    SearchSession::open(catalog, wh, ident(name)).await.unwrap()
}

/// The `id` column of a search result.
pub fn ids(batch: &RecordBatch) -> Vec<i64> {
    batch.column_by_name("id").unwrap().as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec()
}

/// The `_distance` column of a search result.
pub fn distances(batch: &RecordBatch) -> Vec<f32> {
    let col = batch.column_by_name(ailake::DISTANCE_COLUMN).unwrap();
    col.as_any().downcast_ref::<Float32Array>().unwrap().values().to_vec()
}

/// Exact top-k row ids (cosine) of `query` over `base`.
pub fn exact(base: &[Vec<f32>], query: &[f32], k: usize) -> Vec<i64> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
    let qn = norm(query);
    let mut scored: Vec<(f32, i64)> = base
        .iter()
        .enumerate()
        .map(|(i, v)| (1.0 - v.iter().zip(query).map(|(a, b)| a * b).sum::<f32>() / (norm(v) * qn), i as i64))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, i)| i).collect()
}

/// Mean recall@k of `got` against `truth`.
pub fn recall(got: &[Vec<i64>], truth: &[Vec<i64>]) -> f64 {
    let hits: usize = got
        .iter()
        .zip(truth)
        .map(|(g, t)| {
            let t: HashSet<_> = t.iter().collect();
            g.iter().filter(|x| t.contains(x)).count()
        })
        .sum();
    hits as f64 / truth.iter().map(Vec::len).sum::<usize>() as f64
}

//! Helpers of the tests that need no dataset: small synthetic tables in temp dirs, read back
//! through the public API and through pyiceberg.
#![allow(dead_code)]

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ailake::prelude::*;
use ailk_testkit::synthetic::gaussian_mixture;
use arrow_array::{ArrayRef, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

/// Dimension of the synthetic vectors.
pub const DIM: u32 = 16;

/// Attribute columns: `id: Int64`, `text: Utf8`.
pub fn attributes() -> Schema {
    Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("text", DataType::Utf8, true)])
}

/// The vectors of rows `ids` (`dim` wide): row `i` is always the same vector, drawn from a
/// seeded mixture of 8 Gaussian clusters (`ailk_testkit::synthetic`).
pub fn vectors(ids: Range<usize>, dim: u32) -> Vec<f32> {
    let dim = dim as usize;
    gaussian_mixture(ids.end, dim, 8, 0.3, 42)[ids.start * dim..].to_vec()
}

/// Attribute rows `ids` (no vector column).
pub fn rows(ids: Range<usize>) -> RecordBatch {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.map(|i| format!("doc {i}"))));
    RecordBatch::try_new(Arc::new(attributes()), vec![id, text]).unwrap()
}

/// A `FixedSizeList<Float32>` column of `values` (`dim` wide).
pub fn vector_array(values: &[f32], dim: u32) -> ArrayRef {
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    Arc::new(
        FixedSizeListArray::try_new(item, dim as i32, Arc::new(Float32Array::from(values.to_vec())), None)
            .unwrap(),
    )
}

/// Rows `ids` with their vectors in the batch, under each of `columns` (the same values).
pub fn batch_with(ids: Range<usize>, columns: &[&str]) -> RecordBatch {
    let base = rows(ids.clone());
    let values = vectors(ids, DIM);
    let mut fields: Vec<Field> = base.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut arrays = base.columns().to_vec();
    for c in columns {
        let array = vector_array(&values, DIM);
        fields.push(Field::new(*c, array.data_type().clone(), false));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// Rows `ids` with their `embedding` column.
pub fn batch(ids: Range<usize>) -> RecordBatch {
    batch_with(ids, &["embedding"])
}

/// A SQLite catalog and local warehouse under `dir`.
pub async fn catalog(dir: &Path) -> Catalog {
    Catalog::local(dir.join("catalog.db"), "default", dir.join("warehouse")).await.unwrap()
}

/// `docs.<name>`.
pub fn ident(name: &str) -> TableIdent {
    TableIdent::new("docs", name).unwrap()
}

/// Table `docs.<name>` with vector columns `columns` (`DIM`, L2), created if missing.
pub async fn table_with(dir: &Path, name: &str, columns: &[&str]) -> Table {
    let specs: Vec<VectorSpec> = columns.iter().map(|c| VectorSpec::new(*c, DIM, Metric::L2)).collect();
    catalog(dir).await.create_or_load_table(&ident(name), &attributes(), &specs).await.unwrap()
}

/// Table `docs.<name>` with one vector column `embedding`.
pub async fn table(dir: &Path, name: &str) -> Table {
    table_with(dir, name, &["embedding"]).await
}

/// Every `id` of the table's current snapshot, sorted, read through a search session (an
/// exact filtered search that matches every row, so duplicates would show).
pub async fn live_ids(table: &Table) -> Vec<i64> {
    let session = table.refresh().await.unwrap().search().await.unwrap();
    let rows = session.row_count() as usize;
    if rows == 0 {
        return Vec::new();
    }
    let params = SearchParams { filter: Some(Filter::cmp("id", ailake::Op::Ge, 0i64)), ..Default::default() };
    let got = session.search(&vec![1.0; DIM as usize], rows + 10, &params).await.unwrap();
    let mut ids = ids(&got);
    assert_eq!(ids.len(), rows, "the search returns every row the manifests count");
    ids.sort_unstable();
    ids
}

/// The `id` column of a result.
pub fn ids(batch: &RecordBatch) -> Vec<i64> {
    batch.column_by_name("id").unwrap().as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec()
}

/// Exact nearest ids (L2) of `query` among `ids`.
pub fn exact(ids: Range<usize>, query: &[f32], k: usize) -> Vec<i64> {
    let values = vectors(ids.clone(), DIM);
    let mut scored: Vec<(f32, i64)> = values
        .chunks_exact(DIM as usize)
        .zip(ids)
        .map(|(v, i)| (v.iter().zip(query).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(), i as i64))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, i)| i).collect()
}

/// Mean recall@k of `table`'s search for `queries` (ids of the table's rows used as queries)
/// against the exact answer over `all`.
pub async fn recall(table: &Table, all: Range<usize>, queries: Range<usize>, k: usize) -> f64 {
    let session = table.refresh().await.unwrap().search().await.unwrap();
    let params = SearchParams { ef: Some(64), nprobe: 16, ..Default::default() };
    let (mut hit, mut total) = (0, 0);
    for q in vectors(queries, DIM).chunks_exact(DIM as usize) {
        let got = ids(&session.search(q, k, &params).await.unwrap());
        let truth = exact(all.clone(), q, k);
        hit += got.iter().filter(|g| truth.contains(g)).count();
        total += k;
    }
    hit as f64 / total as f64
}

/// The Python with pyarrow, DuckDB and pyiceberg (not every test binary uses it).
#[allow(unused_imports)]
pub use ailk_testkit::python;

/// The ids pyiceberg reads from table `docs.<name>` under `dir`, sorted.
pub fn pyiceberg_ids(dir: &Path, name: &str) -> Vec<i64> {
    pyiceberg_ids_at(dir, name, None)
}

/// The ids pyiceberg reads from table `docs.<name>` at `snapshot` (the current one when
/// `None`), sorted.
pub fn pyiceberg_ids_at(dir: &Path, name: &str, snapshot: Option<i64>) -> Vec<i64> {
    let root = format!("file://{}", dir.join("warehouse").canonicalize().unwrap().display());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_table.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .arg(dir.join("catalog.db"))
        .arg(&root)
        .arg(format!("docs.{name}"))
        .args(snapshot.map(|s| s.to_string()))
        .output()
        .unwrap();
    assert!(out.status.success(), "pyiceberg failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

/// What [`HookedCatalog`] does at a metadata swap.
#[derive(Debug, Clone, Copy)]
pub enum SwapHook {
    /// The swap lands at once but the answer comes this late (a caller's timeout fires after
    /// the commit is in the table).
    AnswerLate(std::time::Duration),
    /// Print `SWAPPING` on stdout and hang (the test kills the process there).
    AnnounceAndHang,
}

/// A catalog that delegates everything to another one, except what `hook` does at a swap.
#[derive(Debug)]
pub struct HookedCatalog(pub Arc<dyn CatalogProvider>, pub SwapHook);

#[async_trait::async_trait]
impl CatalogProvider for HookedCatalog {
    fn name(&self) -> &str {
        self.0.name()
    }
    async fn create_namespace(&self, namespace: &str) -> ailake::catalog::Result<()> {
        self.0.create_namespace(namespace).await
    }
    async fn list_namespaces(&self) -> ailake::catalog::Result<Vec<String>> {
        self.0.list_namespaces().await
    }
    async fn create_table(
        &self,
        t: &TableIdent,
        creation: ailake::catalog::iceberg::TableCreation,
        io: &ailake::catalog::iceberg::io::FileIO,
    ) -> ailake::catalog::Result<String> {
        self.0.create_table(t, creation, io).await
    }
    async fn register_table(&self, t: &TableIdent, location: &str) -> ailake::catalog::Result<()> {
        self.0.register_table(t, location).await
    }
    async fn metadata_location(&self, t: &TableIdent) -> ailake::catalog::Result<String> {
        self.0.metadata_location(t).await
    }
    async fn list_tables(&self, namespace: &str) -> ailake::catalog::Result<Vec<TableIdent>> {
        self.0.list_tables(namespace).await
    }
    async fn drop_table(&self, t: &TableIdent) -> ailake::catalog::Result<()> {
        self.0.drop_table(t).await
    }
    async fn commit_table(
        &self,
        t: &TableIdent,
        commit: ailake::catalog::MetadataCommit,
        io: &ailake::catalog::iceberg::io::FileIO,
    ) -> ailake::catalog::Result<Option<String>> {
        match self.1 {
            SwapHook::AnswerLate(delay) => {
                let swapped = self.0.commit_table(t, commit, io).await?;
                tokio::time::sleep(delay).await;
                Ok(swapped)
            }
            SwapHook::AnnounceAndHang => {
                println!("SWAPPING");
                std::io::Write::flush(&mut std::io::stdout()).unwrap();
                tokio::time::sleep(std::time::Duration::from_secs(120)).await; // killed here
                Ok(None)
            }
        }
    }
}

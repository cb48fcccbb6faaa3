//! The seed's API of [`TableWriter`], kept for the programs written against it: the
//! constructors that load or create the table by name ([`TableWriter::new`],
//! [`TableWriter::create_or_open`]) and the `write_batch*` methods (one `Vec<f32>` per row),
//! each a thin wrapper over [`TableWriter::for_table`] / [`TableWriter::write_flat`] with
//! the matching [`WriteOptions`]. New code uses those directly.

use std::borrow::Cow;
use std::sync::Arc;

use ailk_catalog::{Catalog, CatalogProvider, Table, TableIdent, VectorSpec, Warehouse};
use ailk_index::IvfPqConfig;
use arrow_array::RecordBatch;
use arrow_schema::Schema as ArrowSchema;

use crate::error::{Result, WriterError};
use crate::options::{IndexChoice, WriteOptions};
use crate::policy::WritePolicy;
use crate::prepare::{flatten, MultiVectorBatch, VectorInput};
use crate::writer::{TableWriter, WrittenFile};

impl TableWriter {
    /// A writer for the existing table `table` (loads it; see [`TableWriter::for_table`]).
    pub async fn new(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        policy: WritePolicy,
        table: TableIdent,
    ) -> Result<Self> {
        Self::for_table(&Table::load(catalog, warehouse, table).await?, policy)
    }

    /// A writer for `table`, creating it with `attributes` (flat columns) and `vectors`
    /// (primary first) when it does not exist. An existing table must have these vector
    /// columns. A thin wrapper over [`Catalog::create_or_load_table`].
    pub async fn create_or_open(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        policy: WritePolicy,
        table: TableIdent,
        attributes: &ArrowSchema,
        vectors: &[VectorSpec],
    ) -> Result<Self> {
        let table = Catalog::new(catalog, warehouse)
            .create_or_load_table(&table, attributes, vectors)
            .await
            .map_err(|e| match e {
                ailk_catalog::CatalogError::SchemaMismatch(m) => WriterError::SchemaMismatch(m),
                e => e.into(),
            })?;
        Self::for_table(&table, policy)
    }

    fn single(&self, embeddings: &[Vec<f32>], rows: usize) -> Result<Vec<f32>> {
        if self.inner.specs.len() > 1 {
            return Err(WriterError::MissingVectorColumn(self.inner.specs[1].name.clone()));
        }
        flatten(&self.inner.specs[0], rows, embeddings)
    }

    /// [`Self::write_flat`] for a one-vector-column table with one `Vec` per row.
    async fn write_rows(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
        opts: &WriteOptions,
    ) -> Result<Option<WrittenFile>> {
        let values = self.single(embeddings, batch.num_rows())?;
        let column = self.inner.specs[0].name.as_str();
        let input = vec![VectorInput { column, values: Cow::Owned(values) }];
        self.write_inputs(batch, input, opts).await
    }

    /// Writes `batch` with an HNSW section; staged for the next commit.
    pub async fn write_batch(&self, batch: &RecordBatch, embeddings: &[Vec<f32>]) -> Result<WrittenFile> {
        written(self.write_rows(batch, embeddings, &WriteOptions::default()).await?)
    }

    /// Writes `batch` with an IVF-PQ section trained on it (`cfg` or `IvfPqConfig::for_dataset`).
    pub async fn write_batch_ivf_pq(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
        cfg: Option<IvfPqConfig>,
    ) -> Result<WrittenFile> {
        let opts = WriteOptions::default().index(IndexChoice::IvfPq(cfg));
        written(self.write_rows(batch, embeddings, &opts).await?)
    }

    /// IVF-PQ when a CUDA device or at least `policy.auto_min_cores` CPU cores are present and
    /// the batch has at least `policy.auto_min_rows` rows; HNSW otherwise.
    pub async fn write_batch_auto(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
    ) -> Result<WrittenFile> {
        let opts = WriteOptions::default().index(IndexChoice::Auto);
        written(self.write_rows(batch, embeddings, &opts).await?)
    }

    /// Writes a batch with several vector columns (every column of the table; the first is
    /// the primary one used for pruning): one section with an HNSW index per column.
    pub async fn write_batch_multi(
        &self,
        batch: &RecordBatch,
        vectors: &[MultiVectorBatch],
    ) -> Result<WrittenFile> {
        let rows = batch.num_rows();
        let mut inputs = Vec::with_capacity(vectors.len());
        for v in vectors {
            let spec = self
                .inner
                .specs
                .iter()
                .find(|s| s.name == v.column)
                .ok_or_else(|| WriterError::MissingVectorColumn(v.column.clone()))?;
            inputs.push(VectorInput {
                column: &v.column,
                values: Cow::Owned(flatten(spec, rows, &v.embeddings)?),
            });
        }
        written(self.write_inputs(batch, inputs, &WriteOptions::default()).await?)
    }

    /// Writes `batch` with HNSW and tags the commit with `batch_id`. Returns `None` without
    /// writing anything when the id is already in the table's lineage or staged here.
    pub async fn write_batch_idempotent(
        &self,
        batch_id: &str,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
    ) -> Result<Option<WrittenFile>> {
        self.write_rows(batch, embeddings, &WriteOptions::default().batch_id(batch_id)).await
    }

    /// Persists `batch` as a Parquet-only file and returns; a background task builds HNSW,
    /// re-sections the file and puts the indexed file in place (see the ordering rule on
    /// [`TableWriter::commit`]). Until then searches scan the file exactly.
    pub async fn write_batch_deferred(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
    ) -> Result<WrittenFile> {
        written(self.write_rows(batch, embeddings, &WriteOptions::default().deferred()).await?)
    }

    /// Like [`Self::write_batch_deferred`] with IVF-PQ against the table's shared codebook: the
    /// first build trains it and stores it under the table's metadata directory; later builds,
    /// here or in other processes, reuse it.
    pub async fn write_batch_ivf_pq_deferred(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
    ) -> Result<WrittenFile> {
        let opts = WriteOptions::default().index(IndexChoice::IvfPq(None)).deferred();
        written(self.write_rows(batch, embeddings, &opts).await?)
    }
}

/// A write without a batch id always writes.
fn written(file: Option<WrittenFile>) -> Result<WrittenFile> {
    file.ok_or_else(|| WriterError::InvalidInput("a write without a batch id wrote nothing".into()))
}

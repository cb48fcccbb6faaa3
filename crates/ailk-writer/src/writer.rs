//! [`TableWriter`]: writes batches with their vector index into a table. One general call,
//! [`TableWriter::write`] (vectors as `FixedSizeList<Float32>` columns of the batch) or
//! [`TableWriter::write_flat`] (vectors as flat slices), takes [`WriteOptions`]; the seed's
//! `write_batch*` methods are thin wrappers over it.

use std::borrow::Cow;
use std::sync::{Arc, Mutex as SyncMutex};

use ailk_catalog::{
    Catalog, CatalogProvider, IndexKind, Occupancy, Table, TableIdent, VectorSpec, Warehouse, WriteLease,
};
use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStoreExt, PutPayload};
use ailk_format::write_shard_bytes;
use ailk_index::{IvfPqConfig, Partitions};
use ailk_search::load_partitions;
use arrow_array::RecordBatch;
use arrow_schema::{Schema as ArrowSchema, SchemaRef};
use tokio::task::JoinHandle;

use crate::build::{build_section, shard_summary, summarize, IndexPlan};
use crate::codebook::SharedCodebooks;
use crate::error::{Result, WriterError};
use crate::options::{IndexChoice, WriteOptions};
use crate::policy::WritePolicy;
use crate::prepare::{flatten, prepare, split_vector_columns, MultiVectorBatch, PreparedBatch, VectorInput};
use crate::staging::{Entry, EntryState, Staging};

/// A data file this writer wrote, as reported to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// The file's URI.
    pub path: String,
    /// Rows written.
    pub rows: usize,
    /// Index the file has (or will have, for deferred writes).
    pub index: IndexKind,
    /// Whether the index is in the file yet (`false` until a deferred build lands).
    pub indexed: bool,
}

/// What every clone of a writer shares.
pub(crate) struct Inner {
    pub table: Table,
    pub policy: WritePolicy,
    pub specs: Vec<VectorSpec>,
    /// The Arrow schema data files are written with.
    pub schema: SchemaRef,
    pub staging: Staging,
    pub tasks: SyncMutex<Vec<(String, JoinHandle<Result<()>>)>>,
    pub codebooks: SharedCodebooks,
    /// The table's coarse partitions of the primary column (loaded on first use; `None` when
    /// the table has none), whose occupancy every new file records.
    pub partitions: tokio::sync::OnceCell<Option<Arc<Partitions>>>,
}

/// Writes batches of rows with their embeddings into one table. `Send + Sync`: share it
/// (or clones of it) between tasks; files staged by every clone go into the next
/// [`TableWriter::commit`].
#[derive(Clone)]
pub struct TableWriter {
    pub(crate) inner: Arc<Inner>,
    /// The snapshot commits of this handle (and its clones) must build on, when set.
    parent: Option<Arc<SyncMutex<Option<i64>>>>,
}

impl std::fmt::Debug for TableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("table", self.inner.table.ident())
            .field("specs", &self.inner.specs)
            .finish()
    }
}

impl TableWriter {
    /// A writer for `table` (an ailake table: one with vector columns) at its current
    /// snapshot (a time-travel handle is `InvalidInput`). Data files are written with the
    /// schema of the handle's metadata version; commits rebase on the newest one.
    pub fn for_table(table: &Table, policy: WritePolicy) -> Result<Self> {
        if table.snapshot_id() != table.metadata().current_snapshot_id() {
            return Err(WriterError::InvalidInput(format!(
                "{}: a writer needs the table's current version, not a time-travel handle",
                table.ident()
            )));
        }
        let specs = table.vector_columns()?;
        if specs.is_empty() {
            return Err(WriterError::InvalidInput(format!(
                "{} is not an ailake table (no vector columns)",
                table.ident()
            )));
        }
        let schema = table.file_schema()?;
        Ok(Self {
            inner: Arc::new(Inner {
                table: table.clone(),
                policy,
                specs,
                schema,
                staging: Staging::default(),
                tasks: SyncMutex::default(),
                codebooks: SharedCodebooks::default(),
                partitions: tokio::sync::OnceCell::new(),
            }),
            parent: None,
        })
    }

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

    /// This handle with commits that fail with `StaleParent` (nothing committed) unless the
    /// table is still at snapshot `id` — the snapshot the caller based its writes on. After
    /// each commit the expectation moves to the new snapshot. Other clones of the writer made
    /// before this call are not affected.
    pub fn with_parent_snapshot(self, id: i64) -> Self {
        Self { parent: Some(Arc::new(SyncMutex::new(Some(id)))), ..self }
    }

    pub(crate) fn expected_parent(&self) -> Option<Option<i64>> {
        self.parent.as_ref().map(|p| *p.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn parent_moved_to(&self, snapshot_id: i64) {
        if let Some(p) = &self.parent {
            *p.lock().unwrap_or_else(|e| e.into_inner()) = Some(snapshot_id);
        }
    }

    /// The table handle the writer was made from (its metadata version; `refresh()` it to
    /// see the writer's commits).
    pub fn table(&self) -> &Table {
        &self.inner.table
    }

    pub(crate) fn staging(&self) -> &Staging {
        &self.inner.staging
    }

    /// The vector columns of the table, primary first.
    pub fn vector_columns(&self) -> &[VectorSpec] {
        &self.inner.specs
    }

    /// Writes `batch` as one data file, staged for the next commit. The batch holds the
    /// table's attribute columns and every vector column as a `FixedSizeList` (no copy when of
    /// `Float32`), `List` or `LargeList` of floats, every row of the column's dimension. Returns `None` (nothing written) only when `opts.batch_id` was
    /// already committed to the table or is staged by this writer (a write of the same id in
    /// flight on another clone is waited for first).
    pub async fn write(&self, batch: &RecordBatch, opts: &WriteOptions) -> Result<Option<WrittenFile>> {
        let (attributes, vectors) = split_vector_columns(&self.inner.specs, batch)?;
        self.write_inputs(&attributes, vectors, opts).await
    }

    /// [`Self::write`] with the vectors given apart from the batch as flat row-major slices,
    /// one `(column, values)` per vector column (`values.len() == rows × dim`).
    pub async fn write_flat(
        &self,
        batch: &RecordBatch,
        vectors: &[(&str, &[f32])],
        opts: &WriteOptions,
    ) -> Result<Option<WrittenFile>> {
        let inputs =
            vectors.iter().map(|(c, v)| VectorInput { column: c, values: Cow::Borrowed(*v) }).collect();
        self.write_inputs(batch, inputs, opts).await
    }

    async fn write_inputs(
        &self,
        batch: &RecordBatch,
        vectors: Vec<VectorInput<'_>>,
        opts: &WriteOptions,
    ) -> Result<Option<WrittenFile>> {
        let prepared = prepare(&self.inner.schema, &self.inner.specs, batch, vectors)?;
        let reservation = match &opts.batch_id {
            None => None,
            Some(id) => {
                if id.is_empty() || id.contains(',') {
                    return Err(WriterError::InvalidInput(format!(
                        "batch id {id:?} is empty or contains a comma"
                    )));
                }
                let Some(r) = self.staging().reserve(id).await else {
                    tracing::info!(batch_id = %id, "batch already written by this writer; skipping");
                    return Ok(None);
                };
                if self.table().refresh().await?.contains_batch(id)? {
                    tracing::info!(batch_id = %id, "batch already committed; skipping");
                    r.keep();
                    return Ok(None);
                }
                Some(r)
            }
        };
        let written = if opts.deferred && !matches!(opts.index, IndexChoice::None) {
            self.write_deferred(prepared, &opts.index, opts.batch_id.clone()).await?
        } else {
            let plan = self.plan(&opts.index, prepared.rows);
            self.write_indexed(prepared, plan, opts.batch_id.clone()).await?
        };
        if let Some(r) = reservation {
            r.keep();
        }
        Ok(Some(written))
    }

    /// The index plan of a synchronous write of `rows` rows (a batch too small for IVF-PQ
    /// training gets HNSW; the written file says which it got).
    pub(crate) fn plan(&self, choice: &IndexChoice, rows: usize) -> IndexPlan {
        match choice {
            IndexChoice::Hnsw => IndexPlan::Hnsw(self.inner.policy.hnsw),
            // IVF-PQ trains 256 codes per sub-quantizer (and `nlist` lists) on the batch: a
            // smaller batch (a tail, a small compaction group) is indexed with HNSW instead.
            IndexChoice::IvfPq(cfg) if rows < ivf_pq_min_rows(cfg.as_ref()) => {
                tracing::warn!(
                    rows,
                    min = ivf_pq_min_rows(cfg.as_ref()),
                    "batch too small to train IVF-PQ; indexed with HNSW"
                );
                IndexPlan::Hnsw(self.inner.policy.hnsw)
            }
            IndexChoice::IvfPq(cfg) => IndexPlan::IvfPq(*cfg),
            IndexChoice::None => IndexPlan::Flat,
            IndexChoice::Auto => {
                let plan = if self.inner.policy.prefers_ivf_pq(rows) {
                    IndexPlan::IvfPq(None)
                } else {
                    IndexPlan::Hnsw(self.inner.policy.hnsw)
                };
                tracing::debug!(rows, index = ?plan.kind(), "auto index choice");
                plan
            }
        }
    }

    /// The URI of a new data file, with the write lease that keeps it from vacuum until it
    /// is committed or dropped (hold the lease from before the file is put).
    pub(crate) async fn new_file(&self) -> Result<(String, Arc<WriteLease>)> {
        let lease = self.table().lease().await?;
        Ok((format!("{}/data/{}.parquet", self.table().location(), uuid::Uuid::new_v4()), lease))
    }

    pub(crate) async fn put(&self, uri: &str, bytes: Vec<u8>) -> Result<Path> {
        let wh = self.table().warehouse();
        let path = wh.path_of(uri)?;
        wh.store().put(&path, PutPayload::from(bytes)).await?;
        Ok(path)
    }

    async fn write_indexed(
        &self,
        prepared: PreparedBatch,
        plan: IndexPlan,
        batch_id: Option<String>,
    ) -> Result<WrittenFile> {
        let kind = plan.kind();
        let rows = prepared.rows;
        let entry = self.build_indexed(prepared, plan, batch_id).await?;
        let uri = entry.data_file.file_path().to_string();
        self.staging().entries.lock().await.push(entry);
        tracing::info!(file = %uri, rows, index = ?kind, "wrote indexed shard");
        Ok(WrittenFile { path: uri, rows, index: kind, indexed: true })
    }

    /// Builds `prepared`'s index, writes and puts its data file, and returns its entry (not
    /// staged).
    pub(crate) async fn build_indexed(
        &self,
        prepared: PreparedBatch,
        plan: IndexPlan,
        batch_id: Option<String>,
    ) -> Result<Entry> {
        let kind = plan.kind();
        let rows = prepared.rows;
        let schema = self.inner.schema.clone();
        let (uri, lease) = self.new_file().await?;
        let occupancy = self.occupancy(&prepared.columns[0].index_values).await?;
        let vectors = self.inner.policy.section_vectors;
        let (bytes, section, primary) = tokio::task::spawn_blocking(move || -> Result<_> {
            let section = build_section(prepared.rows, &prepared.columns, &plan, vectors)?;
            let primary = summarize(&prepared.columns[..1])?.remove(0);
            let (bytes, written) = write_shard_bytes(schema, &[prepared.batch], Some(&section), None)?;
            Ok((bytes, written.section.map(|s| (s.offset, s.length)), primary))
        })
        .await
        .map_err(|e| WriterError::BuildFailed { file: uri.clone(), reason: e.to_string() })??;
        self.put(&uri, bytes).await?;
        let mut entry = self.entry(&uri, rows, &primary, kind, section, batch_id, occupancy).await?;
        entry.lease = Some(lease);
        Ok(entry)
    }

    /// The table partitions of the primary column, loaded once per writer.
    pub(crate) async fn partitions(&self) -> Result<Option<Arc<Partitions>>> {
        let table = self.table();
        let primary = &self.inner.specs[0].name;
        Ok(self.inner.partitions.get_or_try_init(|| load_partitions(table, primary)).await?.clone())
    }

    /// Which table partitions `values` (the primary column as indexed) fall in, when the
    /// table has partitions.
    pub(crate) async fn occupancy(&self, values: &[f32]) -> Result<Option<Occupancy>> {
        Ok(self.partitions().await?.map(|p| Occupancy { version: p.version, counts: p.occupancy(values) }))
    }

    /// The staging entry of a file just put at `uri`.
    #[allow(clippy::too_many_arguments)] // the facts of one file, as its summary records them
    pub(crate) async fn entry(
        &self,
        uri: &str,
        rows: usize,
        primary: &ailk_format::VectorColumn,
        kind: IndexKind,
        section: Option<(u64, u64)>,
        batch_id: Option<String>,
        occupancy: Option<Occupancy>,
    ) -> Result<Entry> {
        let data_file =
            ailk_catalog::data_file_from_store(self.table().warehouse(), uri, self.table().schema()).await?;
        let mut summary = shard_summary(uri, rows, primary, kind, section);
        summary.occupancy = occupancy;
        Ok(Entry {
            key: self.staging().next_key(),
            data_file,
            summary,
            batch_id,
            state: EntryState::Staged,
            lease: None,
        })
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

/// The fewest rows an IVF-PQ shard trains on: 256 codes per sub-quantizer, and `nlist` lists.
pub(crate) fn ivf_pq_min_rows(cfg: Option<&IvfPqConfig>) -> usize {
    cfg.map_or(0, |c| c.nlist).max(ailk_index::pq::KSUB)
}

//! [`TableWriter`]: writes batches with their vector index into a table and commits them as
//! Iceberg snapshots.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};

use ailk_catalog::iceberg::spec::DataFile;
use ailk_catalog::{
    data_file_from_store, encode_specs, file_schema, parse_specs, table_schema, CatalogProvider,
    CommitOutcome, IndexKind, IndexStatus, ShardSummary, SnapshotUpdate, Table, TableIdent, VectorSpec,
    Warehouse, VECTOR_COLUMNS_PROPERTY,
};
use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStoreExt, PutMode, PutPayload};
use ailk_format::{resection_object, write_shard_bytes, ReadOptions, ShardReader};
use ailk_index::{kernels, IvfPqCodebook, IvfPqConfig, Metric};
use arrow_array::RecordBatch;
use arrow_schema::{Schema as ArrowSchema, SchemaRef};
use tokio::sync::{Mutex, OnceCell};
use tokio::task::JoinHandle;

use crate::build::{build_section, shard_summary, summarize, IndexPlan};
use crate::error::{Result, WriterError};
use crate::policy::WritePolicy;
use crate::prepare::{prepare, MultiVectorBatch, PreparedBatch};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryState {
    Staged,
    Committed,
}

#[derive(Debug, Clone)]
struct Entry {
    key: u64,
    data_file: DataFile,
    summary: ShardSummary,
    batch_id: Option<String>,
    state: EntryState,
}

struct Inner {
    table: Table,
    policy: WritePolicy,
    specs: Vec<VectorSpec>,
    schema: SchemaRef,
    /// The table's Iceberg schema when the writer opened it (data files are checked against it).
    iceberg_schema: ailk_catalog::iceberg::spec::Schema,
    location: String,
    /// Serializes commits with background builds finishing (the ordering rule).
    entries: Mutex<Vec<Entry>>,
    expected_parent: SyncMutex<Option<Option<i64>>>,
    tasks: SyncMutex<Vec<(String, JoinHandle<Result<()>>)>>,
    codebooks: SyncMutex<HashMap<String, Arc<OnceCell<Arc<IvfPqCodebook>>>>>,
    next_key: AtomicU64,
}

/// Writes batches of rows with their embeddings into one table. `Send + Sync`: share it
/// between tasks; staged files from every task go into the next [`TableWriter::commit`].
#[derive(Clone)]
pub struct TableWriter {
    inner: Arc<Inner>,
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
    /// A writer for the existing table `table`.
    pub async fn new(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        policy: WritePolicy,
        table: TableIdent,
    ) -> Result<Self> {
        let table = Table::open(catalog, warehouse, table).await?;
        Self::from_table(table, policy).await
    }

    /// A writer for `table`, creating it with `attributes` (flat columns) and `vectors`
    /// (primary first) when it does not exist. An existing table must have these vector columns.
    pub async fn create_or_open(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        policy: WritePolicy,
        table: TableIdent,
        attributes: &ArrowSchema,
        vectors: &[VectorSpec],
    ) -> Result<Self> {
        let schema = table_schema(attributes, vectors)?;
        let props = HashMap::from([(VECTOR_COLUMNS_PROPERTY.to_string(), encode_specs(vectors))]);
        let opened = Table::create_or_open(catalog, warehouse, table, schema, props).await?;
        let writer = Self::from_table(opened, policy).await?;
        if writer.inner.specs != vectors {
            return Err(WriterError::SchemaMismatch(format!(
                "table has vector columns {:?}, not {vectors:?}",
                writer.inner.specs
            )));
        }
        Ok(writer)
    }

    async fn from_table(table: Table, policy: WritePolicy) -> Result<Self> {
        let state = table.load().await?;
        let specs = parse_specs(state.metadata.properties().get(VECTOR_COLUMNS_PROPERTY).map_or("", |s| s))?;
        if specs.is_empty() {
            return Err(WriterError::InvalidInput(format!(
                "{} is not an ailake table (no vector columns)",
                table.ident()
            )));
        }
        let schema = file_schema(state.schema(), &specs)?;
        let location = state.metadata.location().trim_end_matches('/').to_string();
        Ok(Self {
            inner: Arc::new(Inner {
                table,
                policy,
                specs,
                schema,
                iceberg_schema: state.schema().clone(),
                location,
                entries: Mutex::new(Vec::new()),
                expected_parent: SyncMutex::new(None),
                tasks: SyncMutex::new(Vec::new()),
                codebooks: SyncMutex::default(),
                next_key: AtomicU64::new(1),
            }),
        })
    }

    /// Makes commits fail with `StaleParent` (nothing committed) unless the table is still at
    /// snapshot `id` — the snapshot the caller based its writes on. After each commit the
    /// expectation moves to the new snapshot.
    pub fn with_parent_snapshot(self, id: i64) -> Self {
        *self.inner.expected_parent.lock().unwrap_or_else(|e| e.into_inner()) = Some(Some(id));
        self
    }

    /// The table written to.
    pub fn table(&self) -> &Table {
        &self.inner.table
    }

    /// The vector columns of the table, primary first.
    pub fn vector_columns(&self) -> &[VectorSpec] {
        &self.inner.specs
    }

    fn single(&self, embeddings: &[Vec<f32>]) -> Result<Vec<MultiVectorBatch>> {
        if self.inner.specs.len() > 1 {
            return Err(WriterError::MissingVectorColumn(self.inner.specs[1].name.clone()));
        }
        Ok(vec![MultiVectorBatch::new(self.inner.specs[0].name.clone(), embeddings.to_vec())])
    }

    /// Writes `batch` with an HNSW section; staged for the next commit.
    pub async fn write_batch(&self, batch: &RecordBatch, embeddings: &[Vec<f32>]) -> Result<WrittenFile> {
        let vectors = self.single(embeddings)?;
        self.write_indexed(batch, &vectors, IndexPlan::Hnsw(self.inner.policy.hnsw), None).await
    }

    /// Writes `batch` with an IVF-PQ section trained on it (`cfg` or `IvfPqConfig::for_dataset`).
    pub async fn write_batch_ivf_pq(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
        cfg: Option<IvfPqConfig>,
    ) -> Result<WrittenFile> {
        let vectors = self.single(embeddings)?;
        self.write_indexed(batch, &vectors, IndexPlan::IvfPq(cfg), None).await
    }

    /// IVF-PQ when a CUDA device or at least `policy.auto_min_cores` CPU cores are present and
    /// the batch has at least `policy.auto_min_rows` rows; HNSW otherwise.
    pub async fn write_batch_auto(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
    ) -> Result<WrittenFile> {
        let plan = if self.inner.policy.prefers_ivf_pq(batch.num_rows()) {
            IndexPlan::IvfPq(None)
        } else {
            IndexPlan::Hnsw(self.inner.policy.hnsw)
        };
        tracing::debug!(rows = batch.num_rows(), index = ?plan.kind(), "auto index choice");
        let vectors = self.single(embeddings)?;
        self.write_indexed(batch, &vectors, plan, None).await
    }

    /// Writes a batch with several vector columns (every column of the table; the first is
    /// the primary one used for pruning): one section with an HNSW index per column.
    pub async fn write_batch_multi(
        &self,
        batch: &RecordBatch,
        vectors: &[MultiVectorBatch],
    ) -> Result<WrittenFile> {
        self.write_indexed(batch, vectors, IndexPlan::Hnsw(self.inner.policy.hnsw), None).await
    }

    /// Writes `batch` with HNSW and tags the commit with `batch_id`. Returns `None` without
    /// writing anything when the id is already in the table's lineage or staged here.
    pub async fn write_batch_idempotent(
        &self,
        batch_id: &str,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
    ) -> Result<Option<WrittenFile>> {
        if batch_id.is_empty() || batch_id.contains(',') {
            return Err(WriterError::InvalidInput(format!(
                "batch id {batch_id:?} is empty or contains a comma"
            )));
        }
        let staged = self.inner.entries.lock().await.iter().any(|e| e.batch_id.as_deref() == Some(batch_id));
        if staged || self.inner.table.contains_batch(batch_id, None).await? {
            tracing::info!(batch_id, "batch already written; skipping");
            return Ok(None);
        }
        let vectors = self.single(embeddings)?;
        let plan = IndexPlan::Hnsw(self.inner.policy.hnsw);
        self.write_indexed(batch, &vectors, plan, Some(batch_id.to_string())).await.map(Some)
    }

    /// Persists `batch` as a Parquet-only file and returns; a background task builds HNSW,
    /// re-sections the file and puts the indexed file in place (see the ordering rule on
    /// [`TableWriter::commit`]). Until then searches scan the file exactly.
    pub async fn write_batch_deferred(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
    ) -> Result<WrittenFile> {
        let vectors = self.single(embeddings)?;
        self.write_deferred(batch, &vectors, false).await
    }

    /// Like [`Self::write_batch_deferred`] with IVF-PQ against the table's shared codebook: the
    /// first build trains it and stores it under the table's metadata directory; later builds,
    /// here or in other processes, reuse it.
    pub async fn write_batch_ivf_pq_deferred(
        &self,
        batch: &RecordBatch,
        embeddings: &[Vec<f32>],
    ) -> Result<WrittenFile> {
        let vectors = self.single(embeddings)?;
        self.write_deferred(batch, &vectors, true).await
    }

    fn data_uri(&self) -> String {
        format!("{}/data/{}.parquet", self.inner.location, uuid::Uuid::new_v4())
    }

    async fn put(&self, uri: &str, bytes: Vec<u8>) -> Result<Path> {
        let wh = self.inner.table.warehouse();
        let path = wh.path_of(uri)?;
        wh.store().put(&path, PutPayload::from(bytes)).await?;
        Ok(path)
    }

    async fn write_indexed(
        &self,
        batch: &RecordBatch,
        vectors: &[MultiVectorBatch],
        plan: IndexPlan,
        batch_id: Option<String>,
    ) -> Result<WrittenFile> {
        let prepared = prepare(&self.inner.schema, &self.inner.specs, batch, vectors)?;
        let kind = plan.kind();
        let schema = self.inner.schema.clone();
        let (bytes, section, primary) = tokio::task::spawn_blocking(move || -> Result<_> {
            let section = build_section(prepared.rows, &prepared.columns, &plan)?;
            let primary = summarize(&prepared.columns[..1])?.remove(0);
            let (bytes, written) = write_shard_bytes(schema, &[prepared.batch], Some(&section), None)?;
            Ok((bytes, written.section.map(|s| (s.offset, s.length)), primary))
        })
        .await
        .map_err(|e| WriterError::BuildFailed { file: "(new)".into(), reason: e.to_string() })??;
        let uri = self.data_uri();
        self.put(&uri, bytes).await?;
        let rows = batch.num_rows();
        let entry = self.entry(&uri, rows, &primary, kind, section, batch_id).await?;
        self.inner.entries.lock().await.push(entry);
        tracing::info!(file = %uri, rows, index = ?kind, "wrote indexed shard");
        Ok(WrittenFile { path: uri, rows, index: kind, indexed: true })
    }

    async fn entry(
        &self,
        uri: &str,
        rows: usize,
        primary: &ailk_format::VectorColumn,
        kind: IndexKind,
        section: Option<(u64, u64)>,
        batch_id: Option<String>,
    ) -> Result<Entry> {
        let data_file =
            data_file_from_store(self.inner.table.warehouse(), uri, &self.inner.iceberg_schema).await?;
        let summary = shard_summary(uri, rows, primary, kind, section);
        let key = self.inner.next_key.fetch_add(1, Ordering::Relaxed);
        Ok(Entry { key, data_file, summary, batch_id, state: EntryState::Staged })
    }

    async fn write_deferred(
        &self,
        batch: &RecordBatch,
        vectors: &[MultiVectorBatch],
        ivf: bool,
    ) -> Result<WrittenFile> {
        let prepared = prepare(&self.inner.schema, &self.inner.specs, batch, vectors)?;
        let rows = prepared.rows;
        let primary = summarize(&prepared.columns[..1])?.remove(0);
        let (bytes, _) =
            write_shard_bytes(self.inner.schema.clone(), std::slice::from_ref(&prepared.batch), None, None)?;
        let uri = self.data_uri();
        self.put(&uri, bytes).await?;
        let kind = if ivf { IndexKind::IvfPq } else { IndexKind::Hnsw };
        let entry = self.entry(&uri, rows, &primary, kind, None, None).await?;
        let key = entry.key;
        self.inner.entries.lock().await.push(entry);
        let writer = self.clone();
        let file = uri.clone();
        let handle = tokio::spawn(async move { writer.build_deferred(key, file, prepared, ivf).await });
        self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).push((uri.clone(), handle));
        tracing::info!(file = %uri, rows, "wrote Parquet-only shard; index build in the background");
        Ok(WrittenFile { path: uri, rows, index: kind, indexed: false })
    }

    async fn shared_codebooks(&self, prepared: &PreparedBatch) -> Result<Vec<Arc<IvfPqCodebook>>> {
        let mut out = Vec::new();
        for c in &prepared.columns {
            let cell = self
                .inner
                .codebooks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(c.spec.name.clone())
                .or_default()
                .clone();
            let book = cell.get_or_try_init(|| self.load_or_train_codebook(c)).await?;
            out.push(book.clone());
        }
        Ok(out)
    }

    /// The table's codebook for a column: read it if stored, else train on this batch and
    /// store it with a create-only put (a concurrent trainer that loses reads the winner's).
    async fn load_or_train_codebook(&self, c: &crate::prepare::PreparedColumn) -> Result<Arc<IvfPqCodebook>> {
        let wh = self.inner.table.warehouse();
        let uri = format!(
            "{}/metadata/{}ivfpq-codebook-{}.ailk",
            self.inner.location,
            ailk_catalog::TABLE_FILE_PREFIX,
            c.spec.name
        );
        let path = wh.path_of(&uri)?;
        match wh.store().get(&path).await {
            Ok(got) => return Ok(Arc::new(IvfPqCodebook::from_bytes(&got.bytes().await?)?)),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let (values, dim, metric) = (c.index_values.clone(), c.spec.dim as usize, c.spec.metric);
        let rows = values.len() / dim;
        let book = tokio::task::spawn_blocking(move || {
            IvfPqCodebook::train(&values, dim, metric, &IvfPqConfig::for_dataset(rows, dim))
        })
        .await
        .map_err(|e| WriterError::BuildFailed { file: uri.clone(), reason: e.to_string() })??;
        let bytes = book.to_bytes()?;
        match wh.store().put_opts(&path, PutPayload::from(bytes), PutMode::Create.into()).await {
            Ok(_) => {
                tracing::info!(%uri, rows, "trained the table's shared IVF-PQ codebook");
                Ok(Arc::new(book))
            }
            Err(object_store::Error::AlreadyExists { .. }) => {
                Ok(Arc::new(IvfPqCodebook::from_bytes(&wh.store().get(&path).await?.bytes().await?)?))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The background half of a deferred write.
    async fn build_deferred(
        &self,
        key: u64,
        old_uri: String,
        prepared: PreparedBatch,
        ivf: bool,
    ) -> Result<()> {
        let plan = if ivf {
            IndexPlan::IvfPqShared(self.shared_codebooks(&prepared).await?)
        } else {
            IndexPlan::Hnsw(self.inner.policy.hnsw)
        };
        let kind = plan.kind();
        let rows = prepared.rows;
        let (section, primary) = build_off_thread(prepared, plan, &old_uri).await?;
        self.install(Some(key), &old_uri, rows, section, &primary, kind).await
    }

    /// Re-sections `old_uri` with `section` into a new file and puts it in place: inside the
    /// staged entry when not yet committed, else by a replace commit.
    async fn install(
        &self,
        key: Option<u64>,
        old_uri: &str,
        rows: usize,
        section: Vec<u8>,
        primary: &ailk_format::VectorColumn,
        kind: IndexKind,
    ) -> Result<()> {
        let wh = self.inner.table.warehouse();
        let old_path = wh.path_of(old_uri)?;
        let new_uri = self.data_uri();
        let new_path = wh.path_of(&new_uri)?;
        let written = resection_object(
            wh.store().clone(),
            &old_path,
            &new_path,
            section.into(),
            ReadOptions::default(),
        )
        .await?;
        let new_entry = self
            .entry(&new_uri, rows, primary, kind, written.section.map(|s| (s.offset, s.length)), None)
            .await?;
        let mut entries = self.inner.entries.lock().await;
        let staged = key.and_then(|k| entries.iter_mut().find(|e| e.key == k));
        match staged {
            Some(e) if e.state == EntryState::Staged => {
                e.data_file = new_entry.data_file;
                e.summary = new_entry.summary;
                drop(entries);
                // Never committed: the Parquet-only file is garbage now.
                wh.store().delete(&old_path).await.ok();
                tracing::info!(file = %new_uri, "index built before commit; staged the indexed file");
                Ok(())
            }
            _ => {
                let update = SnapshotUpdate::replace(old_uri, new_entry.data_file)
                    .with_summaries(vec![new_entry.summary]);
                match self.inner.table.commit(update).await {
                    Ok(out) => {
                        tracing::info!(file = %new_uri, snapshot = out.snapshot_id(), "index built; committed a replace");
                        Ok(())
                    }
                    Err(e) => {
                        wh.store().delete(&new_path).await.ok();
                        Err(e.into())
                    }
                }
            }
        }
    }

    /// Commits every staged file as one snapshot and returns its id; with nothing staged,
    /// returns the current snapshot id (0 for an empty table). A background build that
    /// finished before this call put its indexed file in this commit; one that finishes later
    /// commits a replace.
    pub async fn commit(&self) -> Result<i64> {
        let mut entries = self.inner.entries.lock().await;
        loop {
            let staged: Vec<&Entry> = entries.iter().filter(|e| e.state == EntryState::Staged).collect();
            if staged.is_empty() {
                return Ok(self.inner.table.load().await?.current_snapshot_id().unwrap_or(0));
            }
            let mut update = SnapshotUpdate::append(staged.iter().map(|e| e.data_file.clone()).collect())
                .with_summaries(staged.iter().map(|e| e.summary.clone()).collect())
                .with_batch_ids(staged.iter().filter_map(|e| e.batch_id.clone()));
            let parent = *self.inner.expected_parent.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(parent) = parent {
                update = update.with_expected_parent(parent);
            }
            match self.inner.table.commit(update).await? {
                CommitOutcome::Committed { snapshot_id, attempts } => {
                    let files = staged.len();
                    entries
                        .iter_mut()
                        .filter(|e| e.state == EntryState::Staged)
                        .for_each(|e| e.state = EntryState::Committed);
                    let mut p = self.inner.expected_parent.lock().unwrap_or_else(|e| e.into_inner());
                    if p.is_some() {
                        *p = Some(Some(snapshot_id));
                    }
                    tracing::info!(snapshot_id, files, attempts, "committed");
                    return Ok(snapshot_id);
                }
                CommitOutcome::AlreadyCommitted { batch_id, .. } => {
                    // Another writer committed this batch first: drop our copy, commit the rest.
                    let wh = self.inner.table.warehouse();
                    let mut dropped = Vec::new();
                    entries.retain(|e| {
                        let dup =
                            e.state == EntryState::Staged && e.batch_id.as_deref() == Some(batch_id.as_str());
                        if dup {
                            dropped.push(e.data_file.file_path().to_string());
                        }
                        !dup
                    });
                    for uri in dropped {
                        if let Ok(p) = wh.path_of(&uri) {
                            wh.store().delete(&p).await.ok();
                        }
                    }
                    tracing::info!(%batch_id, "batch committed elsewhere; dropped its staged file");
                }
            }
        }
    }

    /// Waits for every background index build started so far; returns the first error.
    pub async fn wait_indexed(&self) -> Result<()> {
        let tasks: Vec<_> = std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        let mut first = None;
        for (file, handle) in tasks {
            let res = match handle.await {
                Ok(r) => r,
                Err(e) => Err(WriterError::BuildFailed { file, reason: e.to_string() }),
            };
            if let Err(e) = res {
                tracing::warn!(error = %e, "background index build failed");
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Builds the index of every live shard that has no AILK section (deferred builds cut
    /// short by a crash), committing a replace for each. Returns how many were indexed.
    pub async fn resume_indexing(&self) -> Result<usize> {
        let table = &self.inner.table;
        let files = table.live_files(None).await?;
        let summaries: HashMap<String, ShardSummary> = table
            .shard_summaries(None)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.file_path.clone(), s))
            .collect();
        let wh = table.warehouse();
        let mut done = 0;
        for f in files {
            let uri = f.path().to_string();
            let path = wh.path_of(&uri)?;
            let pending = match summaries.get(&uri) {
                Some(s) => s.status == IndexStatus::Pending,
                None => ShardReader::open(wh.store().clone(), path.clone(), ReadOptions::default())
                    .await?
                    .location()
                    .is_none(),
            };
            if !pending {
                continue;
            }
            let kind = summaries.get(&uri).map_or(IndexKind::Hnsw, |s| s.index);
            let mut columns = Vec::new();
            for spec in &self.inner.specs {
                let mut values = ailk_search::read_vectors(wh.store().clone(), &path, &spec.name).await?;
                if spec.metric == Metric::Cosine {
                    values.chunks_exact_mut(spec.dim as usize).for_each(kernels::normalize);
                }
                let field_id = self
                    .inner
                    .schema
                    .field_with_name(&spec.name)
                    .ok()
                    .and_then(ailk_format::vector_column::field_id)
                    .unwrap_or(-1);
                columns.push(crate::prepare::PreparedColumn {
                    spec: spec.clone(),
                    field_id,
                    index_values: values,
                });
            }
            let rows = f.data_file.record_count() as usize;
            let prepared =
                PreparedBatch { batch: RecordBatch::new_empty(self.inner.schema.clone()), columns, rows };
            let plan = match kind {
                IndexKind::IvfPq => IndexPlan::IvfPqShared(self.shared_codebooks(&prepared).await?),
                _ => IndexPlan::Hnsw(self.inner.policy.hnsw),
            };
            let kind = plan.kind();
            let (section, primary) = build_off_thread(prepared, plan, &uri).await?;
            self.install(None, &uri, rows, section, &primary, kind).await?;
            done += 1;
        }
        tracing::info!(indexed = done, "resume_indexing finished");
        Ok(done)
    }
}

/// Builds the section of `prepared` on a blocking thread; returns it with the primary column's summary.
async fn build_off_thread(
    prepared: PreparedBatch,
    plan: IndexPlan,
    file: &str,
) -> Result<(Vec<u8>, ailk_format::VectorColumn)> {
    tokio::task::spawn_blocking(move || -> Result<_> {
        let section = build_section(prepared.rows, &prepared.columns, &plan)?;
        Ok((section, summarize(&prepared.columns[..1])?.remove(0)))
    })
    .await
    .map_err(|e| WriterError::BuildFailed { file: file.to_string(), reason: e.to_string() })?
}

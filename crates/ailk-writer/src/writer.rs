//! [`TableWriter`]: writes batches with their vector index into a table. One general call,
//! [`TableWriter::write`] (vectors as `FixedSizeList<Float32>` columns of the batch) or
//! [`TableWriter::write_flat`] (vectors as flat slices), takes [`WriteOptions`]; the seed's
//! `write_batch*` methods are thin wrappers over it (`compat.rs`).

use std::borrow::Cow;
use std::sync::{Arc, Mutex as SyncMutex};

use ailk_catalog::{IndexKind, Occupancy, Table, TextSpec, VectorSpec, WriteLease};
use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStoreExt, PutPayload};
use ailk_format::sync::lock;
use ailk_format::write_shard_bytes;
use ailk_index::{IvfPqConfig, Partitions};
use ailk_search::load_partitions;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use tokio::task::JoinHandle;

use crate::blocks::{block_layout, plan_blocks};
use crate::build::{build_section, shard_summary, summarize, IndexPlan};
use crate::codebook::SharedCodebooks;
use crate::error::{Result, WriterError};
use crate::options::{IndexChoice, WriteOptions};
use crate::policy::WritePolicy;
use crate::prepare::{prepare, split_vector_columns, PreparedBatch, VectorInput};
use crate::staging::{Entry, EntryState, Staging};
use crate::text::text_indexes;

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
    /// The table's full-text indexed columns.
    pub texts: Vec<TextSpec>,
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
        let texts = table.text_columns()?;
        Ok(Self {
            inner: Arc::new(Inner {
                table: table.clone(),
                policy,
                specs,
                texts,
                schema,
                staging: Staging::default(),
                tasks: SyncMutex::default(),
                codebooks: SharedCodebooks::default(),
                partitions: tokio::sync::OnceCell::new(),
            }),
            parent: None,
        })
    }

    /// This handle with commits that fail with `StaleParent` (nothing committed) unless the
    /// table is still at snapshot `id` — the snapshot the caller based its writes on. After
    /// each commit the expectation moves to the new snapshot. Other clones of the writer made
    /// before this call are not affected.
    pub fn with_parent_snapshot(self, id: i64) -> Self {
        Self { parent: Some(Arc::new(SyncMutex::new(Some(id)))), ..self }
    }

    pub(crate) fn expected_parent(&self) -> Option<Option<i64>> {
        self.parent.as_ref().map(|p| *lock(p))
    }

    pub(crate) fn parent_moved_to(&self, snapshot_id: i64) {
        if let Some(p) = &self.parent {
            *lock(p) = Some(snapshot_id);
        }
    }

    /// Commits every staged file as one snapshot and returns its id; with nothing staged,
    /// returns the table's current snapshot id (0 for an empty table). A background build
    /// that finished before this call put its indexed file in this commit; one that finishes
    /// later commits a replace. A staged batch whose id another writer committed first is
    /// dropped (its file deleted), the rest committed.
    ///
    /// Cancel-safe: the commit runs in its own task, so dropping this future (a timeout)
    /// never separates the catalog swap from marking the files committed.
    pub async fn commit(&self) -> Result<i64> {
        let writer = self.clone();
        let snapshot_id = tokio::spawn(async move {
            let (snapshot_id, committed) =
                writer.staging().commit_staged(writer.table(), writer.expected_parent()).await?;
            if committed {
                writer.parent_moved_to(snapshot_id);
            }
            Ok::<_, WriterError>(snapshot_id)
        })
        .await
        .map_err(|e| WriterError::Internal(format!("commit task: {e}")))??;
        Ok(snapshot_id)
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

    pub(crate) async fn write_inputs(
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
        let written = if opts.deferred && !matches!(opts.index, IndexChoice::Flat) {
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
            IndexChoice::Flat => IndexPlan::Flat,
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
        let partitions = self.partitions().await?;
        let policy = self.inner.policy;
        let texts = self.inner.texts.clone();
        let (bytes, section, primary, layout) = tokio::task::spawn_blocking(move || -> Result<_> {
            let blocks = plan_blocks(&policy, partitions.as_deref(), &prepared.columns[0])?;
            let texts = text_indexes(&prepared.batch, prepared.rows, &texts)?;
            let section =
                build_section(prepared.rows, &prepared.columns, &plan, vectors, blocks.as_ref(), &texts)?;
            let primary = summarize(&prepared.columns[..1])?.remove(0);
            let (bytes, written) = write_shard_bytes(schema, &[prepared.batch], Some(&section), None)?;
            let location = written.section.map(|s| (s.offset, s.length));
            let layout = match (&blocks, location) {
                (Some(b), Some((offset, _))) => Some(block_layout(&section, offset, b)?),
                _ => None,
            };
            Ok((bytes, location, primary, layout))
        })
        .await
        .map_err(|e| WriterError::BuildFailed { file: uri.clone(), reason: e.to_string() })??;
        self.put(&uri, bytes).await?;
        let mut entry = self.entry(&uri, rows, &primary, kind, section, batch_id, occupancy).await?;
        entry.summary.blocks = layout;
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
}

/// The fewest rows an IVF-PQ shard trains on: 256 codes per sub-quantizer, and `nlist` lists.
pub(crate) fn ivf_pq_min_rows(cfg: Option<&IvfPqConfig>) -> usize {
    cfg.map_or(0, |c| c.nlist).max(ailk_index::pq::KSUB)
}

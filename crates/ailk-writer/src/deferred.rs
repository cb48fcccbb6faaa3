//! Deferred index builds: a deferred write stores the Parquet-only file and returns; a
//! background task builds the index, re-sections the file into a new one and puts it in place
//! — inside the staged entry when the file is not committed yet, else by a `replace` commit.
//! [`TableWriter::resume_indexing`] finishes the builds a crashed process left behind.

use std::collections::HashMap;

use ailk_catalog::{
    release_lease, CatalogError, IndexKind, IndexStatus, Occupancy, ShardSummary, SnapshotUpdate,
};
use ailk_format::object_store::ObjectStoreExt;
use ailk_format::sync::lock;
use ailk_format::{read_vectors, resection_object, write_shard_bytes, ReadOptions, ShardReader};
use ailk_index::IvfPqConfig;
use arrow_array::RecordBatch;

use crate::build::{build_off_thread, summarize, IndexPlan};
use crate::error::{Result, WriterError};
use crate::options::IndexChoice;
use crate::prepare::{PreparedBatch, PreparedColumn};
use crate::staging::{Entry, EntryState};
use crate::writer::{TableWriter, WrittenFile};

/// What a background build will build.
#[derive(Debug, Clone, Copy)]
enum Deferred {
    Hnsw,
    /// IVF-PQ with the table's shared codebook (this config trains it if there is none yet).
    IvfPq(Option<IvfPqConfig>),
}

impl Deferred {
    fn kind(self) -> IndexKind {
        match self {
            Deferred::Hnsw => IndexKind::Hnsw,
            Deferred::IvfPq(_) => IndexKind::IvfPq,
        }
    }
}

impl TableWriter {
    /// Stores `prepared` as a Parquet-only file, stages it and starts its index build.
    pub(crate) async fn write_deferred(
        &self,
        prepared: PreparedBatch,
        choice: &IndexChoice,
        batch_id: Option<String>,
    ) -> Result<WrittenFile> {
        let build = match choice {
            // The first deferred IVF-PQ file trains the table's codebook: not on a small batch.
            IndexChoice::IvfPq(cfg) if prepared.rows < crate::writer::ivf_pq_min_rows(cfg.as_ref()) => {
                tracing::warn!(rows = prepared.rows, "batch too small to train IVF-PQ; indexed with HNSW");
                Deferred::Hnsw
            }
            IndexChoice::IvfPq(cfg) => Deferred::IvfPq(*cfg),
            IndexChoice::Auto if self.inner.policy.prefers_ivf_pq(prepared.rows) => Deferred::IvfPq(None),
            _ => Deferred::Hnsw,
        };
        let rows = prepared.rows;
        let primary = summarize(&prepared.columns[..1])?.remove(0);
        let (bytes, _) =
            write_shard_bytes(self.inner.schema.clone(), std::slice::from_ref(&prepared.batch), None, None)?;
        let (uri, lease) = self.new_file().await?;
        self.put(&uri, bytes).await?;
        let kind = build.kind();
        let occupancy = self.occupancy(&prepared.columns[0].index_values).await?;
        let mut entry = self.entry(&uri, rows, &primary, kind, None, batch_id, occupancy).await?;
        entry.lease = Some(lease);
        let key = entry.key;
        self.staging().entries.lock().await.push(entry);
        let writer = self.clone();
        let file = uri.clone();
        let handle = tokio::spawn(async move { writer.build_deferred(key, file, prepared, build).await });
        lock(&self.inner.tasks).push((uri.clone(), handle));
        tracing::info!(file = %uri, rows, "wrote Parquet-only shard; index build in the background");
        Ok(WrittenFile { path: uri, rows, index: kind, indexed: false })
    }

    async fn plan_for(&self, build: Deferred, prepared: &PreparedBatch) -> Result<IndexPlan> {
        Ok(match build {
            Deferred::Hnsw => IndexPlan::Hnsw(self.inner.policy.hnsw),
            Deferred::IvfPq(cfg) => IndexPlan::IvfPqShared(
                self.inner.codebooks.for_columns(self.table(), &prepared.columns, cfg).await?,
            ),
        })
    }

    /// The background half of a deferred write.
    async fn build_deferred(
        &self,
        key: u64,
        old_uri: String,
        prepared: PreparedBatch,
        build: Deferred,
    ) -> Result<()> {
        let plan = self.plan_for(build, &prepared).await?;
        let kind = plan.kind();
        let rows = prepared.rows;
        let occupancy = self.occupancy(&prepared.columns[0].index_values).await?;
        let vectors = self.inner.policy.section_vectors;
        let (section, primary) =
            build_off_thread(prepared, plan, vectors, self.inner.texts.clone(), &old_uri).await?;
        self.install(Some(key), &old_uri, rows, section, &primary, kind, occupancy).await
    }

    /// Re-sections `old_uri` with `section` into a new file and puts it in place: inside the
    /// staged entry when not yet committed, else by a replace commit. A file whose batch was
    /// dropped (committed by another writer) is discarded.
    #[allow(clippy::too_many_arguments)] // the facts of one file, passed through to its entry
    async fn install(
        &self,
        key: Option<u64>,
        old_uri: &str,
        rows: usize,
        section: Vec<u8>,
        primary: &ailk_format::VectorColumn,
        kind: IndexKind,
        occupancy: Option<Occupancy>,
    ) -> Result<()> {
        let wh = self.table().warehouse();
        if self.dropped(key).await {
            tracing::info!(file = %old_uri, "batch committed by another writer; no index to install");
            return Ok(());
        }
        let (new_uri, lease) = self.new_file().await?;
        let new_path = wh.path_of(&new_uri)?;
        let result =
            self.install_leased(key, old_uri, &new_uri, rows, section, primary, kind, occupancy).await;
        if result.is_err() {
            wh.store().delete(&new_path).await.ok();
        }
        release_lease(lease).await;
        result
    }

    /// [`TableWriter::install`] once the new file's name and lease are taken.
    #[allow(clippy::too_many_arguments)] // the facts of one file, passed through to its entry
    async fn install_leased(
        &self,
        key: Option<u64>,
        old_uri: &str,
        new_uri: &str,
        rows: usize,
        section: Vec<u8>,
        primary: &ailk_format::VectorColumn,
        kind: IndexKind,
        occupancy: Option<Occupancy>,
    ) -> Result<()> {
        let wh = self.table().warehouse();
        let old_path = wh.path_of(old_uri)?;
        let new_path = wh.path_of(new_uri)?;
        let resectioned = resection_object(
            wh.store().clone(),
            &old_path,
            &new_path,
            section.into(),
            ReadOptions::default(),
        )
        .await;
        let written = match resectioned {
            Ok(w) => w,
            // The commit dropped the entry (and deleted its file) while the build ran.
            Err(_) if self.dropped(key).await => {
                wh.store().delete(&new_path).await.ok();
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let new_entry = self
            .entry(
                new_uri,
                rows,
                primary,
                kind,
                written.section.map(|s| (s.offset, s.length)),
                None,
                occupancy,
            )
            .await?;
        let mut entries = self.staging().entries.lock().await;
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
            Some(e) if e.state == EntryState::Dropped => {
                drop(entries);
                wh.store().delete(&new_path).await.ok();
                tracing::info!(file = %old_uri, "batch committed by another writer; discarded its index");
                Ok(())
            }
            _ => {
                // Still under the entries lock: a concurrent commit of this writer sees the
                // replace (and the moved parent) before it starts.
                let result = self.commit_replace(old_uri, new_entry).await;
                drop(entries);
                let snapshot = result?;
                tracing::info!(file = %new_uri, snapshot, "index built; committed a replace");
                Ok(())
            }
        }
    }

    /// Commits the replace of `old_uri` by an indexed copy. A writer handle pinned to a parent
    /// snapshot builds the replace on that parent and moves the pin to it, so its own index
    /// builds never make it stale; if others committed meanwhile the replace rebases anyway.
    async fn commit_replace(&self, old_uri: &str, new: Entry) -> Result<i64> {
        let update = SnapshotUpdate::replace(old_uri, new.data_file).with_summaries(vec![new.summary]);
        if let Some(parent) = self.expected_parent() {
            match self.table().commit(update.clone().with_expected_parent(parent)).await {
                Ok(out) => {
                    self.parent_moved_to(out.snapshot_id());
                    return Ok(out.snapshot_id());
                }
                Err(CatalogError::StaleParent { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.table().commit(update).await?.snapshot_id())
    }

    /// Whether the staged entry `key` was dropped (its batch committed by another writer).
    async fn dropped(&self, key: Option<u64>) -> bool {
        let Some(k) = key else { return false };
        let entries = self.staging().entries.lock().await;
        entries.iter().any(|e| e.key == k && e.state == EntryState::Dropped)
    }

    /// Waits for every background index build started so far; returns the first error.
    pub async fn wait_indexed(&self) -> Result<()> {
        let tasks: Vec<_> = std::mem::take(&mut *lock(&self.inner.tasks));
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

    /// Builds the index of every live shard of the table's current snapshot that has no AILK
    /// section (deferred builds cut short by a crash), committing a replace for each. Files
    /// and summaries come from one metadata version. Returns how many were indexed.
    pub async fn resume_indexing(&self) -> Result<usize> {
        self.resume_indexing_with(&|_| {}).await
    }

    /// [`TableWriter::resume_indexing`], calling `progress` once the pending files are known
    /// and after each file is indexed (or found not indexable).
    pub async fn resume_indexing_with(
        &self,
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<usize> {
        let table = self.table().refresh().await?;
        let files = table.live_files().await?;
        let summaries = table.shard_summaries().await?;
        let summaries: HashMap<&str, &ShardSummary> =
            summaries.iter().flat_map(|s| s.iter()).map(|s| (s.file_path.as_str(), s)).collect();
        let wh = table.warehouse();
        // Data files only: delete files other engines wrote hold no vectors.
        let mut pending = Vec::new();
        for f in files
            .iter()
            .filter(|f| f.data_file.content_type() == ailk_catalog::iceberg::spec::DataContentType::Data)
        {
            let is_pending = match summaries.get(f.path()) {
                Some(s) => s.status == IndexStatus::Pending,
                None => ShardReader::open(wh.store().clone(), wh.path_of(f.path())?, ReadOptions::default())
                    .await?
                    .location()
                    .is_none(),
            };
            if is_pending {
                pending.push(f);
            }
        }
        let mut report = IndexProgress {
            files_done: 0,
            files_pending: pending.len(),
            rows_done: 0,
            rows_pending: pending.iter().map(|f| f.data_file.record_count()).sum(),
        };
        progress(report);
        let mut done = 0;
        for f in pending {
            let uri = f.path();
            let path = wh.path_of(uri)?;
            report.files_done += 1;
            report.rows_done += f.data_file.record_count();
            // Other engines' files too: any list type; a file with rows lacking a usable
            // vector (null, wrong length) cannot be indexed and stays searched exactly.
            let mut columns = Vec::with_capacity(self.inner.specs.len());
            for spec in &self.inner.specs {
                match read_vectors(wh.store().clone(), &path, &spec.name, spec.dim as usize).await {
                    Ok(values) => columns.push(PreparedColumn::new(&self.inner.schema, spec, values)),
                    Err(e) if e.kind() == ailk_format::ErrorKind::Corrupt => {
                        tracing::warn!(file = %uri, error = %e, "not indexable: left to exact scans");
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if columns.len() < self.inner.specs.len() {
                progress(report);
                continue;
            }
            let rows = f.data_file.record_count() as usize;
            let prepared =
                PreparedBatch { batch: RecordBatch::new_empty(self.inner.schema.clone()), columns, rows };
            let build = match summaries.get(uri).map(|s| s.index) {
                Some(IndexKind::IvfPq) => Deferred::IvfPq(None),
                _ => Deferred::Hnsw,
            };
            let plan = self.plan_for(build, &prepared).await?;
            let kind = plan.kind();
            let occupancy = self.occupancy(&prepared.columns[0].index_values).await?;
            let vectors = self.inner.policy.section_vectors;
            let (section, primary) =
                build_off_thread(prepared, plan, vectors, self.inner.texts.clone(), uri).await?;
            self.install(None, uri, rows, section, &primary, kind, occupancy).await?;
            done += 1;
            progress(report);
        }
        tracing::info!(indexed = done, "resume_indexing finished");
        Ok(done)
    }
}

/// How far [`TableWriter::resume_indexing_with`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexProgress {
    /// Pending files handled so far (indexed, or left to exact scans when not indexable).
    pub files_done: usize,
    /// Files found without their index.
    pub files_pending: usize,
    /// Rows of the files handled so far.
    pub rows_done: u64,
    /// Rows of the pending files.
    pub rows_pending: u64,
}

//! Compaction: rewrite small, unclustered or delete-carrying files into target-size files
//! that each hold whole coarse partitions of the table, in one `replace` commit.
//!
//! One plan: pick candidates on the current snapshot; train the table's partitions on them
//! when it has none (stored as a table file named in the table properties); read the
//! candidates' rows (as the current schema sees them) without their deleted rows; route every
//! row to its partition; pack partitions, nearest-neighbour chained so neighbours share
//! files, into groups of about `target_rows`; write one indexed file per group (its
//! occupancy recorded in its summary) and commit them replacing the candidates. A commit
//! that finds a candidate gone (`FileNotLive`) or rows of one deleted meanwhile
//! (`DeletedMeanwhile`) discards its files and re-plans on the new snapshot; appends
//! committed meanwhile are kept by the rebase.
//!
//! Memory: when the candidates' decoded rows fit `memory_bytes` they are read once and held
//! (the in-memory path, below); larger ones take the streamed path (`stream.rs`): read in
//! passes, spilled to local disk by output file, and checkpointed in the table's metadata so
//! that a call killed at any point is resumed by the next (`checkpoint.rs`). Both paths route
//! rows through one [`groups::GroupPlan`], so they write the same files.

use std::collections::HashMap;
use std::sync::Arc;

use ailk_catalog::{CatalogError, LiveFile, SnapshotUpdate, Table};
use ailk_index::Partitions;

use crate::error::{Result, WriterError};
use crate::options::IndexChoice;
use crate::policy::WritePolicy;
use crate::writer::TableWriter;
use candidates::{candidates, decoded_bytes, read_candidates, Rows};
use checkpoint::Checkpoint;
use groups::{plan_groups, train_partitions, write_groups};
use stream::rewrite_streamed;

mod candidates;
mod checkpoint;
mod groups;
mod spill;
mod stream;

/// Peak memory of the in-memory path per byte of decoded rows (the files' batches, their
/// concatenation and the primary column's copy; measured ~4× the raw vectors at 1M × 128).
const IN_MEMORY_OVERHEAD: u64 = 3;

/// Plans a compaction re-runs after losing to a concurrent commit before giving up.
const MAX_PLANS: u32 = 6;

/// Progress of a running compaction, reported after each file written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactProgress {
    /// Files written so far in this plan.
    pub files_written: usize,
    /// Files this plan writes.
    pub files_planned: usize,
    /// Rows written so far.
    pub rows_written: u64,
    /// Rows this plan writes.
    pub rows_planned: u64,
    /// Rows of the files being rewritten read so far by the current reading pass (a
    /// compaction larger than its memory budget reads them in passes before it writes).
    pub rows_read: u64,
}

/// What to compact and how.
#[derive(Clone)]
pub struct CompactOptions {
    /// Rows per new file (a file holds whole partitions, so it may exceed this by part of one
    /// partition; a partition larger than this is split).
    pub target_rows: usize,
    /// Files with fewer rows are rewritten (default: half of `target_rows`).
    pub small_file_rows: Option<usize>,
    /// Cluster rows by the table's coarse partitions (trained on first use) and rewrite files
    /// not clustered yet; `false` only merges small files and purges deletes.
    pub cluster: bool,
    /// Partition count when they are trained (default: `Partitions::count_for(rows)`).
    pub partitions: Option<usize>,
    /// The index of the new files.
    pub index: IndexChoice,
    /// Rows one call rewrites at most; the rest waits for the next call (default: no limit).
    pub max_rows: usize,
    /// Bytes of decoded rows one call holds at most: candidates larger than this are
    /// compacted in passes, spilling to local disk (default 1 GiB).
    pub memory_bytes: usize,
    /// Where rows spill (default: the system's temporary directory).
    pub spill_dir: Option<std::path::PathBuf>,
    /// Called after each file written.
    pub progress: Option<Arc<dyn Fn(CompactProgress) + Send + Sync>>,
}

impl Default for CompactOptions {
    fn default() -> Self {
        Self {
            target_rows: 100_000,
            small_file_rows: None,
            cluster: true,
            partitions: None,
            index: IndexChoice::Hnsw,
            max_rows: usize::MAX,
            memory_bytes: 1 << 30,
            spill_dir: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for CompactOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactOptions")
            .field("target_rows", &self.target_rows)
            .field("small_file_rows", &self.small_file_rows)
            .field("cluster", &self.cluster)
            .field("partitions", &self.partitions)
            .field("index", &self.index)
            .field("max_rows", &self.max_rows)
            .field("memory_bytes", &self.memory_bytes)
            .field("spill_dir", &self.spill_dir)
            .finish()
    }
}

/// What a compaction did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactOutcome {
    /// The replace snapshot; `None` when there was nothing to compact.
    pub snapshot_id: Option<i64>,
    /// Files replaced.
    pub files_removed: usize,
    /// Files written.
    pub files_added: usize,
    /// Live rows rewritten.
    pub rows: u64,
    /// Deleted rows dropped for good (their position deletes went with their files).
    pub deleted_rows_purged: u64,
    /// The partitions version the new files are clustered by.
    pub partitions_version: Option<u32>,
    /// Plans it took (more than 1 when concurrent commits touched the candidates).
    pub plans: u32,
}

impl TableWriter {
    /// Compacts the table (see [`compact`]) with this writer's policy.
    pub async fn compact(&self, opts: &CompactOptions) -> Result<CompactOutcome> {
        compact(self.table(), self.inner.policy, opts).await
    }
}

/// Compacts `table`'s current snapshot: see the module docs.
pub async fn compact(table: &Table, policy: WritePolicy, opts: &CompactOptions) -> Result<CompactOutcome> {
    if opts.target_rows == 0 || opts.max_rows == 0 || opts.memory_bytes == 0 {
        return Err(WriterError::InvalidInput(
            "target_rows, max_rows and memory_bytes must be at least 1".into(),
        ));
    }
    for plans in 1..=MAX_PLANS {
        let table = table.refresh().await?;
        let Some(snapshot) = table.snapshot_id() else { return Ok(CompactOutcome::default()) };
        let seq = table.metadata().snapshot_by_id(snapshot).map_or(0, |s| s.sequence_number());
        let writer = TableWriter::for_table(&table, policy)?;
        let partitions = if opts.cluster { writer.partitions().await? } else { None };
        let rewritten = match resumable(&table, partitions.as_deref(), opts).await? {
            Some((files, ckpt)) => {
                rewrite_streamed(table.clone(), policy, files, partitions, ckpt, opts).await.map(streamed)
            }
            None => {
                let candidates = candidates(&table, partitions.as_deref(), opts).await?;
                if candidates.is_empty() {
                    tracing::info!(table = %table.ident(), "nothing to compact");
                    return Ok(CompactOutcome { plans, ..Default::default() });
                }
                if IN_MEMORY_OVERHEAD * decoded_bytes(&candidates, &writer) > opts.memory_bytes as u64 {
                    let ckpt = Checkpoint::start(&table).await?;
                    rewrite_streamed(table.clone(), policy, candidates, partitions, ckpt, opts)
                        .await
                        .map(streamed)
                } else {
                    match rewrite_in_memory(&table, policy, &candidates, partitions, opts).await? {
                        Some((t, rewrite)) => Ok((t, rewrite, None)),
                        None => return Ok(CompactOutcome { plans, ..Default::default() }),
                    }
                }
            }
        };
        // A streamed rewrite that failed keeps its checkpoint and files for the next call.
        let (table, rewrite, ckpt) = rewritten?;
        if rewrite.files.is_empty() {
            // Every candidate was unreadable: nothing to replace.
            if let Some(ckpt) = ckpt {
                ckpt.remove().await;
            }
            return Ok(CompactOutcome { plans, ..Default::default() });
        }
        let outcome = CompactOutcome {
            snapshot_id: None,
            files_removed: rewrite.files.len(),
            files_added: rewrite.entries.len(),
            rows: rewrite.rows,
            deleted_rows_purged: rewrite.purged,
            partitions_version: rewrite.partitions_version,
            plans,
        };
        let update = SnapshotUpdate {
            added: rewrite.entries.iter().map(|e| e.data_file.clone()).collect(),
            removed: rewrite.files.iter().map(|f| f.path().to_string()).collect(),
            summaries: rewrite.entries.iter().map(|e| e.summary.clone()).collect(),
            ..SnapshotUpdate::default()
        }
        .with_deletes_as_of(seq)
        .with_written_schema(table.metadata().current_schema().clone());
        let committed = table.commit(update).await;
        for lease in rewrite.entries.into_iter().filter_map(|e| e.lease) {
            ailk_catalog::release_lease(lease).await;
        }
        match committed {
            Ok(done) => {
                if let Some(ckpt) = ckpt {
                    ckpt.remove().await;
                }
                tracing::info!(table = %table.ident(), removed = outcome.files_removed, added = outcome.files_added, rows = outcome.rows, purged = outcome.deleted_rows_purged, snapshot = done.snapshot_id(), "compacted");
                return Ok(CompactOutcome { snapshot_id: Some(done.snapshot_id()), ..outcome });
            }
            Err(e @ (CatalogError::FileNotLive { .. } | CatalogError::DeletedMeanwhile(_))) => {
                let all: Vec<String> = match &ckpt {
                    Some(c) => c.done.values().map(|s| s.file_path.clone()).collect(),
                    None => rewrite.written,
                };
                discard(&table, &all).await;
                if let Some(ckpt) = ckpt {
                    ckpt.remove().await;
                }
                tracing::info!(table = %table.ident(), error = %e, plans, "a concurrent commit touched the compacted files; re-planning");
            }
            Err(e) => {
                if ckpt.is_none() {
                    discard(&table, &rewrite.written).await;
                    untrain(&table, rewrite.trained).await;
                }
                return Err(e.into());
            }
        }
    }
    Err(CatalogError::CommitConflict { table: table.ident().to_string(), attempts: MAX_PLANS }.into())
}

fn streamed((table, rewrite, ckpt): (Table, Rewrite, Checkpoint)) -> (Table, Rewrite, Option<Checkpoint>) {
    (table, rewrite, Some(ckpt))
}

/// What one plan rewrites: the candidates it replaces and the files that replace them.
pub(crate) struct Rewrite {
    files: Vec<LiveFile>,
    entries: Vec<crate::staging::Entry>,
    /// Output files this call put.
    written: Vec<String>,
    rows: u64,
    purged: u64,
    partitions_version: Option<u32>,
    /// Partitions this call trained and named (in-memory path; the streamed path keeps its
    /// partitions for the resume).
    trained: Option<(String, String)>,
}

/// A checkpoint of an earlier, killed or failed streamed compaction that still fits the
/// table, with its candidates (see `checkpoint::resume`).
async fn resumable(
    table: &Table,
    partitions: Option<&Partitions>,
    opts: &CompactOptions,
) -> Result<Option<(Vec<LiveFile>, Checkpoint)>> {
    let live = table.live_files().await?;
    let deletes = table.deleted_rows().await?;
    let by_path: HashMap<&str, &LiveFile> = live.iter().map(|f| (f.path(), f)).collect();
    let key = stream::options_key(opts);
    let version = partitions.map(|p| p.version);
    let fits = |plan: &checkpoint::Plan| {
        plan.options == key
            && plan.partitions_version == version
            && plan.files.iter().all(|f| {
                by_path.get(f.path.as_str()).is_some_and(|l| {
                    l.data_file.record_count() == f.rows && deletes.deleted(&f.path).len() as u64 == f.deleted
                })
            })
    };
    let Some(ckpt) = checkpoint::resume(table, opts.spill_dir.as_deref(), fits).await? else {
        return Ok(None);
    };
    let plan = ckpt.plan.as_ref().expect("a resumed checkpoint has its plan");
    let files = plan.files.iter().map(|f| (*by_path[f.path.as_str()]).clone()).collect();
    Ok(Some((files, ckpt)))
}

/// The in-memory path: the candidates' rows read once and held; `None` when none is readable.
async fn rewrite_in_memory(
    table: &Table,
    policy: WritePolicy,
    candidates: &[LiveFile],
    partitions: Option<Arc<Partitions>>,
    opts: &CompactOptions,
) -> Result<Option<(Table, Rewrite)>> {
    let writer = TableWriter::for_table(table, policy)?;
    let rows = read_candidates(table, &writer, candidates).await?;
    if rows.files.is_empty() {
        return Ok(None);
    }
    // Partitions are trained once, on the first compaction's rows.
    // A failed compaction commits nothing: partitions this call named are named no more.
    let mut trained: Option<(String, String)> = None;
    let (table, writer, partitions) = match (opts.cluster, partitions) {
        (true, None) => {
            let count = opts.partitions.unwrap_or_else(|| Partitions::count_for(rows.batch.num_rows()));
            let (table, named) = train_partitions(table, &writer, &rows.primary, count).await?;
            trained = named;
            let writer = TableWriter::for_table(&table, policy)?;
            let p = writer.partitions().await?;
            (table, writer, p)
        }
        (_, p) => (table.clone(), writer, p),
    };
    let groups = plan_groups(&rows, partitions.as_deref(), opts.target_rows);
    let mut written = Vec::new();
    let entries = match write_groups(&writer, &rows, &groups, opts, &mut written).await {
        Ok(e) => e,
        Err(e) => {
            discard(&table, &written).await;
            untrain(&table, trained).await;
            return Err(e);
        }
    };
    let rewrite = Rewrite {
        rows: rows.batch.num_rows() as u64,
        files: rows.files,
        entries,
        written,
        purged: rows.purged,
        partitions_version: partitions.as_ref().map(|p| p.version),
        trained,
    };
    Ok(Some((table, rewrite)))
}

/// A failed in-memory compaction commits nothing: the partitions it trained and named (the
/// property key and file URI in `trained`) are named no more.
async fn untrain(table: &Table, trained: Option<(String, String)>) {
    let Some((key, uri)) = trained else { return };
    match table.remove_property_if(&key, &uri).await {
        Ok(_) => {
            tracing::info!(table = %table.ident(), %uri, "compaction failed: its partitions are named no more")
        }
        Err(e) => {
            tracing::warn!(table = %table.ident(), %uri, error = %e, "compaction failed and its partitions stay named")
        }
    }
}

/// Deletes the output files `uris` of a compaction that did not commit, except any the table's
/// newest snapshot holds (a second owner of a resumed checkpoint may have committed them).
async fn discard(table: &Table, uris: &[String]) {
    if uris.is_empty() {
        return;
    }
    let live: std::collections::HashSet<String> = match table.refresh().await {
        Ok(t) => match t.live_files().await {
            Ok(files) => files.iter().map(|f| f.path().to_string()).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the live files: the abandoned compaction's files stay");
                return;
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the table: the abandoned compaction's files stay");
            return;
        }
    };
    for uri in uris.iter().filter(|u| !live.contains(*u)) {
        if let Err(e) = table.file_io().delete(uri).await {
            tracing::warn!(%uri, error = %e, "could not remove a file of an abandoned compaction");
        }
    }
}

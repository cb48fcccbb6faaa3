//! Staged files and their commit: what a writer wrote but has not committed yet, the batch
//! ids it has reserved, and [`Staging::commit_staged`], which turns everything staged into
//! one Iceberg snapshot (`TableWriter::commit` runs it).
//!
//! Exactly-once for a batch id rests on two checks: a writer reserves the id atomically before
//! any I/O (so clones of one writer never write it twice; a duplicate waits for the holder's
//! outcome), and the snapshot producer refuses
//! an id already in the table's lineage at the moment of the swap (so separate writers and
//! processes never commit it twice; the loser drops its copy).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};

use ailk_catalog::iceberg::spec::DataFile;
use ailk_catalog::{release_lease, CommitOutcome, ShardSummary, SnapshotUpdate, Table, WriteLease};
use ailk_format::object_store::ObjectStoreExt;
use ailk_format::sync::lock;
use tokio::sync::{Mutex, Notify};

use crate::error::Result;

/// Where a staged file is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryState {
    /// Written, waiting for the next commit.
    Staged,
    /// In a committed snapshot.
    Committed,
    /// Its batch id was committed by another writer first: the file is garbage.
    Dropped,
}

/// One file this writer wrote.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: u64,
    pub data_file: DataFile,
    pub summary: ShardSummary,
    pub batch_id: Option<String>,
    pub state: EntryState,
    /// The write lease that keeps the file from vacuum until it is committed or dropped.
    pub lease: Option<Arc<WriteLease>>,
}

/// The staging area shared by every clone of a writer.
#[derive(Default)]
pub(crate) struct Staging {
    /// Also serializes commits with background builds finishing (the ordering rule).
    pub entries: Mutex<Vec<Entry>>,
    /// Batch ids being written, staged or committed through this writer.
    reserved: SyncMutex<HashMap<String, Slot>>,
    next_key: AtomicU64,
}

/// Where a reserved batch id stands.
enum Slot {
    /// A write holds it; waiters are woken when it is kept or released.
    InFlight(Arc<Notify>),
    /// Staged or committed: later writes of the id are no-ops.
    Done,
}

impl Staging {
    /// A fresh key for a new entry.
    pub fn next_key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        lock(&self.reserved)
    }

    /// Reserves `id` for one write, or `None` when this writer already staged or committed
    /// it. While another write holds the id this waits for its outcome: kept (then `None`) or
    /// released by a failed or cancelled write (then this call takes the id over), so `None`
    /// always means the batch is staged or committed. Released on drop unless
    /// [`Reservation::keep`] is called.
    pub async fn reserve(&self, id: &str) -> Option<Reservation<'_>> {
        loop {
            let notify = {
                let mut slots = self.slots();
                match slots.get(id) {
                    None => {
                        slots.insert(id.to_string(), Slot::InFlight(Arc::new(Notify::new())));
                        return Some(Reservation { staging: self, id: id.to_string(), kept: false });
                    }
                    Some(Slot::Done) => return None,
                    Some(Slot::InFlight(n)) => n.clone(),
                }
            };
            let woken = notify.notified();
            tokio::pin!(woken);
            // Registered before the slot is looked at again: a wake-up in between is not lost.
            woken.as_mut().enable();
            if matches!(self.slots().get(id), Some(Slot::InFlight(n)) if Arc::ptr_eq(n, &notify)) {
                woken.await;
            }
        }
    }

    /// Ends the write holding `id`: `Done` when kept, free again when released.
    fn settle(&self, id: &str, kept: bool) {
        let previous =
            if kept { self.slots().insert(id.to_string(), Slot::Done) } else { self.slots().remove(id) };
        if let Some(Slot::InFlight(n)) = previous {
            n.notify_waiters();
        }
    }
}

/// A batch id held by one write in progress.
pub(crate) struct Reservation<'a> {
    staging: &'a Staging,
    id: String,
    kept: bool,
}

impl Reservation<'_> {
    /// Keeps the id reserved for good (the batch is staged, or found committed).
    pub fn keep(mut self) {
        self.kept = true;
        self.staging.settle(&self.id, true);
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.staging.settle(&self.id, false);
        }
    }
}

impl Staging {
    /// Commits every staged entry to `table` as one snapshot (built on `expected_parent` when
    /// given) and returns its id; with nothing staged, the table's current snapshot id (0
    /// for an empty table); the flag says whether this call committed a snapshot. An entry
    /// whose batch id another writer committed first is dropped (its file deleted) and the
    /// rest retried.
    pub async fn commit_staged(
        &self,
        table: &Table,
        expected_parent: Option<Option<i64>>,
    ) -> Result<(i64, bool)> {
        let mut entries = self.entries.lock().await;
        loop {
            let staged: Vec<&Entry> = entries.iter().filter(|e| e.state == EntryState::Staged).collect();
            if staged.is_empty() {
                return Ok((table.refresh().await?.snapshot_id().unwrap_or(0), false));
            }
            let mut update = SnapshotUpdate::append(staged.iter().map(|e| e.data_file.clone()).collect())
                .with_summaries(staged.iter().map(|e| e.summary.clone()).collect())
                .with_batch_ids(staged.iter().filter_map(|e| e.batch_id.clone()))
                .with_written_schema(std::sync::Arc::new(table.schema().clone()));
            if let Some(parent) = expected_parent {
                update = update.with_expected_parent(parent);
            }
            match table.commit(update).await? {
                CommitOutcome::Committed { snapshot_id, attempts } => {
                    let files = staged.len();
                    let mut leases = Vec::new();
                    for e in entries.iter_mut().filter(|e| e.state == EntryState::Staged) {
                        e.state = EntryState::Committed;
                        leases.extend(e.lease.take());
                    }
                    for lease in leases {
                        release_lease(lease).await;
                    }
                    tracing::info!(snapshot_id, files, attempts, "committed");
                    return Ok((snapshot_id, true));
                }
                CommitOutcome::AlreadyCommitted { batch_id, .. } => {
                    let wh = table.warehouse();
                    for e in entries.iter_mut() {
                        if e.state == EntryState::Staged && e.batch_id.as_deref() == Some(batch_id.as_str()) {
                            e.state = EntryState::Dropped;
                            if let Ok(p) = wh.path_of(e.data_file.file_path()) {
                                wh.store().delete(&p).await.ok();
                            }
                            if let Some(lease) = e.lease.take() {
                                release_lease(lease).await;
                            }
                        }
                    }
                    tracing::info!(%batch_id, "batch committed elsewhere; dropped its staged file");
                }
            }
        }
    }
}

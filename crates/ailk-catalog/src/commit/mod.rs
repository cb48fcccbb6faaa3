//! The snapshot producer and the optimistic commit.
//!
//! iceberg-rust 0.10 offers only fast-append, and its `TableCommit` cannot be built outside the
//! crate; ailake also needs replace (swap a data file for a re-sectioned one with the same rows)
//! and whole-file delete. So this module writes the snapshot itself with iceberg's spec layer —
//! manifests (`ManifestWriterBuilder`), the manifest list (`ManifestListWriter`), the shard
//! summaries (Puffin) and the metadata file (`TableMetadataBuilder`) — then swaps the catalog's
//! metadata pointer. A lost swap reloads the new base and re-applies the update (appends always
//! rebase; replaces and deletes re-check that their files are still live), with bounded,
//! jittered retries.

use std::time::Duration;

use rand::Rng;

use crate::error::{CatalogError, Result};
use crate::leases::release_lease;
use crate::snapshot_summary::check_schema;
use crate::table::Table;
pub use crate::update::SnapshotUpdate;

mod attempt;

/// How hard a commit tries before giving up with `CommitConflict`.
#[derive(Debug, Clone, Copy)]
pub struct CommitOptions {
    /// Attempts in all (the first one included).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time, with ±50% jitter.
    pub base_backoff: Duration,
    /// Upper bound of one backoff.
    pub max_backoff: Duration,
}

impl Default for CommitOptions {
    fn default() -> Self {
        Self {
            max_attempts: 40,
            base_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(500),
        }
    }
}

impl CommitOptions {
    /// The waits between attempts: `base_backoff`, doubling up to `max_backoff`, each with
    /// ±50% jitter. Every optimistic commit of the crate (snapshots, property and expiry
    /// commits) retries through this.
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff { next: self.base_backoff, max: self.max_backoff }
    }
}

/// The retry waits of one commit (see [`CommitOptions::backoff`]).
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Sleeps for the next wait, jittered.
    pub(crate) async fn wait(&mut self) {
        let jitter = rand::rng().random_range(0.5..1.5);
        tokio::time::sleep(self.next.mul_f64(jitter)).await;
        self.next = (self.next * 2).min(self.max);
    }
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// A new snapshot is current.
    Committed {
        /// The new snapshot.
        snapshot_id: i64,
        /// Attempts it took (1 when no other writer interfered).
        attempts: u32,
    },
    /// A batch id of the update was already in the table's lineage: nothing was written.
    AlreadyCommitted {
        /// The batch id found.
        batch_id: String,
        /// The current snapshot, which contains it.
        snapshot_id: i64,
    },
}

impl CommitOutcome {
    /// The snapshot that holds the update.
    pub fn snapshot_id(&self) -> i64 {
        match self {
            Self::Committed { snapshot_id, .. } | Self::AlreadyCommitted { snapshot_id, .. } => *snapshot_id,
        }
    }
}

/// Files one attempt wrote, deleted again when its swap loses.
#[derive(Default)]
struct AttemptFiles(Vec<String>);

impl Table {
    /// Commits `update` as one new snapshot, retrying lost swaps per `CommitOptions::default()`.
    pub async fn commit(&self, update: SnapshotUpdate) -> Result<CommitOutcome> {
        self.commit_with(update, CommitOptions::default()).await
    }

    /// Commits `update` with explicit retry options.
    pub async fn commit_with(&self, update: SnapshotUpdate, options: CommitOptions) -> Result<CommitOutcome> {
        update.validate()?;
        // The manifests, lists and metadata an attempt writes are unreferenced until its
        // swap: a lease keeps vacuum off them.
        let lease = self.lease().await?;
        let outcome = self.commit_leased(update, options).await;
        release_lease(lease).await;
        outcome
    }

    async fn commit_leased(&self, update: SnapshotUpdate, options: CommitOptions) -> Result<CommitOutcome> {
        self.check_files_exist(&update).await?;
        let mut backoff = options.backoff();
        // Snapshots sent whose outcome the catalog could not tell (5xx, timeout).
        let mut unknown: Vec<i64> = Vec::new();
        for attempt in 1..=options.max_attempts.max(1) {
            let base = self.load_current().await?;
            if let Some(&snapshot_id) = unknown.iter().find(|id| base.metadata.snapshot_by_id(**id).is_some())
            {
                tracing::info!(table = %self.ident(), snapshot_id, "a commit whose answer was lost had landed");
                return Ok(CommitOutcome::Committed { snapshot_id, attempts: attempt - 1 });
            }
            if let Some(expected) = update.expected_parent {
                if expected != base.current_snapshot_id() {
                    return Err(CatalogError::StaleParent { expected, actual: base.current_snapshot_id() });
                }
            }
            if let Some(written) = &update.written_with {
                check_schema(written, base.metadata.current_schema())?;
            }
            if let Some(batch_id) =
                self.lineage_contains(&base.metadata, base.current_snapshot_id(), &update.batch_ids)?
            {
                let snapshot_id = base.current_snapshot_id().unwrap_or_default();
                tracing::info!(table = %self.ident(), %batch_id, "batch already committed; nothing to do");
                return Ok(CommitOutcome::AlreadyCommitted { batch_id, snapshot_id });
            }
            let mut written = AttemptFiles::default();
            let prepared = self.prepare(&base, &update, &mut written).await;
            let (commit, snapshot_id) = match prepared {
                Ok(p) => p,
                Err(e) => {
                    self.discard(written).await;
                    return Err(e);
                }
            };
            match self.catalog().commit_table(self.ident(), commit, self.file_io()).await {
                Ok(Some(_)) => {
                    tracing::debug!(table = %self.ident(), snapshot_id, attempt, "committed");
                    return Ok(CommitOutcome::Committed { snapshot_id, attempts: attempt });
                }
                Ok(None) => {
                    tracing::debug!(table = %self.ident(), attempt, "lost the commit race; rebasing");
                    self.discard(written).await;
                }
                Err(CatalogError::CommitStateUnknown(_)) => {
                    // Its files may be referenced now: keep them (vacuum removes them later if
                    // the commit did not land) and look for the snapshot on the next read.
                    tracing::warn!(table = %self.ident(), snapshot_id, attempt, "commit outcome unknown; re-reading the table");
                    unknown.push(snapshot_id);
                }
                Err(e) => {
                    self.discard(written).await;
                    return Err(e);
                }
            }
            backoff.wait().await;
        }
        if !unknown.is_empty() {
            let base = self.load_current().await?;
            if let Some(&snapshot_id) = unknown.iter().find(|id| base.metadata.snapshot_by_id(**id).is_some())
            {
                return Ok(CommitOutcome::Committed { snapshot_id, attempts: options.max_attempts });
            }
            return Err(CatalogError::CommitStateUnknown(self.ident().to_string()));
        }
        Err(CatalogError::CommitConflict { table: self.ident().to_string(), attempts: options.max_attempts })
    }

    /// `MissingFile` when a data or delete file the update adds is not in the store.
    async fn check_files_exist(&self, update: &SnapshotUpdate) -> Result<()> {
        let wh = self.warehouse();
        let heads = update.added.iter().chain(&update.added_deletes).map(|f| async move {
            let path = wh.path_of(f.file_path())?;
            match object_store::ObjectStoreExt::head(wh.store(), &path).await {
                Ok(_) => Ok(()),
                Err(object_store::Error::NotFound { .. }) => {
                    Err(CatalogError::MissingFile(f.file_path().to_string()))
                }
                Err(e) => Err(e.into()),
            }
        });
        futures::future::try_join_all(heads).await?;
        Ok(())
    }

    async fn discard(&self, written: AttemptFiles) {
        for uri in written.0 {
            if let Err(e) = self.file_io().delete(&uri).await {
                tracing::warn!(%uri, error = %e, "could not remove a file of a lost commit attempt");
            }
        }
    }
}

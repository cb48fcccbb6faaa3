//! What vacuum may delete, and what keeps a writer's files safe from it.
//!
//! [`Table::remove_orphans`] deletes files of the table's own `data/` and `metadata/`
//! directories (their direct children only) that no retained snapshot, manifest, metadata or
//! statistics file references. It never touches another table's files: a table nested under
//! this one's directory (`ns.t.x` lives in `ns/t/x/`) is not a direct child of those two
//! directories, and a table registered at this very location makes vacuum refuse.
//!
//! A writer's files are unreferenced until its commit lands, so two rules keep them:
//! - **Write leases.** Before an ailake writer puts its first file, it puts a lease object in
//!   `metadata/ailake-leases/` and rewrites it every [`LEASE_HEARTBEAT`] while it holds staged
//!   or in-flight files; it deletes the lease once they are committed or dropped. Vacuum keeps
//!   every unreferenced file written since the oldest live lease began (a lease is live while
//!   it was rewritten within the lease TTL, [`LEASE_TTL`] by default), whatever `min_age` says:
//!   an ailake writer, however long it takes, never loses a file to vacuum. A killed writer's
//!   lease stops beating and expires; then its files are ordinary orphans.
//! - **An age floor for everyone else.** Other engines' writers (pyiceberg, Spark) take no
//!   lease; `min_age` protects them, as Iceberg's own orphan removal does (its default and the
//!   CLI's: 3 days).
//!
//! - **Compaction checkpoints.** Files a resumable compaction wrote and recorded in its
//!   checkpoint are kept while the checkpoint is younger than [`crate::CHECKPOINT_TTL`] (see
//!   `checkpoints.rs`); older checkpoints are deleted.
//!
//! Vacuum lists the directories first, then reads the leases and checkpoints, then the metadata: a file in the
//! listing was written after its writer's lease was put, and a commit that released its lease
//! before vacuum read the leases landed before vacuum read the metadata, so no interleaving
//! lets a live writer's file through. A commit also checks that the files it adds still exist
//! before it swaps the metadata pointer ([`CatalogError::MissingFile`]), so a commit never
//! references a file that is gone.

use std::collections::HashSet;
use std::time::Duration;

use futures::TryStreamExt;
use iceberg::spec::ManifestStatus;
use object_store::{ObjectMeta, ObjectStoreExt};

use crate::checkpoints::checkpoint_protection;
use crate::error::{CatalogError, Result};
use crate::layout::TABLE_FILE_PREFIX;
use crate::leases::{lease_since, now_ms, LEASES_DIR, LEASE_TTL};
use crate::manifests::load_manifest_list;
use crate::table::Table;

/// Margin for clock skew between the writer's clock (the lease's start) and the store's
/// (files' modification times).
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// Iceberg's default minimum age of an orphan file (`older_than` of `DeleteOrphanFiles`).
pub const DEFAULT_ORPHAN_AGE: Duration = Duration::from_secs(3 * 24 * 3600);
/// What [`Table::remove_orphans_with`] may remove.
#[derive(Debug, Clone, Copy)]
pub struct OrphanOptions {
    /// Files modified more recently than this are kept (writers that take no lease).
    pub min_age: Duration,
    /// A lease not rewritten within this long is expired: its writer is taken to be dead.
    /// `Duration::ZERO` expires every lease (only when no ailake writer can be running).
    pub lease_ttl: Duration,
}
impl Default for OrphanOptions {
    fn default() -> Self {
        Self { min_age: DEFAULT_ORPHAN_AGE, lease_ttl: LEASE_TTL }
    }
}
impl Table {
    /// Deletes unreferenced files of this table older than `min_age` and not protected by a
    /// live writer's lease ([`LEASE_TTL`]); see [`Table::remove_orphans_with`].
    pub async fn remove_orphans(&self, min_age: Duration) -> Result<Vec<String>> {
        self.remove_orphans_with(OrphanOptions { min_age, ..OrphanOptions::default() }).await
    }

    /// Deletes the files of the table's `data/` and `metadata/` directories that no retained
    /// snapshot, manifest, metadata or statistics file references, that are older than
    /// `options.min_age`, and that no live write lease protects (see the module docs).
    /// Table-level files named `ailake-*` (shared codebooks, partitions) are kept; expired
    /// leases are removed. Returns the URIs removed. Refuses (`InvalidInput`) when another
    /// table of the catalog keeps its metadata in this table's directory.
    pub async fn remove_orphans_with(&self, options: OrphanOptions) -> Result<Vec<String>> {
        let wh = self.warehouse();
        let location = self.refresh().await?.location().to_string();
        self.refuse_shared_location(&location).await?;
        let data_dir = wh.path_of(&format!("{location}/data"))?;
        let metadata_dir = wh.path_of(&format!("{location}/metadata"))?;
        let leases_dir = metadata_dir.clone().join(LEASES_DIR);
        // 1. What exists (direct children only: a nested table's files are deeper).
        let mut objects = wh.store().list_with_delimiter(Some(&data_dir)).await?.objects;
        objects.extend(wh.store().list_with_delimiter(Some(&metadata_dir)).await?.objects);
        // 2. The leases, listed after the files (a writer puts its lease before its files).
        let leases: Vec<ObjectMeta> = wh.store().list(Some(&leases_dir)).try_collect().await?;
        let now = now_ms();
        let ttl = options.lease_ttl.as_millis() as i64;
        let mut protect_from = i64::MAX;
        let mut expired = Vec::new();
        for lease in leases {
            if options.lease_ttl > Duration::ZERO && lease.last_modified.timestamp_millis() > now - ttl {
                if let Some(since) = lease_since(wh.store(), &lease).await {
                    protect_from = protect_from.min(since);
                }
            } else {
                expired.push(lease);
            }
        }
        let protect_from = protect_from.saturating_sub(CLOCK_SKEW.as_millis() as i64);
        let (checkpointed, expired_checkpoints) = checkpoint_protection(wh, &location, now).await?;
        // 3. What the newest metadata references, read last.
        let referenced = self.referenced_files().await?;
        let cutoff = now.saturating_sub(options.min_age.as_millis() as i64);
        let mut removed = Vec::new();
        for obj in objects {
            let uri = wh.uri(obj.location.as_ref());
            let modified = obj.last_modified.timestamp_millis();
            let table_file = obj.location.filename().is_some_and(|n| n.starts_with(TABLE_FILE_PREFIX));
            if table_file
                || referenced.contains(&uri)
                || checkpointed.contains(&uri)
                || modified > cutoff
                || modified >= protect_from
            {
                continue;
            }
            wh.store().delete(&obj.location).await?;
            removed.push(uri);
        }
        for lease in expired {
            wh.store().delete(&lease.location).await.ok();
        }
        for object in expired_checkpoints {
            wh.store().delete(&object).await.ok();
        }
        let leased = protect_from < i64::MAX - CLOCK_SKEW.as_millis() as i64;
        tracing::info!(table = %self.ident(), removed = removed.len(), leased, "removed orphan files");
        Ok(removed)
    }

    /// Every file the catalog's newest metadata of this table references.
    async fn referenced_files(&self) -> Result<HashSet<String>> {
        let state = self.load_current().await?;
        let meta = &state.metadata;
        let mut referenced: HashSet<String> = HashSet::new();
        referenced.insert(state.metadata_location.clone());
        referenced.extend(meta.metadata_log().iter().map(|m| m.metadata_file.clone()));
        referenced.extend(meta.statistics_iter().map(|s| s.statistics_path.clone()));
        for snapshot in meta.snapshots() {
            referenced.insert(snapshot.manifest_list().to_string());
            let list = load_manifest_list(self.file_io(), meta, snapshot.manifest_list()).await?;
            for manifest in list.entries() {
                referenced.insert(manifest.manifest_path.clone());
                // A `deleted` entry records a removal; the file is referenced only while a
                // retained snapshot still lists it as added or existing.
                for entry in manifest.load_manifest(self.file_io()).await?.entries() {
                    if entry.status() != ManifestStatus::Deleted {
                        referenced.insert(entry.data_file().file_path().to_string());
                    }
                }
            }
        }
        Ok(referenced)
    }

    /// `InvalidInput` when another table of the catalog keeps its metadata directly in this
    /// table's `metadata/` directory (two tables at one location: their files are mixed).
    async fn refuse_shared_location(&self, location: &str) -> Result<()> {
        let ours = format!("{location}/metadata/");
        let catalog = self.catalog();
        for namespace in catalog.list_namespaces().await? {
            for ident in catalog.list_tables(&namespace).await? {
                if &ident == self.ident() {
                    continue;
                }
                let Ok(pointer) = catalog.metadata_location(&ident).await else { continue };
                if pointer.strip_prefix(&ours).is_some_and(|rest| !rest.contains('/')) {
                    return Err(CatalogError::InvalidInput(format!(
                        "table {ident} shares the location of {}; vacuum would delete its files",
                        self.ident()
                    )));
                }
            }
        }
        Ok(())
    }
}

//! Table maintenance commits that add no snapshot: table properties (e.g. the table's coarse
//! partitions file), and snapshot expiry so metadata, manifests and summaries stay bounded
//! (`remove_orphans` then deletes what only expired snapshots referenced).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use iceberg::spec::{TableMetadata, TableMetadataBuilder};
use iceberg::TableRequirement;

use crate::commit::CommitOptions;
use crate::error::{CatalogError, Result};
use crate::provider::MetadataCommit;
use crate::table::Table;

/// Snapshots a branch or tag points to (iceberg-rust 0.10 has no public accessor for refs:
/// read them from the serialized metadata).
fn referenced_by_refs(meta: &TableMetadata) -> Result<Vec<i64>> {
    let json = serde_json::to_value(meta).map_err(|e| CatalogError::Internal(format!("metadata: {e}")))?;
    Ok(json["refs"]
        .as_object()
        .map(|refs| refs.values().filter_map(|r| r["snapshot-id"].as_i64()).collect())
        .unwrap_or_default())
}

impl Table {
    /// Sets table properties (others are kept) in one metadata commit, retried on lost swaps;
    /// returns the table at the new version.
    pub async fn set_properties(&self, properties: HashMap<String, String>) -> Result<Table> {
        self.metadata_commit(|_, builder| Ok(Some(builder.set_properties(properties.clone())?))).await?;
        self.refresh().await
    }

    /// Sets property `key` to `value` unless the table has it already (first writer wins);
    /// returns the table at its newest version and whether this call set it.
    pub async fn set_property_if_absent(&self, key: &str, value: &str) -> Result<(Table, bool)> {
        self.metadata_commit(|meta, builder| {
            if meta.properties().contains_key(key) {
                return Ok(None);
            }
            Ok(Some(builder.set_properties(HashMap::from([(key.to_string(), value.to_string())]))?))
        })
        .await?;
        // Decided by what the table holds now: a commit whose answer was lost may have
        // landed, and a REST catalog has no requirement on a property (two callers racing
        // there both set it; the later value stays and only its caller wins).
        let table = self.refresh().await?;
        let won = table.metadata().properties().get(key).map(String::as_str) == Some(value);
        Ok((table, won))
    }

    /// Removes property `key` if it still holds `value` (undoes a
    /// [`Self::set_property_if_absent`] whose operation failed); true when this call removed it.
    pub async fn remove_property_if(&self, key: &str, value: &str) -> Result<bool> {
        let mut removed = false;
        self.metadata_commit(|meta, builder| {
            removed = meta.properties().get(key).map(String::as_str) == Some(value);
            if !removed {
                return Ok(None);
            }
            Ok(Some(builder.remove_properties(&[key.to_string()])?))
        })
        .await?;
        Ok(removed)
    }

    /// Expires snapshots older than `older_than` except the current one, the newest
    /// `retain_last` of the table and any a branch or tag points to, with their statistics
    /// files; returns the expired ids. Time travel to them and batch-id idempotency through
    /// them end; `remove_orphans` then deletes the files only they referenced.
    pub async fn expire_snapshots(&self, older_than: Duration, retain_last: usize) -> Result<Vec<i64>> {
        let cutoff = SystemTime::now()
            .checked_sub(older_than)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        let mut expired = Vec::new();
        self.metadata_commit(|meta, builder| {
            let mut by_age: Vec<_> = meta.snapshots().map(|s| (s.timestamp_ms(), s.snapshot_id())).collect();
            by_age.sort_unstable_by(|a, b| b.cmp(a));
            let mut keep: HashSet<i64> = by_age.iter().take(retain_last.max(1)).map(|s| s.1).collect();
            keep.extend(meta.current_snapshot_id());
            keep.extend(referenced_by_refs(meta)?);
            expired =
                by_age.iter().filter(|(ts, id)| *ts < cutoff && !keep.contains(id)).map(|s| s.1).collect();
            if expired.is_empty() {
                return Ok(None);
            }
            let mut builder = builder.remove_snapshots(&expired);
            for id in &expired {
                builder = builder.remove_statistics(*id);
            }
            Ok(Some(builder))
        })
        .await?;
        tracing::info!(table = %self.ident(), expired = expired.len(), "expired snapshots");
        Ok(expired)
    }

    /// Applies `change` to the current metadata (a builder that records the base in the
    /// metadata log) and swaps it in, retrying lost swaps; a change of `None` commits nothing.
    async fn metadata_commit(
        &self,
        mut change: impl FnMut(&TableMetadata, TableMetadataBuilder) -> Result<Option<TableMetadataBuilder>>,
    ) -> Result<()> {
        let lease = self.lease().await?;
        let outcome = self.metadata_commit_leased(&mut change).await;
        crate::leases::release_lease(lease).await;
        outcome
    }

    async fn metadata_commit_leased(
        &self,
        change: &mut impl FnMut(&TableMetadata, TableMetadataBuilder) -> Result<Option<TableMetadataBuilder>>,
    ) -> Result<()> {
        let options = CommitOptions::default();
        let mut backoff = options.backoff();
        for _ in 0..options.max_attempts.max(1) {
            let base = self.load_current().await?;
            let builder = base.metadata.as_ref().clone().into_builder(Some(base.metadata_location.clone()));
            let Some(builder) = change(&base.metadata, builder)? else { return Ok(()) };
            let commit = MetadataCommit {
                requirements: vec![TableRequirement::UuidMatch { uuid: base.metadata.uuid() }],
                updates: builder.build()?.changes,
                base_location: base.metadata_location,
                base: base.metadata,
            };
            match self.catalog().commit_table(self.ident(), commit, self.file_io()).await {
                Ok(Some(_)) => return Ok(()),
                // Lost the race, or the answer was lost: re-read and re-apply (`change` sees
                // whether it already landed).
                Ok(None) | Err(CatalogError::CommitStateUnknown(_)) => backoff.wait().await,
                Err(e) => return Err(e),
            }
        }
        Err(CatalogError::CommitConflict { table: self.ident().to_string(), attempts: options.max_attempts })
    }
}

//! One commit attempt: everything the new snapshot needs — its manifests (small ones merged),
//! the manifest list, carried position deletes and shard summaries, the metadata file —
//! written on the newest base; invisible until the catalog swap points at it.

use std::collections::HashSet;

use iceberg::spec::{
    DataFile, ManifestContentType, ManifestFile, ManifestListWriter, ManifestStatus, ManifestWriter,
    ManifestWriterBuilder, Operation, Snapshot, StatisticsFile, TableMetadata, MAIN_BRANCH,
};
use iceberg::TableRequirement;
use rand::Rng;

use super::AttemptFiles;
use crate::deletes::deleted_positions_of;
use crate::error::{CatalogError, Result};
use crate::leases::now_ms;
use crate::manifests::{live_files_of, load_manifest_list, LiveFile, SnapshotFiles};
use crate::provider::MetadataCommit;
use crate::snapshot_summary::{summarize, Changes};
use crate::summaries::{read_summaries, recover_summaries, write_summaries};
use crate::table::{Table, TableState};
use crate::update::SnapshotUpdate;

/// Carried manifests at which a commit merges the small ones into one.
const MERGE_MIN_COUNT: usize = 100;

/// Live entries below which a manifest counts as small for merging.
const MERGE_SMALL_ENTRIES: u32 = 10_000;

impl Table {
    /// The position deletes of `old` in the base, re-pointed at `new` (same rows, same
    /// positions) as one new delete file; `None` when `old` had none.
    pub(super) async fn carry_deletes(
        &self,
        base: &SnapshotFiles,
        old: &str,
        new: &DataFile,
        written: &mut AttemptFiles,
    ) -> Result<Option<DataFile>> {
        let positions = deleted_positions_of(self.warehouse(), base, old).await?;
        if positions.is_empty() {
            return Ok(None);
        }
        let file = self.write_position_deletes(new, &positions).await?;
        written.0.push(file.file_path().to_string());
        tracing::debug!(table = %self.ident(), %old, new = %new.file_path(), rows = positions.len(), "carried position deletes to the replacing file");
        Ok(Some(file))
    }

    /// Writes everything the new snapshot needs and returns the catalog commit that adds it:
    /// the files are invisible until the catalog applies it.
    pub(super) async fn prepare(
        &self,
        base: &TableState,
        update: &SnapshotUpdate,
        written: &mut AttemptFiles,
    ) -> Result<(MetadataCommit, i64)> {
        let meta: &TableMetadata = &base.metadata;
        let parent = meta.current_snapshot();
        let snapshot_id = new_snapshot_id(meta);
        let sequence_number = meta.next_sequence_number();
        let location = meta.location().trim_end_matches('/').to_string();
        let commit_uuid = uuid::Uuid::new_v4();
        let mut manifest_index = 0;
        let mut next_manifest_uri = || {
            manifest_index += 1;
            format!("{location}/metadata/{commit_uuid}-m{manifest_index}.avro")
        };

        // What the update touches in the base: removed data files must be live, added
        // position deletes must target live files, and delete files of removed data files go
        // with them (carried to the replacing file when rows keep their positions).
        let touches = !update.removed.is_empty() || !update.added_deletes.is_empty();
        let base_files = match parent {
            Some(p) if touches => live_files_of(self.file_io(), meta, p.snapshot_id()).await?,
            _ => SnapshotFiles::default(),
        };
        let live: HashSet<&str> = base_files.data.iter().map(LiveFile::path).collect();
        let parent_id = parent.map(|p| p.snapshot_id());
        for target in update.added_deletes.iter().filter_map(DataFile::referenced_data_file) {
            if !live.contains(target.as_str()) {
                return Err(CatalogError::FileNotLive { path: target, snapshot: parent_id });
            }
        }
        if let Some(missing) = update.removed.iter().find(|p| !live.contains(p.as_str())) {
            return Err(CatalogError::FileNotLive { path: missing.clone(), snapshot: parent_id });
        }
        let removed: HashSet<&str> = update.removed.iter().map(String::as_str).collect();
        if let Some(seq) = update.deletes_as_of {
            // A delete file naming no data file may cover a removed one: refuse too.
            let newer =
                base_files.deletes.iter().filter(|d| d.sequence_number > seq).find(|d| {
                    d.data_file.referenced_data_file().is_none_or(|r| removed.contains(r.as_str()))
                });
            if let Some(d) = newer {
                return Err(CatalogError::DeletedMeanwhile(d.path().to_string()));
            }
        }
        let dropped_deletes: HashSet<&str> = base_files
            .deletes
            .iter()
            .filter(|d| d.data_file.referenced_data_file().is_some_and(|r| removed.contains(r.as_str())))
            .map(LiveFile::path)
            .collect();
        let mut added_deletes = update.added_deletes.clone();
        if update.same_positions {
            for (old, new) in update.removed.iter().zip(&update.added) {
                if let Some(carried) = self.carry_deletes(&base_files, old, new, written).await? {
                    added_deletes.push(carried);
                }
            }
        }

        // Carry the parent's manifests, rewriting those that hold a removed file.
        let mut removed_files: Vec<DataFile> = Vec::new();
        let mut removed_deletes: Vec<DataFile> = Vec::new();
        let mut manifests: Vec<ManifestFile> = Vec::new();
        if let Some(parent) = parent {
            let list = load_manifest_list(self.file_io(), meta, parent.manifest_list()).await?;
            for manifest in list.entries().iter().cloned() {
                let live =
                    manifest.added_files_count.unwrap_or(1) + manifest.existing_files_count.unwrap_or(1);
                if live == 0 {
                    continue;
                }
                let deletes = manifest.content == ManifestContentType::Deletes;
                let gone = if deletes { &dropped_deletes } else { &removed };
                if gone.is_empty() {
                    manifests.push(manifest);
                    continue;
                }
                let loaded = manifest.load_manifest(self.file_io()).await?;
                let hit = loaded.entries().iter().any(|e| {
                    e.status() != ManifestStatus::Deleted && gone.contains(e.data_file().file_path())
                });
                if !hit {
                    manifests.push(manifest);
                    continue;
                }
                let uri = next_manifest_uri();
                written.0.push(uri.clone());
                let mut writer = self.manifest_writer(&uri, snapshot_id, meta, deletes)?;
                for entry in loaded.entries().iter().filter(|e| e.status() != ManifestStatus::Deleted) {
                    let file = entry.data_file().clone();
                    let seq = entry.sequence_number().unwrap_or(0);
                    let file_seq = entry.file_sequence_number.or(Some(seq));
                    if gone.contains(file.file_path()) {
                        if deletes { &mut removed_deletes } else { &mut removed_files }.push(file.clone());
                        writer.add_delete_file(file, seq, file_seq)?;
                    } else {
                        let added_by = entry.snapshot_id().unwrap_or(manifest.added_snapshot_id);
                        writer.add_existing_file(file, added_by, seq, file_seq)?;
                    }
                }
                manifests.push(writer.write_manifest_file().await?);
            }
        }
        if manifests.len() >= MERGE_MIN_COUNT {
            let uri = next_manifest_uri();
            written.0.push(uri.clone());
            manifests = self.merge_small_manifests(manifests, snapshot_id, &uri, meta).await?;
        }
        let added_rows: u64 = update.added.iter().map(DataFile::record_count).sum();
        let removed_rows: u64 = removed_files.iter().map(DataFile::record_count).sum();
        let operation = match update.operation() {
            Operation::Replace if added_rows != removed_rows => Operation::Overwrite,
            op => op,
        };

        for (files, deletes) in [(&update.added, false), (&added_deletes, true)] {
            if files.is_empty() {
                continue;
            }
            let uri = next_manifest_uri();
            written.0.push(uri.clone());
            let mut writer = self.manifest_writer(&uri, snapshot_id, meta, deletes)?;
            for file in files {
                writer.add_file(file.clone(), sequence_number)?;
            }
            manifests.push(writer.write_manifest_file().await?);
        }

        let list_uri = format!("{location}/metadata/snap-{snapshot_id}-1-{commit_uuid}.avro");
        written.0.push(list_uri.clone());
        let mut list_writer = ManifestListWriter::v2(
            self.file_io().new_output(&list_uri)?.writer().await?,
            snapshot_id,
            parent.map(|p| p.snapshot_id()),
            sequence_number,
        );
        list_writer.add_manifests(manifests.into_iter())?;
        list_writer.close().await?;

        let changes = Changes {
            removed: &removed_files,
            added_deletes: &added_deletes,
            removed_deletes: &removed_deletes,
        };
        let summary = summarize(parent.map(|p| p.summary()), operation, update, &changes);
        let snapshot = Snapshot::builder()
            .with_snapshot_id(snapshot_id)
            .with_parent_snapshot_id(parent.map(|p| p.snapshot_id()))
            .with_sequence_number(sequence_number)
            .with_timestamp_ms(now_ms().max(meta.last_updated_ms()))
            .with_manifest_list(list_uri)
            .with_summary(summary)
            .with_schema_id(meta.current_schema_id())
            .build();

        let stats =
            self.carry_summaries(meta, update, snapshot_id, sequence_number, &location, written).await?;
        let mut builder = meta.clone().into_builder(Some(base.metadata_location.clone()));
        builder = builder.set_branch_snapshot(snapshot, MAIN_BRANCH)?;
        if let Some(stats) = stats {
            builder = builder.set_statistics(stats);
        }
        let commit = MetadataCommit {
            base_location: base.metadata_location.clone(),
            base: base.metadata.clone(),
            requirements: snapshot_requirements(meta),
            updates: builder.build()?.changes,
        };
        Ok((commit, snapshot_id))
    }

    /// A v2 manifest writer (data, or delete files when `deletes`) at `uri` for snapshot
    /// `snapshot_id` (current schema and spec).
    fn manifest_writer(
        &self,
        uri: &str,
        snapshot_id: i64,
        meta: &TableMetadata,
        deletes: bool,
    ) -> Result<ManifestWriter> {
        let builder = ManifestWriterBuilder::new(
            self.file_io().new_output(uri)?,
            Some(snapshot_id),
            meta.current_schema().clone(),
            meta.default_partition_spec().as_ref().clone(),
        );
        Ok(if deletes { builder.build_v2_deletes() } else { builder.build_v2_data() })
    }

    /// Folds the small manifests carried from older snapshots into one, so planning reads a
    /// bounded number of manifests however many commits the table has seen (Java Iceberg's
    /// manifest merge, with its default minimum count of 100).
    async fn merge_small_manifests(
        &self,
        manifests: Vec<ManifestFile>,
        snapshot_id: i64,
        uri: &str,
        meta: &TableMetadata,
    ) -> Result<Vec<ManifestFile>> {
        let (small, mut kept): (Vec<_>, Vec<_>) = manifests.into_iter().partition(|m| {
            let live = m.added_files_count.unwrap_or(0) + m.existing_files_count.unwrap_or(0);
            m.content == ManifestContentType::Data
                && m.added_snapshot_id != snapshot_id
                && live < MERGE_SMALL_ENTRIES
        });
        if small.len() < 2 {
            kept.extend(small);
            return Ok(kept);
        }
        let mut writer = self.manifest_writer(uri, snapshot_id, meta, false)?;
        for manifest in &small {
            for entry in manifest.load_manifest(self.file_io()).await?.entries() {
                if entry.status() == ManifestStatus::Deleted {
                    continue;
                }
                let seq = entry.sequence_number().unwrap_or(0);
                let added_by = entry.snapshot_id().unwrap_or(manifest.added_snapshot_id);
                let file_seq = entry.file_sequence_number.or(Some(seq));
                writer.add_existing_file(entry.data_file().clone(), added_by, seq, file_seq)?;
            }
        }
        tracing::debug!(table = %self.ident(), merged = small.len(), "merged small manifests");
        kept.push(writer.write_manifest_file().await?);
        Ok(kept)
    }

    /// The new snapshot's shard summaries: the parent's, minus removed files, plus the added
    /// ones. Written only when the update or the parent has any.
    async fn carry_summaries(
        &self,
        meta: &TableMetadata,
        update: &SnapshotUpdate,
        snapshot_id: i64,
        sequence_number: i64,
        location: &str,
        written: &mut AttemptFiles,
    ) -> Result<Option<StatisticsFile>> {
        let mut summaries = match meta.current_snapshot_id() {
            Some(parent) => match read_summaries(self.file_io(), meta, parent).await? {
                Some(s) => s,
                // Another engine committed the parent: no summaries of its own.
                None => recover_summaries(self.file_io(), meta, parent).await?,
            },
            None => Vec::new(),
        };
        if summaries.is_empty() && update.summaries.is_empty() {
            return Ok(None);
        }
        let removed: HashSet<&str> = update.removed.iter().map(String::as_str).collect();
        let added: HashSet<&str> = update.added.iter().map(DataFile::file_path).collect();
        summaries.retain(|s| !removed.contains(s.file_path.as_str()));
        summaries.extend(update.summaries.iter().filter(|s| added.contains(s.file_path.as_str())).cloned());
        let uri = format!("{location}/metadata/{snapshot_id}-{}.stats", uuid::Uuid::new_v4());
        written.0.push(uri.clone());
        Ok(Some(write_summaries(self.file_io(), &uri, snapshot_id, sequence_number, &summaries).await?))
    }
}

/// What a snapshot commit requires of the table when it lands: the same table, the same
/// current snapshot on `main` (the parent its manifests were computed on) and the same schema.
fn snapshot_requirements(meta: &TableMetadata) -> Vec<TableRequirement> {
    vec![
        TableRequirement::UuidMatch { uuid: meta.uuid() },
        TableRequirement::RefSnapshotIdMatch {
            r#ref: MAIN_BRANCH.to_string(),
            snapshot_id: meta.current_snapshot_id(),
        },
        TableRequirement::CurrentSchemaIdMatch { current_schema_id: meta.current_schema_id() },
    ]
}

/// A random positive snapshot id not used by the table yet.
fn new_snapshot_id(meta: &TableMetadata) -> i64 {
    let mut rng = rand::rng();
    loop {
        let id = rng.random_range(1..i64::MAX);
        if meta.snapshot_by_id(id).is_none() {
            return id;
        }
    }
}

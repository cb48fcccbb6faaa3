//! The manifests of a snapshot: its live data and delete files ([`LiveFile`],
//! [`SnapshotFiles`]) read from the manifest list and manifests.

use std::sync::Arc;

use iceberg::io::FileIO;
use iceberg::spec::{DataContentType, DataFile, ManifestList, ManifestStatus, TableMetadata};

use crate::error::{CatalogError, Result};

/// A data file live in a snapshot, with the manifest fields a rewrite must keep.
#[derive(Debug, Clone)]
pub struct LiveFile {
    /// The Iceberg data file entry.
    pub data_file: DataFile,
    /// Snapshot that added the file.
    pub snapshot_id: i64,
    /// Data sequence number of the file.
    pub sequence_number: i64,
    /// File sequence number of the file.
    pub file_sequence_number: Option<i64>,
}

impl LiveFile {
    /// The file's URI.
    pub fn path(&self) -> &str {
        self.data_file.file_path()
    }
}

/// The live files of one snapshot, by content.
#[derive(Debug, Default)]
pub(crate) struct SnapshotFiles {
    /// Data files.
    pub data: Arc<Vec<LiveFile>>,
    /// Position and equality delete files.
    pub deletes: Arc<Vec<LiveFile>>,
}

/// Live files of snapshot `snapshot_id` of `metadata`.
pub(crate) async fn live_files_of(
    io: &FileIO,
    metadata: &TableMetadata,
    snapshot_id: i64,
) -> Result<SnapshotFiles> {
    let snapshot = metadata.snapshot_by_id(snapshot_id).ok_or(CatalogError::SnapshotNotFound(snapshot_id))?;
    let list = load_manifest_list(io, metadata, snapshot.manifest_list()).await?;
    let (mut data, mut deletes) = (Vec::new(), Vec::new());
    for manifest in list.entries() {
        for entry in manifest.load_manifest(io).await?.entries() {
            if entry.status() == ManifestStatus::Deleted {
                continue;
            }
            let files = if entry.data_file().content_type() == DataContentType::Data {
                &mut data
            } else {
                &mut deletes
            };
            files.push(LiveFile {
                data_file: entry.data_file().clone(),
                snapshot_id: entry.snapshot_id().unwrap_or(snapshot_id),
                sequence_number: entry.sequence_number().unwrap_or(0),
                file_sequence_number: entry.file_sequence_number,
            });
        }
    }
    Ok(SnapshotFiles { data: Arc::new(data), deletes: Arc::new(deletes) })
}

/// Reads and parses the manifest list at `uri`.
pub(crate) async fn load_manifest_list(
    io: &FileIO,
    metadata: &TableMetadata,
    uri: &str,
) -> Result<ManifestList> {
    let bytes = io.new_input(uri)?.read().await?;
    Ok(ManifestList::parse_with_version(&bytes, metadata.format_version())?)
}

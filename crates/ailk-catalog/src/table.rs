//! [`Table`]: one Iceberg table of a catalog and warehouse — create or open it, read any of its
//! snapshots (live data files, shard summaries, batch-id lineage), and commit to it
//! (see [`crate::commit`]).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use iceberg::io::FileIO;
use iceberg::spec::{DataFile, ManifestList, ManifestStatus, Schema, TableMetadata, TableMetadataBuilder};
use iceberg::{MetadataLocation, TableCreation};

use crate::error::{CatalogError, Result};
use crate::provider::{CatalogProvider, TableIdent};
use crate::storage::Warehouse;
use crate::summaries::{read_summaries, ShardSummary};

/// Snapshot-summary key listing the batch ids a commit carries (comma-separated).
pub const BATCH_IDS_PROPERTY: &str = "ailake.batch-ids";

/// Files under a table's `metadata/` whose names start with this belong to the table itself
/// (e.g. the shared IVF-PQ codebook) and are never orphans.
pub const TABLE_FILE_PREFIX: &str = "ailake-";

/// A table's metadata as of one load: where it was read from and what it says.
#[derive(Debug, Clone)]
pub struct TableState {
    /// The metadata file the catalog pointed to.
    pub metadata_location: String,
    /// Its contents.
    pub metadata: Arc<TableMetadata>,
}

impl TableState {
    /// The current snapshot id, `None` for a table without commits.
    pub fn current_snapshot_id(&self) -> Option<i64> {
        self.metadata.current_snapshot_id()
    }

    /// The current schema.
    pub fn schema(&self) -> &Schema {
        self.metadata.current_schema()
    }
}

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

/// Batch ids seen in the lineage of `tip` (every ancestor's ids), extended as the table grows.
#[derive(Debug, Default)]
struct LineageCache {
    tip: Option<i64>,
    ids: HashSet<String>,
}

/// One table: the catalog entry, the warehouse its files live in, and caches.
pub struct Table {
    pub(crate) catalog: Arc<dyn CatalogProvider>,
    pub(crate) warehouse: Warehouse,
    pub(crate) ident: TableIdent,
    pub(crate) io: FileIO,
    lineage: Mutex<LineageCache>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("ident", &self.ident).field("warehouse", &self.warehouse).finish()
    }
}

impl Table {
    fn handle(catalog: Arc<dyn CatalogProvider>, warehouse: Warehouse, ident: TableIdent) -> Self {
        let io = warehouse.file_io();
        Self { catalog, warehouse, ident, io, lineage: Mutex::default() }
    }

    /// Creates table `ident` with `schema` (field ids as given) at `<warehouse>/<namespace>/<name>`,
    /// creating the namespace if needed. Errors with `TableExists` if the name is taken.
    pub async fn create(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        ident: TableIdent,
        schema: Schema,
        properties: HashMap<String, String>,
    ) -> Result<Self> {
        let table = Self::handle(catalog, warehouse, ident);
        let location = table.warehouse.uri(&table.ident.relative_location());
        let creation = TableCreation::builder()
            .name(table.ident.name.clone())
            .location(location.clone())
            .schema(schema)
            .properties(properties)
            .build();
        let metadata = TableMetadataBuilder::from_table_creation(creation)?.build()?.metadata;
        let metadata_location = MetadataLocation::new_with_metadata(&location, &metadata);
        metadata.write_to(&table.io, &metadata_location).await?;
        let uri = metadata_location.to_string();
        table.catalog.create_namespace(&table.ident.namespace).await?;
        if let Err(e) = table.catalog.register_table(&table.ident, &uri).await {
            let _ = table.io.delete(&uri).await;
            return Err(e);
        }
        tracing::info!(table = %table.ident, %uri, "created table");
        Ok(table)
    }

    /// Opens an existing table; `TableNotFound` if the catalog does not have it.
    pub async fn open(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        ident: TableIdent,
    ) -> Result<Self> {
        let table = Self::handle(catalog, warehouse, ident);
        table.catalog.metadata_location(&table.ident).await?;
        Ok(table)
    }

    /// Opens the table, creating it with `schema` and `properties` when it does not exist yet
    /// (a concurrent creator that wins the race is opened instead).
    pub async fn create_or_open(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        ident: TableIdent,
        schema: Schema,
        properties: HashMap<String, String>,
    ) -> Result<Self> {
        match Self::open(catalog.clone(), warehouse.clone(), ident.clone()).await {
            Err(CatalogError::TableNotFound(_)) => {}
            other => return other,
        }
        match Self::create(catalog.clone(), warehouse.clone(), ident.clone(), schema, properties).await {
            Err(CatalogError::TableExists(_)) => Self::open(catalog, warehouse, ident).await,
            other => other,
        }
    }

    /// The table's name.
    pub fn ident(&self) -> &TableIdent {
        &self.ident
    }

    /// The warehouse the table's files live in.
    pub fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    /// The catalog the table is registered in.
    pub fn catalog(&self) -> &Arc<dyn CatalogProvider> {
        &self.catalog
    }

    /// The iceberg `FileIO` over the warehouse store.
    pub fn file_io(&self) -> &FileIO {
        &self.io
    }

    /// Loads the table's current metadata from the catalog.
    pub async fn load(&self) -> Result<TableState> {
        let metadata_location = self.catalog.metadata_location(&self.ident).await?;
        let metadata = TableMetadata::read_from(&self.io, &metadata_location).await?;
        Ok(TableState { metadata_location, metadata: Arc::new(metadata) })
    }

    /// The URI of the table's directory.
    pub async fn location(&self) -> Result<String> {
        Ok(self.load().await?.metadata.location().to_string())
    }

    /// Live data files of `snapshot_id` (time travel), or of the current snapshot when `None`.
    pub async fn live_files(&self, snapshot_id: Option<i64>) -> Result<Vec<LiveFile>> {
        let state = self.load().await?;
        let id = match snapshot_id.or(state.current_snapshot_id()) {
            Some(id) => id,
            None => return Ok(Vec::new()),
        };
        live_files_of(&self.io, &state.metadata, id).await
    }

    /// Shard summaries attached to `snapshot_id` (current when `None`), or `None` when the
    /// snapshot has no summaries file (plan from footers instead).
    pub async fn shard_summaries(&self, snapshot_id: Option<i64>) -> Result<Option<Vec<ShardSummary>>> {
        let state = self.load().await?;
        let Some(id) = snapshot_id.or(state.current_snapshot_id()) else { return Ok(Some(Vec::new())) };
        read_summaries(&self.io, &state.metadata, id).await
    }

    /// Whether `batch_id` was committed in `snapshot_id` or one of its ancestors
    /// (the current snapshot when `None`).
    pub async fn contains_batch(&self, batch_id: &str, snapshot_id: Option<i64>) -> Result<bool> {
        let state = self.load().await?;
        let tip = snapshot_id.or(state.current_snapshot_id());
        Ok(self.lineage_contains(&state.metadata, tip, &[batch_id.to_string()])?.is_some())
    }

    /// The first of `batch_ids` found in the lineage of `tip`, walking only snapshots the cache
    /// has not seen yet.
    pub(crate) fn lineage_contains(
        &self,
        metadata: &TableMetadata,
        tip: Option<i64>,
        batch_ids: &[String],
    ) -> Result<Option<String>> {
        if batch_ids.is_empty() {
            return Ok(None);
        }
        let mut cache = self.lineage.lock().unwrap_or_else(|e| e.into_inner());
        // Walk from the tip to the cached tip (or the root), collecting the new ids.
        let mut fresh = HashSet::new();
        let mut cursor = tip;
        let mut reached_cache = cache.tip.is_none();
        while let Some(id) = cursor {
            if Some(id) == cache.tip {
                reached_cache = true;
                break;
            }
            let snapshot = metadata.snapshot_by_id(id).ok_or_else(|| {
                CatalogError::Corrupt(format!("snapshot {id} is missing from the table's metadata"))
            })?;
            if let Some(ids) = snapshot.summary().additional_properties.get(BATCH_IDS_PROPERTY) {
                fresh.extend(ids.split(',').filter(|s| !s.is_empty()).map(str::to_string));
            }
            cursor = snapshot.parent_snapshot_id();
        }
        let reached_cache = reached_cache && (cursor.is_some() || cache.tip.is_none());
        let found = batch_ids
            .iter()
            .find(|b| fresh.contains(*b) || (reached_cache && cache.ids.contains(*b)))
            .cloned();
        if reached_cache {
            // `tip` descends from the cached tip: its lineage is a superset; move the cache up.
            cache.ids.extend(fresh);
            cache.tip = tip;
        }
        Ok(found)
    }

    /// Deletes files under the table's directory that no snapshot, manifest or metadata file
    /// references and that are older than `min_age` (so in-flight writes are left alone).
    /// Table-level files named `ailake-*` (shared codebooks) are kept.
    /// Returns the URIs removed.
    pub async fn remove_orphans(&self, min_age: std::time::Duration) -> Result<Vec<String>> {
        use futures::TryStreamExt;
        let state = self.load().await?;
        let meta = &state.metadata;
        let mut referenced: HashSet<String> = HashSet::new();
        referenced.insert(state.metadata_location.clone());
        referenced.extend(meta.metadata_log().iter().map(|m| m.metadata_file.clone()));
        referenced.extend(meta.statistics_iter().map(|s| s.statistics_path.clone()));
        for snapshot in meta.snapshots() {
            referenced.insert(snapshot.manifest_list().to_string());
            let list = load_manifest_list(&self.io, meta, snapshot.manifest_list()).await?;
            for manifest in list.entries() {
                referenced.insert(manifest.manifest_path.clone());
                for entry in manifest.load_manifest(&self.io).await?.entries() {
                    referenced.insert(entry.data_file().file_path().to_string());
                }
            }
        }
        let prefix = self.warehouse.path_of(meta.location())?;
        let cutoff = chrono_now_minus(min_age);
        let objects: Vec<_> = self.warehouse.store().list(Some(&prefix)).try_collect().await?;
        let mut removed = Vec::new();
        for obj in objects {
            let uri = self.warehouse.uri(obj.location.as_ref());
            let table_file = obj.location.filename().is_some_and(|n| n.starts_with(TABLE_FILE_PREFIX));
            if table_file || referenced.contains(&uri) || obj.last_modified.timestamp_millis() > cutoff {
                continue;
            }
            object_store::ObjectStoreExt::delete(self.warehouse.store(), &obj.location).await?;
            removed.push(uri);
        }
        tracing::info!(table = %self.ident, removed = removed.len(), "removed orphan files");
        Ok(removed)
    }
}

fn chrono_now_minus(age: std::time::Duration) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.saturating_sub(age).as_millis() as i64
}

/// Live data files of snapshot `snapshot_id` of `metadata`.
pub(crate) async fn live_files_of(
    io: &FileIO,
    metadata: &TableMetadata,
    snapshot_id: i64,
) -> Result<Vec<LiveFile>> {
    let snapshot = metadata
        .snapshot_by_id(snapshot_id)
        .ok_or_else(|| CatalogError::InvalidInput(format!("snapshot {snapshot_id} does not exist")))?;
    let list = load_manifest_list(io, metadata, snapshot.manifest_list()).await?;
    let mut files = Vec::new();
    for manifest in list.entries() {
        for entry in manifest.load_manifest(io).await?.entries() {
            if entry.status() == ManifestStatus::Deleted {
                continue;
            }
            files.push(LiveFile {
                data_file: entry.data_file().clone(),
                snapshot_id: entry.snapshot_id().unwrap_or(snapshot_id),
                sequence_number: entry.sequence_number().unwrap_or(0),
                file_sequence_number: entry.file_sequence_number,
            });
        }
    }
    Ok(files)
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

/// Parses a metadata location the catalog returned.
pub(crate) fn parse_location(uri: &str) -> Result<MetadataLocation> {
    MetadataLocation::from_str(uri).map_err(CatalogError::from)
}

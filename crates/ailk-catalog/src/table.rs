//! [`Table`]: one Iceberg table of a catalog and warehouse at one version of its metadata —
//! create or load it, read its snapshot (live data files, shard summaries, batch-id lineage),
//! travel to older snapshots, refresh to newer ones, and commit to it (see [`crate::commit`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use iceberg::io::FileIO;
use iceberg::spec::{DataFile, Schema, TableMetadata};
use iceberg::TableCreation;

use ailk_format::sync::lock;
use tokio::sync::OnceCell;

use crate::deletes::{read_position_deletes, write_position_deletes, DeleteIndex};
use crate::error::{CatalogError, Result};
use crate::layout::{parse_specs, VectorSpec, BATCH_IDS_PROPERTY, VECTOR_COLUMNS_PROPERTY};
use crate::leases::{take_lease, LeaseSlot, WriteLease};
use crate::manifests::{live_files_of, LiveFile, SnapshotFiles};
use crate::provider::{CatalogProvider, TableIdent};
use crate::storage::Warehouse;
use crate::summaries::{read_summaries, ShardSummary};

/// A table's metadata as of one load: where it was read from and what it says.
#[derive(Debug, Clone)]
pub(crate) struct TableState {
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
}

/// Batch ids seen in the lineage of `tip` (every ancestor's ids), extended as the table grows.
#[derive(Debug, Default)]
struct LineageCache {
    tip: Option<i64>,
    ids: HashSet<String>,
}

/// What every version of one table shares: where it lives and the lineage cache.
struct Shared {
    catalog: Arc<dyn CatalogProvider>,
    warehouse: Warehouse,
    ident: TableIdent,
    io: FileIO,
    lineage: Mutex<LineageCache>,
    leases: LeaseSlot,
}

/// One version of the table's metadata and the snapshot read from it, with what was read of
/// that snapshot so far (files and summaries are immutable once committed).
struct Version {
    state: TableState,
    snapshot_id: Option<i64>,
    files: OnceCell<SnapshotFiles>,
    deletes: OnceCell<Arc<DeleteIndex>>,
    summaries: OnceCell<Option<Arc<Vec<ShardSummary>>>>,
}

/// A handle on one table at **one** version of its metadata: every read through it (schema,
/// properties, live files, shard summaries, batch-id lineage) sees that version and the
/// snapshot it was opened at, however many commits land meanwhile. [`Table::refresh`] returns
/// the newest version, [`Table::at_snapshot`] an older snapshot (time travel). Commits
/// ([`Table::commit`]) always rebase on the catalog's current metadata.
///
/// Cheap to clone: clones share the metadata and what was read of it.
#[derive(Clone)]
pub struct Table {
    shared: Arc<Shared>,
    version: Arc<Version>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("ident", &self.shared.ident)
            .field("metadata", &self.version.state.metadata_location)
            .field("snapshot_id", &self.version.snapshot_id)
            .finish()
    }
}

impl Table {
    fn with_state(shared: Arc<Shared>, state: TableState, snapshot_id: Option<i64>) -> Self {
        let version = Version {
            state,
            snapshot_id,
            files: OnceCell::new(),
            deletes: OnceCell::new(),
            summaries: OnceCell::new(),
        };
        Self { shared, version: Arc::new(version) }
    }

    async fn first_load(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        ident: TableIdent,
    ) -> Result<Self> {
        let io = warehouse.file_io();
        let shared = Arc::new(Shared {
            catalog,
            warehouse,
            ident,
            io,
            lineage: Mutex::default(),
            leases: Default::default(),
        });
        let state = load_state(&shared).await?;
        let snapshot_id = state.current_snapshot_id();
        Ok(Self::with_state(shared, state, snapshot_id))
    }

    /// Creates table `ident` with `schema` (field ids as given) at `<warehouse>/<namespace>/<name>`,
    /// creating the namespace if needed, and returns it at its first (empty) version. Errors
    /// with `TableExists` if the name is taken.
    pub async fn create(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        ident: TableIdent,
        schema: Schema,
        properties: HashMap<String, String>,
    ) -> Result<Self> {
        let io = warehouse.file_io();
        let location = warehouse.uri(&ident.relative_location());
        let creation = TableCreation::builder()
            .name(ident.name.clone())
            .location(location.clone())
            .schema(schema)
            .properties(properties)
            .build();
        let uri = catalog.create_table(&ident, creation, &io).await?;
        let metadata = TableMetadata::read_from(&io, &uri).await?;
        tracing::info!(table = %ident, %uri, "created table");
        let shared = Arc::new(Shared {
            catalog,
            warehouse,
            ident,
            io,
            lineage: Mutex::default(),
            leases: Default::default(),
        });
        let state = TableState { metadata_location: uri, metadata: Arc::new(metadata) };
        Ok(Self::with_state(shared, state, None))
    }

    /// Loads an existing table at its current metadata; `TableNotFound` if the catalog does
    /// not have it.
    pub async fn load(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        ident: TableIdent,
    ) -> Result<Self> {
        Self::first_load(catalog, warehouse, ident).await
    }

    /// Loads the table, creating it with `schema` and `properties` when it does not exist yet
    /// (a concurrent creator that wins the race is loaded instead).
    pub async fn create_or_load(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        ident: TableIdent,
        schema: Schema,
        properties: HashMap<String, String>,
    ) -> Result<Self> {
        match Self::load(catalog.clone(), warehouse.clone(), ident.clone()).await {
            Err(CatalogError::TableNotFound(_)) => {}
            other => return other,
        }
        match Self::create(catalog.clone(), warehouse.clone(), ident.clone(), schema, properties).await {
            Err(CatalogError::TableExists(_)) => Self::load(catalog, warehouse, ident).await,
            other => other,
        }
    }

    /// The table at the catalog's current metadata (sees every commit made so far).
    pub async fn refresh(&self) -> Result<Self> {
        let state = load_state(&self.shared).await?;
        let snapshot_id = state.current_snapshot_id();
        Ok(Self::with_state(self.shared.clone(), state, snapshot_id))
    }

    /// The catalog's current metadata, read now (what a commit rebases on).
    pub(crate) async fn load_current(&self) -> Result<TableState> {
        load_state(&self.shared).await
    }

    /// The same metadata version read at snapshot `snapshot_id` (time travel);
    /// `SnapshotNotFound` when this version does not know it.
    pub fn at_snapshot(&self, snapshot_id: i64) -> Result<Self> {
        if self.version.state.metadata.snapshot_by_id(snapshot_id).is_none() {
            return Err(CatalogError::SnapshotNotFound(snapshot_id));
        }
        Ok(Self::with_state(self.shared.clone(), self.version.state.clone(), Some(snapshot_id)))
    }

    /// The table's name.
    pub fn ident(&self) -> &TableIdent {
        &self.shared.ident
    }

    /// The warehouse the table's files live in.
    pub fn warehouse(&self) -> &Warehouse {
        &self.shared.warehouse
    }

    /// The catalog the table is registered in.
    pub fn catalog(&self) -> &Arc<dyn CatalogProvider> {
        &self.shared.catalog
    }

    /// The iceberg `FileIO` over the warehouse store.
    pub fn file_io(&self) -> &FileIO {
        &self.shared.io
    }

    /// The metadata version this handle reads.
    pub fn metadata(&self) -> &Arc<TableMetadata> {
        &self.version.state.metadata
    }

    /// Where that metadata was read from (the catalog's pointer when the handle was loaded).
    pub fn metadata_location(&self) -> &str {
        &self.version.state.metadata_location
    }

    /// The snapshot this handle reads: the version's current one, or the time-travel target;
    /// `None` for a table without commits.
    pub fn snapshot_id(&self) -> Option<i64> {
        self.version.snapshot_id
    }

    /// The schema of this handle: the table's current schema when the handle is at the
    /// current snapshot (a schema change commits no snapshot), else the schema the older
    /// snapshot was written with (time travel).
    pub fn schema(&self) -> &Schema {
        let meta = &self.version.state.metadata;
        if self.version.snapshot_id == meta.current_snapshot_id() {
            return meta.current_schema().as_ref();
        }
        self.version
            .snapshot_id
            .and_then(|id| meta.snapshot_by_id(id))
            .and_then(|s| s.schema_id())
            .and_then(|id| meta.schema_by_id(id))
            .map_or_else(|| meta.current_schema().as_ref(), |s| s.as_ref())
    }

    /// The table's properties in this version.
    pub fn properties(&self) -> &HashMap<String, String> {
        self.version.state.metadata.properties()
    }

    /// The URI of the table's directory (no trailing slash).
    pub fn location(&self) -> &str {
        self.version.state.metadata.location().trim_end_matches('/')
    }

    /// The table's vector columns (primary first), from the `ailake.vector-columns` property;
    /// empty for a table that is not an ailake table.
    pub fn vector_columns(&self) -> Result<Vec<VectorSpec>> {
        parse_specs(self.properties().get(VECTOR_COLUMNS_PROPERTY).map_or("", |s| s))
    }

    /// The table's full-text indexed columns, from the `ailake.text-columns` property (empty
    /// when it has none).
    pub fn text_columns(&self) -> Result<Vec<crate::TextSpec>> {
        crate::text_columns::parse_text_specs(
            self.properties().get(crate::TEXT_COLUMNS_PROPERTY).map_or("", |s| s),
        )
    }

    /// The Arrow schema the table's data files are written and read with: its columns with
    /// their field ids, vector columns as `FixedSizeList<Float32, dim>` (see
    /// [`crate::file_schema`]).
    pub fn file_schema(&self) -> Result<arrow_schema::SchemaRef> {
        crate::layout::file_schema(self.schema(), &self.vector_columns()?)
    }

    /// [`Table::file_schema`] without the vector columns: the attribute columns a write
    /// supplies beside its vectors.
    pub fn attribute_schema(&self) -> Result<arrow_schema::Schema> {
        let specs = self.vector_columns()?;
        let schema = self.file_schema()?;
        let fields: Vec<_> =
            schema.fields().iter().filter(|f| !specs.iter().any(|s| &s.name == f.name())).cloned().collect();
        Ok(arrow_schema::Schema::new(fields))
    }

    /// Live data files of this handle's snapshot (read once per handle version).
    pub async fn live_files(&self) -> Result<Arc<Vec<LiveFile>>> {
        Ok(self.snapshot_files().await?.data.clone())
    }

    /// Live delete files (position or equality deletes, merge-on-read) of this handle's
    /// snapshot.
    pub async fn live_delete_files(&self) -> Result<Arc<Vec<LiveFile>>> {
        Ok(self.snapshot_files().await?.deletes.clone())
    }

    async fn snapshot_files(&self) -> Result<&SnapshotFiles> {
        let v = &self.version;
        v.files
            .get_or_try_init(|| async {
                match v.snapshot_id {
                    Some(id) => live_files_of(&self.shared.io, &v.state.metadata, id).await,
                    None => Ok(SnapshotFiles::default()),
                }
            })
            .await
    }

    /// The rows each live data file of this handle's snapshot has lost to position deletes
    /// (read once per handle version). `Unsupported` when the snapshot holds equality deletes.
    pub async fn deleted_rows(&self) -> Result<Arc<DeleteIndex>> {
        let v = &self.version;
        v.deletes
            .get_or_try_init(|| async {
                let files = self.snapshot_files().await?;
                if files.deletes.is_empty() {
                    return Ok(Arc::new(DeleteIndex::default()));
                }
                Ok(Arc::new(
                    DeleteIndex::build(
                        self.warehouse(),
                        &self.ident().to_string(),
                        &files.data,
                        &files.deletes,
                    )
                    .await?,
                ))
            })
            .await
            .cloned()
    }

    /// Shard summaries of this handle's snapshot, or `None` when the snapshot has no summaries
    /// file (plan from footers instead). Read once per handle version.
    pub async fn shard_summaries(&self) -> Result<Option<Arc<Vec<ShardSummary>>>> {
        let v = &self.version;
        v.summaries
            .get_or_try_init(|| async {
                Ok(match v.snapshot_id {
                    Some(id) => read_summaries(&self.shared.io, &v.state.metadata, id).await?.map(Arc::new),
                    None => Some(Arc::new(Vec::new())),
                })
            })
            .await
            .cloned()
    }

    /// Whether `batch_id` was committed in this handle's snapshot or one of its ancestors.
    pub fn contains_batch(&self, batch_id: &str) -> Result<bool> {
        let found = self.lineage_contains(
            &self.version.state.metadata,
            self.version.snapshot_id,
            &[batch_id.to_string()],
        )?;
        Ok(found.is_some())
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
        let mut cache = lock(&self.shared.lineage);
        // Walk from the tip to the cached tip (or the root), collecting the new ids.
        let mut fresh = HashSet::new();
        let mut cursor = tip;
        let mut reached_cache = cache.tip.is_none();
        while let Some(id) = cursor {
            if Some(id) == cache.tip {
                reached_cache = true;
                break;
            }
            // An expired ancestor ends the lineage (as Java's SnapshotUtil treats it): the ids
            // it carried are gone with it.
            let Some(snapshot) = metadata.snapshot_by_id(id) else { break };
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

    /// The write-lease slot shared by every version of this handle.
    /// Reads the position delete file at `uri`: the positions it deletes, per data file path.
    pub async fn read_position_deletes(&self, uri: &str) -> Result<HashMap<String, Vec<u64>>> {
        read_position_deletes(self.warehouse(), uri).await
    }

    /// Writes a position delete file under the table's `data/` that removes `positions` of
    /// data file `target`, and returns its Iceberg entry (content `PositionDeletes`,
    /// referencing `target`). The file is invisible until a commit adds it.
    pub async fn write_position_deletes(&self, target: &DataFile, positions: &[u64]) -> Result<DataFile> {
        write_position_deletes(self.warehouse(), self.location(), target, positions).await
    }

    /// The table's write lease, taken now if no write of this handle holds one (see
    /// `leases.rs`). Hold it from before the first file is put until the files are committed
    /// or dropped, then hand it to [`crate::release_lease`].
    pub async fn lease(&self) -> Result<Arc<WriteLease>> {
        take_lease(&self.shared.leases, self.warehouse(), self.location()).await
    }
}

/// Reads the catalog's current metadata pointer and the metadata file it names.
async fn load_state(shared: &Shared) -> Result<TableState> {
    let metadata_location = shared.catalog.metadata_location(&shared.ident).await?;
    let metadata = TableMetadata::read_from(&shared.io, &metadata_location).await?;
    Ok(TableState { metadata_location, metadata: Arc::new(metadata) })
}

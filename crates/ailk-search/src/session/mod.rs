//! [`SearchSession`]: search one snapshot of a table.
//!
//! Planning uses the snapshot's shard summaries (Puffin), falling back to each file's AILK
//! directory. Shards are visited nearest-first by the lower bound `‖q − c‖ − r` of their
//! distance; once `k` results are held, a shard whose bound exceeds the k-th distance is
//! skipped. Shards of one wave are searched concurrently; results are merged, then the
//! projected columns of the winners are fetched with Parquet row selection.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use ailk_catalog::{CatalogProvider, DeleteIndex, Table, TableIdent, TextSpec, VectorSpec, Warehouse};
use ailk_format::object_store::ObjectStore;
use ailk_format::{CountingStore, ErrorKind, IoCounters, ShardReader};
use ailk_index::{kernels, Metric, Partitions, RowFilter};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::cache::store::CachedRanges;
use crate::cache::{ShardCache, ShardKey};
use crate::error::{Result, SearchError};
use crate::filter::rows::filter_fields;
use crate::params::{CounterSnapshot, SearchCounters, SearchParams};
use crate::partitions::load_partitions;
use plan::ShardPlan;

mod batch;
mod blocks;
mod execute;
mod fetch;
mod load;
mod plan;
mod ranges;
mod subset;
mod text;
mod text_read;

pub use subset::ShardCandidate;
pub use text::{Fusion, HybridParams, SCORE_COLUMN};

/// Name of the distance column of search results.
pub const DISTANCE_COLUMN: &str = "_distance";

/// A data file's URI and a filter's canonical text.
type FilterKey = (String, String);

/// Searches one snapshot of an ailake table.
pub struct SearchSession {
    table: Table,
    /// The warehouse's store, counted: every request a search makes.
    store: Arc<dyn ObjectStore>,
    /// `store` with byte ranges of data files (footers, row fetches) served from the cache.
    cached: Arc<dyn ObjectStore>,
    io: Arc<IoCounters>,
    snapshot_id: Option<i64>,
    specs: Vec<VectorSpec>,
    /// The table's full-text indexed columns.
    texts: Vec<TextSpec>,
    schema: SchemaRef,
    /// The snapshot's live data files as planned shards.
    plan: Vec<ShardPlan>,
    /// Rows removed by the snapshot's position deletes.
    deletes: Arc<DeleteIndex>,
    /// The table's coarse partitions of the primary column, when it has them.
    partitions: Option<Arc<Partitions>>,
    /// Rows of a shard matching a filter, by (file, filter).
    filter_rows: Mutex<HashMap<FilterKey, Arc<Vec<u32>>>>,
    readers: Mutex<HashMap<String, Arc<ShardReader>>>,
    /// Loaded shard indexes, shared with other sessions (see [`ShardCache`]).
    cache: Arc<ShardCache>,
    /// Shards this session has used (their counters are added once per session).
    touched: Mutex<HashSet<ShardKey>>,
    /// Per shard, the rows an unfiltered search may return (deletes and unusable vectors
    /// removed), when that is not every row.
    unfiltered: Mutex<HashMap<ShardKey, Arc<RowFilter>>>,
    counters: SearchCounters,
}

impl std::fmt::Debug for SearchSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchSession")
            .field("table", self.table.ident())
            .field("snapshot_id", &self.snapshot_id)
            .field("shards", &self.plan.len())
            .finish()
    }
}

impl SearchSession {
    /// Searches the snapshot `table` reads (its metadata version; time travel with
    /// [`Table::at_snapshot`]). Planning reads that snapshot's files and shard summaries once.
    /// Loaded indexes go to the process-wide [`ShardCache::global`].
    pub async fn new(table: &Table) -> Result<Self> {
        Self::with_cache(table, ShardCache::global()).await
    }

    /// [`Self::new`] keeping loaded indexes in `cache`.
    pub async fn with_cache(table: &Table, cache: Arc<ShardCache>) -> Result<Self> {
        let table = table.clone();
        let snapshot_id = table.snapshot_id();
        let specs = table.vector_columns()?;
        if specs.is_empty() {
            return Err(SearchError::InvalidQuery(format!("{} has no vector columns", table.ident())));
        }
        let schema = table.file_schema()?;
        let texts = table.text_columns()?;
        let counting = Arc::new(CountingStore::new(table.warehouse().store().clone()));
        let io = counting.counters();
        let store: Arc<dyn ObjectStore> = counting;
        let cached: Arc<dyn ObjectStore> =
            Arc::new(CachedRanges::new(store.clone(), cache.clone(), table.warehouse().root()));
        let mut session = Self {
            table,
            store,
            cached,
            io,
            snapshot_id,
            specs,
            texts,
            schema,
            plan: Vec::new(),
            deletes: Arc::default(),
            partitions: None,
            filter_rows: Mutex::default(),
            readers: Mutex::default(),
            cache,
            touched: Mutex::default(),
            unfiltered: Mutex::default(),
            counters: SearchCounters::default(),
        };
        // Manifests, delete files, partitions and Puffin summaries are independent reads:
        // issued together, planning costs the longest chain of round trips, not their sum.
        let table = &session.table;
        let (files, deletes, partitions, summaries) = tokio::join!(
            table.live_files(),
            table.deleted_rows(),
            load_partitions(table, &session.specs[0].name),
            table.shard_summaries(),
        );
        summaries?;
        session.deletes = deletes?;
        session.partitions = match partitions {
            Ok(p) => p,
            // Planning without partitions visits more shards, never misses rows.
            Err(e) if matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::NotFound) => {
                tracing::warn!(table = %session.table.ident(), error = %e, "table partitions unusable; planning without them");
                None
            }
            Err(e) => return Err(e),
        };
        session.plan = session.build_plan(&files?).await?;
        tracing::debug!(table = %session.table.ident(), snapshot = ?snapshot_id, shards = session.plan.len(), "planned");
        Ok(session)
    }

    /// Loads `table` from `catalog` and searches its current snapshot (a thin wrapper over
    /// [`Table::load`] and [`SearchSession::new`]).
    pub async fn open(
        catalog: Arc<dyn CatalogProvider>,
        warehouse: Warehouse,
        table: TableIdent,
    ) -> Result<Self> {
        Self::new(&Table::load(catalog, warehouse, table).await?).await
    }

    /// The same table at snapshot `snapshot_id` (time travel); a snapshot committed after
    /// this session's metadata version is found by reading the newest version.
    pub async fn at_snapshot(&self, snapshot_id: i64) -> Result<Self> {
        let table = match self.table.at_snapshot(snapshot_id) {
            Ok(t) => t,
            Err(_) => self.table.refresh().await?.at_snapshot(snapshot_id)?,
        };
        Self::with_cache(&table, self.cache.clone()).await
    }

    /// The same table at its now-current snapshot (sees commits made since opening).
    pub async fn refresh(&self) -> Result<Self> {
        Self::with_cache(&self.table.refresh().await?, self.cache.clone()).await
    }

    /// The table handle (metadata version and snapshot) this session searches.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The snapshot searched (`None` for a table without commits).
    pub fn snapshot_id(&self) -> Option<i64> {
        self.snapshot_id
    }

    /// Number of shards (live data files) in the snapshot.
    pub fn shard_count(&self) -> usize {
        self.plan.len()
    }

    /// Live rows in the snapshot (rows of its data files less position-deleted ones).
    pub fn row_count(&self) -> u64 {
        self.plan.iter().map(|p| p.rows()).sum::<u64>().saturating_sub(self.deletes.total())
    }

    /// Rows of the snapshot's data files removed by position deletes.
    pub fn deleted_row_count(&self) -> u64 {
        self.deletes.total()
    }

    /// The vector columns of the table, primary first.
    pub fn vector_columns(&self) -> &[VectorSpec] {
        &self.specs
    }

    /// The table's full-text indexed columns.
    pub fn text_columns(&self) -> &[TextSpec] {
        &self.texts
    }

    /// Counters accumulated by this session's searches.
    pub fn counters(&self) -> CounterSnapshot {
        let (requests, bytes) = self.io.snapshot();
        self.counters.snapshot(bytes, requests)
    }

    /// The cache of loaded indexes this session uses.
    pub fn cache(&self) -> &Arc<ShardCache> {
        &self.cache
    }

    /// The `k` rows nearest to `query`: the projected columns plus `_distance`, nearest first.
    pub async fn search(&self, query: &[f32], k: usize, params: &SearchParams) -> Result<RecordBatch> {
        let (spec, q, k) = self.prepare(query, k, params)?;
        let projection = self.projection(params)?;
        let hits = self.nearest(&q, k, &spec, params, None).await?;
        self.fetch(&hits, &projection).await
    }

    /// Checks a query against the searched column and the parameters (dimension, finite
    /// values, `k`, filter columns); returns the column, the query as the index sees it
    /// (normalized for cosine) and `k` clamped to the rows of the snapshot (a `k` above them
    /// asks for every row, nearest first; nothing is sized by the caller's `k`).
    pub(crate) fn prepare(
        &self,
        query: &[f32],
        k: usize,
        params: &SearchParams,
    ) -> Result<(VectorSpec, Vec<f32>, usize)> {
        let spec = self.spec(params)?.clone();
        if k == 0 {
            return Err(SearchError::InvalidQuery("k must be at least 1".into()));
        }
        if query.len() != spec.dim as usize {
            return Err(SearchError::InvalidQuery(format!(
                "query has {} values, column {} has dimension {}",
                query.len(),
                spec.name,
                spec.dim
            )));
        }
        if query.iter().any(|v| !v.is_finite()) {
            return Err(SearchError::InvalidQuery("query contains NaN or infinity".into()));
        }
        let mut q = query.to_vec();
        if spec.metric == Metric::Cosine {
            if q.iter().all(|&v| v == 0.0) {
                return Err(SearchError::InvalidQuery(
                    "a zero query vector has no cosine distance to any row".into(),
                ));
            }
            kernels::normalize(&mut q);
        }
        if let Some(filter) = &params.filter {
            filter_fields(filter, &self.schema)?;
        }
        // More probes than partitions probe them all; none would probe nothing.
        if params.partition_probes == Some(0) {
            return Err(SearchError::InvalidQuery("partition_probes must be at least 1".into()));
        }
        let rows: u64 = self.plan.iter().map(|p| p.rows()).sum();
        let k = k.min(usize::try_from(rows).unwrap_or(usize::MAX)).max(1);
        Ok((spec, q, k))
    }

    /// The table fields named `columns` (with their field ids).
    fn fields(&self, columns: &[String]) -> Result<Vec<arrow_schema::FieldRef>> {
        columns
            .iter()
            .map(|c| {
                self.schema
                    .field_with_name(c)
                    .map(|f| Arc::new(f.clone()))
                    .map_err(|_| SearchError::InvalidQuery(format!("column {c} is not in the table")))
            })
            .collect()
    }

    fn spec(&self, params: &SearchParams) -> Result<&VectorSpec> {
        match &params.column {
            None => Ok(&self.specs[0]),
            Some(name) => self.specs.iter().find(|s| &s.name == name).ok_or_else(|| {
                SearchError::InvalidQuery(format!("{name} is not a vector column of the table"))
            }),
        }
    }

    fn projection(&self, params: &SearchParams) -> Result<Vec<String>> {
        match &params.projection {
            Some(cols) => {
                for c in cols {
                    if self.schema.index_of(c).is_err() {
                        return Err(SearchError::InvalidQuery(format!(
                            "projected column {c} is not in the table"
                        )));
                    }
                }
                Ok(cols.clone())
            }
            None => Ok(self
                .schema
                .fields()
                .iter()
                .filter(|f| !self.specs.iter().any(|s| &s.name == f.name()))
                .map(|f| f.name().clone())
                .collect()),
        }
    }
}

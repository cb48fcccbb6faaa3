//! [`SearchSession`]: search one snapshot of a table.
//!
//! Planning uses the snapshot's shard summaries (Puffin), falling back to each file's AILK
//! directory. Shards are visited nearest-first by the lower bound `‖q − c‖ − r` of their
//! distance; once `k` results are held, a shard whose bound exceeds the k-th distance is
//! skipped. Shards of one wave are searched concurrently; results are merged, then the
//! projected columns of the winners are fetched with Parquet row selection.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use ailk_catalog::{
    file_schema, CatalogProvider, DeleteIndex, LiveFile, Occupancy, Table, TableIdent, VectorSpec, Warehouse,
};
use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStore;
use ailk_format::{CountingStore, ErrorKind, IoCounters, ReadOptions, ShardReader};
use ailk_index::{kernels, Metric, Neighbor, Partitions, QueryParams, RowFilter};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::{StreamExt, TryStreamExt};

use crate::cache::{ShardCache, ShardKey};
use crate::cached_store::CachedRanges;
use crate::error::{Result, SearchError};
use crate::filter::Filter;
use crate::filter_prune::may_match;
use crate::filter_rows::{filter_fields, matching_rows};
use crate::params::{CounterSnapshot, FilterStrategy, SearchCounters, SearchParams};
use crate::partitions::load_partitions;
use crate::shard::{load_shard, LoadedShard};

mod fetch;
mod subset;

pub use subset::ShardCandidate;

/// The beam a filtered search of a non-HNSW shard widens when the caller set none.
const DEFAULT_EF: usize = 64;
/// Rows an exact scan scores in the time a filtered graph walk spends per unit of beam width,
/// for the exact-or-index choice: measured on the real 384-d set (`cargo xtask bench --only
/// filtered`), a walk with beam 32 beat the exact scan of 2,500 rows and one with beam 64 lost
/// to it, so the break-even is near 2,500 / 48.
const WALK_COST: usize = 48;
/// (file, filter) row sets a session keeps before starting over.
const FILTER_CACHE_ENTRIES: usize = 4096;

/// Cold shards loaded at once from an object store (see `SearchParams::io_concurrency`).
const REMOTE_IO_CONCURRENCY: usize = 32;

/// Largest read from a cold shard's section offset to its end made in one request.
const SPECULATIVE_READ_MAX: u64 = 256 << 20;

/// Name of the distance column of search results.
pub const DISTANCE_COLUMN: &str = "_distance";

/// Partitions probed per query when the caller sets none: 1/8 of them, at least 16. Measured
/// on the real sample compacted into 7 files of 125 partitions: recall@10 0.900 at 8 probes,
/// 0.958 at 12, 0.975 at 16, 0.990 at 24 (the shards' own indexes lose nothing more).
fn default_partition_probes(partitions: usize) -> usize {
    partitions.div_ceil(8).max(16)
}

/// The planning rank of a shard that holds none of the probed partitions.
const OUTSIDE_PROBES: usize = usize::MAX;

/// A data file's URI and a filter's canonical text.
type FilterKey = (String, String);

/// A shard as planning sees it.
#[derive(Debug, Clone)]
struct ShardPlan {
    uri: String,
    path: Path,
    rows: u64,
    /// Centroid and radius of the primary column, when known.
    bound: Option<(Vec<f32>, f32)>,
    /// The table partitions the shard's rows fall in, when recorded.
    occupancy: Option<Occupancy>,
    /// File size from the manifest (no `HEAD` request to open it).
    file_size: u64,
    /// Offset of the AILK section, when the shard summary records it: opening the shard for
    /// its index reads from there to the end (section and footer) in one request.
    section_offset: Option<u64>,
}

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
    schema: SchemaRef,
    plan: Vec<ShardPlan>,
    /// The live data files, in plan order (their manifest column bounds prune filters).
    files: Arc<Vec<LiveFile>>,
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
        let schema = file_schema(table.schema(), &specs)?;
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
            schema,
            plan: Vec::new(),
            files: Arc::default(),
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
        session.files = files?;
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
        session.plan = session.build_plan().await?;
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

    async fn build_plan(&self) -> Result<Vec<ShardPlan>> {
        let files = self.files.clone();
        let summaries = self.table.shard_summaries().await?;
        let summaries: HashMap<&str, &ailk_catalog::ShardSummary> =
            summaries.iter().flat_map(|s| s.iter()).map(|s| (s.file_path.as_str(), s)).collect();
        let primary = &self.specs[0].name;
        let mut plan = Vec::with_capacity(files.len());
        for f in files.iter() {
            let uri = f.path().to_string();
            let path = self.table.warehouse().path_of(&uri)?;
            let occupancy = summaries.get(uri.as_str()).and_then(|s| s.occupancy.clone());
            let file_size = f.data_file.file_size_in_bytes();
            let section_offset =
                summaries.get(uri.as_str()).and_then(|s| s.section).map(|(offset, _)| offset);
            let bound = match summaries.get(uri.as_str()) {
                Some(s) if &s.column == primary && !s.centroid.is_empty() => {
                    Some((s.centroid.clone(), s.radius))
                }
                Some(_) => None,
                None => {
                    // No summary recorded: read the file's own directory (footer fallback). An
                    // unreadable file is planned without a bound; searching it decides.
                    match self.reader(&uri, &path, file_size).await {
                        Ok(reader) => reader
                            .directory()
                            .and_then(|d| d.primary())
                            .map(|c| (c.centroid.clone(), c.radius)),
                        Err(e) if e.kind() == ErrorKind::Corrupt => None,
                        Err(e) => return Err(e),
                    }
                }
            };
            plan.push(ShardPlan {
                uri,
                path,
                rows: f.data_file.record_count(),
                bound,
                occupancy,
                file_size,
                section_offset,
            });
        }
        Ok(plan)
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
        self.plan.iter().map(|p| p.rows).sum::<u64>().saturating_sub(self.deletes.total())
    }

    /// Rows of the snapshot's data files removed by position deletes.
    pub fn deleted_row_count(&self) -> u64 {
        self.deletes.total()
    }

    /// The vector columns of the table, primary first.
    pub fn vector_columns(&self) -> &[VectorSpec] {
        &self.specs
    }

    /// Counters accumulated by this session's searches.
    pub fn counters(&self) -> CounterSnapshot {
        let (requests, bytes) = self.io.snapshot();
        self.counters.snapshot(bytes, requests)
    }

    /// The shard's footer and section directory, read once per session (one ranged read of
    /// the file's tail; the size comes from the manifest).
    async fn reader(&self, uri: &str, path: &Path, file_size: u64) -> Result<Arc<ShardReader>> {
        if let Some(r) = self.cached_reader(uri) {
            return Ok(r);
        }
        // Data files are immutable: a footer another session decoded serves this one, reading
        // through this session's store.
        let r = match self.cache.get_reader(uri) {
            Some(r) => Arc::new(r.with_store(self.cached.clone())),
            None => {
                let opts = ReadOptions { file_size: Some(file_size), ..ReadOptions::default() };
                let r = ShardReader::open(self.cached.clone(), path.clone(), opts).await?;
                self.cache.insert_reader(uri, Arc::new(r.without_tail()));
                Arc::new(r)
            }
        };
        self.readers.lock().unwrap_or_else(|e| e.into_inner()).insert(uri.to_string(), r.clone());
        Ok(r)
    }

    fn cached_reader(&self, uri: &str) -> Option<Arc<ShardReader>> {
        self.readers.lock().unwrap_or_else(|e| e.into_inner()).get(uri).cloned()
    }

    /// Opens a cold shard with its tail from `offset` (its section) to the end: from the
    /// disk cache when it holds it, else in one read from the store (then kept on disk).
    async fn open_tail(&self, plan: &ShardPlan, offset: u64) -> Result<ShardReader> {
        let disk = self.cache.disk();
        if let Some(disk) = disk {
            if let Some(bytes) = disk.get(&plan.uri, plan.file_size, offset).await {
                match ShardReader::from_tail(self.store.clone(), plan.path.clone(), plan.file_size, bytes)
                    .await
                {
                    Ok(reader) => return Ok(reader),
                    Err(e) => {
                        tracing::warn!(file = %plan.uri, error = %e, "disk cache entry unreadable; reading the shard");
                        disk.remove(&plan.uri, plan.file_size, offset);
                    }
                }
            }
        }
        let opts =
            ReadOptions { file_size: Some(plan.file_size), prefetch: plan.file_size.saturating_sub(offset) };
        let reader = ShardReader::open(self.store.clone(), plan.path.clone(), opts).await?;
        if let Some(disk) = disk {
            let (start, bytes) = reader.tail();
            if start == offset {
                disk.put(&plan.uri, plan.file_size, offset, bytes.clone());
            }
        }
        Ok(reader)
    }

    async fn shard(&self, plan: &ShardPlan, spec: &VectorSpec) -> Result<Arc<LoadedShard>> {
        let key = (plan.uri.clone(), spec.name.clone());
        let cached = self.cache.get(&key);
        // The footer: this session's, else one decoded before in this process (data files
        // are immutable), else read.
        let reader = match (&cached, self.cached_reader(&plan.uri), plan.section_offset) {
            (_, Some(reader), _) => reader,
            // A cold shard whose section offset is known: one read from the section to the end
            // of the file brings the footer, the directory and every payload the index needs.
            (None, None, Some(offset)) if plan.file_size.saturating_sub(offset) <= SPECULATIVE_READ_MAX => {
                let reader = self.open_tail(plan, offset).await?;
                // The session keeps the footer and directory, not the section bytes (the
                // loaded index holds what it needs, within the cache's budget).
                let kept = Arc::new(reader.without_tail());
                self.cache.insert_reader(&plan.uri, kept.clone());
                self.readers.lock().unwrap_or_else(|e| e.into_inner()).insert(plan.uri.clone(), kept);
                Arc::new(reader)
            }
            _ => self.reader(&plan.uri, &plan.path, plan.file_size).await?,
        };
        let shard = match cached {
            Some(shard) => shard,
            None => {
                let field = self.schema.field_with_name(&spec.name)?;
                let shard = Arc::new(load_shard(self.store.clone(), &plan.path, &reader, spec, field).await?);
                self.cache.insert(key.clone(), shard.clone(), shard.memory_bytes());
                shard
            }
        };
        if self.touched.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
            if shard.corrupt {
                SearchCounters::add(&self.counters.corrupt, 1);
            }
            SearchCounters::add(&self.counters.rows_without_vector, shard.excluded.len() as u64);
        }
        Ok(shard)
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
        let rows: u64 = self.plan.iter().map(|p| p.rows).sum();
        let k = k.min(usize::try_from(rows).unwrap_or(usize::MAX)).max(1);
        Ok((spec, q, k))
    }

    /// [`Self::search`] for several queries, one result per query in their order. On a
    /// multi-threaded Tokio runtime the queries are split over as many threads as it has
    /// workers (at most one per core), each searching its share in turn; meanwhile other
    /// futures of the calling task wait (see `tokio::task::block_in_place`). Elsewhere the
    /// queries run concurrently on the calling task.
    pub async fn search_batch(
        &self,
        queries: &[Vec<f32>],
        k: usize,
        params: &SearchParams,
    ) -> Result<Vec<RecordBatch>> {
        use tokio::runtime::{Handle, RuntimeFlavor};
        let handle = Handle::try_current().ok().filter(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // As many threads as the runtime has workers, at most one per core.
        let parallel =
            handle.as_ref().map_or(cores, |h| h.metrics().num_workers().min(cores)).min(queries.len());
        let Some(handle) = handle.filter(|_| parallel > 1) else {
            // The futures are made up front: a stream mapping a borrowing closure is not
            // `Send` for every lifetime, which callers spawning this future need.
            let searches: Vec<_> = queries.iter().map(|q| self.search(q, k, params)).collect();
            return futures::stream::iter(searches).buffered(parallel.max(1)).try_collect().await;
        };
        let share = queries.len().div_ceil(parallel);
        tokio::task::block_in_place(|| {
            std::thread::scope(|scope| {
                let workers: Vec<_> = queries
                    .chunks(share)
                    .map(|part| {
                        let handle = handle.clone();
                        scope.spawn(move || {
                            handle.block_on(async {
                                let mut out = Vec::with_capacity(part.len());
                                for q in part {
                                    out.push(self.search(q, k, params).await?);
                                }
                                Ok::<_, SearchError>(out)
                            })
                        })
                    })
                    .collect();
                let mut out = Vec::with_capacity(queries.len());
                for w in workers {
                    let part =
                        w.join().map_err(|_| SearchError::Internal("a search thread panicked".into()))?;
                    out.extend(part?);
                }
                Ok(out)
            })
        })
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

    /// Distance lower bound of `plan` for the (prepared) query, in the column's distance units.
    fn lower_bound(plan: &ShardPlan, q: &[f32], metric: Metric) -> Option<f32> {
        let (c, r) = plan.bound.as_ref()?;
        if c.len() != q.len() {
            return None;
        }
        let gap = (kernels::l2_sq(q, c).sqrt() - r).max(0.0);
        match metric {
            Metric::L2 => Some(gap * gap),
            Metric::Cosine => Some(gap * gap / 2.0),
            Metric::InnerProduct => None,
        }
    }

    /// The shards in the order a search of `q` visits them, as (plan index, partition rank,
    /// distance lower bound): shards holding the partitions probed first, nearest first.
    fn visit_order(
        &self,
        q: &[f32],
        spec: &VectorSpec,
        params: &SearchParams,
    ) -> Vec<(usize, usize, Option<f32>)> {
        let primary = spec.name == self.specs[0].name;
        // Partition-aware planning: the shards holding the partitions nearest the query, in
        // the order of their nearest such partition; shards without a recorded occupancy
        // (written before the partitions) are always visited.
        let probed: Option<(u32, HashMap<u32, usize>)> = match &self.partitions {
            Some(p) if primary && params.prune => {
                let n = params.partition_probes.unwrap_or_else(|| default_partition_probes(p.len()));
                Some((
                    p.version,
                    p.nearest(q, n).into_iter().enumerate().map(|(rank, id)| (id, rank)).collect(),
                ))
            }
            _ => None,
        };
        let mut order: Vec<(usize, usize, Option<f32>)> = Vec::with_capacity(self.plan.len());
        for (i, plan) in self.plan.iter().enumerate() {
            let rank = match (&probed, &plan.occupancy) {
                (Some((version, ranks)), Some(o)) if o.version == *version => {
                    // A shard holding none of them goes last, and is searched only while
                    // fewer than `k` rows are found (a selective filter, a large `k`).
                    o.counts
                        .iter()
                        .filter_map(|(id, _)| ranks.get(id))
                        .min()
                        .copied()
                        .unwrap_or(OUTSIDE_PROBES)
                }
                _ => 0,
            };
            let lb = if primary && params.prune { Self::lower_bound(plan, q, spec.metric) } else { None };
            order.push((i, rank, lb));
        }
        order.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.unwrap_or(0.0).total_cmp(&b.2.unwrap_or(0.0))));
        order
    }

    /// Global nearest neighbours as (shard index in the plan, row, distance), nearest first;
    /// over the shards in `only` when given.
    async fn nearest(
        &self,
        q: &[f32],
        k: usize,
        spec: &VectorSpec,
        params: &SearchParams,
        only: Option<&HashSet<usize>>,
    ) -> Result<Vec<(usize, Neighbor)>> {
        let mut order = self.visit_order(q, spec, params);
        if let Some(only) = only {
            // The caller chose the shards (one part of a query planned over the whole
            // snapshot, see `search_files`): every one of them is visited as probed.
            order.retain(|(i, ..)| only.contains(i));
            for o in &mut order {
                o.1 = o.1.min(OUTSIDE_PROBES - 1);
            }
        }
        let mut best: Vec<(usize, Neighbor)> = Vec::new();
        let wave = params.concurrency.max(1);
        let local = ["file://", "memory://"].iter().any(|s| self.table.warehouse().root().starts_with(s));
        let io_wave =
            params.io_concurrency.unwrap_or(if local { wave } else { REMOTE_IO_CONCURRENCY }).max(wave);
        let mut next = 0;
        while next < order.len() {
            let kth = (best.len() >= k).then(|| best[k - 1].1.distance);
            let mut batch = Vec::new();
            // A wave holds `concurrency` shards in memory, or up to `io_concurrency` shards
            // when they still have to be loaded (cold shards cost a round trip per wave).
            let mut in_memory = 0;
            while next < order.len() && in_memory < wave && batch.len() < io_wave {
                let (i, rank, lb) = order[next];
                if rank == OUTSIDE_PROBES {
                    if best.len() >= k {
                        next += 1;
                        SearchCounters::add(&self.counters.partition_pruned, 1);
                        continue;
                    }
                    // A shard outside the probed partitions is a fallback: it is searched only
                    // once the shards before it have answered with fewer than `k` rows.
                    if !batch.is_empty() {
                        break;
                    }
                }
                next += 1;
                if params
                    .filter
                    .as_ref()
                    .is_some_and(|f| !may_match(f, &self.files[i].data_file, self.table.schema()))
                {
                    SearchCounters::add(&self.counters.filter_pruned, 1);
                    continue;
                }
                if let (Some(kth), Some(lb)) = (kth, lb) {
                    if lb > kth {
                        SearchCounters::add(&self.counters.pruned, 1);
                        continue;
                    }
                }
                if self.cache.contains(&(self.plan[i].uri.clone(), spec.name.clone())) {
                    in_memory += 1;
                }
                batch.push(i);
                if rank == OUTSIDE_PROBES {
                    break;
                }
            }
            // A wave of one shard searches on this thread: a hop to the blocking pool would
            // cost more than a warm index search.
            let inline = batch.len() == 1;
            let results = futures::future::join_all(
                batch.iter().map(|&i| self.search_shard(i, q, k, spec, params, inline)),
            )
            .await;
            for (i, hits) in batch.into_iter().zip(results) {
                match hits {
                    Ok(hits) => best.extend(hits.into_iter().map(|n| (i, n))),
                    // A file that cannot be read at all (another engine's malformed file) does
                    // not take the rest of the table down, unless the caller asks.
                    Err(e) if !params.strict && e.kind() == ErrorKind::Corrupt => {
                        tracing::warn!(file = %self.plan[i].uri, error = %e, "shard unreadable: left out of the result");
                        SearchCounters::add(&self.counters.skipped, 1);
                    }
                    Err(e) => return Err(e),
                }
            }
            best.sort_by(|a, b| {
                a.1.distance.total_cmp(&b.1.distance).then(a.0.cmp(&b.0)).then(a.1.id.cmp(&b.1.id))
            });
            best.truncate(k);
        }
        Ok(best)
    }

    async fn search_shard(
        &self,
        i: usize,
        q: &[f32],
        k: usize,
        spec: &VectorSpec,
        params: &SearchParams,
        inline: bool,
    ) -> Result<Vec<Neighbor>> {
        let plan = &self.plan[i];
        let shard = self.shard(plan, spec).await?;
        SearchCounters::add(&self.counters.visited, 1);
        let allowed = self.allowed_rows(plan, spec, &shard, params.filter.as_ref()).await?;
        let mut knobs =
            QueryParams { ef: params.ef, nprobe: params.nprobe, refine_factor: params.refine_factor };
        let exact = match &allowed {
            None => false,
            Some(rows) if rows.is_empty() => return Ok(Vec::new()),
            Some(rows) => {
                // Widen the beam / the probes by the inverse selectivity, so the filtered walk
                // meets about as many allowed rows as an unfiltered one meets rows.
                let selectivity = rows.len() as f64 / plan.rows.max(1) as f64;
                let default_ef = match &shard.index {
                    ailk_index::VectorIndex::Hnsw(h) => h.params().ef_search,
                    _ => DEFAULT_EF,
                };
                let ef = params.ef.unwrap_or(default_ef).max(k);
                let widened = ((ef as f64 / selectivity).ceil() as usize).min(plan.rows as usize).max(ef);
                knobs.ef = Some(widened);
                knobs.nprobe = ((params.nprobe as f64 / selectivity).ceil() as usize).max(params.nprobe);
                match params.filter_strategy {
                    FilterStrategy::Exact => true,
                    FilterStrategy::Index => false,
                    // Cost model: an exact scan scores every allowed row once; a graph walk
                    // with beam `ef` scores about `ef × WALK_COST` rows.
                    FilterStrategy::Auto => rows.len() <= widened.saturating_mul(WALK_COST),
                }
            }
        };
        // A shard asked for at least as many rows as it may return answers with every one of
        // them, which no graph walk guarantees: an exact scan (or, with codes only, every
        // list probed).
        // (With allowed rows the index search itself falls back to an exact scan when it meets
        // fewer than `min(k, allowed)` of them.)
        let everything = allowed.is_none() && k >= shard.rows();
        let has_vectors = shard.index.vectors().is_some();
        let allowed = match allowed {
            None if everything && has_vectors && !shard.index.is_flat() => {
                Some(Arc::new(RowFilter::all(shard.rows())))
            }
            allowed => allowed,
        };
        if everything && !has_vectors {
            knobs.nprobe = usize::MAX;
        }
        let exact = exact || shard.index.is_flat() || (everything && has_vectors);
        if exact {
            SearchCounters::add(&self.counters.flat_scanned, 1);
        } else {
            SearchCounters::add(&self.counters.index_searched, 1);
            if allowed.is_some() {
                SearchCounters::add(&self.counters.filtered_index, 1);
            }
        }
        let run = move |q: &[f32]| match &allowed {
            Some(rows) if exact => shard.index.search_exact(q, k, rows),
            allowed => shard.index.search(q, k, &knobs, allowed.as_deref()),
        };
        // Exact scans (unindexed shards, selective filters) may run long: always on the pool.
        if inline && !exact {
            return Ok(run(q)?);
        }
        let q = q.to_vec();
        let task = tokio::task::spawn_blocking(move || run(&q));
        let file = &plan.uri;
        Ok(task.await.map_err(|e| SearchError::Internal(format!("search task of {file}: {e}")))??)
    }

    /// The rows of shard `plan` a search may return — matching `filter`, not deleted, with a
    /// usable vector — or `None` when that is every row.
    /// Without a filter the set depends only on the snapshot and the shard: it is built once
    /// per session, not per query.
    async fn allowed_rows(
        &self,
        plan: &ShardPlan,
        spec: &VectorSpec,
        shard: &LoadedShard,
        filter: Option<&Filter>,
    ) -> Result<Option<Arc<RowFilter>>> {
        let deleted = self.deletes.deleted(&plan.uri);
        if filter.is_none() && deleted.is_empty() && shard.excluded.is_empty() {
            return Ok(None);
        }
        let key = (plan.uri.clone(), spec.name.clone());
        if filter.is_none() {
            if let Some(rows) = self.unfiltered.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
                return Ok(Some(rows.clone()));
            }
        }
        // The index's rows, not the manifest's count: a record count is not trusted to size
        // anything.
        let total = shard.rows();
        let mut rows = match filter {
            Some(f) => RowFilter::from_rows(self.filter_matches(plan, f).await?.iter().copied(), total),
            None => RowFilter::all(total),
        };
        rows.remove(deleted.iter().map(|&p| p.min(u64::from(u32::MAX)) as u32));
        rows.remove(shard.excluded.iter().copied());
        let rows = Arc::new(rows);
        if filter.is_none() {
            self.unfiltered.lock().unwrap_or_else(|e| e.into_inner()).insert(key, rows.clone());
        }
        Ok(Some(rows))
    }

    /// Rows of shard `plan` matching `filter`, read once per session (only its columns).
    async fn filter_matches(&self, plan: &ShardPlan, filter: &Filter) -> Result<Arc<Vec<u32>>> {
        let key = (plan.uri.clone(), format!("{filter:?}"));
        if let Some(rows) = self.filter_rows.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(rows.clone());
        }
        let reader = self.reader(&plan.uri, &plan.path, plan.file_size).await?;
        let fields = filter_fields(filter, &self.schema)?;
        let rows = Arc::new(matching_rows(self.cached.clone(), &plan.path, &reader, filter, &fields).await?);
        let mut cache = self.filter_rows.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= FILTER_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, rows.clone());
        Ok(rows)
    }
}

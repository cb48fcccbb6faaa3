//! The partition-block path: for clustered files (their summaries record a [`BlockLayout`] of
//! the table's current partitions version), a query reads only the blocks of the partitions it
//! probes — from the block cache, else one wave of ranged reads across files (coalesced per
//! file) — scans their RaBitQ codes, refines the estimates the 1-bit bound keeps with the
//! blocks' 4-bit codes (code kind 2), and re-ranks the candidates whose error bound may still
//! beat the k-th exact distance with exact vectors read row by row (each checked against the
//! CRC its block records). A file whose whole index is in memory while some probed block is
//! not is left to the whole-file path (the planner: no I/O beats a read). A block or vector
//! that fails its check is never used: those rows are searched exactly through the whole shard
//! instead, and counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use ailk_format::object_store::path::Path;
use bytes::Bytes;

use ailk_catalog::{BlockEntry, BlockLayout, VectorSpec};
use ailk_format::CodeBlockParts;
use ailk_index::{kernels, CodeBlock, Estimate, Neighbor, RotatedQuery, Rotation, RowFilter};

use super::plan::default_block_probes;
use super::SearchSession;
use crate::cache::store::range_key;
use crate::error::Result;
use crate::filter::prune::may_match;
use crate::params::{SearchCounters, SearchParams};

/// Re-ranking rounds at most; the last takes every candidate its bound keeps.
const RERANK_ROUNDS: usize = 4;

/// What the block path found.
pub(super) struct BlockResult {
    /// Exact nearest rows, nearest first, as (shard, neighbour).
    pub(super) hits: Vec<(usize, Neighbor)>,
    /// Shards the block path answered for (every shard with blocks of the current version).
    pub(super) shards: HashSet<usize>,
    /// Block shards holding probed partitions that the planner left to the whole-file path:
    /// it must visit them as probed shards.
    pub(super) whole: HashSet<usize>,
}

/// The blocks a query scanned, by shard (their rows' vector CRCs check re-ranking reads).
type Scanned = HashMap<usize, Vec<Arc<CodeBlock>>>;

/// What the scan of a query's blocks found, for re-ranking.
struct Found {
    /// Estimates of the scanned blocks' rows, as (shard, estimate).
    estimates: Vec<(usize, Estimate)>,
    /// Exact distances already known (rows of blocks that failed their checks).
    exact: Vec<(usize, Neighbor)>,
    /// The scanned blocks.
    scanned: Scanned,
    /// Whether some block was read from the store (the query is not served from memory).
    read: bool,
}

/// One probed block of one shard.
struct Job {
    shard: usize,
    entry: BlockEntry,
}

impl SearchSession {
    /// How many partitions a query of `spec` probes through blocks, when the block path
    /// applies: the primary column, pruning on, blocks allowed, the table's partitions known
    /// and some file with blocks of their version.
    pub(super) fn block_probes(&self, spec: &VectorSpec, params: &SearchParams) -> Option<usize> {
        let p = self.partitions.as_ref()?;
        if !params.partition_blocks || !params.prune || spec.name != self.specs[0].name {
            return None;
        }
        if !self.plan.iter().any(|s| s.blocks.as_ref().is_some_and(|b| b.version == p.version)) {
            return None;
        }
        Some(params.partition_probes.unwrap_or_else(|| default_block_probes(p.len())))
    }

    /// The `k` nearest rows of the `probes` partitions nearest `q` over the shards with blocks
    /// (more partitions for a filter, by the inverse of the share of rows it lets through).
    pub(super) async fn search_blocks(
        &self,
        q: &[f32],
        k: usize,
        spec: &VectorSpec,
        params: &SearchParams,
        probes: usize,
    ) -> Result<BlockResult> {
        let Some(partitions) = self.partitions.as_ref() else {
            return Ok(BlockResult { hits: Vec::new(), shards: HashSet::new(), whole: HashSet::new() });
        };
        let version = partitions.version;
        let (mut shards, mut whole) = (HashSet::new(), HashSet::new());
        let mut candidates = Vec::new();
        for (i, plan) in self.plan.iter().enumerate() {
            if plan.blocks.as_ref().is_none_or(|b| b.version != version) {
                continue;
            }
            shards.insert(i);
            if params
                .filter
                .as_ref()
                .is_some_and(|f| !may_match(f, &plan.file.data_file, self.table.schema()))
            {
                SearchCounters::add(&self.counters.shards_pruned_by_filter, 1);
                continue;
            }
            candidates.push(i);
        }
        let mut allowed: HashMap<usize, Option<Arc<RowFilter>>> = HashMap::new();
        let mut probes = probes;
        if params.filter.is_some() {
            // The filter's matches in every candidate shard (each read once per session):
            // widen the probes so about as many allowed rows are seen as unfiltered rows.
            let (mut kept, mut total) = (0usize, 0usize);
            for &i in &candidates {
                let layout = self.plan[i].blocks.as_ref().expect("a candidate has blocks");
                let rows = self.block_rows_allowed(i, layout, params).await?;
                total += layout.rows() as usize;
                kept += rows.as_ref().map_or(layout.rows() as usize, |r| r.len());
                allowed.insert(i, rows);
            }
            let share = kept.max(1) as f64 / total.max(1) as f64;
            probes = ((probes as f64 / share).ceil() as usize).min(partitions.len());
        }
        // Partition ids index a bitmap (ids are below the partition count; others never match).
        let mut probed = vec![false; partitions.len()];
        partitions.nearest(q, probes).into_iter().for_each(|p| probed[p as usize] = true);
        let mut jobs = Vec::new();
        for &i in &candidates {
            let layout = self.plan[i].blocks.as_ref().expect("a candidate has blocks");
            let before = jobs.len();
            jobs.extend(
                layout
                    .blocks
                    .iter()
                    .filter(|b| probed.get(b.partition as usize).copied().unwrap_or(false))
                    .map(|&entry| Job { shard: i, entry }),
            );
            if jobs.len() == before {
                SearchCounters::add(&self.counters.shards_pruned_by_partition, 1);
            } else if self.whole_is_cheaper(i, spec, &jobs[before..]) {
                // Left to the whole-file path, which visits it as any probed shard.
                jobs.truncate(before);
                shards.remove(&i);
                whole.insert(i);
                SearchCounters::add(&self.counters.shards_planned_whole, 1);
            }
        }
        let (blocks, read) = self.load_blocks(&jobs).await?;
        let mut estimates: Vec<(usize, Estimate)> = Vec::new();
        let mut exact: Vec<(usize, Neighbor)> = Vec::new();
        // The query rotated once per rotation seed (one per table unless files differ).
        let mut queries: Vec<(u64, RotatedQuery)> = Vec::new();
        let mut scanned = Scanned::new();
        let mut found = Vec::new();
        // Per scanned block: its query's index in `queries` and its rows' span of `estimates`.
        let mut spans: Vec<(Arc<CodeBlock>, usize, Range<usize>)> = Vec::new();
        for (job, block) in jobs.iter().zip(&blocks) {
            let layout = self.plan[job.shard].blocks.as_ref().expect("a job's shard has blocks");
            if let std::collections::hash_map::Entry::Vacant(slot) = allowed.entry(job.shard) {
                slot.insert(self.block_rows_allowed(job.shard, layout, params).await?);
            }
            let rows = allowed[&job.shard].as_deref();
            match block {
                Some(block) => {
                    let at = match queries.iter().position(|(seed, _)| *seed == layout.seed) {
                        Some(at) => at,
                        None => {
                            let rotation = Rotation::new(spec.dim as usize, layout.seed);
                            queries.push((layout.seed, RotatedQuery::new(q, spec.metric, &rotation)));
                            queries.len() - 1
                        }
                    };
                    found.clear();
                    block.scan(&queries[at].1, rows, &mut found);
                    let start = estimates.len();
                    estimates.extend(found.iter().map(|&e| (job.shard, e)));
                    spans.push((block.clone(), at, start..estimates.len()));
                    scanned.entry(job.shard).or_default().push(block.clone());
                    SearchCounters::add(&self.counters.blocks_scanned, 1);
                }
                None => {
                    // A block that failed its checks: its rows, exactly, through the shard.
                    SearchCounters::add(&self.counters.blocks_corrupt, 1);
                    let e = job.entry;
                    let range = e.row_start..e.row_start + e.rows;
                    let found = self.exact_rows(job.shard, spec, q, k, range, rows).await?;
                    exact.extend(found.into_iter().map(|n| (job.shard, n)));
                }
            }
        }
        if params.refine_block_codes {
            self.refine(k, &queries, &spans, &mut estimates);
        }
        let hits = self.rerank(q, k, spec, params, Found { estimates, exact, scanned, read }).await?;
        Ok(BlockResult { hits, shards, whole })
    }

    /// Refines, with their blocks' 4-bit codes, the estimates whose 1-bit lower bound is below
    /// the k-th smallest upper bound (the others cannot be among the k nearest, w.h.p.).
    fn refine(
        &self,
        k: usize,
        queries: &[(u64, RotatedQuery)],
        spans: &[(Arc<CodeBlock>, usize, Range<usize>)],
        estimates: &mut [(usize, Estimate)],
    ) {
        if !spans.iter().any(|(b, _, _)| b.refines()) {
            return;
        }
        let Some(threshold) = kth_upper(estimates, k) else { return };
        let (mut picked, mut refined) = (Vec::new(), 0u64);
        for (block, at, span) in spans.iter().filter(|(b, _, _)| b.refines()) {
            let rows = &mut estimates[span.clone()];
            picked.clear();
            picked.extend(rows.iter().filter(|(_, e)| e.lower <= threshold).map(|(_, e)| *e));
            if picked.is_empty() {
                continue;
            }
            block.refine(&queries[*at].1, &mut picked);
            refined += picked.len() as u64;
            let mut next = picked.iter();
            for (_, e) in rows.iter_mut().filter(|(_, e)| e.lower <= threshold) {
                *e = *next.next().expect("one refined estimate per picked row");
            }
        }
        SearchCounters::add(&self.counters.rows_refined, refined);
    }

    /// The planner's choice for one block shard: its whole-file index when that is in memory
    /// already and some of its probed blocks (`jobs`) would have to be read — a search of the
    /// loaded index costs no I/O — else its blocks (in memory, a block scan costs less).
    fn whole_is_cheaper(&self, shard: usize, spec: &VectorSpec, jobs: &[Job]) -> bool {
        let uri = self.plan[shard].uri();
        self.cache.contains(&(uri.to_string(), spec.name.clone()))
            && !self.cache.contains_blocks(uri, jobs.iter().map(|j| j.entry.offset))
    }

    /// The decoded blocks of `jobs` (`None` for one that fails its checks): from the cache,
    /// else read — every file's missing blocks at once, in one ranged request per file
    /// (adjacent blocks coalesced by the store). Only checked blocks enter the cache. Also
    /// says whether any block was read.
    async fn load_blocks(&self, jobs: &[Job]) -> Result<(Vec<Option<Arc<CodeBlock>>>, bool)> {
        let mut out: Vec<Option<Arc<CodeBlock>>> = vec![None; jobs.len()];
        let mut missing: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        // Jobs come grouped by shard: one cache lookup per shard.
        let mut start = 0;
        while start < jobs.len() {
            let shard = jobs[start].shard;
            let end = start + jobs[start..].iter().take_while(|j| j.shard == shard).count();
            let offsets = jobs[start..end].iter().map(|j| j.entry.offset);
            for (j, got) in (start..end).zip(self.cache.get_blocks(self.plan[shard].uri(), offsets)) {
                match got {
                    Some(b) => out[j] = Some(b),
                    None => missing.entry(shard).or_default().push(j),
                }
            }
            start = end;
        }
        let read = !missing.is_empty();
        let reads = missing.into_iter().map(|(shard, js)| async move {
            let plan = &self.plan[shard];
            let ranges: Vec<_> = js
                .iter()
                .map(|&j| jobs[j].entry.offset..jobs[j].entry.offset + jobs[j].entry.length)
                .collect();
            // The file's footer in the same wave: the row fetch of the winners needs it.
            let (bytes, _) = futures::future::join(
                self.read_coalesced(&plan.path, &ranges, BLOCK_GAP),
                self.footer(shard),
            )
            .await;
            Ok::<_, crate::SearchError>((js, bytes?))
        });
        for read in futures::future::join_all(reads).await {
            let (js, bytes) = read?;
            for (j, bytes) in js.into_iter().zip(bytes) {
                let job = &jobs[j];
                let layout = self.plan[job.shard].blocks.as_ref().expect("a job's shard has blocks");
                SearchCounters::add(&self.counters.blocks_read, 1);
                match decode_block(&bytes, &job.entry, layout) {
                    Ok(block) => {
                        let block = Arc::new(block);
                        self.cache.insert_block(self.plan[job.shard].uri(), job.entry.offset, block.clone());
                        out[j] = Some(block);
                    }
                    Err(why) => {
                        tracing::warn!(file = %self.plan[job.shard].uri(), partition = job.entry.partition, %why, "partition block unusable; its rows are searched exactly");
                    }
                }
            }
        }
        Ok((out, read))
    }

    /// The rows of a block shard a search may return (filter matches less deleted rows), or
    /// `None` for all of them.
    async fn block_rows_allowed(
        &self,
        shard: usize,
        layout: &BlockLayout,
        params: &SearchParams,
    ) -> Result<Option<Arc<RowFilter>>> {
        let plan = &self.plan[shard];
        let deleted = self.deletes.deleted(plan.uri());
        if params.filter.is_none() && deleted.is_empty() {
            return Ok(None);
        }
        let total = layout.rows() as usize;
        let mut rows = match &params.filter {
            Some(f) => RowFilter::from_rows(self.filter_matches(plan, f).await?.iter().copied(), total),
            None => RowFilter::all(total),
        };
        rows.remove(deleted.iter().map(|&p| p.min(u64::from(u32::MAX)) as u32));
        Ok(Some(Arc::new(rows)))
    }

    /// The `k` nearest of rows `range` of shard `shard` (those in `allowed`), scored exactly
    /// through the whole shard's index (loaded as any shard is; an unusable section is served
    /// from the Parquet column).
    async fn exact_rows(
        &self,
        shard: usize,
        spec: &VectorSpec,
        q: &[f32],
        k: usize,
        range: std::ops::Range<u32>,
        allowed: Option<&RowFilter>,
    ) -> Result<Vec<Neighbor>> {
        let loaded = self.shard(&self.plan[shard], spec).await?;
        let total = loaded.rows();
        let rows = range
            .filter(|r| allowed.is_none_or(|a| a.contains(*r)) && loaded.excluded.binary_search(r).is_err());
        let rows = RowFilter::from_rows(rows, total);
        Ok(loaded.index.search_exact(q, k, &rows)?)
    }

    /// Exact top `k` from block estimates: candidates in estimate order, re-ranked in rounds
    /// until no candidate left has a lower bound below the k-th exact distance.
    async fn rerank(
        &self,
        q: &[f32],
        k: usize,
        spec: &VectorSpec,
        params: &SearchParams,
        found: Found,
    ) -> Result<Vec<(usize, Neighbor)>> {
        let Found { mut estimates, mut exact, scanned, read } = found;
        // Round trips are dear on object storage; on a local disk fewer rows win.
        let one_wave = params.rerank_in_one_wave.unwrap_or(!self.in_process_store());
        let first = k.saturating_mul(params.refine_factor.max(1)).max(k + 8);
        // The best `first` estimates in order; the rest (later rounds take those whose bound
        // still allows them) need no order.
        let by_distance =
            |a: &(usize, Estimate), b: &(usize, Estimate)| a.1.distance.total_cmp(&b.1.distance);
        if estimates.len() > first {
            estimates.select_nth_unstable_by(first, by_distance);
            estimates[..first].sort_by(by_distance);
        } else {
            estimates.sort_by(by_distance);
        }
        let mut taken = vec![false; estimates.len()];
        let sort = |v: &mut Vec<(usize, Neighbor)>| {
            v.sort_by(|a, b| {
                a.1.distance.total_cmp(&b.1.distance).then(a.0.cmp(&b.0)).then(a.1.id.cmp(&b.1.id))
            })
        };
        sort(&mut exact);
        // Before any exact distance is known, the k-th best estimate stands in for the k-th
        // distance: the first round takes every candidate whose bound reaches it (so one
        // round usually settles the query), at most 8 × `first`.
        let guess = estimates.get(k.min(first).saturating_sub(1)).map(|e| e.1.distance);
        // On object storage, when vectors must be read (a block was read, or the best
        // candidate's vector is not cached), one wave should settle the query: the k-th exact
        // distance is at most the k-th smallest upper bound (w.h.p.), so the first round takes
        // every candidate whose lower bound is below that (at most 16 × `first`) rather than
        // pay a round trip per round.
        let must_read = read || estimates.first().is_some_and(|&c| !self.vector_cached(spec, c));
        let first_round = match kth_upper(&estimates, k) {
            Some(widest) if one_wave && must_read => (Some(widest), 16 * first),
            _ => (guess, 8 * first),
        };
        for round in 0..RERANK_ROUNDS {
            let known = (exact.len() >= k).then(|| exact[k - 1].1.distance);
            let (kth, cap) = match (round, known) {
                (0, None) => first_round,
                (_, kth) => (kth, first),
            };
            let last = round + 1 == RERANK_ROUNDS;
            let mut batch = Vec::new();
            for (c, (_, e)) in estimates.iter().enumerate() {
                // A candidate whose lower bound exceeds the k-th exact distance cannot enter.
                if taken[c] || kth.is_some_and(|kth| e.lower > kth) {
                    continue;
                }
                if !last && batch.len() >= cap {
                    break;
                }
                batch.push(c);
            }
            if batch.is_empty() {
                break;
            }
            batch.iter().for_each(|&c| taken[c] = true);
            let rows: Vec<(usize, u32)> =
                batch.iter().map(|&c| (estimates[c].0, estimates[c].1.row)).collect();
            exact.extend(self.exact_distances(q, spec, &rows, &scanned).await?);
            sort(&mut exact);
            exact.truncate(k);
        }
        sort(&mut exact);
        exact.truncate(k);
        Ok(exact)
    }

    /// Whether the table's warehouse reads in process: made by `Warehouse::local` or
    /// `Warehouse::memory` (a store given by the caller is treated as remote, whatever its root
    /// says: it may be a wrapper, a cache or a simulated object store).
    pub(super) fn in_process_store(&self) -> bool {
        self.table.warehouse().in_process()
    }

    /// Whether the exact vector of candidate `(shard, estimate)` is in memory (its shard's
    /// index loaded, or its range cached).
    fn vector_cached(&self, spec: &VectorSpec, (shard, e): (usize, Estimate)) -> bool {
        let plan = &self.plan[shard];
        let Some(layout) = plan.blocks.as_ref() else { return false };
        if self.cache.contains(&(plan.uri().to_string(), spec.name.clone())) {
            return true;
        }
        let r = layout.vector_range(e.row);
        self.cache.contains_range(&range_key(self.table.warehouse().root(), &plan.path), r.start, r.end)
    }

    /// Exact distances of `rows` (shard, row): vectors from a shard already in memory, else
    /// read by range (cached), each checked against its block's CRC; a shard whose vector
    /// fails the check is loaded whole (an unusable section is served from Parquet).
    async fn exact_distances(
        &self,
        q: &[f32],
        spec: &VectorSpec,
        rows: &[(usize, u32)],
        scanned: &Scanned,
    ) -> Result<Vec<(usize, Neighbor)>> {
        let mut by_shard: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        rows.iter().for_each(|&(s, r)| by_shard.entry(s).or_default().push(r));
        SearchCounters::add(&self.counters.rows_reranked, rows.len() as u64);
        let reads = by_shard.into_iter().map(|(shard, rows)| async move {
            let plan = &self.plan[shard];
            let key = (plan.uri().to_string(), spec.name.clone());
            if let Some(loaded) = self.cache.get(&key).filter(|l| l.index.vectors().is_some()) {
                return Ok::<_, crate::SearchError>(score_loaded(q, spec, shard, &rows, &loaded.index));
            }
            let layout = plan.blocks.as_ref().expect("a block shard");
            let ranges: Vec<_> = rows.iter().map(|&r| layout.vector_range(r)).collect();
            let bytes = self.vectors_of(&plan.path, &ranges).await?;
            let mut out = Vec::with_capacity(rows.len());
            let blocks = scanned.get(&shard).map_or(&[][..], Vec::as_slice);
            let mut v = Vec::with_capacity(spec.dim as usize);
            for (&row, bytes) in rows.iter().zip(&bytes) {
                v.clear();
                v.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))));
                let crc = blocks.iter().find(|b| b.row_range().contains(&row)).and_then(|b| b.vector_crc(row));
                if v.len() != spec.dim as usize || crc != Some(ailk_format::vector_crc(&v)) {
                    tracing::warn!(file = %plan.uri(), row, "re-ranking vector fails its checksum; using the whole shard");
                    SearchCounters::add(&self.counters.blocks_corrupt, 1);
                    let loaded = self.shard(plan, spec).await?;
                    return Ok(score_loaded(q, spec, shard, &rows, &loaded.index));
                }
                out.push((shard, Neighbor { id: row, distance: kernels::distance(spec.metric, q, &v) }));
            }
            Ok(out)
        });
        let mut out = Vec::with_capacity(rows.len());
        for read in futures::future::join_all(reads).await {
            out.extend(read?);
        }
        Ok(out)
    }
}

/// Gap up to which neighbouring block reads of one file are merged into one request.
const BLOCK_GAP: u64 = 16 << 10;
/// Gap up to which neighbouring re-ranking vector reads of one file are merged (measured on
/// 100k × 128: a 16 KiB gap read 5× the bytes out of cache for one request in ten saved).
const VECTOR_GAP: u64 = 4 << 10;
/// Bytes of a block file's tail read for its footer (its footer is small: few columns, one
/// row group per few thousand rows); a larger footer costs a second read.
const FOOTER_PREFETCH: u64 = 16 << 10;

impl SearchSession {
    /// Opens shard `shard`'s footer and page index when no session has them yet (errors are
    /// left to the row fetch, which opens it again).
    async fn footer(&self, shard: usize) {
        let plan = &self.plan[shard];
        if self.cache.get_reader(plan.uri()).is_some() {
            return;
        }
        let opts = ailk_format::ReadOptions { file_size: Some(plan.file_size()), prefetch: FOOTER_PREFETCH };
        if let Ok(r) = ailk_format::ShardReader::open(self.cached.clone(), plan.path.clone(), opts).await {
            // The page offset index too (it lies just before the footer, in the tail read):
            // the row fetch of a large file's winners then reads their pages at once.
            let _ = r.paged_metadata().await;
            self.cache.insert_reader(plan.uri(), Arc::new(r.without_tail()));
        }
    }

    /// The bytes of `ranges` of the object at `path` (re-ranking vectors): from the range
    /// cache, the misses read in one wave (neighbours merged) and then kept.
    async fn vectors_of(&self, path: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let key = range_key(self.table.warehouse().root(), path);
        let mut out = self.cache.get_ranges(&key, ranges);
        let missing: Vec<Range<u64>> =
            ranges.iter().zip(&out).filter(|(_, b)| b.is_none()).map(|(r, _)| r.clone()).collect();
        if !missing.is_empty() {
            let mut read = self.read_coalesced(path, &missing, VECTOR_GAP).await?.into_iter();
            for (slot, r) in out.iter_mut().zip(ranges).filter(|(s, _)| s.is_none()) {
                let bytes = read.next().unwrap_or_default();
                self.cache.insert_range(&key, r.start, r.end, bytes.clone(), None);
                *slot = Some(bytes);
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }
}

/// The k-th smallest upper bound (estimate plus its error) of `estimates`, when there are k.
fn kth_upper(estimates: &[(usize, Estimate)], k: usize) -> Option<f32> {
    let mut upper: Vec<f32> = estimates.iter().map(|(_, e)| 2.0 * e.distance - e.lower).collect();
    if k == 0 || upper.len() < k {
        return None;
    }
    Some(*upper.select_nth_unstable_by(k - 1, f32::total_cmp).1)
}

/// Exact distances of `rows` of `shard` from a loaded index's vectors (rows it lacks are left out).
fn score_loaded(
    q: &[f32],
    spec: &VectorSpec,
    shard: usize,
    rows: &[u32],
    index: &ailk_index::VectorIndex,
) -> Vec<(usize, Neighbor)> {
    let (Some(vectors), dim) = (index.vectors(), spec.dim as usize) else { return Vec::new() };
    rows.iter()
        .filter_map(|&r| {
            let v = vectors.get(r as usize * dim..(r as usize + 1) * dim)?;
            Some((shard, Neighbor { id: r, distance: kernels::distance(spec.metric, q, v) }))
        })
        .collect()
}

/// One block's bytes, checked (CRC, shape, and that it is the block the layout names).
fn decode_block(
    bytes: &[u8],
    entry: &BlockEntry,
    layout: &BlockLayout,
) -> std::result::Result<CodeBlock, String> {
    let parts = CodeBlockParts::parse(bytes).map_err(|e| e.to_string())?;
    if parts.partition != entry.partition || parts.row_start != entry.row_start || parts.rows() != entry.rows
    {
        return Err("the block is not the one its layout names".into());
    }
    let rotation = Rotation::new(layout.dim as usize, layout.seed);
    CodeBlock::new(parts, &rotation).map_err(|e| e.to_string())
}

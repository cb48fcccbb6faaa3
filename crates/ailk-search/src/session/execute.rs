//! Executing a planned query: shards visited in waves in their planned order, each searched
//! with its index over the rows it may return (filter matches less deletes and unusable
//! vectors), pruned once `k` results beat their lower bound, merged nearest first.

use std::collections::HashSet;
use std::sync::Arc;

use ailk_catalog::VectorSpec;
use ailk_format::sync::lock;
use ailk_format::ErrorKind;
use ailk_index::{Neighbor, QueryParams, RowFilter};

use super::plan::{ShardPlan, Visit, OUTSIDE_PROBES};
use super::SearchSession;
use crate::error::{Result, SearchError};
use crate::filter::prune::may_match;
use crate::filter::rows::{filter_fields, matching_rows};
use crate::filter::Filter;
use crate::params::{FilterStrategy, SearchCounters, SearchParams};
use crate::shard::LoadedShard;

/// Rows an exact scan scores in the time a filtered graph walk spends per unit of beam width,
/// for the exact-or-index choice: measured on the real 384-d set (`cargo xtask bench --only
/// filtered`), a walk with beam 32 beat the exact scan of 2,500 rows and one with beam 64 lost
/// to it, so the break-even is near 2,500 / 48.
const WALK_COST: usize = 48;
/// (file, filter) row sets a session keeps before starting over.
const FILTER_CACHE_ENTRIES: usize = 4096;

/// Cold shards loaded at once from an object store (see `SearchParams::io_concurrency`).
const REMOTE_IO_CONCURRENCY: usize = 32;

impl SearchSession {
    /// Global nearest neighbours as (shard index in the plan, row, distance), nearest first;
    /// over the shards in `only` when given.
    pub(super) async fn nearest(
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
            order.retain(|v| only.contains(&v.shard));
            for v in &mut order {
                v.rank = v.rank.min(OUTSIDE_PROBES - 1);
            }
        }
        let mut best: Vec<(usize, Neighbor)> = Vec::new();
        // Clustered files answer through their partition blocks (the probed partitions
        // only); the rest of the table through the shard path below. Should the blocks yield
        // fewer than `k` rows (a selective filter, a large `k`), every shard is searched
        // whole as well, and rows found twice are kept once.
        let mut found: HashSet<(usize, u32)> = HashSet::new();
        if only.is_none() {
            if let Some(probes) = self.block_probes(spec, params) {
                let blocks = self.search_blocks(q, k, spec, params, probes).await?;
                for v in order.iter_mut().filter(|v| blocks.whole.contains(&v.shard)) {
                    v.rank = v.rank.min(OUTSIDE_PROBES - 1);
                }
                best = blocks.hits;
                if best.len() >= k {
                    order.retain(|v| !blocks.shards.contains(&v.shard));
                } else {
                    found = best.iter().map(|(i, n)| (*i, n.id)).collect();
                }
            }
        }
        let wave = params.concurrency.max(1);
        let local = self.in_process_store();
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
                let Visit { shard: i, rank, lower_bound: lb } = order[next];
                if rank == OUTSIDE_PROBES {
                    if best.len() >= k {
                        next += 1;
                        SearchCounters::add(&self.counters.shards_pruned_by_partition, 1);
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
                    .is_some_and(|f| !may_match(f, &self.plan[i].file.data_file, self.table.schema()))
                {
                    SearchCounters::add(&self.counters.shards_pruned_by_filter, 1);
                    continue;
                }
                if let (Some(kth), Some(lb)) = (kth, lb) {
                    if lb > kth {
                        SearchCounters::add(&self.counters.shards_pruned, 1);
                        continue;
                    }
                }
                if self.cache.contains(&(self.plan[i].uri().to_string(), spec.name.clone())) {
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
                    Ok(hits) => {
                        best.extend(hits.into_iter().filter(|n| !found.contains(&(i, n.id))).map(|n| (i, n)))
                    }
                    // A file that cannot be read at all (another engine's malformed file) does
                    // not take the rest of the table down, unless the caller asks.
                    Err(e) if !params.strict && e.kind() == ErrorKind::Corrupt => {
                        tracing::warn!(file = %self.plan[i].uri(), error = %e, "shard unreadable: left out of the result");
                        SearchCounters::add(&self.counters.shards_skipped, 1);
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

    /// The `k` nearest allowed rows of shard `i`: its index searched (walk, probes, or an
    /// exact scan when a filter is selective or `k` covers the shard), on the blocking pool
    /// unless `inline`.
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
        SearchCounters::add(&self.counters.shards_visited, 1);
        let allowed = self.allowed_rows(plan, spec, &shard, params.filter.as_ref()).await?;
        let mut knobs =
            QueryParams { ef: params.ef, nprobe: params.nprobe, refine_factor: params.refine_factor };
        let exact = match &allowed {
            None => false,
            Some(rows) if rows.is_empty() => return Ok(Vec::new()),
            Some(rows) => {
                // Widen the beam / the probes by the inverse selectivity, so the filtered walk
                // meets about as many allowed rows as an unfiltered one meets rows.
                let selectivity = rows.len() as f64 / plan.rows().max(1) as f64;
                let ef = params.ef.unwrap_or_else(|| shard.index.default_ef()).max(k);
                let widened = ((ef as f64 / selectivity).ceil() as usize).min(plan.rows() as usize).max(ef);
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
            SearchCounters::add(&self.counters.shards_flat_scanned, 1);
        } else {
            SearchCounters::add(&self.counters.shards_index_searched, 1);
            if allowed.is_some() {
                SearchCounters::add(&self.counters.filtered_index_searches, 1);
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
        let file = plan.uri();
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
        let deleted = self.deletes.deleted(plan.uri());
        if filter.is_none() && deleted.is_empty() && shard.excluded.is_empty() {
            return Ok(None);
        }
        let key = (plan.uri().to_string(), spec.name.clone());
        if filter.is_none() {
            if let Some(rows) = lock(&self.unfiltered).get(&key) {
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
            lock(&self.unfiltered).insert(key, rows.clone());
        }
        Ok(Some(rows))
    }

    /// Rows of shard `plan` matching `filter`, read once per session (only its columns).
    pub(super) async fn filter_matches(&self, plan: &ShardPlan, filter: &Filter) -> Result<Arc<Vec<u32>>> {
        let key = (plan.uri().to_string(), filter.to_string());
        if let Some(rows) = lock(&self.filter_rows).get(&key) {
            return Ok(rows.clone());
        }
        let reader = self.reader(plan.uri(), &plan.path, plan.file_size()).await?;
        let fields = filter_fields(filter, &self.schema)?;
        let rows = Arc::new(matching_rows(self.cached.clone(), &plan.path, &reader, filter, &fields).await?);
        let mut cache = lock(&self.filter_rows);
        if cache.len() >= FILTER_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, rows.clone());
        Ok(rows)
    }
}

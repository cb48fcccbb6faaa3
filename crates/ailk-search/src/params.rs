//! Search parameters and the counters a search reports.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::filter::Filter;

/// How a shard with a filter (or deleted rows) is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilterStrategy {
    /// Per shard, by cost: an exact scan of the allowed rows when they are few, else the
    /// filtered index search with `ef` / `nprobe` widened by the inverse selectivity.
    #[default]
    Auto,
    /// Always scan the allowed rows exactly.
    Exact,
    /// Always use the filtered index search (shards with an index).
    Index,
}

/// How one search runs.
#[derive(Debug, Clone)]
pub struct SearchParams {
    /// Text column a full-text search (or the text half of a hybrid one) searches (default:
    /// the table's first text-indexed column).
    pub text_column: Option<String>,
    /// How a full-text search reads a file's text index: `Some(true)` in pieces (its head, then
    /// the dictionary blocks and postings of the query's terms), `Some(false)` whole; `None`:
    /// whole up to 1 MiB (one read serves every later query), in pieces above.
    pub text_pieces: Option<bool>,
    /// Vector column to search (the table's primary column when `None`).
    pub column: Option<String>,
    /// HNSW candidate list size (the index's default when `None`).
    pub ef: Option<usize>,
    /// IVF-PQ lists probed.
    pub nprobe: usize,
    /// IVF-PQ exact re-rank factor (1 = off; needs raw vectors in the section).
    pub refine_factor: usize,
    /// Columns returned besides `_distance` (all attribute columns when `None`).
    pub projection: Option<Vec<String>>,
    /// Rows must match this before they are ranked.
    pub filter: Option<Filter>,
    /// How shards with a filter or deleted rows are searched.
    pub filter_strategy: FilterStrategy,
    /// Skip shards whose distance lower bound exceeds the current k-th distance.
    pub prune: bool,
    /// Table partitions probed per query when the table has partitions (shards holding none
    /// of them are skipped); `None`: 1/8 of the partitions, at least 16 — or, for files
    /// searched through their partition blocks, a quarter of them, at least 48.
    pub partition_probes: Option<usize>,
    /// Search clustered files through their partition blocks (read and cached block by
    /// block, estimates re-ranked exactly) rather than through their whole-file index;
    /// `false` forces the whole-file path (comparisons, diagnosis).
    pub partition_blocks: bool,
    /// Refine block estimates with the blocks' 4-bit codes (code kind 2) before re-ranking;
    /// `false` ranks by the 1-bit codes alone (comparisons, diagnosis).
    pub refine_block_codes: bool,
    /// Whether a block query whose re-ranking vectors must be read takes, in its first round,
    /// every candidate its error bound may still admit (one wave of reads settles it: fewer
    /// round trips, more bytes) rather than re-ranking in rounds; `None`: on object storage
    /// (any warehouse but those `Warehouse::local` and `Warehouse::memory` make).
    pub rerank_in_one_wave: Option<bool>,
    /// Shards searched at once (their indexes in memory).
    pub concurrency: usize,
    /// Shards loaded at once when their indexes are not in memory yet. On object storage a
    /// cold query costs a round trip per wave of loads, so waves of cold shards are wider
    /// there; `None`: 32 on an object store, `concurrency` on a warehouse made by
    /// `Warehouse::local` or `Warehouse::memory` (where loading fewer shards and pruning the
    /// rest costs less).
    pub io_concurrency: Option<usize>,
    /// Fail the search when a shard cannot be read at all (a malformed file another engine
    /// wrote). Off by default: such a shard is skipped, logged and counted
    /// ([`CounterSnapshot::shards_skipped`]) and the rest of the table answers.
    pub strict: bool,
}

impl Default for SearchParams {
    fn default() -> Self {
        Self {
            text_column: None,
            column: None,
            ef: None,
            nprobe: ailk_index::DEFAULT_NPROBE,
            refine_factor: ailk_index::DEFAULT_REFINE_FACTOR,
            projection: None,
            filter: None,
            filter_strategy: FilterStrategy::Auto,
            prune: true,
            rerank_in_one_wave: None,
            partition_probes: None,
            partition_blocks: true,
            refine_block_codes: true,
            text_pieces: None,
            concurrency: 4,
            io_concurrency: None,
            strict: false,
        }
    }
}

/// What searches of a session did, cumulatively.
#[derive(Debug, Default)]
pub struct SearchCounters {
    pub(crate) shards_visited: AtomicU64,
    pub(crate) shards_pruned: AtomicU64,
    pub(crate) shards_flat_scanned: AtomicU64,
    pub(crate) shards_index_searched: AtomicU64,
    pub(crate) corrupt_sections: AtomicU64,
    pub(crate) shards_skipped: AtomicU64,
    pub(crate) rows_without_vector: AtomicU64,
    pub(crate) shards_pruned_by_filter: AtomicU64,
    pub(crate) shards_pruned_by_partition: AtomicU64,
    pub(crate) filtered_index_searches: AtomicU64,
    pub(crate) blocks_scanned: AtomicU64,
    pub(crate) blocks_read: AtomicU64,
    pub(crate) blocks_corrupt: AtomicU64,
    pub(crate) rows_reranked: AtomicU64,
    pub(crate) rows_refined: AtomicU64,
    pub(crate) shards_planned_whole: AtomicU64,
    pub(crate) text_shards_searched: AtomicU64,
    pub(crate) text_shards_scanned: AtomicU64,
    pub(crate) text_indexes_corrupt: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Shards searched.
    pub shards_visited: u64,
    /// Shards skipped by their distance lower bound.
    pub shards_pruned: u64,
    /// Shards searched by exact scan (no section yet, a corrupt section, or a filter).
    pub shards_flat_scanned: u64,
    /// Shards searched through their HNSW or IVF-PQ index.
    pub shards_index_searched: u64,
    /// Shards whose section failed to load (served by exact scan instead).
    pub corrupt_sections: u64,
    /// Shards that could not be read at all and were left out of a result (not strict).
    pub shards_skipped: u64,
    /// Rows of the loaded shards without a usable vector (null, wrong length, NaN: other
    /// engines' files), never returned.
    pub rows_without_vector: u64,
    /// Shards skipped because their column bounds prove no row matches the filter.
    pub shards_pruned_by_filter: u64,
    /// Shards skipped because they hold none of the table partitions probed for the query.
    pub shards_pruned_by_partition: u64,
    /// Index searches that returned only allowed rows (a filter or deleted rows), counted in
    /// `shards_index_searched` too.
    pub filtered_index_searches: u64,
    /// Partition blocks scanned (from the cache or read).
    pub blocks_scanned: u64,
    /// Partition blocks read from the store (cache misses).
    pub blocks_read: u64,
    /// Partition blocks (or re-ranking vectors) that failed their checksum: those rows were
    /// searched exactly through the shard instead.
    pub blocks_corrupt: u64,
    /// Rows whose exact vector was read to re-rank block estimates.
    pub rows_reranked: u64,
    /// Rows whose block estimate was refined with the block's 4-bit codes (code kind 2)
    /// because its 1-bit bound might beat the k-th distance.
    pub rows_refined: u64,
    /// Block files the planner sent to the whole-file path (their whole index was in memory
    /// and some probed block was not).
    pub shards_planned_whole: u64,
    /// Files a full-text search scored (through their text index or a scan).
    pub text_shards_searched: u64,
    /// Files without a usable text index whose text column was read and analyzed instead
    /// (once per file and column while cached).
    pub text_shards_scanned: u64,
    /// Files whose text index failed to load (counted in `text_shards_scanned` too).
    pub text_indexes_corrupt: u64,
    /// Bytes read from the store by this session.
    pub bytes_read: u64,
    /// Read requests made by this session.
    pub read_requests: u64,
}

impl SearchCounters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, bytes_read: u64, read_requests: u64) -> CounterSnapshot {
        CounterSnapshot {
            shards_visited: self.shards_visited.load(Ordering::Relaxed),
            shards_pruned: self.shards_pruned.load(Ordering::Relaxed),
            shards_flat_scanned: self.shards_flat_scanned.load(Ordering::Relaxed),
            shards_index_searched: self.shards_index_searched.load(Ordering::Relaxed),
            corrupt_sections: self.corrupt_sections.load(Ordering::Relaxed),
            shards_skipped: self.shards_skipped.load(Ordering::Relaxed),
            rows_without_vector: self.rows_without_vector.load(Ordering::Relaxed),
            shards_pruned_by_filter: self.shards_pruned_by_filter.load(Ordering::Relaxed),
            filtered_index_searches: self.filtered_index_searches.load(Ordering::Relaxed),
            shards_pruned_by_partition: self.shards_pruned_by_partition.load(Ordering::Relaxed),
            blocks_scanned: self.blocks_scanned.load(Ordering::Relaxed),
            blocks_read: self.blocks_read.load(Ordering::Relaxed),
            blocks_corrupt: self.blocks_corrupt.load(Ordering::Relaxed),
            rows_reranked: self.rows_reranked.load(Ordering::Relaxed),
            rows_refined: self.rows_refined.load(Ordering::Relaxed),
            shards_planned_whole: self.shards_planned_whole.load(Ordering::Relaxed),
            text_shards_searched: self.text_shards_searched.load(Ordering::Relaxed),
            text_shards_scanned: self.text_shards_scanned.load(Ordering::Relaxed),
            text_indexes_corrupt: self.text_indexes_corrupt.load(Ordering::Relaxed),
            bytes_read,
            read_requests,
        }
    }
}

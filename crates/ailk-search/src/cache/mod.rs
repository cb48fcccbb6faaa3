//! [`ShardCache`]: what search sessions of a process read from data files, shared within one
//! byte budget, least recently used evicted first: loaded shard indexes, keyed by (file URI,
//! vector column), byte ranges of the files — footers and the column chunks row fetches
//! read — keyed by (file, range) (see `CachedRanges`), and small columns row fetches decoded
//! whole, keyed by (file, field), and decoded partition blocks, keyed by (file, offset). Data files are immutable once written,
//! so entries stay valid across snapshots, refreshes and time travel: a refreshed session
//! starts warm, and a warm query reads nothing from the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use ailk_format::object_store::ObjectMeta;
use ailk_format::sync::lock;
use ailk_format::ShardReader;
use arrow_array::{Array, ArrayRef};
use bytes::Bytes;

use ailk_index::CodeBlock;

use crate::cache::disk::DiskCache;
use crate::shard::LoadedShard;
use crate::text_shard::{TextPart, TextShard};

pub(crate) mod disk;
pub(crate) mod sessions;
pub(crate) mod store;

/// Budget of the process-wide cache when `AILAKE_CACHE_BYTES` does not set one: 2 GiB.
const DEFAULT_BUDGET: u64 = 2 << 30;

/// Budget of the disk cache when `AILAKE_CACHE_DISK_BYTES` does not set one: 20 GiB.
const DEFAULT_DISK_BUDGET: u64 = 20 << 30;

/// (file URI, vector column).
pub(crate) type ShardKey = (String, String);

/// What an entry is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Shard(ShardKey),
    /// (object path, start, end) of a byte range.
    Range(String, u64, u64),
    /// A file's decoded footer and section directory, by URI.
    Reader(String),
    /// A whole decoded column of a file: (URI, the table field's id, name and type).
    Column(String, String),
    /// A decoded partition block: (file URI, its byte offset).
    Block(String, u64),
    /// A file's full-text index of a text column: (file URI, column).
    Text(String, String),
    /// A piece of a file's text index read for queries: (file URI, column, piece).
    TextPart(String, String, TextPartKey),
}

/// Which piece of a file's version 2 text index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TextPartKey {
    /// Dictionary block `i`.
    Block(usize),
    /// A term's postings; `true`: with positions.
    Postings(String, bool),
    /// Every row's length.
    DocLens,
}

/// What an entry holds.
#[derive(Clone)]
pub(crate) enum Cached {
    Shard(Arc<LoadedShard>),
    /// The bytes of a range and, when the read returned it, the object's metadata.
    Range(Bytes, Option<ObjectMeta>),
    Reader(Arc<ShardReader>),
    Column(ArrayRef),
    Block(Arc<CodeBlock>),
    Text(Arc<TextShard>),
    TextPart(Arc<TextPart>),
}

/// What a cache did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries held now (shards and byte ranges).
    pub entries: usize,
    /// Their estimated bytes.
    pub bytes: u64,
    /// Shard lookups answered from the cache.
    pub hits: u64,
    /// Shard lookups that had to load the shard.
    pub misses: u64,
    /// Entries evicted to stay within the budget.
    pub evictions: u64,
    /// Byte-range, footer and decoded-column lookups answered from the cache.
    pub range_hits: u64,
    /// Byte-range, footer and decoded-column lookups that missed.
    pub range_misses: u64,
}

struct Entry {
    value: Cached,
    bytes: u64,
    /// When it was last used.
    tick: u64,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<Arc<Key>, Entry, ahash::RandomState>,
    /// Entries by the tick they were filed under, oldest first; an entry used since is
    /// re-filed when eviction reaches it.
    order: BTreeMap<u64, Arc<Key>>,
    tick: u64,
    stats: CacheStats,
}

/// Loaded shards within a byte budget (see the module docs). Cheap to share: sessions hold an
/// `Arc` of it.
pub struct ShardCache {
    budget: u64,
    lru: Mutex<Lru>,
    /// Shard tails on local disk, for a restarted process.
    disk: Option<Arc<DiskCache>>,
}

impl std::fmt::Debug for ShardCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardCache")
            .field("budget", &self.budget)
            .field("disk", &self.disk.as_ref().map(|d| d.dir().to_path_buf()))
            .field("stats", &self.stats())
            .finish()
    }
}

impl ShardCache {
    /// A cache holding at most `budget` bytes of loaded shards (0: nothing is kept).
    pub fn new(budget: u64) -> Self {
        Self { budget, lru: Mutex::default(), disk: None }
    }

    /// The same cache keeping cold shards' tails in `disk` too.
    pub fn with_disk(mut self, disk: DiskCache) -> Self {
        self.disk = Some(Arc::new(disk));
        self
    }

    /// The local-disk cache of shard tails, when there is one.
    pub fn disk(&self) -> Option<&Arc<DiskCache>> {
        self.disk.as_ref()
    }

    /// The process-wide cache every session uses unless given another: `AILAKE_CACHE_BYTES`
    /// bytes in memory (default 2 GiB), and shard tails in `AILAKE_CACHE_DIR` when set, within
    /// `AILAKE_CACHE_DISK_BYTES` (default 20 GiB).
    pub fn global() -> Arc<ShardCache> {
        static GLOBAL: OnceLock<Arc<ShardCache>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let bytes = |var: &str, default: u64| {
                    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
                };
                let mut cache = ShardCache::new(bytes("AILAKE_CACHE_BYTES", DEFAULT_BUDGET));
                if let Some(dir) = std::env::var_os("AILAKE_CACHE_DIR") {
                    match DiskCache::new(&dir, bytes("AILAKE_CACHE_DISK_BYTES", DEFAULT_DISK_BUDGET)) {
                        Ok(disk) => cache = cache.with_disk(disk),
                        Err(e) => {
                            tracing::warn!(dir = ?dir, error = %e, "AILAKE_CACHE_DIR unusable; no disk cache")
                        }
                    }
                }
                Arc::new(cache)
            })
            .clone()
    }

    /// The byte budget.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Hits, misses, evictions and what is held now.
    pub fn stats(&self) -> CacheStats {
        let lru = lock(&self.lru);
        CacheStats { entries: lru.entries.len(), ..lru.stats }
    }

    /// The cached shard of `key`, marked as just used.
    pub(crate) fn get(&self, key: &ShardKey) -> Option<Arc<LoadedShard>> {
        match self.lookup(&Key::Shard(key.clone())) {
            Some(Cached::Shard(s)) => Some(s),
            _ => None,
        }
    }

    /// Whether the shard of `key` is held (no effect on recency or stats).
    pub(crate) fn contains(&self, key: &ShardKey) -> bool {
        let lru = lock(&self.lru);
        lru.entries.contains_key(&Key::Shard(key.clone()))
    }

    /// Keeps `shard` (of about `bytes`), evicting the least recently used entries beyond the
    /// budget; a shard larger than the whole budget is not kept.
    pub(crate) fn insert(&self, key: ShardKey, shard: Arc<LoadedShard>, bytes: u64) {
        self.put(Key::Shard(key), Cached::Shard(shard), bytes);
    }

    /// The cached bytes of `range` of the object at `path`.
    pub(crate) fn get_range(&self, path: &str, start: u64, end: u64) -> Option<(Bytes, Option<ObjectMeta>)> {
        match self.lookup(&Key::Range(path.to_string(), start, end)) {
            Some(Cached::Range(b, meta)) => Some((b, meta)),
            _ => None,
        }
    }

    /// Whether the bytes of `start..end` of `path` are held (no effect on recency or stats).
    pub(crate) fn contains_range(&self, path: &str, start: u64, end: u64) -> bool {
        lock(&self.lru).entries.contains_key(&Key::Range(path.to_string(), start, end))
    }

    /// The cached bytes of each of `ranges` of the object at `path` (one lock for all).
    pub(crate) fn get_ranges(&self, path: &str, ranges: &[std::ops::Range<u64>]) -> Vec<Option<Bytes>> {
        let keys = ranges.iter().map(|r| Key::Range(path.to_string(), r.start, r.end));
        self.lookup_all(keys, |c| match c {
            Cached::Range(b, _) => Some(b),
            _ => None,
        })
    }

    /// Keeps the bytes of `range` of `path`.
    pub(crate) fn insert_range(
        &self,
        path: &str,
        start: u64,
        end: u64,
        bytes: Bytes,
        meta: Option<ObjectMeta>,
    ) {
        let size = bytes.len() as u64 + path.len() as u64 + 64;
        self.put(Key::Range(path.to_string(), start, end), Cached::Range(bytes, meta), size);
    }

    /// The cached footer and directory of the file at `uri` (no prefetched tail).
    pub(crate) fn get_reader(&self, uri: &str) -> Option<Arc<ShardReader>> {
        match self.lookup(&Key::Reader(uri.to_string())) {
            Some(Cached::Reader(r)) => Some(r),
            _ => None,
        }
    }

    /// Keeps the footer and directory of the file at `uri`.
    pub(crate) fn insert_reader(&self, uri: &str, reader: Arc<ShardReader>) {
        let bytes = reader.memory_bytes() + uri.len() as u64;
        self.put(Key::Reader(uri.to_string()), Cached::Reader(reader), bytes);
    }

    /// The cached decoded column `field` (a key naming the table field) of the file at `uri`.
    pub(crate) fn get_column(&self, uri: &str, field: &str) -> Option<ArrayRef> {
        match self.lookup(&Key::Column(uri.to_string(), field.to_string())) {
            Some(Cached::Column(c)) => Some(c),
            _ => None,
        }
    }

    /// Keeps a whole decoded column of the file at `uri`.
    pub(crate) fn insert_column(&self, uri: &str, field: &str, column: ArrayRef) {
        let bytes = column.get_array_memory_size() as u64 + (uri.len() + field.len()) as u64;
        self.put(Key::Column(uri.to_string(), field.to_string()), Cached::Column(column), bytes);
    }

    /// The decoded partition blocks at byte `offsets` of the file at `uri` (one lock for all).
    pub(crate) fn get_blocks(
        &self,
        uri: &str,
        offsets: impl Iterator<Item = u64>,
    ) -> Vec<Option<Arc<CodeBlock>>> {
        self.lookup_all(offsets.map(|o| Key::Block(uri.to_string(), o)), |c| match c {
            Cached::Block(b) => Some(b),
            _ => None,
        })
    }

    /// Whether every block at `offsets` of file `uri` is cached (no LRU stamp).
    pub(crate) fn contains_blocks(&self, uri: &str, offsets: impl Iterator<Item = u64>) -> bool {
        let lru = lock(&self.lru);
        offsets.into_iter().all(|o| lru.entries.contains_key(&Key::Block(uri.to_string(), o)))
    }

    /// Keeps a decoded (and checked) partition block.
    pub(crate) fn insert_block(&self, uri: &str, offset: u64, block: Arc<CodeBlock>) {
        let bytes = block.memory_bytes() + uri.len() as u64 + 64;
        self.put(Key::Block(uri.to_string(), offset), Cached::Block(block), bytes);
    }

    /// The cached full-text index of text column `column` of the file at `uri`.
    pub(crate) fn get_text(&self, uri: &str, column: &str) -> Option<Arc<TextShard>> {
        match self.lookup(&Key::Text(uri.to_string(), column.to_string())) {
            Some(Cached::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// Keeps a file's full-text index of `column`.
    pub(crate) fn insert_text(&self, uri: &str, column: &str, text: Arc<TextShard>) {
        let bytes = text.memory_bytes() + (uri.len() + column.len()) as u64;
        self.put(Key::Text(uri.to_string(), column.to_string()), Cached::Text(text), bytes);
    }

    /// The cached pieces `parts` of `column`'s text index of the file at `uri`.
    pub(crate) fn get_text_parts(
        &self,
        uri: &str,
        column: &str,
        parts: impl Iterator<Item = TextPartKey>,
    ) -> Vec<Option<Arc<TextPart>>> {
        self.lookup_all(parts.map(|p| Key::TextPart(uri.to_string(), column.to_string(), p)), |c| match c {
            Cached::TextPart(t) => Some(t),
            _ => None,
        })
    }

    /// Keeps a checked piece of a file's text index.
    pub(crate) fn insert_text_part(&self, uri: &str, column: &str, key: TextPartKey, part: Arc<TextPart>) {
        let bytes = part.memory_bytes() + (uri.len() + column.len()) as u64 + 64;
        self.put(Key::TextPart(uri.to_string(), column.to_string(), key), Cached::TextPart(part), bytes);
    }

    fn lookup(&self, key: &Key) -> Option<Cached> {
        lock(&self.lru).lookup(key)
    }

    /// [`Self::lookup`] of each of `keys` under one lock, each hit taken apart by `pick`.
    fn lookup_all<T>(
        &self,
        keys: impl Iterator<Item = Key>,
        pick: impl Fn(Cached) -> Option<T>,
    ) -> Vec<Option<T>> {
        let mut lru = lock(&self.lru);
        keys.map(|key| lru.lookup(&key).and_then(&pick)).collect()
    }

    fn put(&self, key: Key, value: Cached, bytes: u64) {
        if bytes > self.budget {
            return;
        }
        let mut lru = lock(&self.lru);
        let lru = &mut *lru;
        lru.tick += 1;
        let tick = lru.tick;
        let key = Arc::new(key);
        if let Some(old) = lru.entries.insert(key.clone(), Entry { value, bytes, tick }) {
            lru.stats.bytes -= old.bytes;
        }
        lru.order.insert(tick, key);
        lru.stats.bytes += bytes;
        while lru.stats.bytes > self.budget {
            let Some((at, oldest)) = lru.order.pop_first() else { break };
            let Some(used) = lru.entries.get(&oldest).map(|e| e.tick) else { continue };
            if used != at {
                // Used since it was filed (hits only stamp the entry): file it again under its
                // last use, unless a later insert already did.
                if used > at && !lru.order.contains_key(&used) {
                    lru.order.insert(used, oldest);
                }
                continue;
            }
            if let Some(e) = lru.entries.remove(&oldest) {
                lru.stats.bytes -= e.bytes;
                lru.stats.evictions += 1;
            }
        }
    }
}

impl Lru {
    /// The entry of `key`, marked as just used, counting the hit or miss.
    fn lookup(&mut self, key: &Key) -> Option<Cached> {
        self.tick += 1;
        let tick = self.tick;
        let range = matches!(key, Key::Range(..) | Key::Reader(..) | Key::Column(..) | Key::Block(..));
        match self.entries.get_mut(key) {
            Some(e) => {
                // Only the entry is stamped; eviction re-files it by the stamp (a hit stays
                // O(1), no reordering).
                e.tick = tick;
                if range {
                    self.stats.range_hits += 1;
                } else {
                    self.stats.hits += 1;
                }
                Some(e.value.clone())
            }
            None => {
                if range {
                    self.stats.range_misses += 1;
                } else {
                    self.stats.misses += 1;
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(cache: &ShardCache, path: &str) -> bool {
        let lru = lock(&cache.lru);
        lru.entries.contains_key(&Key::Range(path.to_string(), 0, 1))
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        // Each entry costs 100 bytes + its path + 64: three fit in 500.
        let cache = ShardCache::new(500);
        let put = |p: &str| cache.insert_range(p, 0, 1, Bytes::from(vec![0u8; 100]), None);
        put("a");
        put("b");
        put("c");
        assert!(cache.get_range("a", 0, 1).is_some(), "a is used again");
        put("d");
        assert!(held(&cache, "a") && !held(&cache, "b") && held(&cache, "c") && held(&cache, "d"));
        // Used through the batch lookup too; a replaced entry is filed under its new use.
        let one = std::ops::Range { start: 0, end: 1 };
        assert!(cache.get_ranges("c", std::slice::from_ref(&one))[0].is_some());
        put("a");
        put("e");
        assert!(held(&cache, "a") && held(&cache, "c") && !held(&cache, "d") && held(&cache, "e"));
        put("f");
        assert!(!held(&cache, "c") && held(&cache, "a") && held(&cache, "e") && held(&cache, "f"));
        let stats = cache.stats();
        assert_eq!((stats.entries, stats.evictions), (3, 3), "{stats:?}");
        assert!(stats.bytes <= 500);
    }
}

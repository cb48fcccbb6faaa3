//! [`ShardCache`]: loaded shard indexes shared by every search session of a process, within
//! a byte budget, least recently used evicted first. Data files are immutable once written,
//! so an entry keyed by (file URI, vector column) stays valid across snapshots, refreshes and
//! time travel: a refreshed session starts warm. Footers and row fetches stay per session (so
//! each session's I/O counters are its own).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use crate::shard::LoadedShard;

/// Budget of the process-wide cache when `AILAKE_CACHE_BYTES` does not set one: 2 GiB.
const DEFAULT_BUDGET: u64 = 2 << 30;

/// (file URI, vector column).
pub(crate) type ShardKey = (String, String);

/// What a cache did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Shards held now.
    pub entries: usize,
    /// Their estimated bytes.
    pub bytes: u64,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to load the shard.
    pub misses: u64,
    /// Shards evicted to stay within the budget.
    pub evictions: u64,
}

struct Entry {
    shard: Arc<LoadedShard>,
    bytes: u64,
    tick: u64,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<ShardKey, Entry>,
    order: BTreeMap<u64, ShardKey>,
    tick: u64,
    stats: CacheStats,
}

/// Loaded shards within a byte budget (see the module docs). Cheap to share: sessions hold an
/// `Arc` of it.
pub struct ShardCache {
    budget: u64,
    lru: Mutex<Lru>,
}

impl std::fmt::Debug for ShardCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardCache").field("budget", &self.budget).field("stats", &self.stats()).finish()
    }
}

impl ShardCache {
    /// A cache holding at most `budget` bytes of loaded shards (0: nothing is kept).
    pub fn new(budget: u64) -> Self {
        Self { budget, lru: Mutex::default() }
    }

    /// The process-wide cache every session uses unless given another: `AILAKE_CACHE_BYTES`
    /// bytes (default 2 GiB).
    pub fn global() -> Arc<ShardCache> {
        static GLOBAL: OnceLock<Arc<ShardCache>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let budget = std::env::var("AILAKE_CACHE_BYTES")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(DEFAULT_BUDGET);
                Arc::new(ShardCache::new(budget))
            })
            .clone()
    }

    /// The byte budget.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Hits, misses, evictions and what is held now.
    pub fn stats(&self) -> CacheStats {
        let lru = self.lru.lock().unwrap_or_else(|e| e.into_inner());
        CacheStats { entries: lru.entries.len(), ..lru.stats }
    }

    /// The cached shard of `key`, marked as just used.
    pub(crate) fn get(&self, key: &ShardKey) -> Option<Arc<LoadedShard>> {
        let mut lru = self.lru.lock().unwrap_or_else(|e| e.into_inner());
        let lru = &mut *lru;
        lru.tick += 1;
        let tick = lru.tick;
        match lru.entries.get_mut(key) {
            Some(e) => {
                lru.order.remove(&e.tick);
                e.tick = tick;
                lru.order.insert(tick, key.clone());
                lru.stats.hits += 1;
                Some(e.shard.clone())
            }
            None => {
                lru.stats.misses += 1;
                None
            }
        }
    }

    /// Keeps `shard` (of about `bytes`), evicting the least recently used shards beyond the
    /// budget; a shard larger than the whole budget is not kept.
    pub(crate) fn insert(&self, key: ShardKey, shard: Arc<LoadedShard>, bytes: u64) {
        if bytes > self.budget {
            return;
        }
        let mut lru = self.lru.lock().unwrap_or_else(|e| e.into_inner());
        let lru = &mut *lru;
        lru.tick += 1;
        let tick = lru.tick;
        if let Some(old) = lru.entries.insert(key.clone(), Entry { shard, bytes, tick }) {
            lru.order.remove(&old.tick);
            lru.stats.bytes -= old.bytes;
        }
        lru.order.insert(tick, key);
        lru.stats.bytes += bytes;
        while lru.stats.bytes > self.budget {
            let Some((_, oldest)) = lru.order.pop_first() else { break };
            if let Some(e) = lru.entries.remove(&oldest) {
                lru.stats.bytes -= e.bytes;
                lru.stats.evictions += 1;
            }
        }
    }
}

//! Loading a shard: its footer and section directory once per session (shared through the
//! process's [`crate::ShardCache`]), and its index — from memory, the disk cache, or one ranged
//! read from the section offset to the end of the file.

use std::sync::Arc;

use ailk_catalog::VectorSpec;
use ailk_format::object_store::path::Path;
use ailk_format::sync::lock;
use ailk_format::{ReadOptions, ShardReader};

use super::plan::ShardPlan;
use super::SearchSession;
use crate::error::Result;
use crate::params::SearchCounters;
use crate::shard::{load_shard, LoadedShard};

/// Largest read from a cold shard's section offset to its end made in one request.
const SPECULATIVE_READ_MAX: u64 = 256 << 20;

impl SearchSession {
    /// The shard's footer and section directory, read once per session (one ranged read of
    /// the file's tail; the size comes from the manifest).
    pub(super) async fn reader(&self, uri: &str, path: &Path, file_size: u64) -> Result<Arc<ShardReader>> {
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
        lock(&self.readers).insert(uri.to_string(), r.clone());
        Ok(r)
    }

    fn cached_reader(&self, uri: &str) -> Option<Arc<ShardReader>> {
        lock(&self.readers).get(uri).cloned()
    }

    /// Opens a cold shard with its tail from `offset` (its section) to the end: from the
    /// disk cache when it holds it, else in one read from the store (then kept on disk).
    async fn open_tail(&self, plan: &ShardPlan, offset: u64) -> Result<ShardReader> {
        let disk = self.cache.disk();
        if let Some(disk) = disk {
            if let Some(bytes) = disk.get(plan.uri(), plan.file_size(), offset).await {
                match ShardReader::from_tail(self.store.clone(), plan.path.clone(), plan.file_size(), bytes)
                    .await
                {
                    Ok(reader) => return Ok(reader),
                    Err(e) => {
                        tracing::warn!(file = %plan.uri(), error = %e, "disk cache entry unreadable; reading the shard");
                        disk.remove(plan.uri(), plan.file_size(), offset);
                    }
                }
            }
        }
        let opts = ReadOptions {
            file_size: Some(plan.file_size()),
            prefetch: plan.file_size().saturating_sub(offset),
        };
        let reader = ShardReader::open(self.store.clone(), plan.path.clone(), opts).await?;
        if let Some(disk) = disk {
            let (start, bytes) = reader.tail();
            if start == offset {
                disk.put(plan.uri(), plan.file_size(), offset, bytes.clone());
            }
        }
        Ok(reader)
    }

    pub(super) async fn shard(&self, plan: &ShardPlan, spec: &VectorSpec) -> Result<Arc<LoadedShard>> {
        let key = (plan.uri().to_string(), spec.name.clone());
        let cached = self.cache.get(&key);
        // The footer: this session's, else one decoded before in this process (data files
        // are immutable), else read.
        let reader = match (&cached, self.cached_reader(plan.uri()), plan.section_offset) {
            (_, Some(reader), _) => reader,
            // A cold shard whose section offset is known: one read from the section to the end
            // of the file brings the footer, the directory and every payload the index needs.
            (None, None, Some(offset)) if plan.file_size().saturating_sub(offset) <= SPECULATIVE_READ_MAX => {
                let reader = self.open_tail(plan, offset).await?;
                // The session keeps the footer and directory, not the section bytes (the
                // loaded index holds what it needs, within the cache's budget).
                let kept = Arc::new(reader.without_tail());
                self.cache.insert_reader(plan.uri(), kept.clone());
                lock(&self.readers).insert(plan.uri().to_string(), kept);
                Arc::new(reader)
            }
            _ => self.reader(plan.uri(), &plan.path, plan.file_size()).await?,
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
        if lock(&self.touched).insert(key) {
            if shard.corrupt {
                SearchCounters::add(&self.counters.corrupt_sections, 1);
            }
            SearchCounters::add(&self.counters.rows_without_vector, shard.excluded.len() as u64);
        }
        Ok(shard)
    }
}

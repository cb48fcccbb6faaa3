//! [`DiskCache`]: shard tails — from a shard's AILK section to the end of the file (section,
//! footer) — kept in a local directory, so a restarted process opens cold shards without
//! reading them from object storage again. Files are named by the shard's URI, size and
//! offset (data files are immutable), written atomically (temporary file, then rename), and
//! the directory is kept within a byte budget, least recently used files removed first. A
//! local file that turns out unreadable is removed and the shard read from the store.
//!
//! What it trusts: the directory is the user's own (as `AILAKE_CACHE_DIR` names it). Nothing
//! read from it is trusted: a tail is decoded and checked like bytes from the store (footer,
//! checksums), and a bad one is dropped, so garbage costs a re-read, never a wrong answer.
//! Writes never follow a link planted at the temporary name (created exclusively, fresh name);
//! the rename replaces a link at the final name rather than writing through it.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use bytes::Bytes;

/// A directory of shard tails within `budget` bytes (see the module docs).
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    budget: u64,
}

impl DiskCache {
    /// Tails kept under `dir` (created when missing), at most `budget` bytes of them.
    pub fn new(dir: impl AsRef<Path>, budget: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.as_ref())?;
        Ok(Self { dir: dir.as_ref().to_path_buf(), budget })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, uri: &str, file_size: u64, start: u64) -> PathBuf {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        uri.hash(&mut h);
        let name = uri.rsplit('/').next().unwrap_or("shard");
        let name: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(48).collect();
        self.dir.join(format!("{:016x}-{name}-{start}-{file_size}.tail", h.finish()))
    }

    /// The tail of `uri` from `start` to its end (`file_size`), when kept; marked as used.
    pub(crate) async fn get(&self, uri: &str, file_size: u64, start: u64) -> Option<Bytes> {
        let path = self.file(uri, file_size, start);
        let want = file_size.checked_sub(start)?;
        tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&path).ok()?;
            if bytes.len() as u64 != want {
                let _ = std::fs::remove_file(&path);
                return None;
            }
            if let Ok(f) = std::fs::File::options().append(true).open(&path) {
                let _ = f.set_modified(std::time::SystemTime::now());
            }
            Some(Bytes::from(bytes))
        })
        .await
        .ok()
        .flatten()
    }

    /// Forgets the tail of `uri` (it did not decode).
    pub(crate) fn remove(&self, uri: &str, file_size: u64, start: u64) {
        let _ = std::fs::remove_file(self.file(uri, file_size, start));
    }

    /// Keeps `bytes`, the tail of `uri` from `start`, in the background; then trims the
    /// directory to the budget. Failures (a full disk) only cost the cache.
    pub(crate) fn put(self: &std::sync::Arc<Self>, uri: &str, file_size: u64, start: u64, bytes: Bytes) {
        if bytes.len() as u64 > self.budget {
            return;
        }
        let (cache, path) = (self.clone(), self.file(uri, file_size, start));
        tokio::task::spawn_blocking(move || {
            // A fresh name, created exclusively (`create_new`: an existing file or a link
            // planted there fails it, nothing is followed or overwritten), then renamed.
            let tmp = path.with_extension(format!("tmp{}-{:016x}", std::process::id(), rand_suffix()));
            let written =
                std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).and_then(|mut f| {
                    use std::io::Write;
                    f.write_all(&bytes)?;
                    f.sync_data()
                });
            if written.and_then(|_| std::fs::rename(&tmp, &path)).is_err() {
                let _ = std::fs::remove_file(&tmp);
                tracing::debug!(file = %path.display(), "disk cache write failed");
                return;
            }
            cache.trim();
        });
    }

    /// Removes the least recently used tails until the directory is within the budget.
    fn trim(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "tail"))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.budget {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// A per-write random suffix for temporary names (a counter mixed with the clock).
fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (nanos, NEXT.fetch_add(1, Ordering::Relaxed), std::process::id()).hash(&mut h);
    h.finish()
}

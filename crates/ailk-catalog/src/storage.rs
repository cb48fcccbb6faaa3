//! iceberg-rust's `io::Storage` over one `object_store`: metadata, manifests, manifest lists,
//! Puffin files and data files of a warehouse all go through the store the user passed in.
//!
//! Iceberg names files by URI (`file:///…`, `s3://bucket/…`, `memory:///…`), because other
//! engines (pyiceberg, DuckDB, Spark) read the same metadata. A [`Warehouse`] pairs a store with
//! the URI of its root; a file URI under that root maps to the store path after the root.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ailk_format::sync::lock;
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use iceberg::io::{
    FileIO, FileIOBuilder, FileMetadata, FileRead, FileWrite, InputFile, OutputFile, Storage, StorageConfig,
    StorageFactory,
};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, Result};

/// A warehouse: one object store and the URI its root has in Iceberg metadata.
#[derive(Clone)]
pub struct Warehouse {
    store: Arc<dyn ObjectStore>,
    root: String,
    registration: Arc<Registration>,
    /// Made by [`Warehouse::local`] or [`Warehouse::memory`]: reads are served in process.
    in_process: bool,
}

/// A warehouse's entry in the store registry, removed when the last clone of the warehouse
/// is dropped (a process that opens many warehouses does not keep their stores forever).
struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        lock(registry()).remove(&self.0);
    }
}

impl std::fmt::Debug for Warehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warehouse").field("root", &self.root).field("store", &self.store.to_string()).finish()
    }
}

/// Stores registered by key, so a (de)serialized `Storage` finds its `Arc<dyn ObjectStore>`
/// again (iceberg's `Storage` must be serializable; a live store is not). An entry lives as
/// long as a clone of its [`Warehouse`]: a `FileIO` must not outlive the warehouse it came from.
fn registry() -> &'static Mutex<HashMap<u64, Arc<dyn ObjectStore>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<u64, Arc<dyn ObjectStore>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

impl Warehouse {
    /// A warehouse over `store` whose root is named `root_uri` in metadata
    /// (e.g. `file:///data/warehouse`, `s3://bucket/prefix`, `memory:///`).
    pub fn new(store: Arc<dyn ObjectStore>, root_uri: impl Into<String>) -> Result<Self> {
        let root = root_uri.into().trim_end_matches('/').to_string();
        if !root.contains("://") {
            return Err(CatalogError::InvalidInput(format!("warehouse root {root:?} is not a URI")));
        }
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let key = NEXT.fetch_add(1, Ordering::Relaxed);
        lock(registry()).insert(key, store.clone());
        Ok(Self { store, root, registration: Arc::new(Registration(key)), in_process: false })
    }

    /// A warehouse in a local directory (created if missing), rooted at its `file://` URI.
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let io = |source| CatalogError::Io { path: dir.display().to_string(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let abs = dir.canonicalize().map_err(io)?;
        let store = ailk_format::local_store(&abs)?;
        Ok(Self { in_process: true, ..Self::new(store, format!("file://{}", abs.display()))? })
    }

    /// A warehouse at `uri` (`s3://bucket` or `s3://bucket/prefix`) on an S3-compatible store,
    /// configured from the `AWS_*` environment variables, then `options` (object_store's
    /// `AmazonS3ConfigKey` names, e.g. `aws_endpoint`, `aws_allow_http`, `aws_region`,
    /// `aws_access_key_id`). Conditional puts (`If-None-Match`) are used for create-only
    /// writes; object_store retries 5xx and timeouts with backoff.
    #[cfg(feature = "s3")]
    pub fn s3(uri: &str, options: &[(&str, &str)]) -> Result<Self> {
        use std::str::FromStr;

        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| CatalogError::InvalidInput(format!("{uri:?} is not an s3:// URI")))?
            .trim_end_matches('/');
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(CatalogError::InvalidInput(format!("{uri:?} names no bucket")));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (key, value) in options {
            let key = AmazonS3ConfigKey::from_str(key)
                .map_err(|e| CatalogError::InvalidInput(format!("S3 option {key:?}: {e}")))?;
            builder = builder.with_config(key, *value);
        }
        let store: Arc<dyn ObjectStore> = Arc::new(builder.build()?);
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            store
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
        };
        Self::new(store, format!("s3://{rest}"))
    }

    /// A fresh in-memory warehouse (tests).
    pub fn memory() -> Self {
        let w = Self::new(ailk_format::memory_store(), "memory:///warehouse").expect("static URI is valid");
        Self { in_process: true, ..w }
    }

    /// Whether the store is this machine's disk or memory as [`Warehouse::local`] and
    /// [`Warehouse::memory`] make it: reads cost no round trip, and a batch of ranges is read
    /// as asked (object storage clients merge nearby ranges into larger reads). `false` for
    /// a store given to [`Warehouse::new`], whatever its root says.
    pub fn in_process(&self) -> bool {
        self.in_process
    }

    /// The object store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The URI of the warehouse root (no trailing slash).
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The URI of `relative` under the root.
    pub fn uri(&self, relative: &str) -> String {
        format!("{}/{}", self.root, relative.trim_start_matches('/'))
    }

    /// The store path of a file URI under this warehouse's root.
    pub fn path_of(&self, uri: &str) -> Result<Path> {
        path_under(&self.root, uri)
    }

    /// An iceberg `FileIO` whose every read and write goes through this warehouse's store.
    pub fn file_io(&self) -> FileIO {
        let factory = ObjectStoreStorageFactory { key: self.registration.0, root: self.root.clone() };
        FileIOBuilder::new(Arc::new(factory)).build()
    }
}

fn path_under(root: &str, uri: &str) -> Result<Path> {
    let rest = uri
        .strip_prefix(root)
        .filter(|r| r.is_empty() || r.starts_with('/'))
        .ok_or_else(|| CatalogError::InvalidInput(format!("{uri} is outside the warehouse {root}")))?;
    Path::parse(rest.trim_start_matches('/')).map_err(|e| CatalogError::InvalidInput(format!("{uri}: {e}")))
}

fn lookup(key: u64) -> iceberg::Result<Arc<dyn ObjectStore>> {
    lock(registry()).get(&key).cloned().ok_or_else(|| {
        iceberg::Error::new(iceberg::ErrorKind::Unexpected, format!("object store #{key} is not registered"))
    })
}

fn to_iceberg(e: impl Into<CatalogError>) -> iceberg::Error {
    let e: CatalogError = e.into();
    let kind = match &e {
        CatalogError::Store(object_store::Error::NotFound { .. }) => iceberg::ErrorKind::DataInvalid,
        _ => iceberg::ErrorKind::Unexpected,
    };
    iceberg::Error::new(kind, e.to_string()).with_source(e)
}

/// Builds [`ObjectStoreStorage`] for a registered warehouse store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectStoreStorageFactory {
    key: u64,
    root: String,
}

#[typetag::serde(name = "ailake-object-store")]
impl StorageFactory for ObjectStoreStorageFactory {
    fn build(&self, _config: &StorageConfig) -> iceberg::Result<Arc<dyn Storage>> {
        lookup(self.key)?;
        Ok(Arc::new(ObjectStoreStorage { key: self.key, root: self.root.clone() }))
    }
}

/// iceberg `Storage` backed by a registered `object_store`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectStoreStorage {
    key: u64,
    root: String,
}

impl ObjectStoreStorage {
    fn resolve(&self, uri: &str) -> iceberg::Result<(Arc<dyn ObjectStore>, Path)> {
        Ok((lookup(self.key)?, path_under(&self.root, uri).map_err(to_iceberg)?))
    }
}

#[async_trait]
#[typetag::serde(name = "ailake-object-store")]
impl Storage for ObjectStoreStorage {
    async fn exists(&self, path: &str) -> iceberg::Result<bool> {
        let (store, p) = self.resolve(path)?;
        match store.head(&p).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(to_iceberg(e)),
        }
    }

    async fn metadata(&self, path: &str) -> iceberg::Result<FileMetadata> {
        let (store, p) = self.resolve(path)?;
        let meta = store.head(&p).await.map_err(to_iceberg)?;
        Ok(FileMetadata { size: meta.size })
    }

    async fn read(&self, path: &str) -> iceberg::Result<Bytes> {
        let (store, p) = self.resolve(path)?;
        store.get(&p).await.map_err(to_iceberg)?.bytes().await.map_err(to_iceberg)
    }

    async fn reader(&self, path: &str) -> iceberg::Result<Box<dyn FileRead>> {
        let (store, path) = self.resolve(path)?;
        Ok(Box::new(RangeReader { store, path }))
    }

    async fn write(&self, path: &str, bs: Bytes) -> iceberg::Result<()> {
        let (store, p) = self.resolve(path)?;
        store.put(&p, PutPayload::from_bytes(bs)).await.map_err(to_iceberg)?;
        Ok(())
    }

    async fn writer(&self, path: &str) -> iceberg::Result<Box<dyn FileWrite>> {
        let (store, path) = self.resolve(path)?;
        Ok(Box::new(BufferedWriter { store, path, parts: Vec::new(), closed: false }))
    }

    async fn delete(&self, path: &str) -> iceberg::Result<()> {
        let (store, p) = self.resolve(path)?;
        match store.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(to_iceberg(e)),
        }
    }

    async fn delete_prefix(&self, path: &str) -> iceberg::Result<()> {
        let (store, p) = self.resolve(path)?;
        let paths = store.list(Some(&p)).map_ok(|m| m.location).boxed();
        store.delete_stream(paths).try_collect::<Vec<_>>().await.map_err(to_iceberg)?;
        Ok(())
    }

    async fn delete_stream(&self, paths: BoxStream<'static, String>) -> iceberg::Result<()> {
        let paths: Vec<String> = paths.collect().await;
        for path in paths {
            self.delete(&path).await?;
        }
        Ok(())
    }

    fn new_input(&self, path: &str) -> iceberg::Result<InputFile> {
        Ok(InputFile::new(Arc::new(self.clone()), path.to_string()))
    }

    fn new_output(&self, path: &str) -> iceberg::Result<OutputFile> {
        Ok(OutputFile::new(Arc::new(self.clone()), path.to_string()))
    }
}

struct RangeReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
}

#[async_trait]
impl FileRead for RangeReader {
    async fn read(&self, range: Range<u64>) -> iceberg::Result<Bytes> {
        self.store.get_range(&self.path, range).await.map_err(to_iceberg)
    }
}

/// Metadata files are small: buffer the parts and put them in one request on close, so a
/// reader never sees half a file.
struct BufferedWriter {
    store: Arc<dyn ObjectStore>,
    path: Path,
    parts: Vec<Bytes>,
    closed: bool,
}

#[async_trait]
impl FileWrite for BufferedWriter {
    async fn write(&mut self, bs: Bytes) -> iceberg::Result<()> {
        if self.closed {
            return Err(iceberg::Error::new(iceberg::ErrorKind::Unexpected, "write after close"));
        }
        self.parts.push(bs);
        Ok(())
    }

    async fn close(&mut self) -> iceberg::Result<()> {
        if self.closed {
            return Err(iceberg::Error::new(iceberg::ErrorKind::Unexpected, "file closed twice"));
        }
        self.closed = true;
        let payload: PutPayload = std::mem::take(&mut self.parts).into_iter().collect();
        self.store.put(&self.path, payload).await.map_err(to_iceberg)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_and_memory_warehouses_read_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let local = Warehouse::local(dir.path()).unwrap();
        assert!(local.in_process() && Warehouse::memory().in_process());
        // The same directory behind a store given by the caller (a wrapper, a simulated
        // remote): its root says file://, its reads may not be local.
        let given = Warehouse::new(local.store().clone(), local.root()).unwrap();
        assert!(!given.in_process() && given.clone().root().starts_with("file://"));
    }

    #[test]
    fn dropped_warehouses_leave_the_registry() {
        let key = |w: &Warehouse| w.registration.0;
        let kept = Warehouse::memory();
        let mut keys = Vec::new();
        for _ in 0..1000 {
            let w = Warehouse::memory();
            let clone = w.clone();
            keys.push(key(&w));
            drop(w);
            // A clone keeps the entry alive.
            assert!(lookup(key(&clone)).is_ok());
        }
        let registry = registry().lock().unwrap();
        assert!(keys.iter().all(|k| !registry.contains_key(k)), "every dropped warehouse is unregistered");
        assert!(registry.contains_key(&key(&kept)));
    }
}

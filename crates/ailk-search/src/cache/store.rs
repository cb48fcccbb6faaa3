//! [`CachedRanges`]: an object store view that answers byte-range reads of immutable data
//! files from the [`ShardCache`] — footers, and the column chunks a row fetch reads — so a
//! warm query makes no request. Ranges larger than [`MAX_CACHED_RANGE`] (whole sections,
//! whose loaded index the cache already holds) pass through uncached. Writes never go
//! through it.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use ailk_format::object_store::path::Path;
use ailk_format::object_store::{
    self, CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ListResult, MultipartUpload,
    ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::cache::ShardCache;

/// Largest range kept in the cache: 8 MiB.
pub const MAX_CACHED_RANGE: u64 = 8 << 20;

/// Reads of `inner` served from `cache` when they were read before (see the module docs).
pub(crate) struct CachedRanges {
    inner: Arc<dyn ObjectStore>,
    cache: Arc<ShardCache>,
    /// The store's root URI: entries are keyed by full URI, so two warehouses never share one.
    root: String,
}

impl CachedRanges {
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, cache: Arc<ShardCache>, root: &str) -> Self {
        Self { inner, cache, root: root.trim_end_matches('/').to_string() }
    }

    fn key(&self, location: &Path) -> String {
        range_key(&self.root, location)
    }

    fn cacheable(range: &Range<u64>) -> bool {
        range.end > range.start && range.end - range.start <= MAX_CACHED_RANGE
    }
}

impl fmt::Debug for CachedRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CachedRanges({})", self.inner)
    }
}

impl fmt::Display for CachedRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CachedRanges({})", self.inner)
    }
}

/// The cache key of the ranges of the object at `location` under a store rooted at `root`.
pub(crate) fn range_key(root: &str, location: &Path) -> String {
    format!("{}/{location}", root.trim_end_matches('/'))
}

/// A plain bounded read: no conditions, no `HEAD`.
fn plain_range(options: &GetOptions) -> Option<Range<u64>> {
    let plain = !options.head
        && options.if_match.is_none()
        && options.if_none_match.is_none()
        && options.if_modified_since.is_none()
        && options.if_unmodified_since.is_none()
        && options.version.is_none();
    match &options.range {
        Some(GetRange::Bounded(r)) if plain => Some(r.clone()),
        _ => None,
    }
}

#[async_trait::async_trait]
impl ObjectStore for CachedRanges {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        let Some(range) = plain_range(&options).filter(Self::cacheable) else {
            return self.inner.get_opts(location, options).await;
        };
        let key = &self.key(location);
        if let Some((bytes, Some(meta))) = self.cache.get_range(key, range.start, range.end) {
            let body = futures::stream::once(async move { Ok(bytes) });
            return Ok(GetResult {
                payload: GetResultPayload::Stream(Box::pin(body)),
                meta,
                range,
                attributes: Default::default(),
            });
        }
        let result = self.inner.get_opts(location, options).await?;
        let (meta, got, attributes) = (result.meta.clone(), result.range.clone(), result.attributes.clone());
        let bytes = result.bytes().await?;
        self.cache.insert_range(key, got.start, got.end, bytes.clone(), Some(meta.clone()));
        let body = futures::stream::once(async move { Ok(bytes) });
        Ok(GetResult { payload: GetResultPayload::Stream(Box::pin(body)), meta, range: got, attributes })
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> object_store::Result<Vec<Bytes>> {
        let key = &self.key(location);
        let mut out: Vec<Option<Bytes>> = ranges
            .iter()
            .map(|r| {
                if Self::cacheable(r) {
                    self.cache.get_range(key, r.start, r.end).map(|(b, _)| b)
                } else {
                    None
                }
            })
            .collect();
        let missing: Vec<Range<u64>> =
            ranges.iter().zip(&out).filter(|(_, hit)| hit.is_none()).map(|(r, _)| r.clone()).collect();
        if !missing.is_empty() {
            let fetched = self.inner.get_ranges(location, &missing).await?;
            let mut fetched = missing.iter().zip(fetched);
            for slot in out.iter_mut().filter(|s| s.is_none()) {
                let (r, bytes) = fetched.next().expect("one fetched range per missing one");
                if Self::cacheable(r) {
                    self.cache.insert_range(key, r.start, r.end, bytes.clone(), None);
                }
                *slot = Some(bytes);
            }
        }
        Ok(out.into_iter().map(|b| b.unwrap_or_default()).collect())
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

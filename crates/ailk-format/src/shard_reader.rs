//! Reading a shard's footer and AILK section through `object_store` with range reads:
//! one read for the footer (usually), one for the directory, one per requested payload.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::aligned::AlignedBytes;
use crate::error::{FormatError, Result};
use crate::payload::Payload;
use crate::section::{
    verify_crc, Section, SectionDirectory, SubsectionEntry, FORMAT_MAJOR, MAX_DIRECTORY_BYTES,
};
use crate::shard_writer::{SectionLocation, KEY_DIRECTORY_LENGTH, KEY_LENGTH, KEY_OFFSET, KEY_VERSION};
use crate::types::SubsectionKind;

const FOOTER_TAIL: u64 = 8;
/// Largest Parquet footer accepted (guards against a lying length field).
pub const MAX_FOOTER_BYTES: u64 = 256 << 20;

/// How to open a shard.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// The file size, when known (an Iceberg `DataFile` records it); saves a `HEAD` request.
    pub file_size: Option<u64>,
    /// Bytes read speculatively from the end of the file in the first request. Bytes of the
    /// section that fall inside this window are reused, never read twice. 0 reads exactly
    /// the 8-byte footer tail first.
    pub prefetch: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { file_size: None, prefetch: 64 * 1024 }
    }
}

/// The tail of a file kept in memory, to serve later reads that fall inside it.
#[derive(Debug, Clone)]
struct Tail {
    start: u64,
    bytes: Bytes,
}

impl Tail {
    fn get(&self, range: &Range<u64>) -> Option<Bytes> {
        if range.start < self.start || range.end < range.start {
            return None;
        }
        let s = (range.start - self.start) as usize;
        let e = (range.end - self.start) as usize;
        (e <= self.bytes.len()).then(|| self.bytes.slice(s..e))
    }
}

/// An opened shard: its Parquet footer, the section pointers and, when present, the section
/// directory. Payloads are read on demand.
#[derive(Debug, Clone)]
pub struct ShardReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    file_size: u64,
    metadata: Arc<ParquetMetaData>,
    footer_start: u64,
    location: Option<SectionLocation>,
    directory: Option<SectionDirectory>,
    directory_bytes: Bytes,
    tail: Tail,
    /// The footer with the offset index loaded, once a row selection asked for it.
    paged: Arc<std::sync::OnceLock<Arc<ParquetMetaData>>>,
}

impl ShardReader {
    /// Reads the footer and, if the file carries a section, its directory.
    pub async fn open(store: Arc<dyn ObjectStore>, path: Path, opts: ReadOptions) -> Result<Self> {
        let file_size = match opts.file_size {
            Some(size) => size,
            None => store.head(&path).await?.size,
        };
        if file_size < 12 {
            return Err(FormatError::NotParquet(format!(
                "{file_size} bytes is too short for a Parquet file"
            )));
        }
        let first = opts.prefetch.clamp(FOOTER_TAIL, file_size);
        let bytes = store.get_range(&path, file_size - first..file_size).await?;
        Self::from_tail(store, path, file_size, bytes).await
    }

    /// [`Self::open`] from the last `tail.len()` bytes of the file, already at hand (a
    /// local copy of a shard's tail): no request when they hold the footer and directory.
    pub async fn from_tail(
        store: Arc<dyn ObjectStore>,
        path: Path,
        file_size: u64,
        tail: Bytes,
    ) -> Result<Self> {
        if file_size < 12 || (tail.len() as u64) < FOOTER_TAIL || tail.len() as u64 > file_size {
            return Err(FormatError::NotParquet(format!(
                "a {}-byte tail of a {file_size}-byte file holds no Parquet footer",
                tail.len()
            )));
        }
        let mut tail = Tail { start: file_size - tail.len() as u64, bytes: tail };
        let footer_start = footer_start_from_tail(&tail.bytes, file_size)?;
        if footer_start < tail.start {
            let missing = store.get_range(&path, footer_start..tail.start).await?;
            let mut joined = Vec::with_capacity(missing.len() + tail.bytes.len());
            joined.extend_from_slice(&missing);
            joined.extend_from_slice(&tail.bytes);
            tail = Tail { start: footer_start, bytes: Bytes::from(joined) };
        }
        let meta_range = footer_start..file_size - FOOTER_TAIL;
        let meta_bytes =
            tail.get(&meta_range).ok_or_else(|| FormatError::NotParquet("footer not read".into()))?;
        let metadata = decode_metadata(&meta_bytes)?;
        check_row_counts(&metadata)?;
        let location = section_location(&metadata, footer_start)?;
        let mut reader = ShardReader {
            store,
            path,
            file_size,
            metadata: Arc::new(metadata),
            footer_start,
            location,
            directory: None,
            directory_bytes: Bytes::new(),
            tail,
            paged: Arc::default(),
        };
        if let Some(loc) = location {
            let bytes = reader.read_range(loc.offset..loc.offset + loc.directory_length).await?;
            let directory = SectionDirectory::decode(&bytes)?;
            if directory.section_length != loc.length || directory.directory_length != loc.directory_length {
                return Err(FormatError::BadFooterPointer {
                    key: KEY_LENGTH,
                    value: loc.length.to_string(),
                    reason: format!("the section header says {} bytes", directory.section_length),
                });
            }
            let rows = reader.metadata.file_metadata().num_rows();
            if i64::try_from(directory.row_count).ok() != Some(rows) {
                return Err(FormatError::layout(format!(
                    "the section indexes {} rows, the Parquet file holds {rows}",
                    directory.row_count
                )));
            }
            if directory.minor != loc.minor {
                return Err(FormatError::BadFooterPointer {
                    key: KEY_VERSION,
                    value: format!("{}.{}", loc.major, loc.minor),
                    reason: format!("the section header says {}.{}", directory.major, directory.minor),
                });
            }
            reader.directory = Some(directory);
            reader.directory_bytes = bytes;
        }
        Ok(reader)
    }

    /// The prefetched tail: (its offset in the file, its bytes).
    pub fn tail(&self) -> (u64, &Bytes) {
        (self.tail.start, &self.tail.bytes)
    }

    /// The same reader without its prefetched tail (the footer and directory stay decoded):
    /// what to keep around once a large speculative read has served its payloads.
    pub fn without_tail(&self) -> Self {
        ShardReader { tail: Tail { start: self.file_size, bytes: Bytes::new() }, ..self.clone() }
    }

    /// The same reader reading through `store` (a reader cached by one search session,
    /// reused by another with its own counted store).
    pub fn with_store(&self, store: Arc<dyn ObjectStore>) -> Self {
        ShardReader { store, ..self.clone() }
    }

    /// Estimated bytes the decoded footer, directory and prefetched tail hold.
    pub fn memory_bytes(&self) -> u64 {
        (self.metadata.memory_size() + self.directory_bytes.len() + self.tail.bytes.len()) as u64
    }

    /// The footer with the page offset index loaded (one read of the index, once per
    /// reader, and shared by its clones — none when the prefetched tail holds it: it lies
    /// just before the footer), so that a row selection reads only the pages holding the
    /// selected rows; the plain footer when the file has no offset index.
    pub async fn paged_metadata(&self) -> Result<Arc<ParquetMetaData>> {
        if let Some(m) = self.paged.get() {
            return Ok(m.clone());
        }
        let has_index = self
            .metadata
            .row_groups()
            .iter()
            .flat_map(|rg| rg.columns())
            .any(|c| c.offset_index_offset().is_some());
        let meta = if has_index {
            let mut reader =
                parquet::file::metadata::ParquetMetaDataReader::new_with_metadata((*self.metadata).clone())
                    .with_column_index_policy(parquet::file::metadata::PageIndexPolicy::Skip)
                    .with_offset_index_policy(parquet::file::metadata::PageIndexPolicy::Optional);
            reader.load_page_index(TailFetch(self)).await?;
            Arc::new(reader.finish()?)
        } else {
            self.metadata.clone()
        };
        Ok(self.paged.get_or_init(|| meta).clone())
    }

    /// The decoded Parquet footer.
    pub fn metadata(&self) -> &Arc<ParquetMetaData> {
        &self.metadata
    }

    /// File size in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Offset where the Parquet footer (FileMetaData) starts.
    pub fn footer_start(&self) -> u64 {
        self.footer_start
    }

    /// The section pointers, if the file carries a section.
    pub fn location(&self) -> Option<SectionLocation> {
        self.location
    }

    /// The section directory, if the file carries a section.
    pub fn directory(&self) -> Option<&SectionDirectory> {
        self.directory.as_ref()
    }

    /// Reads an arbitrary byte range of the file (served from the prefetched tail if inside it).
    pub async fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        let mut got = self.fetch(std::slice::from_ref(&range)).await?;
        Ok(got.pop().unwrap_or_default())
    }

    /// Reads byte ranges of the file in one batch (each served from the prefetched tail when
    /// inside it).
    pub async fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.fetch(ranges).await
    }

    /// Reads and verifies the payloads of the requested `(kind, column)` pairs only, in one
    /// batched range request. Missing pairs are an error.
    pub async fn load(&self, wanted: &[(SubsectionKind, u16)]) -> Result<Vec<(SubsectionEntry, Payload)>> {
        let (dir, loc) = self.require_section()?;
        let mut entries = Vec::with_capacity(wanted.len());
        for &(kind, column) in wanted {
            entries.push(*dir.find(kind, column).ok_or(FormatError::SubsectionNotFound { kind, column })?);
        }
        let ranges: Vec<Range<u64>> =
            entries.iter().map(|e| loc.offset + e.offset..loc.offset + e.offset + e.length).collect();
        let fetched = self.fetch(&ranges).await?;
        entries
            .into_iter()
            .zip(fetched)
            .map(|(entry, bytes)| {
                verify_crc(&entry, &bytes)?;
                Ok((entry, Payload::decode(AlignedBytes::new(bytes))?))
            })
            .collect()
    }

    /// Reads the whole section (one range request for the part after the already-read
    /// directory) and verifies all payloads.
    pub async fn load_section(&self) -> Result<Section> {
        let (_, loc) = self.require_section()?;
        let rest = self.read_range(loc.offset + loc.directory_length..loc.offset + loc.length).await?;
        Section::decode(AlignedBytes::concat(&[&self.directory_bytes, &rest]))
    }

    fn require_section(&self) -> Result<(&SectionDirectory, SectionLocation)> {
        match (&self.directory, self.location) {
            (Some(dir), Some(loc)) => Ok((dir, loc)),
            _ => Err(FormatError::BadFooterPointer {
                key: KEY_OFFSET,
                value: String::new(),
                reason: "the file carries no AILK section".into(),
            }),
        }
    }

    /// Fetches ranges, serving from memory what the prefetched tail already holds: a range
    /// inside the tail costs no request, one that ends inside it is fetched only up to it.
    async fn fetch(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let requests: Vec<Range<u64>> = ranges
            .iter()
            .filter(|r| r.start < self.tail.start)
            .map(|r| r.start..r.end.min(self.tail.start))
            .collect();
        let mut fetched = if requests.is_empty() {
            Vec::new().into_iter()
        } else {
            self.store.get_ranges(&self.path, &requests).await?.into_iter()
        };
        let mut out = Vec::with_capacity(ranges.len());
        for r in ranges {
            let want = r.end - r.start;
            let head = if r.start < self.tail.start { fetched.next() } else { None };
            let tail_part = if r.end > self.tail.start {
                self.tail.get(&(r.start.max(self.tail.start)..r.end))
            } else {
                None
            };
            let bytes = match (head, tail_part) {
                (Some(h), None) => h,
                (None, Some(t)) => t,
                (Some(h), Some(t)) => Bytes::from([h.as_ref(), t.as_ref()].concat()),
                (None, None) => Bytes::new(),
            };
            if bytes.len() as u64 != want {
                return Err(FormatError::Truncated {
                    what: "range read",
                    needed: want,
                    available: bytes.len() as u64,
                });
            }
            out.push(bytes);
        }
        Ok(out)
    }
}

/// Where the footer metadata starts, from the last bytes of a file (`tail`, at least 8 of
/// them) and the file size.
fn footer_start_from_tail(tail: &[u8], file_size: u64) -> Result<u64> {
    let Some(last8) = tail.len().checked_sub(8).map(|at| &tail[at..]) else {
        return Err(FormatError::NotParquet("short read of the footer".into()));
    };
    if &last8[4..] != b"PAR1" {
        return Err(FormatError::NotParquet("missing PAR1 magic at the end".into()));
    }
    let meta_len = u64::from(u32::from_le_bytes([last8[0], last8[1], last8[2], last8[3]]));
    if meta_len > MAX_FOOTER_BYTES || meta_len + FOOTER_TAIL + 4 > file_size {
        return Err(FormatError::NotParquet(format!(
            "footer length {meta_len} does not fit a {file_size}-byte file"
        )));
    }
    Ok(file_size - FOOTER_TAIL - meta_len)
}

/// Where the footer metadata of an in-memory Parquet file starts.
pub(crate) fn footer_start(file: &[u8]) -> Result<u64> {
    if file.len() < 12 || &file[..4] != b"PAR1" {
        return Err(FormatError::NotParquet("missing PAR1 magic".into()));
    }
    footer_start_from_tail(file, file.len() as u64)
}

/// Decodes a Parquet footer (the thrift `FileMetaData`), never panicking.
pub(crate) fn decode_metadata(bytes: &[u8]) -> Result<ParquetMetaData> {
    // The footer is untrusted input: declared sizes are checked before parquet allocates by
    // them, and a panic inside the thrift decoder becomes an error.
    crate::thrift_guard::check_footer(bytes)?;
    match std::panic::catch_unwind(|| ParquetMetaDataReader::decode_metadata(bytes)) {
        Ok(result) => Ok(result?),
        Err(_) => Err(FormatError::NotParquet("the footer metadata could not be decoded".into())),
    }
}

fn kv<'a>(metadata: &'a ParquetMetaData, key: &str) -> Option<&'a str> {
    metadata
        .file_metadata()
        .key_value_metadata()?
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_deref())
}

fn kv_u64(metadata: &ParquetMetaData, key: &'static str) -> Result<u64> {
    let value = kv(metadata, key).unwrap_or_default();
    value.parse().map_err(|_| FormatError::BadFooterPointer {
        key,
        value: value.into(),
        reason: "not an unsigned integer".into(),
    })
}

/// Reads and checks the `ailake.ailk.*` pointers of a footer; `Ok(None)` when there are none.
/// `footer_start` is where the footer metadata begins: the section must end before it.
pub fn section_location(metadata: &ParquetMetaData, footer_start: u64) -> Result<Option<SectionLocation>> {
    if kv(metadata, KEY_OFFSET).is_none() {
        return Ok(None);
    }
    let version = kv(metadata, KEY_VERSION).unwrap_or_default();
    let bad_version = || FormatError::BadFooterPointer {
        key: KEY_VERSION,
        value: version.into(),
        reason: "expected major.minor".into(),
    };
    let (major, minor) = version.split_once('.').ok_or_else(bad_version)?;
    let (major, minor): (u16, u16) =
        (major.parse().map_err(|_| bad_version())?, minor.parse().map_err(|_| bad_version())?);
    if major != FORMAT_MAJOR {
        return Err(FormatError::UnsupportedVersion { major, minor, supported: FORMAT_MAJOR });
    }
    let offset = kv_u64(metadata, KEY_OFFSET)?;
    let length = kv_u64(metadata, KEY_LENGTH)?;
    let directory_length = kv_u64(metadata, KEY_DIRECTORY_LENGTH)?;
    let end = offset.checked_add(length);
    if offset < 4 || !offset.is_multiple_of(64) || end.is_none_or(|e| e > footer_start) {
        return Err(FormatError::BadFooterPointer {
            key: KEY_OFFSET,
            value: offset.to_string(),
            reason: format!(
                "section {offset}+{length} is not 64-aligned between the header and the footer at {footer_start}"
            ),
        });
    }
    if directory_length > length || !(64..=MAX_DIRECTORY_BYTES).contains(&directory_length) {
        return Err(FormatError::BadFooterPointer {
            key: KEY_DIRECTORY_LENGTH,
            value: directory_length.to_string(),
            reason: format!("does not fit a {length}-byte section"),
        });
    }
    Ok(Some(SectionLocation { offset, length, directory_length, major, minor }))
}

/// A footer whose row count is negative, above `u32::MAX` (row ids are `u32`), or not the sum
/// of its row groups' is `Corrupt`: nothing is sized by a count the rows do not back.
fn check_row_counts(metadata: &ParquetMetaData) -> Result<()> {
    let rows = metadata.file_metadata().num_rows();
    let groups = metadata
        .row_groups()
        .iter()
        .try_fold(0i64, |sum, rg| (rg.num_rows() >= 0).then(|| sum.checked_add(rg.num_rows())).flatten());
    if rows < 0 || rows > i64::from(u32::MAX) || groups != Some(rows) {
        return Err(FormatError::layout(format!(
            "the footer says {rows} rows, its row groups {}",
            groups.map_or("an impossible count".to_string(), |g| g.to_string())
        )));
    }
    Ok(())
}

/// The page index reads of [`ShardReader::paged_metadata`], served from the prefetched tail
/// when it holds them.
struct TailFetch<'a>(&'a ShardReader);

impl parquet::arrow::async_reader::MetadataFetch for TailFetch<'_> {
    fn fetch(&mut self, range: Range<u64>) -> futures::future::BoxFuture<'_, parquet::errors::Result<Bytes>> {
        let reader = self.0;
        Box::pin(async move {
            reader.read_range(range).await.map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        })
    }
}

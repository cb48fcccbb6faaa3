//! Per-shard vector summaries of a snapshot, kept in a Puffin statistics file attached to the
//! snapshot (blob type [`SHARD_SUMMARIES_BLOB`]), so a search plans without reading footers.
//!
//! The table metadata registers the file under the snapshot with an empty `blob-metadata`
//! list; the blob is named in the Puffin file's own footer. pyiceberg 0.12 refuses to load
//! table metadata whose statistics list a blob type it does not know, so listing ours there
//! would make our tables unreadable to it.
//!
//! Blob layout (little-endian, version 2): `u32 count`, then per shard `u32 path_len, path,
//! u32 column_len, column, u64 rows, u32 dim, f32 × dim centroid, f32 radius, u8 index kind,
//! u8 index status, u64 section offset, u64 section length` (offset and length 0: no section),
//! then the occupancy: `u8 present`, and when 1, `u32 partitions version, u32 n, n × (u32
//! partition, u32 rows)`; version 3 adds the partition blocks: `u8 present`, and when 1, a
//! [`BlockLayout`]. Version 1 (no occupancy) and 2 (no blocks) blobs are still read.

use std::collections::HashMap;

use iceberg::io::FileIO;
use iceberg::puffin::{Blob, CompressionCodec, PuffinReader, PuffinWriter};
use iceberg::spec::{StatisticsFile, TableMetadata};

use std::collections::HashSet;

use crate::block_layout::BlockLayout;
use crate::cursor::Cursor;
use crate::error::{CatalogError, Result};
use crate::layout::{parse_specs, VECTOR_COLUMNS_PROPERTY};
use crate::manifests::live_files_of;

/// Puffin blob type of the shard summaries.
pub const SHARD_SUMMARIES_BLOB: &str = "ailake-shard-summaries-v3";
/// The blob type of version 2 (no block layouts), still read.
pub const SHARD_SUMMARIES_BLOB_V2: &str = "ailake-shard-summaries-v2";
/// The blob type of version 1 (no occupancy), still read.
pub const SHARD_SUMMARIES_BLOB_V1: &str = "ailake-shard-summaries-v1";

/// Which vector index a shard's section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// No index: raw vectors only (searched by exact scan).
    Flat,
    /// An HNSW graph.
    Hnsw,
    /// IVF-PQ codes.
    IvfPq,
}

impl IndexKind {
    /// The kind's name in listings: `flat`, `hnsw` or `ivf_pq`.
    pub fn name(self) -> &'static str {
        match self {
            IndexKind::Flat => "flat",
            IndexKind::Hnsw => "hnsw",
            IndexKind::IvfPq => "ivf_pq",
        }
    }
}

/// Whether a shard's index exists yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexStatus {
    /// The file has no section yet (a deferred build is pending): search it by exact scan.
    Pending,
    /// The section is written.
    Ready,
}

/// Which of the table's coarse partitions a shard's rows fall in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupancy {
    /// The partitions version the counts refer to (another version's counts are ignored).
    pub version: u32,
    /// (partition, rows), sorted by partition, rows > 0.
    pub counts: Vec<(u32, u32)>,
}

impl Occupancy {
    /// Whether the shard holds rows of `partition`.
    pub fn holds(&self, partition: u32) -> bool {
        self.counts.binary_search_by_key(&partition, |c| c.0).is_ok()
    }
}

/// What planning needs to know about one data file without opening it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardSummary {
    /// The data file's URI, as in the manifests.
    pub file_path: String,
    /// Rows in the file.
    pub rows: u64,
    /// The primary vector column the centroid and radius describe.
    pub column: String,
    /// Mean of the column's vectors.
    pub centroid: Vec<f32>,
    /// Largest distance from the centroid to a vector of the file.
    pub radius: f32,
    /// Index kind of the section (meaningful when `status` is `Ready`).
    pub index: IndexKind,
    /// Whether the section exists.
    pub status: IndexStatus,
    /// Byte offset and length of the AILK section in the file, when it has one.
    pub section: Option<(u64, u64)>,
    /// The table partitions its rows fall in, when the table had partitions at write time.
    pub occupancy: Option<Occupancy>,
    /// Where its partition blocks lie, when the file has them (a clustered file).
    pub blocks: Option<BlockLayout>,
}

/// Encodes summaries as one blob.
pub fn encode_summaries(summaries: &[ShardSummary]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(summaries.len() as u32).to_le_bytes());
    for s in summaries {
        for text in [&s.file_path, &s.column] {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(&s.rows.to_le_bytes());
        out.extend_from_slice(&(s.centroid.len() as u32).to_le_bytes());
        s.centroid.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        out.extend_from_slice(&s.radius.to_le_bytes());
        out.push(match s.index {
            IndexKind::Flat => 0,
            IndexKind::Hnsw => 1,
            IndexKind::IvfPq => 2,
        });
        out.push(match s.status {
            IndexStatus::Pending => 0,
            IndexStatus::Ready => 1,
        });
        let (off, len) = s.section.unwrap_or((0, 0));
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        match &s.occupancy {
            None => out.push(0),
            Some(o) => {
                out.push(1);
                out.extend_from_slice(&o.version.to_le_bytes());
                out.extend_from_slice(&(o.counts.len() as u32).to_le_bytes());
                for (p, n) in &o.counts {
                    out.extend_from_slice(&p.to_le_bytes());
                    out.extend_from_slice(&n.to_le_bytes());
                }
            }
        }
        match &s.blocks {
            None => out.push(0),
            Some(b) => {
                out.push(1);
                b.encode(&mut out);
            }
        }
    }
    out
}

/// Decodes a blob written by [`encode_summaries`]; malformed bytes give `Corrupt`, never a panic.
pub fn decode_summaries(bytes: &[u8]) -> Result<Vec<ShardSummary>> {
    decode(bytes, 3)
}

fn decode(bytes: &[u8], version: u8) -> Result<Vec<ShardSummary>> {
    let mut c = Cursor(bytes);
    let count = c.u32()? as usize;
    // Every entry takes at least 38 bytes: bound the allocation by what the blob can hold.
    let mut out = Vec::with_capacity(count.min(bytes.len() / 38));
    for _ in 0..count {
        let file_path = c.text()?;
        let column = c.text()?;
        let rows = c.u64()?;
        let dim = c.u32()? as usize;
        let raw =
            c.take(dim.checked_mul(4).ok_or_else(|| CatalogError::Corrupt("absurd dimension".into()))?)?;
        let centroid =
            raw.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        let radius = c.f32()?;
        let index = match c.u8()? {
            0 => IndexKind::Flat,
            1 => IndexKind::Hnsw,
            2 => IndexKind::IvfPq,
            k => return Err(CatalogError::Corrupt(format!("unknown index kind {k}"))),
        };
        let status = match c.u8()? {
            0 => IndexStatus::Pending,
            1 => IndexStatus::Ready,
            s => return Err(CatalogError::Corrupt(format!("unknown index status {s}"))),
        };
        let (off, len) = (c.u64()?, c.u64()?);
        let section = (len > 0).then_some((off, len));
        let occupancy = match (version >= 2).then(|| c.u8()).transpose()? {
            None | Some(0) => None,
            Some(1) => Some(occupancy(&mut c)?),
            Some(b) => return Err(CatalogError::Corrupt(format!("bad occupancy flag {b}"))),
        };
        let blocks = match (version >= 3).then(|| c.u8()).transpose()? {
            None | Some(0) => None,
            Some(1) => Some(BlockLayout::decode(&mut c)?),
            Some(b) => return Err(CatalogError::Corrupt(format!("bad block layout flag {b}"))),
        };
        out.push(ShardSummary {
            file_path,
            rows,
            column,
            centroid,
            radius,
            index,
            status,
            section,
            occupancy,
            blocks,
        });
    }
    if !c.0.is_empty() {
        return Err(CatalogError::Corrupt(format!("{} trailing bytes after shard summaries", c.0.len())));
    }
    Ok(out)
}

fn occupancy(c: &mut Cursor<'_>) -> Result<Occupancy> {
    let version = c.u32()?;
    let n = c.u32()? as usize;
    let mut counts = Vec::with_capacity(n.min(c.0.len() / 8));
    for _ in 0..n {
        let (p, rows) = (c.u32()?, c.u32()?);
        if rows == 0 || counts.last().is_some_and(|(last, _)| *last >= p) {
            return Err(CatalogError::Corrupt(
                "occupancy not sorted by partition or with an empty partition".into(),
            ));
        }
        counts.push((p, rows));
    }
    Ok(Occupancy { version, counts })
}

/// Writes `summaries` as the Puffin statistics file of `snapshot_id` at `uri`.
pub(crate) async fn write_summaries(
    io: &FileIO,
    uri: &str,
    snapshot_id: i64,
    sequence_number: i64,
    summaries: &[ShardSummary],
) -> Result<StatisticsFile> {
    let output = io.new_output(uri)?;
    let mut writer = PuffinWriter::new(&output, HashMap::new(), false).await?;
    let blob = Blob::builder()
        .r#type(SHARD_SUMMARIES_BLOB.to_string())
        .fields(Vec::new())
        .snapshot_id(snapshot_id)
        .sequence_number(sequence_number)
        .data(encode_summaries(summaries))
        .properties(HashMap::from([("shards".to_string(), summaries.len().to_string())]))
        .build();
    writer.add(blob, CompressionCodec::zstd_default()).await?;
    writer.close().await?;
    let input = io.new_input(uri)?;
    let size = input.metadata().await?.size;
    // Puffin ends with: footer payload length (u32), flags (4 bytes), magic (4 bytes); the footer
    // is magic + payload + those 12 bytes.
    let tail = input.reader().await?.read(size.saturating_sub(12)..size).await?;
    let payload = u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")) as i64;
    Ok(StatisticsFile {
        snapshot_id,
        statistics_path: uri.to_string(),
        file_size_in_bytes: size as i64,
        file_footer_size_in_bytes: payload + 16,
        key_metadata: None,
        // The blob is listed in the Puffin footer only: pyiceberg 0.12 rejects table metadata
        // whose statistics name a blob type other than the two it knows, and every engine
        // ignores a statistics file without listed blobs.
        blob_metadata: Vec::new(),
    })
}

/// Reads the shard summaries attached to `snapshot_id`, or `None` when it has none.
pub(crate) async fn read_summaries(
    io: &FileIO,
    metadata: &TableMetadata,
    snapshot_id: i64,
) -> Result<Option<Vec<ShardSummary>>> {
    let Some(stats) = metadata.statistics_for_snapshot(snapshot_id) else { return Ok(None) };
    let reader = PuffinReader::new(io.new_input(&stats.statistics_path)?);
    let file_meta = reader.file_metadata().await?;
    let blobs = file_meta.blobs();
    let found = [(SHARD_SUMMARIES_BLOB, 3), (SHARD_SUMMARIES_BLOB_V2, 2), (SHARD_SUMMARIES_BLOB_V1, 1)]
        .into_iter()
        .find_map(|(kind, version)| blobs.iter().find(|b| b.blob_type() == kind).map(|b| (b, version)));
    let Some((blob_meta, version)) = found else { return Ok(None) };
    let blob = reader.blob(blob_meta).await?;
    decode(blob.data(), version).map(Some)
}

/// Summaries for every file live in `parent`, a snapshot another engine committed (no
/// summaries attached): the nearest ancestor's for the files still live, and for the rest
/// (files other engines wrote, or ours whose summaries a foreign commit dropped) a
/// `Pending` summary without a centroid: planned without a bound, searched exactly until
/// `resume_indexing` indexes them.
pub(crate) async fn recover_summaries(
    io: &FileIO,
    meta: &TableMetadata,
    parent: i64,
) -> Result<Vec<ShardSummary>> {
    let live = live_files_of(io, meta, parent).await?.data;
    let mut known = Vec::new();
    let mut at = meta.snapshot_by_id(parent).and_then(|s| s.parent_snapshot_id());
    while let Some(id) = at {
        if let Some(found) = read_summaries(io, meta, id).await? {
            known = found;
            break;
        }
        at = meta.snapshot_by_id(id).and_then(|s| s.parent_snapshot_id());
    }
    let live_paths: HashSet<&str> = live.iter().map(|f| f.path()).collect();
    known.retain(|s| live_paths.contains(s.file_path.as_str()));
    let covered: HashSet<String> = known.iter().map(|s| s.file_path.clone()).collect();
    let primary = meta
        .properties()
        .get(VECTOR_COLUMNS_PROPERTY)
        .map(|v| parse_specs(v))
        .transpose()?
        .and_then(|specs| specs.into_iter().next())
        .map(|s| s.name)
        .unwrap_or_default();
    for f in live.iter().filter(|f| !covered.contains(f.path())) {
        known.push(ShardSummary {
            file_path: f.path().to_string(),
            rows: f.data_file.record_count(),
            column: primary.clone(),
            centroid: Vec::new(),
            radius: 0.0,
            index: IndexKind::Flat,
            status: IndexStatus::Pending,
            section: None,
            occupancy: None,
            blocks: None,
        });
    }
    tracing::info!(parent, files = known.len(), "recovered shard summaries after a foreign commit");
    Ok(known)
}

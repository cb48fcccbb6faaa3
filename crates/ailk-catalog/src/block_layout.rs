//! [`BlockLayout`]: where a clustered data file's partition blocks (AILK 1.1, kind 6) lie, as
//! its shard summary records it, so a search reads the blocks of the partitions it probes with
//! ranged reads and never opens the file's footer or section directory.
//!
//! Encoding (inside the shard summaries blob, version 3): `u32 partitions version, u64 seed,
//! u32 dim, u32 padded, u64 vectors offset, u32 n`, then `n × (u32 partition, u32 row start,
//! u32 rows, u64 offset, u64 length)`.

use crate::cursor::Cursor;
use crate::error::{CatalogError, Result};

/// One block of a file: a run of rows of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockEntry {
    /// The table partition of its rows.
    pub partition: u32,
    /// First row of the file it holds.
    pub row_start: u32,
    /// Rows it holds.
    pub rows: u32,
    /// Byte offset of the block in the data file (a multiple of 64).
    pub offset: u64,
    /// Its length in bytes.
    pub length: u64,
}

/// The partition blocks of a file's primary vector column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLayout {
    /// The table partitions version the blocks follow.
    pub version: u32,
    /// Seed of the codes' rotation.
    pub seed: u64,
    /// Vector dimension.
    pub dim: u32,
    /// Code bits per row.
    pub padded: u32,
    /// Byte offset in the data file of row 0 of the primary column's `RawVectors` (`f32`,
    /// row-major), read row by row to re-rank; 0 when the section has none.
    pub vectors_offset: u64,
    /// The blocks, in row order.
    pub blocks: Vec<BlockEntry>,
}

impl BlockLayout {
    /// Rows the blocks cover (the file's rows).
    pub fn rows(&self) -> u64 {
        self.blocks.last().map_or(0, |b| u64::from(b.row_start) + u64::from(b.rows))
    }

    /// File byte range of row `row`'s re-ranking vector.
    pub fn vector_range(&self, row: u32) -> std::ops::Range<u64> {
        let width = u64::from(self.dim) * 4;
        let start = self.vectors_offset + u64::from(row) * width;
        start..start + width
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.seed.to_le_bytes());
        out.extend_from_slice(&self.dim.to_le_bytes());
        out.extend_from_slice(&self.padded.to_le_bytes());
        out.extend_from_slice(&self.vectors_offset.to_le_bytes());
        out.extend_from_slice(&(self.blocks.len() as u32).to_le_bytes());
        for b in &self.blocks {
            for v in [b.partition, b.row_start, b.rows] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&b.offset.to_le_bytes());
            out.extend_from_slice(&b.length.to_le_bytes());
        }
    }

    pub(crate) fn decode(c: &mut Cursor<'_>) -> Result<Self> {
        let (version, seed, dim, padded, vectors_offset) = (c.u32()?, c.u64()?, c.u32()?, c.u32()?, c.u64()?);
        let n = c.u32()? as usize;
        let mut blocks = Vec::with_capacity(n.min(c.remaining() / 28));
        let mut next_row = 0u64;
        for _ in 0..n {
            let b = BlockEntry {
                partition: c.u32()?,
                row_start: c.u32()?,
                rows: c.u32()?,
                offset: c.u64()?,
                length: c.u64()?,
            };
            if u64::from(b.row_start) != next_row || b.rows == 0 || b.offset.checked_add(b.length).is_none() {
                return Err(CatalogError::Corrupt("block layout: rows not contiguous or a bad range".into()));
            }
            next_row += u64::from(b.rows);
            blocks.push(b);
        }
        if dim == 0 || padded < dim || blocks.is_empty() {
            return Err(CatalogError::Corrupt("block layout: bad dimension or no blocks".into()));
        }
        Ok(Self { version, seed, dim, padded, vectors_offset, blocks })
    }
}

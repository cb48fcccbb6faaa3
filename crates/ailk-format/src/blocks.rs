//! Partition blocks (format 1.1, sub-section kind 6): per coarse partition of a clustered
//! file, one self-checking block of compressed codes that a search reads on its own — the
//! unit of I/O and of cache for tables larger than memory. [`PartitionBlocks`] is the payload
//! (a block directory and the blocks); [`CodeBlockParts`] is one block's contents, encoded by
//! [`encode_code_block`] and checked by [`CodeBlockParts::parse`]. See `docs/format.md` §4.6.

use crate::aligned::{TypedArray, ALIGN};
use crate::bytes_le::{LeReader, LeWrite};
use crate::error::{FormatError, Result};
use crate::payload::{Payload, PayloadBuilder};
use crate::types::Metric;

/// The four magic bytes every block starts with.
pub const BLOCK_MAGIC: [u8; 4] = *b"AIPB";
/// Fixed header bytes of a block.
pub const BLOCK_HEADER_BYTES: usize = 64;
/// Code kind 1: one sign bit per rotated coordinate (RaBitQ).
pub const CODE_RABITQ_1BIT: u8 = 1;
/// Code kind 2 (format 1.3): kind 1's sign bits plus a 4-bit code per rotated coordinate
/// (extended RaBitQ) that refines the estimates of the rows a scan keeps.
pub const CODE_RABITQ_EX4: u8 = 2;
/// Most rows one block may hold.
pub const MAX_BLOCK_ROWS: u32 = 1 << 24;

fn bad(msg: impl std::fmt::Display) -> FormatError {
    FormatError::layout(format!("partition blocks: {msg}"))
}

fn pad(n: usize) -> usize {
    n.next_multiple_of(ALIGN)
}

/// CRC-32C of one vector as `RawVectors` stores it (`dim` little-endian `f32`s): what a
/// block records per row to check a vector read on its own.
pub fn vector_crc(values: &[f32]) -> u32 {
    // Little-endian targets only (see the crate root): the in-memory bytes are the stored ones.
    crc32c::crc32c(bytemuck::cast_slice(values))
}

/// Bytes of a block of code kind `code` holding `rows` rows of a `dim`-d column coded in
/// `padded` bits per row (0 for an unknown code).
pub fn block_length(code: u8, rows: u32, dim: u32, padded: u32) -> u64 {
    let (n, d, p) = (rows as u64, dim as u64, padded as u64);
    let a = ALIGN as u64;
    let one_bit = BLOCK_HEADER_BYTES as u64
        + (4 * d).next_multiple_of(a)
        + (n * p / 8).next_multiple_of(a)
        + 3 * (4 * n).next_multiple_of(a);
    match code {
        CODE_RABITQ_1BIT => one_bit,
        CODE_RABITQ_EX4 => one_bit + (n * p / 2).next_multiple_of(a) + (4 * n).next_multiple_of(a),
        _ => 0,
    }
}

/// Whether `code` is a code kind this crate reads.
pub fn known_code(code: u8) -> bool {
    matches!(code, CODE_RABITQ_1BIT | CODE_RABITQ_EX4)
}

/// Whether `padded` is a valid code width for `dim`: a multiple of 64 at least `dim`, at most
/// 65,536 + 64.
pub fn valid_padded_dim(dim: u32, padded: u32) -> bool {
    dim >= 1 && padded >= dim && padded.is_multiple_of(64) && padded <= (1 << 16) + 64
}

/// The contents of one block: rows `row_start .. row_start + rows` of the file, all in one
/// partition, coded against the block's own centroid.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeBlockParts {
    /// Code kind ([`CODE_RABITQ_1BIT`] or [`CODE_RABITQ_EX4`]).
    pub code: u8,
    /// The table partition the rows fall in.
    pub partition: u32,
    /// First row of the file the block holds.
    pub row_start: u32,
    /// Vector dimension.
    pub dim: u32,
    /// Code bits per row (a multiple of 64).
    pub padded: u32,
    /// Mean of the block's vectors as indexed (`dim` values).
    pub centroid: Vec<f32>,
    /// `rows × padded / 64` code words, row-major; bit `i % 64` of word `i / 64` is rotated
    /// coordinate `i`.
    pub codes: Vec<u64>,
    /// Per row, `‖x − centroid‖`.
    pub norms: Vec<f32>,
    /// Per row, the code's inner product with the unit residual (`> 0`, 0 for a zero residual).
    pub factors: Vec<f32>,
    /// Per row, CRC-32C of its `RawVectors` row (`dim` little-endian `f32`s): checks a vector
    /// read apart from its payload for re-ranking.
    pub vector_crcs: Vec<u32>,
    /// Code kind 2 only (else empty): `rows × padded / 2` bytes, per row a 4-bit code `u` per
    /// rotated coordinate (coordinate `2j` in the low nibble of byte `j`, `2j + 1` in the high
    /// one) standing for `u − 7.5`; `u ≥ 8` exactly where the row's sign bit is set.
    pub ex_codes: Vec<u8>,
    /// Code kind 2 only (else empty): per row, the 4-bit code's cosine with the unit residual.
    pub ex_factors: Vec<f32>,
}

impl CodeBlockParts {
    /// Rows of the block.
    pub fn rows(&self) -> u32 {
        self.norms.len() as u32
    }

    /// Parses and checks one block (magic, CRC, sizes). Never panics on corrupt bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = LeReader::new(bytes, "partition block header");
        if r.take(4)? != BLOCK_MAGIC {
            return Err(bad("block magic missing"));
        }
        let stored = r.u32()?;
        let computed = crc32c::crc32c(&bytes[8..]);
        if stored != computed {
            return Err(FormatError::ChecksumMismatch { what: "partition block".into(), stored, computed });
        }
        let (partition, row_start, rows, dim, padded) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        // Byte 28 names the code kind; blocks of kind 1 (format 1.1) leave it 0.
        let code = match r.u8()? {
            0 => CODE_RABITQ_1BIT,
            CODE_RABITQ_EX4 => CODE_RABITQ_EX4,
            other => return Err(bad(format!("unknown code kind {other}"))),
        };
        if rows > MAX_BLOCK_ROWS || !valid_padded_dim(dim, padded) {
            return Err(bad(format!("{rows} rows of {dim}-d in {padded} bits")));
        }
        if bytes.len() as u64 != block_length(code, rows, dim, padded) {
            return Err(bad(format!("block of {rows} rows is {} bytes", bytes.len())));
        }
        let (n, d, words) = (rows as usize, dim as usize, padded as usize / 64);
        let mut at = BLOCK_HEADER_BYTES;
        let f32s = |count: usize, at: &mut usize| -> Vec<f32> {
            let v = bytes[*at..*at + 4 * count]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
            *at += pad(4 * count);
            v
        };
        let centroid = f32s(d, &mut at);
        let codes: Vec<u64> = bytes[at..at + 8 * n * words]
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        at += pad(8 * n * words);
        let norms = f32s(n, &mut at);
        let factors = f32s(n, &mut at);
        let vector_crcs = bytes[at..at + 4 * n]
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        at += pad(4 * n);
        let (mut ex_codes, mut ex_factors) = (Vec::new(), Vec::new());
        if code == CODE_RABITQ_EX4 {
            ex_codes = bytes[at..at + n * words * 32].to_vec();
            at += pad(n * words * 32);
            ex_factors = f32s(n, &mut at);
        }
        let parts = CodeBlockParts {
            code,
            partition,
            row_start,
            dim,
            padded,
            centroid,
            codes,
            norms,
            factors,
            vector_crcs,
            ex_codes,
            ex_factors,
        };
        let floats = parts.centroid.iter().chain(&parts.norms).chain(&parts.factors).chain(&parts.ex_factors);
        if floats.clone().any(|v| !v.is_finite()) {
            return Err(bad("a centroid, norm or factor is not finite"));
        }
        Ok(parts)
    }
}

/// Encodes one block (see [`CodeBlockParts`]); fails on inconsistent lengths.
pub fn encode_code_block(parts: &CodeBlockParts) -> Result<Vec<u8>> {
    let (n, d) = (parts.norms.len(), parts.dim as usize);
    let words = parts.padded as usize / 64;
    let ex = if parts.code == CODE_RABITQ_EX4 { (n * words * 32, n) } else { (0, 0) };
    if !known_code(parts.code)
        || !valid_padded_dim(parts.dim, parts.padded)
        || parts.centroid.len() != d
        || parts.codes.len() != n * words
        || parts.factors.len() != n
        || parts.vector_crcs.len() != n
        || (parts.ex_codes.len(), parts.ex_factors.len()) != ex
        || n > MAX_BLOCK_ROWS as usize
    {
        return Err(FormatError::InvalidInput("partition block parts of inconsistent lengths".into()));
    }
    let length = block_length(parts.code, n as u32, parts.dim, parts.padded);
    let mut out = Vec::with_capacity(length as usize);
    out.extend_from_slice(&BLOCK_MAGIC);
    out.put_u32(0); // CRC, filled in below
    out.put_u32(parts.partition);
    out.put_u32(parts.row_start);
    out.put_u32(n as u32);
    out.put_u32(parts.dim);
    out.put_u32(parts.padded);
    out.put_u8(if parts.code == CODE_RABITQ_1BIT { 0 } else { parts.code });
    out.resize(BLOCK_HEADER_BYTES, 0);
    parts.centroid.iter().for_each(|&v| out.put_f32(v));
    out.pad_to(ALIGN);
    parts.codes.iter().for_each(|&w| out.put_u64(w));
    out.pad_to(ALIGN);
    for values in [&parts.norms, &parts.factors] {
        values.iter().for_each(|&v| out.put_f32(v));
        out.pad_to(ALIGN);
    }
    parts.vector_crcs.iter().for_each(|&c| out.put_u32(c));
    out.pad_to(ALIGN);
    if parts.code == CODE_RABITQ_EX4 {
        out.extend_from_slice(&parts.ex_codes);
        out.pad_to(ALIGN);
        parts.ex_factors.iter().for_each(|&v| out.put_f32(v));
        out.pad_to(ALIGN);
    }
    let crc = crc32c::crc32c(&out[8..]);
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    debug_assert_eq!(out.len() as u64, length);
    Ok(out)
}

/// What every block of a [`PartitionBlocks`] payload shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlocksMeta {
    /// Vector dimension (= the column's).
    pub dim: u32,
    /// Code bits per row.
    pub padded: u32,
    /// The table partitions version the blocks follow.
    pub partitions_version: u32,
    /// Seed of the rotation the codes were made in.
    pub seed: u64,
    /// The column's metric.
    pub metric: Metric,
    /// Code kind ([`CODE_RABITQ_1BIT`] or [`CODE_RABITQ_EX4`]).
    pub code: u8,
}

/// The block directory and blocks of one column (kind 6). Blocks cover the file's rows in
/// order, without gaps: block `b` holds rows `row_starts[b] .. row_starts[b + 1]`.
#[derive(Debug, Clone)]
pub struct PartitionBlocks {
    /// What the blocks share.
    pub meta: BlocksMeta,
    /// Partition of each block.
    pub partitions: TypedArray<u32>,
    /// `blocks + 1` row boundaries, from 0, strictly increasing.
    pub row_starts: TypedArray<u32>,
    /// `blocks + 1` byte boundaries of the blocks inside array 3, from 0, multiples of 64.
    pub offsets: TypedArray<u64>,
    /// The blocks, concatenated.
    pub bytes: TypedArray<u8>,
}

impl PartitionBlocks {
    fn check(
        meta: &BlocksMeta,
        partitions: &[u32],
        row_starts: &[u32],
        offsets: &[u64],
        len: usize,
    ) -> Result<()> {
        let b = partitions.len();
        if !known_code(meta.code) || !valid_padded_dim(meta.dim, meta.padded) {
            return Err(bad(format!("code kind {} over {}-d in {} bits", meta.code, meta.dim, meta.padded)));
        }
        if row_starts.len() != b + 1 || offsets.len() != b + 1 || b == 0 {
            return Err(bad(format!("{b} blocks need {} row and byte boundaries", b + 1)));
        }
        if row_starts[0] != 0 || row_starts.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("row boundaries must start at 0 and increase"));
        }
        if offsets[0] != 0 || offsets[b] != len as u64 {
            return Err(bad("byte boundaries must start at 0 and end at the blocks' length"));
        }
        for (i, w) in offsets.windows(2).enumerate() {
            let rows = row_starts[i + 1] - row_starts[i];
            if w[1] < w[0] || w[1] - w[0] != block_length(meta.code, rows, meta.dim, meta.padded) {
                return Err(bad(format!("block {i} of {rows} rows has the wrong length")));
            }
        }
        Ok(())
    }

    /// Encodes the payload: `blocks` as (partition, encoded block), in row order.
    pub fn encode<'a>(
        meta: &BlocksMeta,
        partitions: &'a [u32],
        row_starts: &'a [u32],
        offsets: &'a [u64],
        bytes: &'a [u8],
    ) -> Result<PayloadBuilder<'a>> {
        Self::check(meta, partitions, row_starts, offsets, bytes.len())
            .map_err(|e| FormatError::InvalidInput(e.to_string()))?;
        let mut m = Vec::new();
        m.put_u32(meta.dim);
        m.put_u32(meta.padded);
        m.put_u32(meta.partitions_version);
        m.put_u32(partitions.len() as u32);
        m.put_u64(meta.seed);
        m.put_u8(meta.metric.code());
        m.put_u8(meta.code);
        Ok(PayloadBuilder::new(m).array(partitions).array(row_starts).array(offsets).array(bytes))
    }

    /// Views and checks a payload as partition blocks (each block's own CRC is checked when
    /// the block is parsed).
    pub fn decode(p: &Payload) -> Result<Self> {
        let mut r = LeReader::new(p.meta(), "partition blocks metadata");
        let (dim, padded, partitions_version, count) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        let seed = r.u64()?;
        let metric = Metric::from_code(r.u8()?)?;
        let code = r.u8()?;
        let meta = BlocksMeta { dim, padded, partitions_version, seed, metric, code };
        let blocks = PartitionBlocks {
            meta,
            partitions: p.array(0)?,
            row_starts: p.array(1)?,
            offsets: p.array(2)?,
            bytes: p.array(3)?,
        };
        if blocks.partitions.len() != count as usize {
            return Err(bad(format!("{count} blocks declared, {} listed", blocks.partitions.len())));
        }
        Self::check(&meta, &blocks.partitions, &blocks.row_starts, &blocks.offsets, blocks.bytes.len())?;
        Ok(blocks)
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.partitions.len()
    }

    /// Whether there are none (never true for a decoded payload).
    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }

    /// The bytes of block `b`.
    pub fn block(&self, b: usize) -> Option<&[u8]> {
        let (s, e) = (*self.offsets.get(b)? as usize, *self.offsets.get(b + 1)? as usize);
        self.bytes.get(s..e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlignedBytes;

    fn parts(rows: usize) -> CodeBlockParts {
        CodeBlockParts {
            code: CODE_RABITQ_1BIT,
            partition: 7,
            row_start: 3,
            dim: 5,
            padded: 64,
            centroid: vec![0.5; 5],
            codes: (0..rows as u64).collect(),
            norms: vec![1.0; rows],
            factors: vec![0.8; rows],
            vector_crcs: vec![9; rows],
            ex_codes: Vec::new(),
            ex_factors: Vec::new(),
        }
    }

    fn ex_parts(rows: usize) -> CodeBlockParts {
        CodeBlockParts {
            code: CODE_RABITQ_EX4,
            ex_codes: (0..rows * 32).map(|i| (i * 37 % 256) as u8).collect(),
            ex_factors: vec![0.97; rows],
            ..parts(rows)
        }
    }

    #[test]
    fn a_block_round_trips_and_any_flipped_byte_is_refused() {
        for (parts, code) in [(parts(3), CODE_RABITQ_1BIT), (ex_parts(3), CODE_RABITQ_EX4)] {
            let enc = encode_code_block(&parts).unwrap();
            assert_eq!(enc.len() as u64, block_length(code, 3, 5, 64));
            assert_eq!(CodeBlockParts::parse(&enc).unwrap(), parts);
            for i in 0..enc.len() {
                let mut bad = enc.clone();
                bad[i] ^= 0x10;
                assert!(CodeBlockParts::parse(&bad).is_err(), "code {code}, byte {i}");
            }
            for cut in [0, 7, 63, enc.len() - 1] {
                assert!(CodeBlockParts::parse(&enc[..cut]).is_err());
            }
        }
        // Kind 1 leaves the header's code byte 0 (the 1.1 bytes); kind 2 names itself.
        assert_eq!(encode_code_block(&parts(1)).unwrap()[28], 0);
        assert_eq!(encode_code_block(&ex_parts(1)).unwrap()[28], CODE_RABITQ_EX4);
        let wrong = CodeBlockParts { ex_factors: Vec::new(), ..ex_parts(2) };
        assert!(encode_code_block(&wrong).is_err(), "a kind-2 block needs its 4-bit codes");
        let unknown = CodeBlockParts { code: 9, ..parts(2) };
        assert!(encode_code_block(&unknown).is_err());
    }

    #[test]
    fn the_payload_round_trips_and_checks_its_directory() {
        let a = encode_code_block(&parts(3)).unwrap();
        let b = encode_code_block(&CodeBlockParts { row_start: 3, ..parts(2) }).unwrap();
        let bytes = [a.clone(), b].concat();
        let meta =
            BlocksMeta { dim: 5, padded: 64, partitions_version: 1, seed: 42, metric: Metric::L2, code: 1 };
        let offsets = [0, a.len() as u64, bytes.len() as u64];
        let enc =
            PartitionBlocks::encode(&meta, &[7, 7], &[0, 3, 5], &offsets, &bytes).unwrap().to_vec().unwrap();
        let p = PartitionBlocks::decode(&Payload::decode(AlignedBytes::copy_from(&enc)).unwrap()).unwrap();
        assert_eq!(p.meta, meta);
        assert_eq!(p.len(), 2);
        assert_eq!(p.block(0).unwrap(), &a[..]);
        assert!(PartitionBlocks::encode(&meta, &[7, 7], &[0, 3, 3], &offsets, &bytes).is_err());
        assert!(PartitionBlocks::encode(&meta, &[7, 7], &[0, 3, 5], &[0, 64, bytes.len() as u64], &bytes)
            .is_err());
        assert!(PartitionBlocks::encode(&meta, &[7], &[0, 3], &offsets[..2], &bytes).is_err());
        let ex_meta = BlocksMeta { code: CODE_RABITQ_EX4, ..meta };
        assert!(
            PartitionBlocks::encode(&ex_meta, &[7, 7], &[0, 3, 5], &offsets, &bytes).is_err(),
            "kind-1 blocks are not the lengths of kind 2"
        );
        let ex = [encode_code_block(&ex_parts(3)).unwrap(), encode_code_block(&ex_parts(2)).unwrap()];
        let ex_offsets = [0, ex[0].len() as u64, (ex[0].len() + ex[1].len()) as u64];
        let ex_bytes = ex.concat();
        assert!(PartitionBlocks::encode(&ex_meta, &[7, 7], &[0, 3, 5], &ex_offsets, &ex_bytes).is_ok());
        assert!(PartitionBlocks::encode(
            &BlocksMeta { code: 3, ..meta },
            &[7, 7],
            &[0, 3, 5],
            &offsets,
            &bytes
        )
        .is_err());
    }
}

//! [`BuiltBlocks`]: the partition blocks of one file as a writer builds them — one block of
//! RaBitQ codes ([`crate::rabitq`]) per run of rows of one coarse partition — ready to add to
//! its AILK section (`PartitionBlocks`, format 1.1).

use crate::error::{IndexError, Result};
use crate::rabitq::{encode_block, Rotation};
use crate::Metric;

/// The rotation seed writers use for the blocks of partitions version `version` (one per
/// version: a query is rotated once for every file of that version).
pub fn blocks_seed(version: u32) -> u64 {
    0x4149_4C4B_0000_0000 | u64::from(version)
}

/// The codes a writer puts in partition blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockCode {
    /// By dimension (the default): [`BlockCode::Ex4`] up to [`EX4_MAX_PADDED`] rotated
    /// coordinates, [`BlockCode::OneBit`] above (see [`BlockCode::resolve`]).
    #[default]
    Auto,
    /// 1 bit per rotated coordinate (RaBitQ; format 1.1): the smallest blocks.
    OneBit,
    /// The 1-bit codes plus 4 bits per rotated coordinate (extended RaBitQ; format 1.3):
    /// blocks 3.4–4.4× larger, estimates tight enough that a query re-ranks a small fraction
    /// of the rows the 1-bit bound keeps (fewer exact vectors read).
    Ex4,
}

/// The most rotated coordinates (`padded`) for which [`BlockCode::Auto`] writes 4-bit codes.
///
/// The 1-bit estimate's error falls as `1/√padded`, so the rows its bound keeps fall with the
/// dimension while the 4-bit codes' bytes grow with it. Measured (`cargo xtask bench --only
/// scale`, 2026-12-07): 100k × 128 (padded 128, 12 of 632 partitions probed) re-ranked 265 →
/// 19 rows per query, out of cache 3.06 → 1.07 ms and 538 → 105 KB read; MiniLM 30k × 384
/// (padded 512, 96 of 346 probed) re-ranked only 41 → 12 rows while its blocks grew from 76
/// to 336 B per row, out of the 1/10-of-the-index cache, bytes per query 80 KB (1-bit blocks
/// fit the cache) → 1.1 MB, p50 1.26 → 5.19 ms.
pub const EX4_MAX_PADDED: usize = 256;

impl BlockCode {
    /// The code written for vectors of dimension `dim`: [`BlockCode::Auto`] resolved by the
    /// padded dimension, the others as they are.
    pub fn resolve(self, dim: usize) -> BlockCode {
        match self {
            BlockCode::Auto if crate::rabitq::padded_dim(dim) <= EX4_MAX_PADDED => BlockCode::Ex4,
            BlockCode::Auto => BlockCode::OneBit,
            code => code,
        }
    }

    /// The format's code kind for vectors of dimension `dim`.
    pub fn kind(self, dim: usize) -> u8 {
        match self.resolve(dim) {
            BlockCode::Ex4 => ailk_format::CODE_RABITQ_EX4,
            _ => ailk_format::CODE_RABITQ_1BIT,
        }
    }
}

/// A file's blocks, built: the payload's arrays (see `ailk_format::PartitionBlocks`).
#[derive(Debug, Clone)]
pub struct BuiltBlocks {
    /// What the blocks share.
    pub meta: ailk_format::BlocksMeta,
    /// Partition of each block.
    pub partitions: Vec<u32>,
    /// Row boundaries.
    pub row_starts: Vec<u32>,
    /// Byte boundaries inside `bytes`.
    pub offsets: Vec<u64>,
    /// The encoded blocks.
    pub bytes: Vec<u8>,
}

impl BuiltBlocks {
    /// Blocks of a file whose rows `vectors` (row-major, as indexed) fall in partitions
    /// `assignment` (one per row): one block per run of rows of one partition. `None` when
    /// the rows are not clustered (more runs than `2 × partitions + 8`), where blocks would
    /// be many and tiny.
    pub fn build(
        vectors: &[f32],
        dim: usize,
        metric: Metric,
        assignment: &[u32],
        partitions_version: u32,
        code: BlockCode,
    ) -> Result<Option<Self>> {
        let code = code.kind(dim);
        let rows = assignment.len();
        if dim == 0 || vectors.len() != rows * dim || rows == 0 || rows > u32::MAX as usize {
            return Err(IndexError::InvalidParams(format!(
                "{} values are not {rows} rows of dimension {dim}",
                vectors.len()
            )));
        }
        let mut runs: Vec<(u32, usize)> = Vec::new(); // (partition, first row)
        for (row, &p) in assignment.iter().enumerate() {
            if runs.last().is_none_or(|(last, _)| *last != p) {
                runs.push((p, row));
            }
        }
        let mut distinct: Vec<u32> = runs.iter().map(|r| r.0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if runs.len() > 2 * distinct.len() + 8 {
            return Ok(None);
        }
        let rotation = Rotation::new(dim, blocks_seed(partitions_version));
        let meta = ailk_format::BlocksMeta {
            dim: dim as u32,
            padded: rotation.padded() as u32,
            partitions_version,
            seed: rotation.seed(),
            metric,
            code,
        };
        let mut built = BuiltBlocks {
            meta,
            partitions: Vec::with_capacity(runs.len()),
            row_starts: Vec::with_capacity(runs.len() + 1),
            offsets: vec![0],
            bytes: Vec::new(),
        };
        for (i, &(p, start)) in runs.iter().enumerate() {
            let end = runs.get(i + 1).map_or(rows, |r| r.1);
            let parts = encode_block(&vectors[start * dim..end * dim], p, start as u32, &rotation, code);
            built.bytes.extend(ailk_format::encode_code_block(&parts)?);
            built.partitions.push(p);
            built.row_starts.push(start as u32);
            built.offsets.push(built.bytes.len() as u64);
        }
        built.row_starts.push(rows as u32);
        Ok(Some(built))
    }

    /// Adds the blocks to `section` as vector column `column`'s `PartitionBlocks`.
    pub fn add_to_section<'a>(
        &'a self,
        section: &mut ailk_format::SectionBuilder<'a>,
        column: u16,
    ) -> Result<()> {
        let payload = ailk_format::PartitionBlocks::encode(
            &self.meta,
            &self.partitions,
            &self.row_starts,
            &self.offsets,
            &self.bytes,
        )?;
        section.add(ailk_format::SubsectionKind::PartitionBlocks, column, payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ailk_format::{
        AlignedBytes, CodeBlockParts, PartitionBlocks, Section, SectionBuilder, SubsectionKind, VectorColumn,
    };

    #[test]
    fn auto_writes_4_bit_codes_up_to_256_rotated_coordinates() {
        for (dim, want) in [(8, 2), (128, 2), (256, 2), (257, 1), (384, 1), (768, 1)] {
            assert_eq!(BlockCode::Auto.kind(dim), want, "dimension {dim}");
            assert_eq!(BlockCode::OneBit.kind(dim), 1);
            assert_eq!(BlockCode::Ex4.kind(dim), 2);
        }
        let (dim, rows) = (300, 6);
        let vectors: Vec<f32> = (0..rows * dim).map(|i| ((i * 13) % 17) as f32 * 0.1).collect();
        let runs = [0u32, 0, 0, 1, 1, 1];
        let built =
            BuiltBlocks::build(&vectors, dim, Metric::L2, &runs, 1, BlockCode::Auto).unwrap().unwrap();
        assert_eq!(built.meta.code, 1, "300 dimensions pad to 512: 1-bit codes alone");
    }

    #[test]
    fn runs_become_blocks_that_decode_and_scan_and_scattered_rows_do_not() {
        let dim = 16;
        let vectors: Vec<f32> = (0..40 * dim).map(|i| ((i * 7) % 11) as f32 * 0.1).collect();
        let runs: Vec<u32> = (0..40).map(|r| [4u32, 1, 9][r / 15]).collect();
        let built = BuiltBlocks::build(&vectors, dim, Metric::L2, &runs, 2, BlockCode::Ex4).unwrap().unwrap();
        assert_eq!(
            (built.partitions.clone(), built.row_starts.clone()),
            (vec![4, 1, 9], vec![0, 15, 30, 40])
        );
        let mut section = SectionBuilder::new(40);
        let col = section.column(VectorColumn::summarize(1, "v", Metric::L2, dim as u32, &vectors).unwrap());
        built.add_to_section(&mut section, col).unwrap();
        let section = Section::decode(AlignedBytes::copy_from(&section.encode().unwrap())).unwrap();
        let blocks =
            PartitionBlocks::decode(&section.payload(SubsectionKind::PartitionBlocks, 0).unwrap()).unwrap();
        let rotation = Rotation::new(dim, blocks.meta.seed);
        for b in 0..blocks.len() {
            let parts = CodeBlockParts::parse(blocks.block(b).unwrap()).unwrap();
            let block = crate::rabitq::CodeBlock::new(parts, &rotation).unwrap();
            assert!(block.refines(), "4-bit codes were asked for");
            assert_eq!(block.row_range(), built.row_starts[b]..built.row_starts[b + 1]);
            let mut out = Vec::new();
            block.scan(
                &crate::rabitq::RotatedQuery::new(&vectors[..dim], Metric::L2, &rotation),
                None,
                &mut out,
            );
            assert_eq!(out.len(), block.rows());
        }
        let scattered: Vec<u32> = (0..40).map(|r| r % 3).collect();
        assert!(BuiltBlocks::build(&vectors, dim, Metric::L2, &scattered, 2, BlockCode::OneBit)
            .unwrap()
            .is_none());
        assert!(BuiltBlocks::build(&vectors[1..], dim, Metric::L2, &runs, 2, BlockCode::Ex4).is_err());
    }
}

//! Golden-file scaffolding shared by the `golden*` tests: the bless-or-read loader and the
//! partition-blocks section the v1.1 and v1.3 files pin (same rows, one code kind each).

use std::path::{Path, PathBuf};

use ailk_format::{
    encode_code_block, vector_crc, BlocksMeta, CodeBlockParts, Metric, PartitionBlocks, RawVectors,
    SectionBuilder, SubsectionKind, VectorColumn,
};

/// `tests/fixtures/<rel>` of this crate.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// The golden file at `path`; with `AILAKE_BLESS` set, a missing file is first written from
/// `make()` — an existing one is never rewritten.
pub fn golden(path: &Path, make: impl FnOnce() -> Vec<u8>) -> Vec<u8> {
    if std::env::var_os("AILAKE_BLESS").is_some() && !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, make()).unwrap();
    }
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e} (bless with AILAKE_BLESS=1)", path.display()))
}

/// The blocks fixture's dimension.
pub const DIM: u32 = 8;
/// The blocks fixture's padded (rotated) dimension.
pub const PADDED: u32 = 64;
/// Rows per block: three partitions' runs, `(partition, rows)`.
pub const RUNS: [(u32, u32); 3] = [(5, 7), (2, 10), (9, 3)];

/// Rows of the blocks fixture.
pub fn block_rows() -> u32 {
    RUNS.iter().map(|r| r.1).sum()
}

/// The blocks fixture's vectors, by formula.
pub fn block_vectors() -> Vec<f32> {
    (0..block_rows() * DIM).map(|i| ((i * 5 + 3) % 13) as f32 * 0.125 - 0.75).collect()
}

/// Block `b`'s parts for block code `code` (1 or 2), by formula (the codes' values need not come
/// from a real rotation: the fixture pins the layout, the codec is tested in ailk-index).
pub fn block_parts(code: u8, b: usize) -> CodeBlockParts {
    let start: u32 = RUNS[..b].iter().map(|r| r.1).sum();
    let (partition, n) = RUNS[b];
    let v = block_vectors();
    let ex = code == ailk_format::CODE_RABITQ_EX4;
    CodeBlockParts {
        code,
        partition,
        row_start: start,
        dim: DIM,
        padded: PADDED,
        centroid: (0..DIM).map(|i| (i + b as u32) as f32 * 0.25).collect(),
        codes: (0..n as u64).map(|r| (r + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect(),
        norms: (0..n).map(|r| 1.0 + r as f32 * 0.5).collect(),
        factors: (0..n).map(|r| 0.75 + (r % 4) as f32 * 0.0625).collect(),
        vector_crcs: (start..start + n)
            .map(|r| vector_crc(&v[(r * DIM) as usize..((r + 1) * DIM) as usize]))
            .collect(),
        ex_codes: if ex {
            (0..n * PADDED / 2).map(|i| ((i * 29 + b as u32 * 7) % 256) as u8).collect()
        } else {
            Vec::new()
        },
        ex_factors: if ex { (0..n).map(|r| 0.96 + (r % 3) as f32 * 0.0078125).collect() } else { Vec::new() },
    }
}

/// A section of the fixture's raw vectors plus its partition blocks of code `code`.
pub fn blocks_section(code: u8) -> Vec<u8> {
    let data = block_vectors();
    let meta = BlocksMeta {
        dim: DIM,
        padded: PADDED,
        partitions_version: 3,
        seed: 0x4149_4C4B_0000_0003,
        metric: Metric::L2,
        code,
    };
    let (mut bytes, mut offsets, mut starts, mut partitions) =
        (Vec::new(), vec![0u64], vec![0u32], Vec::new());
    for b in 0..RUNS.len() {
        bytes.extend(encode_code_block(&block_parts(code, b)).unwrap());
        offsets.push(bytes.len() as u64);
        starts.push(starts[b] + RUNS[b].1);
        partitions.push(RUNS[b].0);
    }
    let mut s = SectionBuilder::new(block_rows().into());
    let c = s.column(VectorColumn::summarize(3, "embedding", Metric::L2, DIM, &data).unwrap());
    s.add(SubsectionKind::RawVectors, c, RawVectors::encode_f32(DIM, &data).unwrap());
    s.add(
        SubsectionKind::PartitionBlocks,
        c,
        PartitionBlocks::encode(&meta, &partitions, &starts, &offsets, &bytes).unwrap(),
    );
    s.encode().unwrap()
}

/// Asserts that a blocks-fixture section (`bytes`, blocks of code `code`) says version
/// `(1, minor)` and decodes block by block, also when one block is read apart at its offset.
pub fn assert_blocks_section_decodes(bytes: &[u8], code: u8, minor: u16) {
    use ailk_format::{AlignedBytes, Section, SectionDirectory};
    let dir = SectionDirectory::decode(bytes).unwrap();
    assert_eq!((dir.major, dir.minor), (1, minor), "a section with kind-6 blocks of code {code}");
    let s = Section::decode(AlignedBytes::copy_from(bytes)).unwrap();
    let payload = s.payload(SubsectionKind::PartitionBlocks, 0).unwrap();
    let blocks = PartitionBlocks::decode(&payload).unwrap();
    assert_eq!(blocks.len(), RUNS.len());
    assert_eq!(&blocks.row_starts[..], &[0, 7, 17, 20]);
    for b in 0..RUNS.len() {
        assert_eq!(CodeBlockParts::parse(blocks.block(b).unwrap()).unwrap(), block_parts(code, b));
    }
    // A block read apart from its payload (at its file offset) checks itself.
    let entry = dir.find(SubsectionKind::PartitionBlocks, 0).unwrap();
    let at = (entry.offset + payload.array_offset(3).unwrap() + blocks.offsets[1]) as usize;
    let len = (blocks.offsets[2] - blocks.offsets[1]) as usize;
    assert_eq!(CodeBlockParts::parse(&bytes[at..at + len]).unwrap(), block_parts(code, 1));
    assert_eq!(at % 64, 0, "blocks are 64-byte aligned in the section");
}

//! AILK v1.3 golden files (`tests/fixtures/v1.3/`): a section with partition blocks (kind 6) of
//! code kind 2 (1-bit plus 4-bit codes) must decode forever, and today's encoder must still
//! write its exact bytes. Inputs are formulas (no RNG). `AILAKE_BLESS=1 cargo test -p
//! ailk-format --test golden_v1_3` writes a missing file — never rewrite an existing one.

use std::path::PathBuf;

use ailk_format::{
    encode_code_block, vector_crc, AlignedBytes, BlocksMeta, CodeBlockParts, Metric, PartitionBlocks,
    RawVectors, Section, SectionBuilder, SectionDirectory, SubsectionKind, VectorColumn, CODE_RABITQ_EX4,
};

const DIM: u32 = 8;
const PADDED: u32 = 64;
/// Rows per block: three partitions' runs.
const RUNS: [(u32, u32); 3] = [(5, 7), (2, 10), (9, 3)];

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.3/blocks-ex4-l2.ailk")
}

fn rows() -> u32 {
    RUNS.iter().map(|r| r.1).sum()
}

fn vectors() -> Vec<f32> {
    (0..rows() * DIM).map(|i| ((i * 5 + 3) % 13) as f32 * 0.125 - 0.75).collect()
}

/// Block `b`'s parts by formula (the codes' values need not come from a real rotation here:
/// this file pins the layout, the codec is tested in ailk-index).
fn parts(b: usize) -> CodeBlockParts {
    let start: u32 = RUNS[..b].iter().map(|r| r.1).sum();
    let (partition, n) = RUNS[b];
    let v = vectors();
    CodeBlockParts {
        code: CODE_RABITQ_EX4,
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
        ex_codes: (0..n * PADDED / 2).map(|i| ((i * 29 + b as u32 * 7) % 256) as u8).collect(),
        ex_factors: (0..n).map(|r| 0.96 + (r % 3) as f32 * 0.0078125).collect(),
    }
}

fn section() -> Vec<u8> {
    let data = vectors();
    let meta = BlocksMeta {
        dim: DIM,
        padded: PADDED,
        partitions_version: 3,
        seed: 0x4149_4C4B_0000_0003,
        metric: Metric::L2,
        code: CODE_RABITQ_EX4,
    };
    let (mut bytes, mut offsets, mut starts, mut partitions) =
        (Vec::new(), vec![0u64], vec![0u32], Vec::new());
    for b in 0..RUNS.len() {
        bytes.extend(encode_code_block(&parts(b)).unwrap());
        offsets.push(bytes.len() as u64);
        starts.push(starts[b] + RUNS[b].1);
        partitions.push(RUNS[b].0);
    }
    let mut s = SectionBuilder::new(rows().into());
    let c = s.column(VectorColumn::summarize(3, "embedding", Metric::L2, DIM, &data).unwrap());
    s.add(SubsectionKind::RawVectors, c, RawVectors::encode_f32(DIM, &data).unwrap());
    s.add(
        SubsectionKind::PartitionBlocks,
        c,
        PartitionBlocks::encode(&meta, &partitions, &starts, &offsets, &bytes).unwrap(),
    );
    s.encode().unwrap()
}

fn golden() -> Vec<u8> {
    let path = path();
    if std::env::var_os("AILAKE_BLESS").is_some() && !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, section()).unwrap();
    }
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (bless with AILAKE_BLESS=1)", path.display()))
}

#[test]
fn todays_encoder_writes_the_v1_3_golden_bytes() {
    assert!(section() == golden(), "the encoder no longer writes the v1.3 bytes of blocks-ex4-l2.ailk");
}

#[test]
fn the_v1_3_golden_section_decodes_block_by_block() {
    let bytes = golden();
    let dir = SectionDirectory::decode(&bytes).unwrap();
    assert_eq!((dir.major, dir.minor), (1, 3), "a section with kind-6 blocks of code 2 says 1.3");
    let s = Section::decode(AlignedBytes::copy_from(&bytes)).unwrap();
    let blocks = PartitionBlocks::decode(&s.payload(SubsectionKind::PartitionBlocks, 0).unwrap()).unwrap();
    assert_eq!(blocks.len(), RUNS.len());
    assert_eq!(&blocks.row_starts[..], &[0, 7, 17, 20]);
    for b in 0..RUNS.len() {
        assert_eq!(CodeBlockParts::parse(blocks.block(b).unwrap()).unwrap(), parts(b));
    }
    // A block read apart from its payload (at its file offset) checks itself.
    let entry = dir.find(SubsectionKind::PartitionBlocks, 0).unwrap();
    let payload = s.payload(SubsectionKind::PartitionBlocks, 0).unwrap();
    let at = (entry.offset + payload.array_offset(3).unwrap() + blocks.offsets[1]) as usize;
    let len = (blocks.offsets[2] - blocks.offsets[1]) as usize;
    assert_eq!(CodeBlockParts::parse(&bytes[at..at + len]).unwrap(), parts(1));
    assert_eq!(at % 64, 0, "blocks are 64-byte aligned in the section");
}

#[test]
fn a_kind_2_block_names_its_code_in_its_header_and_a_1_1_reader_would_refuse_it() {
    let block = encode_code_block(&parts(0)).unwrap();
    assert_eq!(block[28], CODE_RABITQ_EX4);
    // What a 1.1 reader computes for the block's length (kind 1's formula) is not its length:
    // such a reader finds the block unusable and searches those rows exactly.
    assert_ne!(block.len() as u64, ailk_format::block_length(1, RUNS[0].1, DIM, PADDED));
}

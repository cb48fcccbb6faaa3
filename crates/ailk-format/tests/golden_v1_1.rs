//! AILK v1.1 golden files (`tests/fixtures/v1.1/`): a section with partition blocks (kind 6)
//! must decode forever, and today's encoder must still write its exact bytes. Inputs are
//! formulas (no RNG; `common/golden_files.rs`). `AILAKE_BLESS=1 cargo test -p ailk-format --test
//! golden_v1_1` writes a missing file — never rewrite an existing one.

mod common;

use ailk_format::{Metric, RawVectors, SectionBuilder, SectionDirectory, SubsectionKind, VectorColumn};
use common::golden_files::{
    assert_blocks_section_decodes, block_rows, block_vectors, blocks_section, fixture, golden, DIM,
};

fn bytes() -> Vec<u8> {
    golden(&fixture("v1.1/blocks-l2.ailk"), || blocks_section(1))
}

#[test]
fn todays_encoder_writes_the_v1_1_golden_bytes() {
    assert!(blocks_section(1) == bytes(), "the encoder no longer writes the v1.1 bytes of blocks-l2.ailk");
}

#[test]
fn the_v1_1_golden_section_decodes_block_by_block() {
    assert_blocks_section_decodes(&bytes(), 1, 1);
}

#[test]
fn a_section_without_blocks_is_still_written_as_1_0() {
    let data = block_vectors();
    let mut s = SectionBuilder::new(block_rows().into());
    let c = s.column(VectorColumn::summarize(3, "embedding", Metric::L2, DIM, &data).unwrap());
    s.add(SubsectionKind::RawVectors, c, RawVectors::encode_f32(DIM, &data).unwrap());
    assert_eq!(SectionDirectory::decode(&s.encode().unwrap()).unwrap().minor, 0);
}

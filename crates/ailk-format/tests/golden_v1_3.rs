//! AILK v1.3 golden files (`tests/fixtures/v1.3/`): a section with partition blocks (kind 6) of
//! code kind 2 (1-bit plus 4-bit codes) must decode forever, and today's encoder must still
//! write its exact bytes. Inputs are formulas (no RNG; `common/golden_files.rs`).
//! `AILAKE_BLESS=1 cargo test -p ailk-format --test golden_v1_3` writes a missing file — never
//! rewrite an existing one.

mod common;

use ailk_format::{encode_code_block, CODE_RABITQ_EX4};
use common::golden_files::{
    assert_blocks_section_decodes, block_parts, blocks_section, fixture, golden, DIM, PADDED, RUNS,
};

fn bytes() -> Vec<u8> {
    golden(&fixture("v1.3/blocks-ex4-l2.ailk"), || blocks_section(CODE_RABITQ_EX4))
}

#[test]
fn todays_encoder_writes_the_v1_3_golden_bytes() {
    assert!(
        blocks_section(CODE_RABITQ_EX4) == bytes(),
        "the encoder no longer writes the v1.3 bytes of blocks-ex4-l2.ailk"
    );
}

#[test]
fn the_v1_3_golden_section_decodes_block_by_block() {
    assert_blocks_section_decodes(&bytes(), CODE_RABITQ_EX4, 3);
}

#[test]
fn a_kind_2_block_names_its_code_in_its_header_and_a_1_1_reader_would_refuse_it() {
    let block = encode_code_block(&block_parts(CODE_RABITQ_EX4, 0)).unwrap();
    assert_eq!(block[28], CODE_RABITQ_EX4);
    // What a 1.1 reader computes for the block's length (kind 1's formula) is not its length:
    // such a reader finds the block unusable and searches those rows exactly.
    assert_ne!(block.len() as u64, ailk_format::block_length(1, RUNS[0].1, DIM, PADDED));
}

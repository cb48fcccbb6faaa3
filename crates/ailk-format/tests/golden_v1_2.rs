//! AILK v1.2 golden file (`tests/fixtures/v1.2/text-l2.ailk`): a section with text indexes
//! (kind 7) must decode forever, and today's encoder must still write its exact bytes. The
//! index blobs are formulas here (this file pins the layout; the inverted-index codec has its
//! own golden file in ailk-index). `AILAKE_BLESS=1 cargo test -p ailk-format --test
//! golden_v1_2` writes a missing file — never rewrite an existing one.

mod common;

use ailk_format::{
    AlignedBytes, Metric, RawVectors, Section, SectionBuilder, SectionDirectory, SubsectionKind, TextIndexes,
    VectorColumn,
};

const DIM: u32 = 4;
const ROWS: u32 = 6;

fn vectors() -> Vec<f32> {
    (0..ROWS * DIM).map(|i| ((i * 7 + 1) % 11) as f32 * 0.25 - 1.0).collect()
}

fn blob(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn section() -> Vec<u8> {
    let data = vectors();
    let (title, body) = (blob(37, 1), blob(130, 2));
    let mut s = SectionBuilder::new(ROWS.into());
    let c = s.column(VectorColumn::summarize(2, "embedding", Metric::L2, DIM, &data).unwrap());
    s.add(SubsectionKind::RawVectors, c, RawVectors::encode_f32(DIM, &data).unwrap());
    s.add(
        SubsectionKind::TextIndexes,
        c,
        TextIndexes::encode(&[(3, "title", "simple", &title), (4, "body", "english", &body)]).unwrap(),
    );
    s.encode().unwrap()
}

fn golden() -> Vec<u8> {
    common::golden_files::golden(&common::golden_files::fixture("v1.2/text-l2.ailk"), section)
}

#[test]
fn todays_encoder_writes_the_v1_2_golden_bytes() {
    assert!(section() == golden(), "the encoder no longer writes the v1.2 bytes of text-l2.ailk");
}

#[test]
fn the_v1_2_golden_section_decodes_its_text_indexes() {
    let bytes = golden();
    let dir = SectionDirectory::decode(&bytes).unwrap();
    assert_eq!((dir.major, dir.minor), (1, 2), "a section with kind 7 says 1.2");
    let s = Section::decode(AlignedBytes::copy_from(&bytes)).unwrap();
    let t = TextIndexes::decode(&s.payload(SubsectionKind::TextIndexes, 0).unwrap()).unwrap();
    let names: Vec<_> =
        t.columns.iter().map(|c| (c.field_id, c.name.as_str(), c.analyzer.as_str())).collect();
    assert_eq!(names, [(3, "title", "simple"), (4, "body", "english")]);
    assert_eq!(&t.columns[0].index[..], &blob(37, 1)[..]);
    assert_eq!(&t.columns[1].index[..], &blob(130, 2)[..]);
}

#[test]
fn a_reader_that_does_not_know_kind_7_lists_it_and_reads_the_vectors() {
    // What a 1.0/1.1 reader does: the entry decodes as a kind it may skip; the vectors load.
    let bytes = golden();
    let dir = SectionDirectory::decode(&bytes).unwrap();
    assert!(dir.entries.iter().any(|e| e.kind.code() == 7));
    let s = Section::decode(AlignedBytes::copy_from(&bytes)).unwrap();
    let raw = RawVectors::decode(&s.payload(SubsectionKind::RawVectors, 0).unwrap()).unwrap();
    assert_eq!(raw.rows, u64::from(ROWS));
}

/// The inverted-index blob of a text column (`tests/fixtures/v1.2/text-index.aitx`): rows as
/// term lists by formula (a null row, repeats, multi-byte terms).
fn text_index() -> ailk_format::TextIndex {
    let words = ["disk", "usage", "größe", "東", "disk", "tool"];
    ailk_format::TextIndex::from_term_rows((0..7usize).map(|r| {
        if r == 3 {
            return Vec::new();
        }
        (0..r + 1).map(|i| words[(r * 3 + i * 5) % words.len()].to_string()).collect()
    }))
}

/// The blob's golden bytes at `name`, blessed from `encode` when missing.
fn golden_blob(name: &str, encode: impl Fn() -> Vec<u8>) -> Vec<u8> {
    let golden =
        common::golden_files::golden(&common::golden_files::fixture(&format!("v1.2/{name}")), &encode);
    assert!(encode() == golden, "the encoder no longer writes {name}");
    golden
}

#[test]
fn the_text_index_blob_keeps_its_v1_bytes() {
    let golden = golden_blob("text-index.aitx", || text_index().encode_v1());
    assert_eq!(golden[4], 1);
    let decoded = ailk_format::TextIndex::decode(&golden).unwrap();
    assert_eq!(decoded, text_index());
    assert_eq!((decoded.rows(), decoded.doc_len(3), decoded.doc_len(6)), (7, 0, 7));
    assert_eq!(decoded.postings("disk").iter().map(|p| p.row).collect::<Vec<_>>(), [0, 2, 4, 5, 6]);
}

#[test]
fn the_text_index_blob_keeps_its_v2_bytes() {
    let golden = golden_blob("text-index-v2.aitx", || text_index().encode());
    assert_eq!((&golden[..4], golden[4]), (&b"AITX"[..], 2));
    let decoded = ailk_format::TextIndex::decode(&golden).unwrap();
    assert_eq!(decoded, text_index());
    // The head, read from the end as a search does, locates "disk"'s postings.
    let n = golden.len() as u64;
    let (range, crc) = ailk_format::parse_trailer(&golden[golden.len() - 12..], n).unwrap();
    let head = ailk_format::TextHead::decode(&golden[range.start as usize..range.end as usize], &range, crc)
        .unwrap();
    assert_eq!((head.rows, head.total_len, head.term_count), (7, 24, 5));
    let b = head.block_of("disk").unwrap();
    let block = &head.blocks[b];
    let entries =
        head.decode_block(b, &golden[block.range.start as usize..block.range.end as usize]).unwrap();
    let disk = entries.iter().find(|e| e.term == "disk").unwrap();
    let rows = head.decode_rows(disk, &golden[disk.rows.start as usize..disk.rows.end as usize]).unwrap();
    assert_eq!(rows.iter().map(|p| p.row).collect::<Vec<_>>(), [0, 2, 4, 5, 6]);
}

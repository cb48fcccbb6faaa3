//! Corrupt input never panics and never returns wrong data: truncations, flipped bits,
//! lying footer pointers, wrong magic, absurd sizes all give typed errors.

mod common;

use std::sync::Arc;

use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use ailk_format::section::peek_lengths;
use ailk_format::{
    memory_store, write_shard_bytes, AlignedBytes, FormatError, ReadOptions, Section, SectionDirectory,
    ShardReader, KEY_OFFSET,
};
use common::{full_section, random_vectors, shard_batch, shard_schema, OwnedGraph, OwnedIvfPq};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use proptest::prelude::*;

const DIM: u32 = 8;
const ROWS: u32 = 120;

fn section_bytes() -> Vec<u8> {
    let v = random_vectors(ROWS as usize, DIM as usize, 5);
    full_section(DIM, &v, &OwnedGraph::ring(ROWS, 4, 5), &OwnedIvfPq::random(ROWS, DIM, 4, 4, 5))
}

fn file_bytes() -> Vec<u8> {
    let schema = shard_schema(DIM);
    let v = random_vectors(ROWS as usize, DIM as usize, 5);
    let batch = shard_batch(&schema, DIM, 0, &v);
    write_shard_bytes(schema, &[batch], Some(&section_bytes()), None).unwrap().0
}

/// Opens a file from memory and loads its whole section: the outcome under test.
fn open_and_load(file: Vec<u8>, prefetch: u64) -> Result<Section, FormatError> {
    futures::executor::block_on(async {
        let store: Arc<dyn ObjectStore> = memory_store();
        let path = Path::from("f.parquet");
        store.put(&path, PutPayload::from(file)).await?;
        let reader = ShardReader::open(store, path, ReadOptions { file_size: None, prefetch }).await?;
        reader.load_section().await
    })
}

fn payload_bytes(section: &Section) -> Vec<Vec<u8>> {
    use ailk_format::SubsectionKind::*;
    [RawVectors, HnswGraph, IvfCentroids, PqCodebook, IvfLists]
        .iter()
        .map(|k| section.payload(*k, 0).unwrap().bytes().to_vec())
        .collect()
}

#[test]
fn every_truncation_of_a_section_is_an_error() {
    let bytes = section_bytes();
    for len in (0..bytes.len()).step_by(7) {
        let r = Section::decode(AlignedBytes::copy_from(&bytes[..len]));
        assert!(r.is_err(), "truncated to {len} decoded");
    }
}

#[test]
fn every_truncation_of_a_file_is_an_error() {
    let file = file_bytes();
    for len in (0..file.len()).step_by(53).chain(file.len() - 9..file.len()) {
        assert!(open_and_load(file[..len].to_vec(), 64 * 1024).is_err(), "file truncated to {len} loaded");
    }
}

#[test]
fn every_single_bit_flip_in_the_section_is_detected() {
    let bytes = section_bytes();
    let clean = Section::decode(AlignedBytes::copy_from(&bytes)).unwrap();
    let dir = clean.directory();
    for pos in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[pos] ^= 1 << (pos % 8);
        match Section::decode(AlignedBytes::copy_from(&bad)) {
            Err(_) => {}
            // Padding bytes are not covered by any checksum; the decoded content must be intact.
            Ok(s) => {
                assert_eq!(s.directory(), dir, "flip at {pos} changed the directory unnoticed");
                assert_eq!(
                    payload_bytes(&s),
                    payload_bytes(&clean),
                    "flip at {pos} changed a payload unnoticed"
                );
            }
        }
    }
}

#[test]
fn flipped_payload_bytes_give_a_checksum_error() {
    let bytes = section_bytes();
    let dir = SectionDirectory::decode(&bytes).unwrap();
    let entry = dir.entries[1];
    let mut bad = bytes.clone();
    bad[(entry.offset + entry.length / 2) as usize] ^= 0x40;
    assert!(matches!(
        Section::decode(AlignedBytes::copy_from(&bad)),
        Err(FormatError::ChecksumMismatch { .. })
    ));
}

#[test]
fn wrong_magic_is_a_typed_error() {
    let mut bytes = section_bytes();
    bytes[0] = b'X';
    assert!(
        matches!(SectionDirectory::decode(&bytes), Err(FormatError::BadMagic { found }) if &found == b"XILK")
    );
    assert!(matches!(peek_lengths(&bytes), Err(FormatError::BadMagic { .. })));
    let file = file_bytes();
    let mut not_parquet = file.clone();
    let n = not_parquet.len();
    not_parquet[n - 1] = b'2';
    assert!(matches!(open_and_load(not_parquet, 0), Err(FormatError::NotParquet(_))));
}

#[test]
fn absurd_sizes_are_refused_before_allocating() {
    let mut bytes = section_bytes();
    bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes()); // directory length
    assert!(matches!(SectionDirectory::decode(&bytes), Err(FormatError::AbsurdSize { .. })));
    let mut file = file_bytes();
    let n = file.len();
    file[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes()); // footer length
    assert!(matches!(open_and_load(file, 0), Err(FormatError::NotParquet(_))));
}

/// Writes a file whose footer pointers say whatever `kvs` says.
fn file_with_pointers(kvs: &[(&str, &str)]) -> Vec<u8> {
    let schema = shard_schema(DIM);
    let v = random_vectors(ROWS as usize, DIM as usize, 5);
    let batch = shard_batch(&schema, DIM, 0, &v);
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(
            kvs.iter().map(|(k, v)| KeyValue::new(k.to_string(), v.to_string())).collect(),
        ))
        .build();
    write_shard_bytes(schema, &[batch], None, Some(props)).unwrap().0
}

#[test]
fn lying_footer_pointers_are_typed_errors() {
    let good = file_bytes();
    let len = good.len().to_string();
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            (KEY_OFFSET, "4"),
            ("ailake.ailk.length", "999999999"),
            ("ailake.ailk.version", "1.0"),
            ("ailake.ailk.directory-length", "64"),
        ],
        vec![
            (KEY_OFFSET, &len),
            ("ailake.ailk.length", "64"),
            ("ailake.ailk.version", "1.0"),
            ("ailake.ailk.directory-length", "64"),
        ],
        vec![
            (KEY_OFFSET, "0"),
            ("ailake.ailk.length", "64"),
            ("ailake.ailk.version", "1.0"),
            ("ailake.ailk.directory-length", "64"),
        ],
        vec![
            (KEY_OFFSET, "abc"),
            ("ailake.ailk.length", "64"),
            ("ailake.ailk.version", "1.0"),
            ("ailake.ailk.directory-length", "64"),
        ],
        vec![
            (KEY_OFFSET, "64"),
            ("ailake.ailk.length", "128"),
            ("ailake.ailk.version", "one"),
            ("ailake.ailk.directory-length", "64"),
        ],
        vec![(KEY_OFFSET, "64"), ("ailake.ailk.length", "128"), ("ailake.ailk.version", "1.0")],
        // Points at row-group bytes: passes the bounds check, fails on magic.
        vec![
            (KEY_OFFSET, "64"),
            ("ailake.ailk.length", "128"),
            ("ailake.ailk.version", "1.0"),
            ("ailake.ailk.directory-length", "64"),
        ],
    ];
    for kvs in cases {
        let err = open_and_load(file_with_pointers(&kvs), 0).unwrap_err();
        assert!(
            matches!(err, FormatError::BadFooterPointer { .. } | FormatError::BadMagic { .. }),
            "{kvs:?} gave {err}"
        );
    }
    let newer = vec![
        (KEY_OFFSET, "64"),
        ("ailake.ailk.length", "128"),
        ("ailake.ailk.version", "2.0"),
        ("ailake.ailk.directory-length", "64"),
    ];
    assert!(matches!(
        open_and_load(file_with_pointers(&newer), 0),
        Err(FormatError::UnsupportedVersion { major: 2, .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random damage anywhere in a file: either an error, or exactly the original section.
    #[test]
    fn random_damage_never_yields_wrong_data(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
        prefetch in prop::sample::select(vec![0u64, 4096, 1 << 20]),
    ) {
        let clean_file = file_bytes();
        let clean = open_and_load(clean_file.clone(), prefetch).unwrap();
        let mut file = clean_file;
        for (at, mask) in flips {
            let i = at.index(file.len());
            file[i] ^= mask.max(1);
        }
        if let Some(at) = cut {
            file.truncate(at.index(file.len()));
        }
        if let Ok(section) = open_and_load(file, prefetch) {
            prop_assert_eq!(section.directory(), clean.directory());
            prop_assert_eq!(payload_bytes(&section), payload_bytes(&clean));
        }
    }
}

/// Found by the `shard_open` fuzz target: a footer whose schema list declares billions of
/// elements made parquet reserve ~12 GB. The footer guard now refuses it up front.
#[test]
fn footer_declaring_huge_lists_is_refused_without_allocating() {
    let bytes = include_bytes!("fixtures/footer-allocation-bomb.bin").to_vec();
    let err = open_and_load(bytes.clone(), 64).unwrap_err();
    assert!(
        err.to_string().contains("corrupt footer metadata"),
        "refused by the guard, not by parquet: {err}"
    );
    assert!(ailk_format::resection_bytes(&bytes, &bytes).is_err());
}

/// Found by the `shard_open` fuzz target: a footer on which parquet 58's thrift decoder
/// panics (an assertion in its statistics conversion). The panic is contained: a typed error.
#[test]
fn footer_that_panics_inside_parquet_is_a_typed_error() {
    let bytes = include_bytes!("fixtures/footer-parquet-panic.bin").to_vec();
    let err = open_and_load(bytes, 64).unwrap_err();
    assert!(matches!(err, FormatError::NotParquet(_) | FormatError::Parquet(_)), "{err}");
}

/// Fuzz findings of the `shard_open` target (footer thrift the guard must model exactly: a
/// boolean list skipped element by element, a parse that diverged inside an unmodelled union,
/// a field of the wrong wire type, `num_children` beyond the schema's length): each is a typed
/// error, from opening and from re-sectioning, never a panic or a runaway allocation.
#[test]
fn footer_fuzz_findings_are_typed_errors() {
    let findings: [(&str, &[u8]); 4] = [
        ("footer-bool-list-skip-bomb.bin", include_bytes!("fixtures/footer-bool-list-skip-bomb.bin")),
        ("footer-diverging-parse-bomb.bin", include_bytes!("fixtures/footer-diverging-parse-bomb.bin")),
        ("footer-mistyped-field-bomb.bin", include_bytes!("fixtures/footer-mistyped-field-bomb.bin")),
        ("footer-num-children-bomb.bin", include_bytes!("fixtures/footer-num-children-bomb.bin")),
    ];
    for (name, bytes) in findings {
        let err = open_and_load(bytes.to_vec(), 64).unwrap_err();
        assert_eq!(err.kind(), ailk_format::ErrorKind::Corrupt, "{name}: {err:?}");
        assert!(ailk_format::resection_bytes(bytes, bytes).is_err(), "{name}");
    }
}

/// The spec's constraints the decoder enforces: at least one vector column; a level-l HNSW
/// neighbour reaches level l (search follows it into its level-l block).
#[test]
fn sections_without_columns_and_graphs_with_low_upper_neighbours_are_refused() {
    // Patch the column count of a valid one-column section to 0, with a matching CRC.
    let mut bytes = section_bytes();
    bytes[32..36].copy_from_slice(&0u32.to_le_bytes());
    let dir_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let crc = crc32c::crc32c_append(crc32c::crc32c(&bytes[..40]), &bytes[44..dir_len]);
    bytes[40..44].copy_from_slice(&crc.to_le_bytes());
    let err = SectionDirectory::decode(&bytes).unwrap_err();
    assert!(err.to_string().contains("at least one vector column"), "{err}");

    let mut graph = OwnedGraph::ring(ROWS, 4, 9);
    let (node, level) =
        (0..ROWS as usize).find(|&i| graph.levels[i] >= 1).map(|i| (i, graph.levels[i])).unwrap();
    let low = (0..ROWS).find(|&p| graph.levels[p as usize] == 0).unwrap();
    // Node's level-1 block: count, then the neighbours; point its first slot at a level-0 node.
    let start = graph.upper_offsets[node] as usize;
    graph.upper[start] = graph.upper[start].max(1);
    graph.upper[start + 1] = low;
    assert!(level >= 1);
    // `HnswGraph::decode` runs this same validation on the bytes it views.
    assert!(graph.as_ref().validate().is_err(), "the decoder refuses it");
    assert!(graph.as_ref().encode().is_err(), "the encoder refuses it");
}

/// `bytes` with `value` written at `at`, the directory CRC recomputed: the decoder's own
/// rules, not the checksum, must refuse what follows.
fn patched(bytes: &[u8], at: usize, value: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at..at + value.len()].copy_from_slice(value);
    let dir_len = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
    let crc = crc32c::crc32c_append(crc32c::crc32c(&b[..40]), &b[44..dir_len]);
    b[40..44].copy_from_slice(&crc.to_le_bytes());
    b
}

fn refused(bytes: &[u8], mentions: &str) {
    let err = SectionDirectory::decode(bytes).unwrap_err();
    assert!(err.to_string().contains(mentions), "expected {mentions:?}: {err}");
    assert_eq!(err.kind(), ailk_format::ErrorKind::Corrupt, "{err}");
}

#[test]
fn directories_breaking_the_spec_rules_are_refused() {
    let good = section_bytes();
    SectionDirectory::decode(&good).unwrap();
    let (column0, entries) = (64, 64 + 32);
    // Column flags: bit 0 (normalized) on an L2 column, and an undefined bit.
    refused(&patched(&good, column0 + 10, &1u16.to_le_bytes()), "flags");
    refused(&patched(&good, column0 + 10, &2u16.to_le_bytes()), "flags");
    // A non-finite centroid value.
    let centroid_at = u32::from_le_bytes(good[column0 + 24..column0 + 28].try_into().unwrap()) as usize;
    refused(&patched(&good, centroid_at, &f32::NAN.to_le_bytes()), "centroid");
    // Entry 1 claiming the same kind as entry 0 for the same column.
    let kind0 = good[entries..entries + 2].to_vec();
    refused(&patched(&good, entries + 32, &kind0), "a second");
    // A payload length that is not a multiple of 64.
    let len0 = u64::from_le_bytes(good[entries + 16..entries + 24].try_into().unwrap());
    refused(&patched(&good, entries + 16, &(len0 - 8).to_le_bytes()), "multiple of 64");
}

#[test]
fn two_columns_with_one_name_are_refused() {
    use ailk_format::{Metric, RawVectors, SectionBuilder, SubsectionKind, VectorColumn};
    let v = random_vectors(10, DIM as usize, 3);
    let mut sb = SectionBuilder::new(10);
    for name in ["abc", "xyz"] {
        let c = sb.column(VectorColumn::summarize(3, name, Metric::L2, DIM, &v).unwrap());
        sb.add(SubsectionKind::RawVectors, c, RawVectors::encode_f32(DIM, &v).unwrap());
    }
    let good = sb.encode().unwrap();
    // Point column 1's name at column 0's.
    let name0 = good[64 + 16..64 + 20].to_vec();
    refused(&patched(&good, 64 + 32 + 16, &name0), "named");
    let mut dup = SectionBuilder::new(10);
    for _ in 0..2 {
        dup.column(VectorColumn::summarize(3, "same", Metric::L2, DIM, &v).unwrap());
    }
    assert!(dup.encode().is_err(), "the encoder refuses it too");
}

#[test]
fn pq_codebooks_other_than_8_bit_residual_flags_are_refused() {
    use ailk_format::{Payload, PayloadBuilder, PqCodebook};
    let book = vec![0.5f32; 256 * 4];
    let payload = |nbits: u32, residual: u8| {
        let mut meta = Vec::new();
        for v in [4u32, 2, nbits] {
            meta.extend_from_slice(&v.to_le_bytes());
        }
        meta.push(residual);
        let len = (1usize << nbits) * 4;
        let values = vec![0.5f32; len];
        let bytes = PayloadBuilder::new(meta).array(&values).to_vec().unwrap();
        PqCodebook::decode(&Payload::decode(AlignedBytes::copy_from(&bytes)).unwrap())
    };
    assert!(payload(8, 1).is_ok());
    assert!(payload(8, 0).is_ok());
    assert!(payload(8, 2).is_err(), "residual flag 2");
    assert!(payload(4, 1).is_err(), "4-bit codes are not defined in v1.0");
    assert!(PqCodebook::encode(4, 2, 4, true, &book[..16 * 4]).is_err());
}

/// A section that indexes a different number of rows than its Parquet file holds is refused
/// when the file is opened (search would otherwise map hits to the wrong rows).
#[test]
fn section_row_count_must_equal_the_files_rows() {
    let file = file_bytes();
    let start = file.windows(4).position(|w| w == b"AILK").expect("the section's magic");
    let mut patched = file.clone();
    patched[start + 24..start + 32].copy_from_slice(&(u64::from(ROWS) + 1).to_le_bytes());
    let dir_len = u32::from_le_bytes(patched[start + 12..start + 16].try_into().unwrap()) as usize;
    let dir = &patched[start..start + dir_len];
    let crc = crc32c::crc32c_append(crc32c::crc32c(&dir[..40]), &dir[44..]);
    patched[start + 40..start + 44].copy_from_slice(&crc.to_le_bytes());
    assert!(open_and_load(file, 64).is_ok());
    let err = open_and_load(patched, 64).unwrap_err();
    assert!(err.to_string().contains("rows"), "{err}");
    assert_eq!(err.kind(), ailk_format::ErrorKind::Corrupt);
}

//! Round trips of every sub-section kind through the section codec.

mod common;

use ailk_format::{
    AlignedBytes, FormatError, HnswGraph, IvfCentroids, IvfLists, Metric, PayloadBuilder, PqCodebook,
    RawVectors, Section, SectionBuilder, SectionDirectory, SubsectionKind, VectorColumn, VectorData,
};
use common::{full_section, random_vectors, OwnedGraph, OwnedIvfPq};
use proptest::prelude::*;

fn decode(bytes: &[u8]) -> Section {
    Section::decode(AlignedBytes::copy_from(bytes)).expect("decode")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_kind_round_trips(rows in 1u32..300, dim in 1u32..40, nlist in 1u32..9, seed in any::<u64>()) {
        let vectors = random_vectors(rows as usize, dim as usize, seed);
        let graph = OwnedGraph::ring(rows, 4, seed);
        let ivf = OwnedIvfPq::random(rows, dim, nlist, dim, seed);
        let bytes = full_section(dim, &vectors, &graph, &ivf);
        let section = decode(&bytes);
        let dir = section.directory();
        prop_assert_eq!(dir.row_count, u64::from(rows));
        prop_assert_eq!(dir.entries.len(), 5);
        for e in &dir.entries {
            prop_assert_eq!(e.offset % 64, 0);
        }
        let col = &dir.columns[0];
        prop_assert_eq!(col.dim, dim);
        prop_assert_eq!(&col.name, "embedding");
        let expected = VectorColumn::summarize(3, "embedding", Metric::L2, dim, &vectors).unwrap();
        prop_assert_eq!(col, &expected);

        let raw = RawVectors::decode(&section.payload(SubsectionKind::RawVectors, 0).unwrap()).unwrap();
        prop_assert_eq!(raw.rows, u64::from(rows));
        match &raw.data {
            VectorData::F32(data) => prop_assert_eq!(&data[..], &vectors[..]),
            VectorData::F16(_) => prop_assert!(false, "stored as f32"),
        }

        let g = HnswGraph::decode(&section.payload(SubsectionKind::HnswGraph, 0).unwrap()).unwrap();
        prop_assert_eq!(g.meta, graph.meta);
        prop_assert_eq!(&g.levels[..], &graph.levels[..]);
        prop_assert_eq!(&g.level0[..], &graph.level0[..]);
        prop_assert_eq!(&g.upper_offsets[..], &graph.upper_offsets[..]);
        prop_assert_eq!(&g.upper[..], &graph.upper[..]);

        let c = IvfCentroids::decode(&section.payload(SubsectionKind::IvfCentroids, 0).unwrap()).unwrap();
        prop_assert_eq!((c.nlist, c.dim), (nlist, dim));
        prop_assert_eq!(&c.centroids[..], &ivf.centroids[..]);

        let pq = PqCodebook::decode(&section.payload(SubsectionKind::PqCodebook, 0).unwrap()).unwrap();
        prop_assert_eq!((pq.dim, pq.m, pq.nbits, pq.residual), (dim, dim, 8, true));
        prop_assert_eq!(&pq.codebooks[..], &ivf.codebooks[..]);

        let lists = IvfLists::decode(&section.payload(SubsectionKind::IvfLists, 0).unwrap()).unwrap();
        prop_assert_eq!(&lists.offsets[..], &ivf.offsets[..]);
        prop_assert_eq!(&lists.codes[..], &ivf.codes[..]);
        prop_assert_eq!(&lists.row_ids[..], &ivf.row_ids[..]);
        let total: usize = (0..nlist as usize).map(|l| lists.list(l).unwrap().0.len()).sum();
        prop_assert_eq!(total, rows as usize);
    }

    #[test]
    fn f16_vectors_round_trip(bits in prop::collection::vec(any::<u16>(), 1..400), dim in 1u32..5) {
        let len = bits.len() - bits.len() % dim as usize;
        prop_assume!(len > 0);
        let bits = &bits[..len];
        let mut col = VectorColumn::summarize(-1, "v", Metric::InnerProduct, dim, &vec![0.0; len]).unwrap();
        col.element = ailk_format::ElementType::F16;
        let mut b = SectionBuilder::new((len / dim as usize) as u64);
        b.column(col);
        b.add(SubsectionKind::RawVectors, 0, RawVectors::encode_f16(dim, bits).unwrap());
        let section = decode(&b.encode().unwrap());
        let raw = RawVectors::decode(&section.payload(SubsectionKind::RawVectors, 0).unwrap()).unwrap();
        match raw.data {
            VectorData::F16(data) => prop_assert_eq!(&data[..], bits),
            VectorData::F32(_) => prop_assert!(false, "stored as f16"),
        }
    }
}

#[test]
fn several_columns_each_with_their_own_payloads() {
    let a = random_vectors(50, 8, 1);
    let b = random_vectors(50, 3, 2);
    let mut builder = SectionBuilder::new(50);
    let ca = builder.column(VectorColumn::summarize(3, "text_emb", Metric::Cosine, 8, &a).unwrap());
    let cb = builder.column(VectorColumn::summarize(7, "image_emb", Metric::L2, 3, &b).unwrap());
    builder.add(SubsectionKind::RawVectors, ca, RawVectors::encode_f32(8, &a).unwrap());
    builder.add(SubsectionKind::RawVectors, cb, RawVectors::encode_f32(3, &b).unwrap());
    let section = decode(&builder.encode().unwrap());
    let dir = section.directory();
    assert_eq!(dir.primary().unwrap().name, "text_emb");
    assert!(dir.primary().unwrap().normalized);
    assert_eq!(dir.column_index("image_emb"), Some(1));
    let rb = RawVectors::decode(&section.payload(SubsectionKind::RawVectors, 1).unwrap()).unwrap();
    assert_eq!(rb.dim, 3);
    match rb.data {
        VectorData::F32(d) => assert_eq!(&d[..], &b[..]),
        VectorData::F16(_) => panic!("f32 expected"),
    }
    assert!(matches!(
        section.payload(SubsectionKind::HnswGraph, 0),
        Err(FormatError::SubsectionNotFound { kind: SubsectionKind::HnswGraph, column: 0 })
    ));
}

#[test]
fn unknown_kinds_are_listed_and_skipped() {
    let v = random_vectors(10, 4, 3);
    let mut b = SectionBuilder::new(10);
    b.column(VectorColumn::summarize(3, "e", Metric::L2, 4, &v).unwrap());
    let future_payload = [1u32, 2, 3];
    b.add(SubsectionKind::Unknown(900), 0, PayloadBuilder::new(vec![42; 13]).array(&future_payload));
    b.add(SubsectionKind::RawVectors, 0, RawVectors::encode_f32(4, &v).unwrap());
    let section = decode(&b.encode().unwrap());
    assert_eq!(section.directory().entries[0].kind, SubsectionKind::Unknown(900));
    let raw = RawVectors::decode(&section.payload(SubsectionKind::RawVectors, 0).unwrap()).unwrap();
    assert_eq!(raw.rows, 10);
}

#[test]
fn newer_major_version_is_refused_with_a_clear_error() {
    let v = random_vectors(4, 2, 4);
    let mut b = SectionBuilder::new(4);
    b.column(VectorColumn::summarize(1, "e", Metric::L2, 2, &v).unwrap());
    let mut bytes = b.encode().unwrap();
    bytes[4..6].copy_from_slice(&2u16.to_le_bytes());
    let err = SectionDirectory::decode(&bytes).unwrap_err();
    assert!(matches!(err, FormatError::UnsupportedVersion { major: 2, supported: 1, .. }), "{err}");
    assert!(err.to_string().contains("2.0"), "{err}");
    // A newer minor version of the same major is read.
    let mut bytes = b.encode().unwrap();
    bytes[6..8].copy_from_slice(&7u16.to_le_bytes());
    let dir_len = SectionDirectory::decode(&b.encode().unwrap()).unwrap().directory_length as usize;
    let crc = crc32c::crc32c_append(crc32c::crc32c(&bytes[..40]), &bytes[44..dir_len]);
    bytes[40..44].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(SectionDirectory::decode(&bytes).unwrap().minor, 7);
}

#[test]
fn encoder_refuses_inconsistent_input() {
    assert!(matches!(SectionBuilder::new(1).encode(), Err(FormatError::InvalidInput(_))));
    assert!(VectorColumn::summarize(1, "e", Metric::L2, 3, &[1.0, 2.0]).is_err());
    assert!(VectorColumn::summarize(1, "e", Metric::L2, 2, &[1.0, f32::NAN]).is_err());
    assert!(RawVectors::encode_f32(3, &[1.0; 4]).is_err());
    assert!(PqCodebook::encode(10, 3, 8, false, &[0.0; 10]).is_err());
    assert!(IvfLists::encode(2, &[0, 3, 2], &[0; 6], &[0; 2]).is_err());
    let mut g = OwnedGraph::ring(10, 2, 1);
    g.level0[1] = 99; // neighbour id out of range
    assert!(g.as_ref().encode().is_err());
}

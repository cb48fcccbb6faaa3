//! `VectorIndex`, the interface the writer and the search share: every kind survives a
//! section round trip with identical results, a filtered search equals a naive scan of the
//! allowed rows, and `RowFilter` behaves like a set.

use std::collections::BTreeSet;

use ailk_format::{AlignedBytes, Section, SectionBuilder, VectorColumn};
use ailk_index::{
    kernels, HnswParams, IndexError, IndexSpec, IvfPqConfig, Metric, QueryParams, RowFilter, VectorIndex,
};
use ailk_testkit::synthetic::{gaussian_mixture, mixture_queries};
use proptest::prelude::*;

const DIM: usize = 16;

fn round_trip(index: &VectorIndex, base: &[f32], metric: Metric) -> VectorIndex {
    let mut sb = SectionBuilder::new((base.len() / DIM) as u64);
    let col = sb.column(VectorColumn::summarize(3, "embedding", metric, DIM as u32, base).unwrap());
    index.add_to_section(&mut sb, col).unwrap();
    let section = Section::decode(AlignedBytes::copy_from(&sb.encode().unwrap())).unwrap();
    VectorIndex::from_section(&section, col).unwrap()
}

/// The exact `k` nearest of `allowed` rows, by a plain loop.
fn naive(base: &[f32], metric: Metric, q: &[f32], k: usize, allowed: &BTreeSet<u32>) -> Vec<u32> {
    let mut scored: Vec<(f32, u32)> = allowed
        .iter()
        .map(|&r| (kernels::distance(metric, q, &base[r as usize * DIM..(r as usize + 1) * DIM]), r))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, r)| r).collect()
}

#[test]
fn every_kind_round_trips_through_a_section_with_identical_results() {
    let base = gaussian_mixture(2000, DIM, 16, 0.1, 7);
    let queries = mixture_queries(20, DIM, 16, 0.1, 7, 8);
    let specs = [
        IndexSpec::Hnsw(HnswParams::default()),
        IndexSpec::IvfPq(IvfPqConfig::for_dataset(2000, DIM)),
        IndexSpec::Flat,
    ];
    let params = QueryParams { ef: Some(64), nprobe: 8, refine_factor: 4 };
    for spec in &specs {
        let built = VectorIndex::build(&base, DIM, Metric::L2, spec).unwrap();
        let loaded = round_trip(&built, &base, Metric::L2);
        assert_eq!(built.is_flat(), loaded.is_flat());
        assert_eq!((loaded.dim(), loaded.metric()), (DIM, Metric::L2));
        assert_eq!(loaded.vectors(), Some(&base[..]), "{spec:?} keeps raw vectors");
        for q in queries.chunks_exact(DIM) {
            let a = built.search(q, 10, &params, None).unwrap();
            let b = loaded.search(q, 10, &params, None).unwrap();
            assert_eq!(a, b, "{spec:?}");
        }
    }
    // The shared-codebook variant indexes with the codebook it is given.
    let VectorIndex::IvfPq(trained) =
        VectorIndex::build(&base, DIM, Metric::L2, &IndexSpec::IvfPq(IvfPqConfig::for_dataset(2000, DIM)))
            .unwrap()
    else {
        panic!("IVF-PQ spec builds IVF-PQ")
    };
    let shared = VectorIndex::build(
        &base[..500 * DIM],
        DIM,
        Metric::L2,
        &IndexSpec::IvfPqShared(trained.codebook().clone()),
    )
    .unwrap();
    let VectorIndex::IvfPq(s) = &shared else { panic!("shared codebook builds IVF-PQ") };
    assert!(std::sync::Arc::ptr_eq(s.codebook(), trained.codebook()));
}

#[test]
fn flat_search_is_exact_and_bad_queries_are_typed() {
    let base = gaussian_mixture(300, DIM, 4, 0.2, 3);
    let flat = VectorIndex::build(&base, DIM, Metric::Cosine, &IndexSpec::Flat).unwrap();
    let q = &base[17 * DIM..18 * DIM];
    let all: BTreeSet<u32> = (0..300).collect();
    let got: Vec<u32> =
        flat.search(q, 5, &QueryParams::default(), None).unwrap().into_iter().map(|n| n.id).collect();
    assert_eq!(got, naive(&base, Metric::Cosine, q, 5, &all));
    let err = flat.search(&q[..3], 5, &QueryParams::default(), None).unwrap_err();
    assert!(matches!(err, IndexError::DimensionMismatch { .. }));
    assert_eq!(err.kind(), ailk_format::ErrorKind::InvalidInput);
    assert!(VectorIndex::flat(vec![f32::NAN; DIM], DIM, Metric::L2).is_err());
}

/// 400 clustered rows, an index of `kind` (HNSW, IVF-PQ, flat) over them and one query.
fn filtered_case(kind: usize, seed: u64) -> (Vec<f32>, VectorIndex, Vec<f32>) {
    let base = gaussian_mixture(400, DIM, 8, 0.3, 11);
    let spec = [
        IndexSpec::Hnsw(HnswParams::default()),
        IndexSpec::IvfPq(IvfPqConfig::for_dataset(400, DIM)),
        IndexSpec::Flat,
    ][kind]
        .clone();
    let index = VectorIndex::build(&base, DIM, Metric::L2, &spec).unwrap();
    (base, index, mixture_queries(1, DIM, 8, 0.3, 11, seed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn filtered_search_equals_a_naive_scan_of_the_allowed_rows(
        rows in proptest::collection::btree_set(0u32..400, 0..120),
        kind in 0usize..3,
        k in 1usize..20,
        seed in 0u64..1000,
    ) {
        let (base, index, q) = filtered_case(kind, seed);
        let filter = RowFilter::from_rows(rows.iter().copied(), 400);
        let got: Vec<u32> =
            index.search_exact(&q, k, &filter).unwrap().into_iter().map(|n| n.id).collect();
        prop_assert_eq!(got, naive(&base, Metric::L2, &q, k, &rows));
    }

    /// The filtered index search (HNSW walking through refused nodes, IVF-PQ skipping their
    /// codes) returns only allowed rows, always `min(k, allowed)` of them, nearest first; on
    /// a flat index it is the exact answer.
    #[test]
    fn filtered_index_search_returns_min_k_allowed_rows_only(
        rows in proptest::collection::btree_set(0u32..400, 0..400),
        kind in 0usize..3,
        k in 1usize..30,
        ef in 10usize..80,
        nprobe in 1usize..6,
        seed in 0u64..1000,
    ) {
        let (base, index, q) = filtered_case(kind, seed);
        let filter = RowFilter::from_rows(rows.iter().copied(), 400);
        let knobs = QueryParams { ef: Some(ef), nprobe, refine_factor: 4 };
        let got = index.search(&q, k, &knobs, Some(&filter)).unwrap();
        prop_assert_eq!(got.len(), k.min(rows.len()));
        prop_assert!(got.iter().all(|n| rows.contains(&n.id)));
        prop_assert!(got.windows(2).all(|w| w[0].distance <= w[1].distance));
        if kind == 2 {
            let ids: Vec<u32> = got.iter().map(|n| n.id).collect();
            prop_assert_eq!(ids, naive(&base, Metric::L2, &q, k, &rows));
        }
    }

    #[test]
    fn row_filter_is_a_set_of_rows_below_the_total(
        rows in proptest::collection::vec(0u32..300, 0..200),
        total in 0usize..300,
    ) {
        let filter = RowFilter::from_rows(rows.iter().copied(), total);
        let expected: BTreeSet<u32> = rows.iter().copied().filter(|&r| (r as usize) < total).collect();
        prop_assert_eq!(filter.len(), expected.len());
        prop_assert_eq!(filter.is_empty(), expected.is_empty());
        prop_assert_eq!(filter.iter().collect::<Vec<_>>(), expected.iter().copied().collect::<Vec<_>>());
        for r in 0..310u32 {
            prop_assert_eq!(filter.contains(r), expected.contains(&r));
        }
        // all() minus the complement is the same set.
        let mut complement = RowFilter::all(total);
        complement.remove((0..total as u32).filter(|r| !expected.contains(r)));
        prop_assert_eq!(complement, filter);
    }
}

/// The AILK v1.0 golden sections (`ailk-format/tests/fixtures/v1.0`) load as indexes and
/// answer queries: HNSW graphs whose unused neighbour slots hold `u32::MAX`, IVF-PQ lists, the
/// table-wide codebook file.
#[test]
fn golden_v1_sections_load_and_search() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ailk-format/tests/fixtures/v1.0");
    let load = |name: &str| {
        Section::decode(AlignedBytes::copy_from(&std::fs::read(dir.join(name)).unwrap())).unwrap()
    };
    let q = [0.25f32, -0.5, 0.125, 0.0, 0.5, -0.25, 0.75, 0.0];
    for (name, metric) in [
        ("hnsw-l2.ailk", Metric::L2),
        ("hnsw-ip.ailk", Metric::InnerProduct),
        ("hnsw-cosine.ailk", Metric::Cosine),
        ("ivfpq-l2.ailk", Metric::L2),
    ] {
        let index = VectorIndex::from_section(&load(name), 0).unwrap();
        assert!(!index.is_flat(), "{name}");
        let hits =
            index.search(&q, 5, &QueryParams { ef: Some(24), nprobe: 3, refine_factor: 4 }, None).unwrap();
        assert_eq!(hits.len(), 5, "{name}");
        assert!(hits.iter().all(|h| h.id < 24), "{name}: {hits:?}");
        assert!(hits.windows(2).all(|w| w[0].distance <= w[1].distance), "{name}");
        assert_eq!(index.metric(), metric, "{name}");
    }
    let flat = VectorIndex::from_section(&load("multi-column.ailk"), 1).unwrap();
    assert!(!flat.is_flat(), "the body column is IVF-PQ");
    let book =
        ailk_index::IvfPqCodebook::from_bytes(&std::fs::read(dir.join("table-codebook.ailk")).unwrap());
    assert!(book.is_ok(), "{:?}", book.err());
}

/// A section whose HNSW graph disagrees with its column (metric, size) or lacks a companion
/// sub-section is corrupt — the search then scans the shard's Parquet column instead.
#[test]
fn graphs_that_disagree_with_their_column_and_incomplete_sections_are_corrupt() {
    let base = gaussian_mixture(300, DIM, 4, 0.1, 3);
    let hnsw = VectorIndex::build(&base, DIM, Metric::L2, &IndexSpec::Hnsw(HnswParams::default())).unwrap();
    // The column says cosine, the graph was built for L2.
    let mut sb = SectionBuilder::new(300);
    let col = sb.column(VectorColumn::summarize(3, "embedding", Metric::Cosine, DIM as u32, &base).unwrap());
    hnsw.add_to_section(&mut sb, col).unwrap();
    let section = Section::decode(AlignedBytes::copy_from(&sb.encode().unwrap())).unwrap();
    let err = VectorIndex::from_section(&section, col).unwrap_err();
    assert_eq!(err.kind(), ailk_format::ErrorKind::Corrupt, "{err}");
    // The header counts more rows than the graph has nodes.
    let mut sb = SectionBuilder::new(301);
    let col = sb.column(VectorColumn::summarize(3, "embedding", Metric::L2, DIM as u32, &base).unwrap());
    hnsw.add_to_section(&mut sb, col).unwrap();
    let section = Section::decode(AlignedBytes::copy_from(&sb.encode().unwrap())).unwrap();
    assert_eq!(VectorIndex::from_section(&section, col).unwrap_err().kind(), ailk_format::ErrorKind::Corrupt);
    // IvfLists without their centroids and codebook.
    let ivf =
        VectorIndex::build(&base, DIM, Metric::L2, &IndexSpec::IvfPq(IvfPqConfig::for_dataset(300, DIM)))
            .unwrap();
    let mut full = SectionBuilder::new(300);
    let c = full.column(VectorColumn::summarize(3, "embedding", Metric::L2, DIM as u32, &base).unwrap());
    ivf.add_to_section(&mut full, c).unwrap();
    let whole = Section::decode(AlignedBytes::copy_from(&full.encode().unwrap())).unwrap();
    let lists =
        ailk_format::IvfLists::decode(&whole.payload(ailk_format::SubsectionKind::IvfLists, c).unwrap())
            .unwrap();
    let mut partial = SectionBuilder::new(300);
    let c = partial.column(VectorColumn::summarize(3, "embedding", Metric::L2, DIM as u32, &base).unwrap());
    let payload =
        ailk_format::IvfLists::encode(lists.code_size, &lists.offsets, &lists.codes, &lists.row_ids).unwrap();
    partial.add(ailk_format::SubsectionKind::IvfLists, c, payload);
    let section = Section::decode(AlignedBytes::copy_from(&partial.encode().unwrap())).unwrap();
    let err = VectorIndex::from_section(&section, c).unwrap_err();
    assert_eq!(err.kind(), ailk_format::ErrorKind::Corrupt, "{err}");
}

/// IVF lists must hold every row exactly once: a row listed twice (and another missing) is
/// corrupt even though the count and every id are in range.
#[test]
fn ivf_lists_listing_a_row_twice_are_corrupt() {
    use ailk_format::{IvfCentroids, IvfLists, PqCodebook, RawVectors, SubsectionKind as K};
    let base = gaussian_mixture(300, DIM, 4, 0.1, 5);
    let ivf =
        VectorIndex::build(&base, DIM, Metric::L2, &IndexSpec::IvfPq(IvfPqConfig::for_dataset(300, DIM)))
            .unwrap();
    let mut sb = SectionBuilder::new(300);
    let c = sb.column(VectorColumn::summarize(3, "embedding", Metric::L2, DIM as u32, &base).unwrap());
    ivf.add_to_section(&mut sb, c).unwrap();
    let whole = Section::decode(AlignedBytes::copy_from(&sb.encode().unwrap())).unwrap();
    assert!(VectorIndex::from_section(&whole, c).is_ok());
    let cents = IvfCentroids::decode(&whole.payload(K::IvfCentroids, c).unwrap()).unwrap();
    let pq = PqCodebook::decode(&whole.payload(K::PqCodebook, c).unwrap()).unwrap();
    let lists = IvfLists::decode(&whole.payload(K::IvfLists, c).unwrap()).unwrap();
    let mut row_ids = lists.row_ids.to_vec();
    row_ids[1] = row_ids[0];
    let mut sb = SectionBuilder::new(300);
    let c = sb.column(VectorColumn::summarize(3, "embedding", Metric::L2, DIM as u32, &base).unwrap());
    sb.add(K::RawVectors, c, RawVectors::encode_f32(DIM as u32, &base).unwrap());
    sb.add(K::IvfCentroids, c, IvfCentroids::encode(DIM as u32, &cents.centroids).unwrap());
    sb.add(
        K::PqCodebook,
        c,
        PqCodebook::encode(DIM as u32, pq.m, pq.nbits, pq.residual, &pq.codebooks).unwrap(),
    );
    sb.add(
        K::IvfLists,
        c,
        IvfLists::encode(lists.code_size, &lists.offsets, &lists.codes, &row_ids).unwrap(),
    );
    let bad = Section::decode(AlignedBytes::copy_from(&sb.encode().unwrap())).unwrap();
    let err = VectorIndex::from_section(&bad, c).unwrap_err();
    assert_eq!(err.kind(), ailk_format::ErrorKind::Corrupt, "{err}");
}

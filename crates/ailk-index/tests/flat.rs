//! Flat search equals a naive sort, and refuses bad input with typed errors.

use ailk_index::kernels::with_backend;
use ailk_index::kernels::{Backend, Op};
use ailk_index::{flat::flat_search_serial, flat_search, FlatIndex, IndexError, Metric};
use proptest::prelude::*;

fn naive(vectors: &[f32], dim: usize, metric: Metric, q: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut all: Vec<(u32, f32)> = vectors
        .chunks_exact(dim)
        .enumerate()
        .map(|(i, v)| {
            let d = match metric {
                Metric::L2 => with_backend(Backend::Scalar, Op::L2Sq, q, v).unwrap(),
                Metric::InnerProduct => -with_backend(Backend::Scalar, Op::Dot, q, v).unwrap(),
                Metric::Cosine => 1.0 - with_backend(Backend::Scalar, Op::Dot, q, v).unwrap(),
            };
            (i as u32, d)
        })
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

fn check_same(got: &[ailk_index::Neighbor], want: &[(u32, f32)]) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        // Distances agree to float-summation accuracy; ids agree except among near-ties.
        prop_assert!((g.distance - w.1).abs() <= 1e-3 * w.1.abs().max(1.0), "{g:?} vs {w:?}");
    }
    let kth = want.last().map_or(0.0, |w| w.1);
    for g in got {
        if (g.distance - kth).abs() > 1e-3 * kth.abs().max(1.0) {
            prop_assert!(want.iter().any(|w| w.0 == g.id), "{} not in the naive top-k", g.id);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn flat_equals_naive_sort(
        rows in 1usize..400,
        dim in 1usize..48,
        k in 1usize..30,
        metric in prop::sample::select(vec![Metric::L2, Metric::InnerProduct, Metric::Cosine]),
        seed in any::<u64>(),
    ) {
        let mut x = seed | 1;
        let mut next = || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; (x % 20001) as f32 / 10000.0 - 1.0 };
        let vectors: Vec<f32> = (0..rows * dim).map(|_| next()).collect();
        let q: Vec<f32> = (0..dim).map(|_| next()).collect();
        let got = flat_search(&vectors, dim, metric, &q, k).unwrap();
        check_same(&got, &naive(&vectors, dim, metric, &q, k))?;
    }
}

#[test]
fn parallel_blocks_equal_the_serial_scan() {
    let dim = 16;
    let rows = 70_000; // several parallel blocks
    let vectors: Vec<f32> = (0..rows * dim).map(|i| ((i * 7919) % 10007) as f32 / 10007.0).collect();
    let q: Vec<f32> = (0..dim).map(|i| i as f32 / dim as f32).collect();
    let par = flat_search(&vectors, dim, Metric::L2, &q, 25).unwrap();
    let ser = flat_search_serial(&vectors, dim, Metric::L2, &q, 25).unwrap();
    assert_eq!(par, ser);
}

#[test]
fn bad_input_gives_typed_errors() {
    assert!(matches!(
        FlatIndex::new(vec![1.0, f32::NAN], 2, Metric::L2),
        Err(IndexError::NonFinite { what: "vectors", row: 0 })
    ));
    assert!(matches!(
        FlatIndex::new(vec![1.0, 2.0, 3.0], 2, Metric::L2),
        Err(IndexError::DimensionMismatch { .. })
    ));
    let idx = FlatIndex::new(vec![1.0, 2.0, 3.0, 4.0], 2, Metric::L2).unwrap();
    assert!(matches!(idx.search(&[1.0], 1), Err(IndexError::DimensionMismatch { expected: 2, got: 1 })));
    assert!(matches!(idx.search(&[1.0, f32::INFINITY], 1), Err(IndexError::NonFinite { what: "query", .. })));
    assert!(matches!(idx.search(&[1.0, 2.0], 0), Err(IndexError::ZeroK)));
    let empty = FlatIndex::new(vec![], 2, Metric::L2).unwrap();
    assert!(matches!(empty.search(&[1.0, 2.0], 1), Err(IndexError::EmptyIndex)));
    assert_eq!(idx.search(&[3.0, 4.0], 5).unwrap()[0].id, 1);
}

#[test]
fn batched_gemm_distances_equal_the_kernels() {
    use ailk_index::kernels::distance;
    let dim = 24;
    let base: Vec<f32> = (0..300 * dim).map(|i| ((i * 31) % 97) as f32 / 97.0 - 0.5).collect();
    let queries: Vec<f32> = (0..70 * dim).map(|i| ((i * 17) % 89) as f32 / 89.0 - 0.5).collect();
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
        let d = ailk_index::flat::distances_batch(&queries, &base, dim, metric).unwrap();
        assert_eq!(d.len(), 70 * 300);
        for (i, q) in queries.chunks_exact(dim).enumerate() {
            for (j, b) in base.chunks_exact(dim).enumerate() {
                let want = distance(metric, q, b);
                assert!((d[i * 300 + j] - want).abs() <= 1e-4 * want.abs().max(1.0), "{metric:?} {i} {j}");
            }
        }
    }
}

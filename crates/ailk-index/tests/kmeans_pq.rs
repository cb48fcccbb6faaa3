//! k-means, PQ and IVF-PQ: monotone objective, agreement with a naive reference, recall
//! against exact ground truth, identical results after a section round trip, shared-codebook
//! reuse, typed errors.

mod common;

use std::sync::Arc;

use ailk_index::kmeans::{lloyd, train, KMeansParams};
use ailk_index::{ground_truth, IndexError, IvfPqCodebook, IvfPqConfig, IvfPqIndex, IvfPqSearch, Metric};
use ailk_testkit::recall_at_k;
use ailk_testkit::synthetic::{gaussian_mixture, mixture_queries};

#[test]
fn kmeans_objective_never_increases() {
    let data = gaussian_mixture(20_000, 32, 50, 0.6, 3);
    let km =
        train(&data, 32, &KMeansParams { max_iters: 30, tolerance: 0.0, ..KMeansParams::new(64) }).unwrap();
    assert!(km.objective.len() >= 5);
    for w in km.objective.windows(2) {
        assert!(w[1] <= w[0] * (1.0 + 1e-6), "objective rose: {:?}", km.objective);
    }
    assert!(km.objective.last().unwrap() < &(km.objective[0] * 0.99));
}

/// Lloyd with plain loops, the reference for the GEMM-based implementation.
fn naive_lloyd(data: &[f32], dim: usize, mut c: Vec<f32>, iters: usize) -> Vec<f32> {
    let k = c.len() / dim;
    for _ in 0..iters {
        let mut sums = vec![0f64; k * dim];
        let mut counts = vec![0usize; k];
        for row in data.chunks_exact(dim) {
            let j = (0..k)
                .min_by(|&a, &b| {
                    let da: f32 = row.iter().zip(&c[a * dim..]).map(|(x, y)| (x - y) * (x - y)).sum();
                    let db: f32 = row.iter().zip(&c[b * dim..]).map(|(x, y)| (x - y) * (x - y)).sum();
                    da.total_cmp(&db)
                })
                .unwrap();
            counts[j] += 1;
            sums[j * dim..(j + 1) * dim].iter_mut().zip(row).for_each(|(s, &v)| *s += f64::from(v));
        }
        for j in 0..k {
            if counts[j] > 0 {
                for t in 0..dim {
                    c[j * dim + t] = (sums[j * dim + t] / counts[j] as f64) as f32;
                }
            }
        }
    }
    c
}

#[test]
fn lloyd_matches_the_naive_reference() {
    let dim = 6;
    let data = gaussian_mixture(1_500, dim, 5, 0.05, 8);
    let init: Vec<f32> = data[..5 * dim].to_vec(); // rows 0..5 lie in the 5 distinct clusters
    let ours = lloyd(&data, dim, init.clone(), 6, 0.0).centroids;
    let reference = naive_lloyd(&data, dim, init, 6);
    for (a, b) in ours.iter().zip(&reference) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
}

#[test]
fn kmeans_is_deterministic_and_refuses_bad_input() {
    let data = gaussian_mixture(3_000, 8, 10, 0.3, 1);
    let p = KMeansParams::new(16);
    assert_eq!(train(&data, 8, &p).unwrap().centroids, train(&data, 8, &p).unwrap().centroids);
    assert!(matches!(train(&data[..8 * 10], 8, &p), Err(IndexError::InvalidParams(_))));
    let mut bad = data.clone();
    bad[17] = f32::NAN;
    assert!(matches!(train(&bad, 8, &p), Err(IndexError::NonFinite { row: 2, .. })));
}

fn ids(r: Vec<ailk_index::Neighbor>) -> Vec<u32> {
    r.into_iter().map(|n| n.id).collect()
}

fn recall(index: &IvfPqIndex, queries: &[f32], dim: usize, truth: &[Vec<u32>], s: IvfPqSearch) -> f64 {
    let results: Vec<Vec<u32>> =
        queries.chunks_exact(dim).map(|q| ids(index.search(q, 10, &s).unwrap())).collect();
    recall_at_k(&results, truth, 10)
}

#[test]
fn ivfpq_recall_on_synthetic_100k() {
    let (n, dim) = (100_000, 128);
    let base = gaussian_mixture(n, dim, 100, 0.5, 42);
    let queries = mixture_queries(200, dim, 100, 0.5, 42, 43);
    let truth = ground_truth(&base, &queries, dim, Metric::L2, 10).unwrap();
    let cfg = IvfPqConfig::for_dataset(n, dim);
    assert_eq!((cfg.nlist, cfg.m), (316, 64));
    let index = IvfPqIndex::build(&base, dim, Metric::L2, &cfg, true).unwrap();
    let plain = recall(&index, &queries, dim, &truth, IvfPqSearch { nprobe: 32, refine_factor: 1 });
    let refined = recall(&index, &queries, dim, &truth, IvfPqSearch { nprobe: 32, refine_factor: 4 });
    println!("synthetic 100k×128 IVF-PQ nprobe 32: recall@10 {plain:.3} without refine, {refined:.3} with refine ×4");
    assert!(plain >= 0.6, "without refine {plain}");
    assert!(refined >= 0.9, "with refine {refined}");
}

#[test]
fn ivfpq_recall_on_real_minilm_sample() {
    let (base, queries, truth) = common::real_sample();
    let cfg = IvfPqConfig::for_dataset(base.rows(), base.dim);
    let index = IvfPqIndex::build(&base.data, base.dim, Metric::InnerProduct, &cfg, true).unwrap();
    let plain = recall(&index, &queries.data, base.dim, &truth, IvfPqSearch { nprobe: 32, refine_factor: 1 });
    let refined =
        recall(&index, &queries.data, base.dim, &truth, IvfPqSearch { nprobe: 32, refine_factor: 4 });
    println!(
        "real sample IVF-PQ nlist {} m {} nprobe 32: recall@10 {plain:.3} / refine ×4 {refined:.3}",
        cfg.nlist, cfg.m
    );
    assert!(plain >= 0.6, "without refine {plain}");
    assert!(refined >= 0.9, "with refine {refined}");
}

#[test]
fn section_round_trip_gives_identical_results() {
    let (n, dim) = (6_000, 32);
    let base = gaussian_mixture(n, dim, 20, 0.4, 5);
    let queries = mixture_queries(50, dim, 20, 0.4, 5, 6);
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
        let cfg = IvfPqConfig { nlist: 32, m: 8, ..IvfPqConfig::for_dataset(n, dim) };
        let index = IvfPqIndex::build(&base, dim, metric, &cfg, true).unwrap();
        let (section, col) =
            common::round_trip_section(&base, dim, metric, |sb, col| index.add_to_section(sb, col).unwrap());
        let loaded = IvfPqIndex::from_section(&section, col).unwrap();
        for s in [IvfPqSearch { nprobe: 4, refine_factor: 1 }, IvfPqSearch { nprobe: 8, refine_factor: 3 }] {
            for q in queries.chunks_exact(dim) {
                assert_eq!(index.search(q, 10, &s).unwrap(), loaded.search(q, 10, &s).unwrap(), "{metric:?}");
            }
        }
    }
}

#[test]
fn a_shared_codebook_reused_on_a_new_shard_gives_the_same_codes() {
    let dim = 16;
    let first = gaussian_mixture(8_000, dim, 10, 0.3, 11);
    let later = gaussian_mixture(3_000, dim, 10, 0.3, 12);
    let cfg = IvfPqConfig { nlist: 40, m: 4, ..IvfPqConfig::for_dataset(8_000, dim) };
    let trained = IvfPqCodebook::train(&first, dim, Metric::L2, &cfg).unwrap();
    let bytes = trained.to_bytes().unwrap();
    let reloaded = Arc::new(IvfPqCodebook::from_bytes(&bytes).unwrap());
    assert_eq!(*reloaded, trained);
    let shard = IvfPqIndex::build_with_codebook(&later, reloaded, false).unwrap();
    let (_, direct) = trained.encode(&later).unwrap();
    assert_eq!(shard.codes_by_row(), direct);
}

#[test]
fn ivfpq_bad_input_gives_typed_errors() {
    let data = gaussian_mixture(500, 12, 4, 0.3, 2);
    let cfg = IvfPqConfig::for_dataset(500, 12);
    let too_many = IvfPqConfig { nlist: 501, ..cfg };
    assert!(
        matches!(IvfPqIndex::build(&data, 12, Metric::L2, &too_many, false), Err(IndexError::InvalidParams(m)) if m.contains("nlist"))
    );
    let bad_m = IvfPqConfig { m: 5, ..cfg };
    assert!(
        matches!(IvfPqIndex::build(&data, 12, Metric::L2, &bad_m, false), Err(IndexError::InvalidParams(m)) if m.contains("divisible"))
    );
    let mut nan = data.clone();
    nan[30] = f32::NAN;
    assert!(matches!(
        IvfPqIndex::build(&nan, 12, Metric::L2, &cfg, false),
        Err(IndexError::NonFinite { .. })
    ));
    let index = IvfPqIndex::build(&data, 12, Metric::L2, &cfg, false).unwrap();
    assert!(matches!(
        index.search(&[0.0; 11], 5, &IvfPqSearch::default()),
        Err(IndexError::DimensionMismatch { .. })
    ));
    assert!(matches!(index.search(&[0.0; 12], 0, &IvfPqSearch::default()), Err(IndexError::ZeroK)));
}

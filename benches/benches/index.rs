//! ailk-index: kernel throughput against a memory-copy baseline measured in the same run,
//! single-threaded flat scan of 1M×128, and HNSW search.

use ailake_benches::random_vectors;
use ailk_index::kernels::{self, DistanceFn};
use ailk_index::{flat::flat_search_serial, HnswIndex, HnswParams, Metric};
use ailk_testkit::synthetic::{gaussian_mixture, mixture_queries};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Distances from one query to a block of vectors, per kernel and dimension, beside a plain
/// copy of the same bytes (the bandwidth reference), at two sizes: 64 MiB (held by this
/// machine's large L3) and 1 GiB (streamed from DRAM).
fn kernels_vs_bandwidth(c: &mut Criterion) {
    for (label, bytes) in [("kernel_stream_64MiB", 64usize << 20), ("kernel_stream_1GiB", 1 << 30)] {
        let mut g = c.benchmark_group(label);
        g.throughput(Throughput::Bytes(bytes as u64));
        g.sample_size(10);
        let src = random_vectors(bytes / 4, 1, 3);
        let mut dst = vec![0f32; src.len()];
        g.bench_function("memcpy_reference", |b| b.iter(|| dst.copy_from_slice(black_box(&src))));
        drop(dst);
        for dim in [128usize, 384, 1536] {
            let q = random_vectors(1, dim, 4);
            let l2 = DistanceFn::new(Metric::L2);
            let ip = DistanceFn::new(Metric::InnerProduct);
            let mut out = Vec::with_capacity(src.len() / dim);
            g.bench_with_input(BenchmarkId::new("l2_sq", dim), &dim, |b, &dim| {
                b.iter(|| l2.eval_batch(&q, &src, dim, &mut out))
            });
            g.bench_with_input(BenchmarkId::new("dot", dim), &dim, |b, &dim| {
                b.iter(|| ip.eval_batch(&q, &src, dim, &mut out))
            });
        }
        g.finish();
    }
    println!("kernel backend: {:?}", kernels::active_backend());
}

fn flat_scan_1m(c: &mut Criterion) {
    let (rows, dim) = (1_000_000, 128);
    let base = random_vectors(rows, dim, 5);
    let q = random_vectors(1, dim, 6);
    let mut g = c.benchmark_group("flat_scan_1M_x_128_single_thread");
    g.throughput(Throughput::Bytes((rows * dim * 4) as u64));
    g.sample_size(10);
    g.bench_function("top10_l2", |b| {
        b.iter(|| flat_search_serial(&base, dim, Metric::L2, &q, 10).expect("search"))
    });
    g.finish();
}

fn hnsw_search(c: &mut Criterion) {
    let (rows, dim) = (50_000, 128);
    let base = gaussian_mixture(rows, dim, 100, 0.5, 7);
    let queries = mixture_queries(256, dim, 100, 0.5, 7, 8);
    let index = HnswIndex::build(&base, dim, Metric::L2, HnswParams::default()).expect("build");
    let mut g = c.benchmark_group("hnsw_search_50k_x_128");
    g.throughput(Throughput::Elements(256));
    for ef in [16usize, 64] {
        g.bench_with_input(BenchmarkId::new("256_queries_ef", ef), &ef, |b, &ef| {
            b.iter(|| {
                for q in queries.chunks_exact(dim) {
                    black_box(index.search(q, 10, Some(ef)).expect("search"));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, kernels_vs_bandwidth, flat_scan_1m, hnsw_search);
criterion_main!(benches);

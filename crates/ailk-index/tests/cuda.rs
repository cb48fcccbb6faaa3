//! The `cuda` feature: GPU results equal the CPU ones within tolerance on a machine with a
//! CUDA device; without one, `cuda_available()` is false and the public functions return the
//! CPU results. Run with `cargo test -p ailk-index --features cuda --test cuda`.
#![cfg(feature = "cuda")]

use ailk_index::flat::{distances_batch, distances_batch_cpu};
use ailk_index::gemm::{nearest, nearest_cpu, row_norms};
use ailk_index::kernels::cuda;
use ailk_index::{cuda_available, Metric};
use ailk_testkit::synthetic::gaussian_mixture;

#[test]
fn gpu_and_cpu_agree() {
    let dim = 64;
    let x = gaussian_mixture(40_000, dim, 50, 0.4, 1);
    let c = gaussian_mixture(512, dim, 50, 0.4, 2);
    let cn = row_norms(&c, dim);
    let cpu = nearest_cpu(&x, &c, &cn, dim, false);
    if !cuda_available() {
        eprintln!("no usable CUDA device: checking the CPU fallback only");
        assert!(cuda::nearest(&x, &c, &cn, dim, false).is_none());
        assert_eq!(nearest(&x, &c, &cn, dim, false), cpu);
        return;
    }
    let gpu = cuda::nearest(&x, &c, &cn, dim, false).expect("GPU assignment");
    let mut differing = 0;
    for (g, h) in gpu.iter().zip(&cpu) {
        if g.0 != h.0 {
            differing += 1; // only near-ties may differ
        }
        assert!((g.1 - h.1).abs() <= 1e-3 * h.1.max(1.0), "{g:?} vs {h:?}");
    }
    assert!(differing * 1000 <= x.len() / dim, "{differing} assignments differ");
    let q = &x[..100 * dim];
    for metric in [Metric::L2, Metric::InnerProduct] {
        let g = cuda::distances(q, &c, dim, if metric == Metric::L2 { 0 } else { 1 }).expect("GPU distances");
        let h = distances_batch_cpu(q, &c, dim, metric);
        for (a, b) in g.iter().zip(&h) {
            assert!((a - b).abs() <= 1e-3 * b.abs().max(1.0), "{a} vs {b}");
        }
        assert_eq!(distances_batch(q, &c, dim, metric).unwrap().len(), h.len());
    }
}

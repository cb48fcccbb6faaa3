//! Matrix products through faer's GEMM: the engine of k-means assignment and batched
//! distances (‖x‖² − 2x·c + ‖c‖²).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// `out[i × k + j] = x_i · c_j` for the `r` rows of `x` and `k` rows of `c` (both row-major,
/// `dim` wide); `out` must hold `r × k` values. Single-threaded: callers parallelize over
/// row blocks.
pub fn dot_products(x: &[f32], c: &[f32], dim: usize, out: &mut [f32]) {
    let (r, k) = (x.len() / dim, c.len() / dim);
    let lhs = MatRef::from_row_major_slice(&x[..r * dim], r, dim);
    let rhs = MatRef::from_row_major_slice(&c[..k * dim], k, dim).transpose();
    let dst = MatMut::from_row_major_slice_mut(&mut out[..r * k], r, k);
    matmul(dst, Accum::Replace, lhs, rhs, 1.0f32, Par::Seq);
}

/// Squared norms of the rows of `x`.
pub fn row_norms(x: &[f32], dim: usize) -> Vec<f32> {
    x.chunks_exact(dim).map(|r| crate::kernels::dot(r, r)).collect()
}

/// For each row of `x`, the nearest row of `c` under squared L2 (or largest inner product
/// when `inner_product`), with its distance: squared L2, or `−x·c`. Parallel over row blocks.
/// With the `cuda` feature and a usable device, large problems run on the GPU (falling back
/// to the CPU, with a warning, if a CUDA call fails).
pub fn nearest(x: &[f32], c: &[f32], c_norms: &[f32], dim: usize, inner_product: bool) -> Vec<(u32, f32)> {
    #[cfg(feature = "cuda")]
    if x.len().saturating_mul(c.len() / dim) >= GPU_MIN_WORK && crate::kernels::cuda::available() {
        match crate::kernels::cuda::nearest(x, c, c_norms, dim, inner_product) {
            Some(r) => return r,
            None => tracing::warn!("CUDA nearest-centroid assignment failed; using the CPU"),
        }
    }
    nearest_cpu(x, c, c_norms, dim, inner_product)
}

/// Smallest `rows × dim × k` worth sending to the GPU (below it, transfers dominate).
#[cfg(feature = "cuda")]
pub const GPU_MIN_WORK: usize = 1 << 24;

/// The CPU implementation of [`nearest`] (the reference GPU results are compared with).
pub fn nearest_cpu(
    x: &[f32],
    c: &[f32],
    c_norms: &[f32],
    dim: usize,
    inner_product: bool,
) -> Vec<(u32, f32)> {
    use rayon::prelude::*;
    const BLOCK: usize = 1024;
    if dim <= SMALL_DIM {
        return nearest_small_dim(x, c, dim, inner_product);
    }
    let k = c.len() / dim;
    x.par_chunks(BLOCK * dim)
        .flat_map_iter(|block| {
            let r = block.len() / dim;
            let mut prod = vec![0f32; r * k];
            dot_products(block, c, dim, &mut prod);
            let norms = if inner_product { Vec::new() } else { row_norms(block, dim) };
            // Two vectorizable passes per row (distances in place, then a min reduction)
            // instead of one branchy compare-and-select loop.
            prod.chunks_exact_mut(k)
                .enumerate()
                .map(|(i, row)| {
                    if inner_product {
                        row.iter_mut().for_each(|p| *p = -*p);
                    } else {
                        let xn = norms[i];
                        row.iter_mut().zip(c_norms).for_each(|(p, &cn)| *p = (xn - 2.0 * *p + cn).max(0.0));
                    }
                    let (j, best) = argmin(row);
                    (j as u32, best)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Up to this dimension (PQ sub-vectors), [`nearest_cpu`] computes distances directly over
/// transposed centroids instead of a GEMM whose `rows × k` output would dominate the work.
const SMALL_DIM: usize = 8;

/// Nearest centroid for short vectors: centroids are transposed once (coordinate-major), then
/// each row scans them 16 at a time, distances built and compared in registers with a running
/// per-lane minimum (no distance buffer is written), ties going to the lowest index.
fn nearest_small_dim(x: &[f32], c: &[f32], dim: usize, inner_product: bool) -> Vec<(u32, f32)> {
    use rayon::prelude::*;
    let k = c.len() / dim;
    let mut transposed = vec![0f32; k * dim];
    for (j, centroid) in c.chunks_exact(dim).enumerate() {
        for (t, &v) in centroid.iter().enumerate() {
            transposed[t * k + j] = v;
        }
    }
    let rows = |block: &[f32]| -> Vec<(u32, f32)> {
        block
            .chunks_exact(dim)
            .map(|row| crate::kernels::nearest_transposed(row, &transposed, k, inner_product))
            .collect()
    };
    x.par_chunks(1024 * dim).flat_map_iter(rows).collect()
}

/// Index and value of the smallest element (the first one on ties; `(0, +∞)` when empty).
/// Lane-wise `select` minima over 16 lanes vectorize (a plain `f32::min` fold does not).
pub fn argmin(row: &[f32]) -> (usize, f32) {
    let mut lanes = [f32::INFINITY; 16];
    let chunks = row.chunks_exact(16);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (m, &v) in lanes.iter_mut().zip(chunk) {
            *m = if v < *m { v } else { *m };
        }
    }
    let best = lanes.iter().chain(tail).fold(f32::INFINITY, |a, &b| if b < a { b } else { a });
    (row.iter().position(|&d| d == best).unwrap_or(0), best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmin_finds_the_first_smallest() {
        for len in [0usize, 1, 15, 16, 17, 40, 256] {
            let row: Vec<f32> = (0..len).map(|i| ((i * 7919) % 61) as f32).collect();
            let (i, v) = argmin(&row);
            let want =
                row.iter()
                    .copied()
                    .enumerate()
                    .fold((0, f32::INFINITY), |a, (j, x)| if x < a.1 { (j, x) } else { a });
            assert_eq!((i, v), want, "len {len}");
        }
    }

    /// The register-resident scan against a plain loop, over centroid counts around the
    /// 16-lane boundary, both metrics, with duplicated centroids (ties go to the lowest index).
    #[test]
    fn small_dim_scan_matches_a_plain_loop() {
        for (dim, k) in [(1usize, 1usize), (2, 15), (4, 16), (4, 17), (3, 40), (4, 256), (8, 300)] {
            let mut c: Vec<f32> = (0..k * dim).map(|i| ((i * 7919 % 101) as f32 * 0.13).sin()).collect();
            if k > 20 {
                let (a, b) = c.split_at_mut(17 * dim);
                b[..dim].copy_from_slice(&a[3 * dim..4 * dim]);
            }
            let mut x: Vec<f32> = (0..50 * dim).map(|i| ((i * 31 % 97) as f32 * 0.21).cos()).collect();
            if k > 20 {
                x[..dim].copy_from_slice(&c[3 * dim..4 * dim]); // equidistant to centroids 3 and 17
            }
            for ip in [false, true] {
                let got = nearest_small_dim(&x, &c, dim, ip);
                for (i, row) in x.chunks_exact(dim).enumerate() {
                    let dist = |j: usize| -> f32 {
                        let cj = &c[j * dim..(j + 1) * dim];
                        if ip {
                            -row.iter().zip(cj).map(|(a, b)| a * b).sum::<f32>()
                        } else {
                            row.iter().zip(cj).map(|(a, b)| (a - b) * (a - b)).sum()
                        }
                    };
                    let want =
                        (0..k).fold(
                            (0usize, f32::INFINITY),
                            |a, j| if dist(j) < a.1 { (j, dist(j)) } else { a },
                        );
                    // Same additions in the same order: the values are bit-identical, so
                    // the index must be the reference's (the lowest one on ties).
                    assert_eq!(got[i], (want.0 as u32, want.1), "dim {dim} k {k} ip {ip} row {i}");
                }
            }
        }
    }

    #[test]
    fn gemm_matches_dot_loops() {
        for dim in [7, 20] {
            check_dim(dim);
        }
    }

    /// Dimension 7 takes the small-dimension path of `nearest`, 20 the GEMM path.
    fn check_dim(dim: usize) {
        let x: Vec<f32> = (0..5 * dim).map(|i| (i as f32 * 0.37).sin()).collect();
        let c: Vec<f32> = (0..3 * dim).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut out = vec![0f32; 15];
        dot_products(&x, &c, dim, &mut out);
        for i in 0..5 {
            for j in 0..3 {
                let want: f32 = (0..dim).map(|t| x[i * dim + t] * c[j * dim + t]).sum();
                assert!((out[i * 3 + j] - want).abs() < 1e-5);
            }
        }
        let near = nearest(&x, &c, &row_norms(&c, dim), dim, false);
        for (i, (j, d)) in near.iter().enumerate() {
            let dists: Vec<f32> = (0..3)
                .map(|jj| crate::kernels::l2_sq(&x[i * dim..(i + 1) * dim], &c[jj * dim..(jj + 1) * dim]))
                .collect();
            let best = dists.iter().cloned().fold(f32::INFINITY, f32::min);
            assert!((dists[*j as usize] - best).abs() < 1e-5 && (d - best).abs() < 1e-4);
        }
    }
}

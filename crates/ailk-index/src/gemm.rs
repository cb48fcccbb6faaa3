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
                    let best = row.iter().copied().fold(f32::INFINITY, f32::min);
                    let j = row.iter().position(|&d| d == best).unwrap_or(0);
                    (j as u32, best)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_matches_dot_loops() {
        let dim = 7;
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

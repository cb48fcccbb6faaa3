//! k-means: k-means++ seeding on a subsample, Lloyd iterations whose assignment step is a
//! GEMM, parallel with rayon, training sample capped per centroid, empty clusters repaired by
//! stealing the worst-served points, deterministic for a given seed.

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::error::{IndexError, Result};
use crate::flat::check_vectors;
use crate::gemm::{nearest, row_norms};

/// Training parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KMeansParams {
    /// Number of centroids.
    pub k: usize,
    /// Lloyd iterations at most.
    pub max_iters: usize,
    /// Training rows are capped at `k × max_points_per_centroid` (a uniform sample), as FAISS
    /// and Lance do: more rows barely move the centroids and cost linear time.
    pub max_points_per_centroid: usize,
    /// Stop when the objective improves by less than this fraction.
    pub tolerance: f64,
    /// Seed of sampling and seeding.
    pub seed: u64,
}

impl KMeansParams {
    /// `k` centroids with the defaults: 25 iterations, 256 points per centroid.
    pub fn new(k: usize) -> Self {
        KMeansParams { k, max_iters: 25, max_points_per_centroid: 256, tolerance: 1e-4, seed: 1234 }
    }
}

/// Trained centroids and the objective after each assignment step.
#[derive(Debug, Clone)]
pub struct KMeans {
    /// Dimension.
    pub dim: usize,
    /// `k × dim` centroids, row-major.
    pub centroids: Vec<f32>,
    /// Sum of squared distances to the assigned centroid, after each assignment (non-increasing).
    pub objective: Vec<f64>,
}

impl KMeans {
    /// Number of centroids.
    pub fn k(&self) -> usize {
        self.centroids.len() / self.dim
    }

    /// Nearest centroid (and squared distance) of each row of `data`.
    pub fn assign(&self, data: &[f32]) -> Vec<(u32, f32)> {
        nearest(data, &self.centroids, &row_norms(&self.centroids, self.dim), self.dim, false)
    }
}

/// Trains `params.k` centroids on `data` (row-major, `dim` wide).
pub fn train(data: &[f32], dim: usize, params: &KMeansParams) -> Result<KMeans> {
    let n = check_vectors(data, dim)?;
    if params.k == 0 || params.k > n {
        return Err(IndexError::InvalidParams(format!("k = {} needs 1..={n} training rows", params.k)));
    }
    let mut rng = StdRng::seed_from_u64(params.seed);
    let cap = params.k.saturating_mul(params.max_points_per_centroid.max(1));
    let sampled;
    let train: &[f32] = if n > cap {
        let mut idx = sample(&mut rng, n, cap).into_vec();
        idx.sort_unstable();
        sampled =
            idx.iter().flat_map(|&i| data[i * dim..(i + 1) * dim].iter().copied()).collect::<Vec<f32>>();
        &sampled
    } else {
        data
    };
    let init = kmeanspp(train, dim, params.k, &mut rng);
    Ok(lloyd(train, dim, init, params.max_iters, params.tolerance))
}

/// k-means++ seeding on a subsample of at most `max(16k, 1024)` rows: each new centroid is
/// drawn with probability proportional to its squared distance to the nearest chosen one.
fn kmeanspp(data: &[f32], dim: usize, k: usize, rng: &mut StdRng) -> Vec<f32> {
    let n = data.len() / dim;
    let s = n.min((16 * k).max(1024));
    let mut rows: Vec<usize> = sample(rng, n, s).into_vec();
    rows.sort_unstable();
    let row = |i: usize| &data[rows[i] * dim..rows[i] * dim + dim];
    let mut centroids = Vec::with_capacity(k * dim);
    centroids.extend_from_slice(row(rng.random_range(0..s)));
    let mut best: Vec<f32> = (0..s).map(|i| crate::kernels::l2_sq(row(i), &centroids[..dim])).collect();
    while centroids.len() < k * dim {
        let total: f64 = best.iter().map(|&d| f64::from(d)).sum();
        let pick = if total > 0.0 {
            let mut t = rng.random_range(0.0..total);
            best.iter()
                .position(|&d| {
                    t -= f64::from(d);
                    t < 0.0
                })
                .unwrap_or(s - 1)
        } else {
            rng.random_range(0..s)
        };
        let start = centroids.len();
        centroids.extend_from_slice(row(pick));
        let c = centroids[start..].to_vec();
        best.par_iter_mut().enumerate().for_each(|(i, b)| *b = b.min(crate::kernels::l2_sq(row(i), &c)));
    }
    centroids
}

/// Lloyd iterations from `centroids`. Public for reference tests.
pub fn lloyd(data: &[f32], dim: usize, mut centroids: Vec<f32>, max_iters: usize, tolerance: f64) -> KMeans {
    let k = centroids.len() / dim;
    let mut objective = Vec::new();
    for _ in 0..max_iters.max(1) {
        let mut assign = nearest(data, &centroids, &row_norms(&centroids, dim), dim, false);
        let obj: f64 = assign.iter().map(|a| f64::from(a.1)).sum();
        let converged = objective.last().is_some_and(|&prev: &f64| prev - obj <= tolerance * prev);
        objective.push(obj);
        repair_empty(&mut assign, k);
        centroids = means(data, dim, &assign, k, &centroids);
        if converged {
            break;
        }
    }
    KMeans { dim, centroids, objective }
}

/// Gives each empty cluster the point currently served worst (largest distance), which
/// strictly lowers the objective, so iterations stay monotone.
fn repair_empty(assign: &mut [(u32, f32)], k: usize) {
    let mut counts = vec![0usize; k];
    assign.iter().for_each(|a| counts[a.0 as usize] += 1);
    let empty: Vec<usize> = (0..k).filter(|&j| counts[j] == 0).collect();
    if empty.is_empty() {
        return;
    }
    let mut order: Vec<usize> = (0..assign.len()).collect();
    order.sort_by(|&a, &b| assign[b].1.total_cmp(&assign[a].1).then(a.cmp(&b)));
    let mut next = 0;
    for j in empty {
        // Skip donors whose cluster would be emptied (earlier steals may have shrunk it).
        while next < order.len() && counts[assign[order[next]].0 as usize] <= 1 {
            next += 1;
        }
        let Some(&i) = order.get(next) else { break };
        next += 1;
        counts[assign[i].0 as usize] -= 1;
        counts[j] = 1;
        assign[i] = (j as u32, 0.0);
    }
}

/// Mean of each cluster's rows (a cluster left without rows keeps its old centroid).
fn means(data: &[f32], dim: usize, assign: &[(u32, f32)], k: usize, old: &[f32]) -> Vec<f32> {
    const BLOCK: usize = 4096;
    let (sums, counts) = data
        .par_chunks(BLOCK * dim)
        .zip(assign.par_chunks(BLOCK))
        .fold(
            || (vec![0f64; k * dim], vec![0usize; k]),
            |(mut sums, mut counts), (rows, asg)| {
                for (row, a) in rows.chunks_exact(dim).zip(asg) {
                    let j = a.0 as usize;
                    counts[j] += 1;
                    for (s, &v) in sums[j * dim..(j + 1) * dim].iter_mut().zip(row) {
                        *s += f64::from(v);
                    }
                }
                (sums, counts)
            },
        )
        .reduce(
            || (vec![0f64; k * dim], vec![0usize; k]),
            |(mut s1, mut c1), (s2, c2)| {
                s1.iter_mut().zip(s2).for_each(|(a, b)| *a += b);
                c1.iter_mut().zip(c2).for_each(|(a, b)| *a += b);
                (s1, c1)
            },
        );
    let mut out = old.to_vec();
    for j in 0..k {
        if counts[j] > 0 {
            for t in 0..dim {
                out[j * dim + t] = (sums[j * dim + t] / counts[j] as f64) as f32;
            }
        }
    }
    out
}

//! Synthetic datasets with a fixed seed: Gaussian mixtures (clustered, like real embeddings)
//! for tests and benchmarks.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One standard normal sample (Box–Muller).
fn normal(rng: &mut StdRng) -> f32 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// `rows` vectors of dimension `dim` drawn from `clusters` Gaussian clusters whose centres are
/// uniform in `[-1, 1]^dim` and whose per-coordinate standard deviation is `spread`.
/// Row `i` belongs to cluster `i % clusters`, so consecutive rows cycle through clusters.
pub fn gaussian_mixture(rows: usize, dim: usize, clusters: usize, spread: f32, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let clusters = clusters.max(1);
    let centres: Vec<f32> = (0..clusters * dim).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let mut out = Vec::with_capacity(rows * dim);
    for i in 0..rows {
        let c = &centres[(i % clusters) * dim..(i % clusters + 1) * dim];
        out.extend(c.iter().map(|&x| x + spread * normal(&mut rng)));
    }
    out
}

/// Queries near the same mixture (same centres, different noise): `seed` must match the
/// base set's, `query_seed` differs.
pub fn mixture_queries(
    rows: usize,
    dim: usize,
    clusters: usize,
    spread: f32,
    seed: u64,
    query_seed: u64,
) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let clusters = clusters.max(1);
    let centres: Vec<f32> = (0..clusters * dim).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let mut qrng = StdRng::seed_from_u64(query_seed);
    let mut out = Vec::with_capacity(rows * dim);
    for _ in 0..rows {
        let k = qrng.random_range(0..clusters);
        out.extend(centres[k * dim..(k + 1) * dim].iter().map(|&x| x + spread * normal(&mut qrng)));
    }
    out
}

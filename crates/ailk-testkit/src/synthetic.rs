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

/// A Gaussian mixture whose rows can be generated in any slice, in any order: row `i`'s
/// noise comes from its own seeded generator, so a table larger than memory is written (and
/// its ground truth computed) chunk by chunk. Row `i` belongs to cluster `i % clusters`.
#[derive(Debug, Clone)]
pub struct StreamedMixture {
    /// Dimension.
    pub dim: usize,
    spread: f32,
    seed: u64,
    centres: Vec<f32>,
}

impl StreamedMixture {
    /// `clusters` centres uniform in `[-1, 1]^dim`, per-coordinate noise `spread`.
    pub fn new(dim: usize, clusters: usize, spread: f32, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let centres = (0..clusters.max(1) * dim).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        Self { dim, spread, seed, centres }
    }

    fn clusters(&self) -> usize {
        self.centres.len() / self.dim.max(1)
    }

    fn around(&self, cluster: usize, rng: &mut StdRng, out: &mut Vec<f32>) {
        let c = &self.centres[cluster * self.dim..(cluster + 1) * self.dim];
        out.extend(c.iter().map(|&x| x + self.spread * normal(rng)));
    }

    /// Rows `rows` (row-major).
    pub fn rows(&self, rows: std::ops::Range<usize>) -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.len() * self.dim);
        for i in rows {
            let mut rng =
                StdRng::seed_from_u64(self.seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            self.around(i % self.clusters(), &mut rng, &mut out);
        }
        out
    }

    /// `n` queries near random centres (`query_seed` picks them and their noise).
    pub fn queries(&self, n: usize, query_seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(query_seed);
        let mut out = Vec::with_capacity(n * self.dim);
        for _ in 0..n {
            let k = rng.random_range(0..self.clusters());
            self.around(k, &mut rng, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod streamed_tests {
    use super::StreamedMixture;

    #[test]
    fn any_slice_of_rows_is_the_same_rows() {
        let m = StreamedMixture::new(8, 5, 0.3, 7);
        let all = m.rows(0..100);
        assert_eq!(m.rows(40..60), all[40 * 8..60 * 8].to_vec());
        assert_ne!(m.rows(0..1), m.rows(1..2));
        assert_eq!(m.queries(3, 9).len(), 24);
    }
}

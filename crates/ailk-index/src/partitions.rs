//! [`Partitions`]: table-level coarse partitions of one vector column — k-means centroids the
//! whole table shares, so each shard records which partitions its rows fall in (its
//! occupancy) and a search visits only the shards holding the partitions nearest the query.
//!
//! Rows are routed by L2 distance to the centroids (on unit vectors for cosine; inner-product
//! tables are routed by L2 too, which is what IVF indexes do). Encoding (little-endian):
//! magic `AILKPART`, `u32` format version (1), `u32` partitions version, `u8` metric,
//! `u32` dim, `u32` count, then `count × dim` `f32` centroids; decoding rejects anything else
//! (`Corrupt`, never a panic).

use crate::error::{IndexError, Result};
use crate::flat::check_vectors;
use crate::gemm::{nearest, row_norms};
use crate::kernels;
use crate::kmeans::{train, KMeansParams};
use crate::topk::TopK;
use crate::Metric;

const MAGIC: &[u8; 8] = b"AILKPART";
const FORMAT_VERSION: u32 = 1;

/// Coarse partitions of a table's vector column.
#[derive(Debug, Clone, PartialEq)]
pub struct Partitions {
    /// Which training this is (bumped by every retrain; shards record it with their
    /// occupancy, and an occupancy of another version is ignored).
    pub version: u32,
    /// The column's distance.
    pub metric: Metric,
    /// Dimension.
    pub dim: usize,
    /// `count × dim` centroids, row-major (unit length for cosine).
    pub centroids: Vec<f32>,
}

impl Partitions {
    /// The partition count for a table of `rows` rows: about `2 √rows`, within 8..=4096.
    pub fn count_for(rows: usize) -> usize {
        ((2.0 * (rows as f64).sqrt()) as usize).clamp(8, 4096)
    }

    /// Trains `count` partitions (at most one per sample row) on `sample` (row-major, unit
    /// length for cosine).
    pub fn train(sample: &[f32], dim: usize, metric: Metric, count: usize, version: u32) -> Result<Self> {
        let n = check_vectors(sample, dim)?;
        let k = count.clamp(1, n.max(1));
        // Coarse routing needs less precision than an IVF codebook: 15 iterations on at most
        // 64 rows per partition keep training a 1M-row table's 2,000 partitions to seconds.
        let params = KMeansParams { max_iters: 15, max_points_per_centroid: 64, ..KMeansParams::new(k) };
        let mut centroids = train(sample, dim, &params)?.centroids;
        if metric == Metric::Cosine {
            centroids.chunks_exact_mut(dim).for_each(kernels::normalize);
        }
        Ok(Self { version, metric, dim, centroids })
    }

    /// Number of partitions.
    pub fn len(&self) -> usize {
        self.centroids.len() / self.dim.max(1)
    }

    /// Whether there are none (never true for trained or decoded partitions).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The partition of each row of `vectors` (row-major, unit length for cosine).
    pub fn assign(&self, vectors: &[f32]) -> Vec<u32> {
        if vectors.is_empty() {
            return Vec::new();
        }
        let norms = row_norms(&self.centroids, self.dim);
        nearest(vectors, &self.centroids, &norms, self.dim, false).into_iter().map(|(p, _)| p).collect()
    }

    /// Rows per partition of `vectors`, as (partition, rows) sorted by partition.
    pub fn occupancy(&self, vectors: &[f32]) -> Vec<(u32, u32)> {
        let mut counts = vec![0u32; self.len()];
        for p in self.assign(vectors) {
            counts[p as usize] += 1;
        }
        counts.into_iter().enumerate().filter(|(_, c)| *c > 0).map(|(p, c)| (p as u32, c)).collect()
    }

    /// The `n` partitions nearest to `query` (prepared: unit length for cosine), nearest first.
    pub fn nearest(&self, query: &[f32], n: usize) -> Vec<u32> {
        if query.len() != self.dim || n == 0 {
            return Vec::new();
        }
        let mut top = TopK::new(n.min(self.len()));
        for (p, c) in self.centroids.chunks_exact(self.dim).enumerate() {
            top.push(p as u32, kernels::l2_sq(query, c));
        }
        top.into_sorted_vec().into_iter().map(|n| n.id).collect()
    }

    /// The encoded partitions (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(25 + self.centroids.len() * 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.version.to_le_bytes());
        out.push(self.metric.code());
        out.extend_from_slice(&(self.dim as u32).to_le_bytes());
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        self.centroids.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        out
    }

    /// Decodes [`Self::to_bytes`] output.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let corrupt = |why: &str| IndexError::Corrupt(format!("partitions file: {why}"));
        if bytes.len() < 25 || &bytes[..8] != MAGIC {
            return Err(corrupt("bad magic or truncated header"));
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        if u32_at(8) != FORMAT_VERSION {
            return Err(corrupt(&format!("unknown format version {}", u32_at(8))));
        }
        let version = u32_at(12);
        let metric = Metric::from_code(bytes[16]).map_err(|_| corrupt("unknown metric"))?;
        let (dim, count) = (u32_at(17) as usize, u32_at(21) as usize);
        let body = &bytes[25..];
        if dim == 0 || count == 0 || Some(body.len()) != dim.checked_mul(count).and_then(|n| n.checked_mul(4))
        {
            return Err(corrupt(&format!("{count} × {dim} centroids do not fill {} bytes", body.len())));
        }
        let centroids: Vec<f32> =
            body.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        if centroids.iter().any(|v| !v.is_finite()) {
            return Err(corrupt("a centroid is not finite"));
        }
        Ok(Self { version, metric, dim, centroids })
    }
}

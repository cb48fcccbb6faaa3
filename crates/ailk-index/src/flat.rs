//! Exact (flat) search: every row scored with the SIMD kernels, top-k kept in a bounded heap,
//! large blocks split across threads with rayon. Also the ground-truth oracle of every recall
//! test.

use rayon::prelude::*;

use crate::error::{IndexError, Result};
use crate::kernels::DistanceFn;
use crate::topk::{Neighbor, TopK};
use crate::Metric;

/// Rows per parallel task; below this a search stays on the calling thread.
const PAR_BLOCK_ROWS: usize = 16 * 1024;

/// Checks a query against dimension `dim`.
pub(crate) fn check_query(query: &[f32], dim: usize, k: usize) -> Result<()> {
    if query.len() != dim {
        return Err(IndexError::DimensionMismatch { expected: dim, got: query.len() });
    }
    if query.iter().any(|v| !v.is_finite()) {
        return Err(IndexError::NonFinite { what: "query", row: 0 });
    }
    if k == 0 {
        return Err(IndexError::ZeroK);
    }
    Ok(())
}

/// Checks a row-major vector block: shape and finiteness.
pub(crate) fn check_vectors(vectors: &[f32], dim: usize) -> Result<usize> {
    if dim == 0 || !vectors.len().is_multiple_of(dim) {
        return Err(IndexError::DimensionMismatch { expected: dim, got: vectors.len() % dim.max(1) });
    }
    if let Some(pos) = vectors.iter().position(|v| !v.is_finite()) {
        return Err(IndexError::NonFinite { what: "vectors", row: pos / dim });
    }
    Ok(vectors.len() / dim)
}

fn scan(dist: &DistanceFn, query: &[f32], block: &[f32], dim: usize, first_id: usize, k: usize) -> TopK {
    let mut top = TopK::new(k);
    for (i, row) in block.chunks_exact(dim).enumerate() {
        let d = dist.eval(query, row);
        if d < top.threshold() {
            top.push((first_id + i) as u32, d);
        }
    }
    top
}

/// The exact `k` nearest rows of `vectors` (row-major, `dim` wide) to `query`, nearest first.
/// Vectors are assumed finite (checked when an index is built); the query is checked.
pub fn flat_search(
    vectors: &[f32],
    dim: usize,
    metric: Metric,
    query: &[f32],
    k: usize,
) -> Result<Vec<Neighbor>> {
    check_query(query, dim, k)?;
    let rows = vectors.len() / dim;
    if rows == 0 {
        return Err(IndexError::EmptyIndex);
    }
    let dist = DistanceFn::new(metric);
    let top = if rows <= PAR_BLOCK_ROWS {
        scan(&dist, query, vectors, dim, 0, k)
    } else {
        vectors
            .par_chunks(PAR_BLOCK_ROWS * dim)
            .enumerate()
            .map(|(b, block)| scan(&dist, query, block, dim, b * PAR_BLOCK_ROWS, k))
            .reduce(
                || TopK::new(k),
                |mut a, b| {
                    a.merge(b);
                    a
                },
            )
    };
    Ok(top.into_sorted_vec())
}

/// Single-threaded exact search (for measuring per-query cost and inside parallel callers).
pub fn flat_search_serial(
    vectors: &[f32],
    dim: usize,
    metric: Metric,
    query: &[f32],
    k: usize,
) -> Result<Vec<Neighbor>> {
    check_query(query, dim, k)?;
    if vectors.len() < dim {
        return Err(IndexError::EmptyIndex);
    }
    Ok(scan(&DistanceFn::new(metric), query, vectors, dim, 0, k).into_sorted_vec())
}

/// Exact top-`k` ids of every query (row-major `queries`), in parallel over queries: the
/// ground truth recall is measured against.
pub fn ground_truth(
    vectors: &[f32],
    queries: &[f32],
    dim: usize,
    metric: Metric,
    k: usize,
) -> Result<Vec<Vec<u32>>> {
    queries
        .par_chunks(dim)
        .map(|q| Ok(flat_search_serial(vectors, dim, metric, q, k)?.into_iter().map(|n| n.id).collect()))
        .collect()
}

/// Distances from every query to every base row (row-major `queries × rows`), by GEMM:
/// squared L2 as ‖q‖² − 2q·x + ‖x‖², inner product as −q·x, cosine as 1 − q·x (normalized
/// input). With the `cuda` feature and a usable device, large batches run on the GPU.
pub fn distances_batch(queries: &[f32], base: &[f32], dim: usize, metric: Metric) -> Result<Vec<f32>> {
    if dim == 0 || !queries.len().is_multiple_of(dim) || !base.len().is_multiple_of(dim) {
        return Err(IndexError::DimensionMismatch { expected: dim, got: queries.len() % dim.max(1) });
    }
    #[cfg(feature = "cuda")]
    if queries.len().saturating_mul(base.len() / dim) >= crate::gemm::GPU_MIN_WORK && crate::cuda_available()
    {
        let code = match metric {
            Metric::L2 => 0,
            Metric::InnerProduct => 1,
            Metric::Cosine => 2,
        };
        match crate::kernels::cuda::distances(queries, base, dim, code) {
            Some(d) => return Ok(d),
            None => tracing::warn!("CUDA batched distances failed; using the CPU"),
        }
    }
    Ok(distances_batch_cpu(queries, base, dim, metric))
}

/// The CPU implementation of [`distances_batch`].
pub fn distances_batch_cpu(queries: &[f32], base: &[f32], dim: usize, metric: Metric) -> Vec<f32> {
    let n = base.len() / dim;
    let mut out = vec![0f32; queries.len() / dim * n];
    let bn = if metric == Metric::L2 { crate::gemm::row_norms(base, dim) } else { Vec::new() };
    out.par_chunks_mut(n.max(1) * 64).zip(queries.par_chunks(64 * dim)).for_each(|(dst, q)| {
        crate::gemm::dot_products(q, base, dim, dst);
        let qn = crate::gemm::row_norms(q, dim);
        for (i, row) in dst.chunks_exact_mut(n.max(1)).enumerate() {
            for (j, d) in row.iter_mut().enumerate() {
                *d = match metric {
                    Metric::L2 => (qn[i] - 2.0 * *d + bn[j]).max(0.0),
                    Metric::InnerProduct => -*d,
                    Metric::Cosine => 1.0 - *d,
                };
            }
        }
    });
    out
}

/// An exact index over an owned vector block (validated once at construction).
#[derive(Debug, Clone)]
pub struct FlatIndex {
    vectors: Vec<f32>,
    dim: usize,
    metric: Metric,
}

impl FlatIndex {
    /// Validates and takes `vectors` (row-major, `dim` wide).
    pub fn new(vectors: Vec<f32>, dim: usize, metric: Metric) -> Result<Self> {
        check_vectors(&vectors, dim)?;
        Ok(FlatIndex { vectors, dim, metric })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.vectors.len() / self.dim
    }

    /// Whether the index holds no rows.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// The exact `k` nearest rows to `query`.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Neighbor>> {
        flat_search(&self.vectors, self.dim, self.metric, query, k)
    }
}

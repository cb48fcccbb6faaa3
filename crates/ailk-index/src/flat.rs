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

/// Recall@k: the fraction of the true top-k ids found in the results, averaged over queries.
pub fn recall_at_k(results: &[Vec<u32>], truth: &[Vec<u32>], k: usize) -> f64 {
    let mut hits = 0usize;
    for (r, t) in results.iter().zip(truth) {
        let t = &t[..k.min(t.len())];
        hits += r.iter().take(k).filter(|id| t.contains(id)).count();
    }
    hits as f64 / (truth.len() * k).max(1) as f64
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

//! SQ8: vectors as one byte per coordinate, for graph walks that read a quarter of the bytes.
//!
//! Each coordinate `i` spans `[mᵢ, mᵢ + 255·sᵢ]` over the stored rows; a row is stored as the
//! codes `cᵢ = round((xᵢ − mᵢ) / sᵢ)` in `0..=255`. A query is folded into the scales
//! (`q′ᵢ = qᵢ·sᵢ`) and quantized to `dᵢ` in `−127..=127` with one scale `b` of its own, so
//! `q·x ≈ q·m + b·Σ dᵢcᵢ`: one integer dot product per row ([`crate::kernels::dot_u8_i8`]). L2
//! adds the rows' exact squared norms. Distances are approximate: callers re-rank the walk's candidates with the exact
//! vectors.

use ailk_format::TypedArray;

use crate::kernels::{dot_u8_i8, prefetch};
use crate::Metric;

/// One shard's vectors in SQ8 codes.
#[derive(Debug, Clone)]
pub struct Sq8Codes {
    dim: usize,
    mins: TypedArray<f32>,
    scales: TypedArray<f32>,
    codes: TypedArray<u8>,
    norms: TypedArray<f32>,
}

/// A query prepared against one [`Sq8Codes`]: its codes, its scale and the constant terms.
#[derive(Debug, Clone)]
pub struct Sq8Query {
    codes: Vec<i8>,
    /// Multiplies the integer dot product back to the inner product.
    scale: f32,
    /// `q·m`: the inner product with the coordinates' minima, added to every row's.
    offset: f32,
    /// `‖q‖²` (L2 only).
    norm: f32,
}

impl Sq8Codes {
    /// Encodes `vectors` (row-major, `dim` wide; already normalized for cosine).
    pub fn encode(vectors: &[f32], dim: usize) -> Self {
        let rows = vectors.len().checked_div(dim).unwrap_or(0);
        let (mut min, mut max) = (vec![f32::INFINITY; dim], vec![f32::NEG_INFINITY; dim]);
        for row in vectors.chunks_exact(dim.max(1)).take(rows) {
            for ((lo, hi), &x) in min.iter_mut().zip(max.iter_mut()).zip(row) {
                if x.is_finite() {
                    *lo = lo.min(x);
                    *hi = hi.max(x);
                }
            }
        }
        let mins: Vec<f32> = min.iter().map(|&m| if m.is_finite() { m } else { 0.0 }).collect();
        let scales: Vec<f32> =
            min.iter().zip(&max).map(|(&lo, &hi)| if hi > lo { (hi - lo) / 255.0 } else { 1.0 }).collect();
        let codes = TypedArray::from_fill(rows * dim, |dst| {
            for (out, row) in dst.chunks_exact_mut(dim.max(1)).zip(vectors.chunks_exact(dim.max(1))) {
                for (((o, &x), &m), &s) in out.iter_mut().zip(row).zip(&mins).zip(&scales) {
                    *o = quantize((x - m) / s, 0.0, 255.0) as u8;
                }
            }
        });
        let norms = TypedArray::from_fill(rows, |dst| {
            for (n, row) in dst.iter_mut().zip(vectors.chunks_exact(dim.max(1))) {
                *n = crate::kernels::dot(row, row);
            }
        });
        Sq8Codes {
            dim,
            mins: TypedArray::from_slice(&mins),
            scales: TypedArray::from_slice(&scales),
            codes,
            norms,
        }
    }

    /// Number of encoded rows.
    pub fn len(&self) -> usize {
        self.norms.len()
    }

    /// Whether no row is encoded.
    pub fn is_empty(&self) -> bool {
        self.norms.is_empty()
    }

    /// Bytes held (codes, scales, norms).
    pub fn memory_bytes(&self) -> usize {
        self.codes.len() + 4 * (self.mins.len() + self.scales.len() + self.norms.len())
    }

    /// Prepares `query` (normalized already for cosine) for [`Self::distance`].
    pub fn query(&self, query: &[f32]) -> Sq8Query {
        let folded: Vec<f32> = query.iter().zip(self.scales.iter()).map(|(q, s)| q * s).collect();
        let max = folded.iter().filter(|x| x.is_finite()).fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        let codes: Vec<i8> = folded.iter().map(|&x| quantize(x / scale, -127.0, 127.0) as i8).collect();
        let offset = crate::kernels::dot(query, &self.mins);
        Sq8Query { codes, scale, offset, norm: crate::kernels::dot(query, query) }
    }

    /// The approximate inner product of the prepared query with row `id`.
    #[inline(always)]
    fn inner(&self, q: &Sq8Query, id: u32) -> f32 {
        let s = id as usize * self.dim;
        q.offset + dot_u8_i8(&self.codes[s..s + self.dim], &q.codes) as f32 * q.scale
    }

    /// The approximate `metric` distance (as [`crate::kernels::distance`] ranks) of row `id`.
    #[inline(always)]
    pub fn distance(&self, metric: Metric, q: &Sq8Query, id: u32) -> f32 {
        let ip = self.inner(q, id);
        match metric {
            Metric::L2 => (q.norm + self.norms[id as usize] - 2.0 * ip).max(0.0),
            Metric::InnerProduct => -ip,
            Metric::Cosine => 1.0 - ip,
        }
    }

    /// Starts loading row `id`'s codes into cache.
    #[inline(always)]
    pub fn prefetch(&self, id: u32) {
        let s = id as usize * self.dim;
        if let Some(row) = self.codes.get(s..s + self.dim) {
            prefetch(row);
            if self.dim > 64 {
                prefetch(&row[64..]);
            }
        }
    }
}

/// Rounds to the nearest code in `lo..=hi` (NaN → 0).
fn quantize(x: f32, lo: f32, hi: f32) -> i32 {
    if x.is_nan() {
        0
    } else {
        x.round().clamp(lo, hi) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_track_the_exact_ones() {
        let dim = 48;
        let mut x = 7u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2001) as f32 / 1000.0 - 1.0
        };
        let rows: Vec<f32> = (0..200 * dim).map(|_| next()).collect();
        let codes = Sq8Codes::encode(&rows, dim);
        assert_eq!(codes.len(), 200);
        let q: Vec<f32> = (0..dim).map(|_| next()).collect();
        let pq = codes.query(&q);
        for metric in [Metric::L2, Metric::InnerProduct] {
            let mut total = 0.0;
            for (id, row) in rows.chunks_exact(dim).enumerate() {
                let exact = crate::kernels::distance(metric, &q, row);
                let approx = codes.distance(metric, &pq, id as u32);
                // Each coordinate of both sides errs by at most half a step (≤ 1/255 and
                // ≤ 1/127 here): the inner product by far less than dim/127, squared L2 twice.
                let err = (exact - approx).abs();
                assert!(err <= 2.0 * dim as f32 / 127.0, "{metric:?} row {id}: {exact} vs {approx}");
                total += err;
            }
            // Rounding errors mostly cancel: the typical error is far below the bound.
            assert!(total / 200.0 < 0.05, "{metric:?}: mean error {}", total / 200.0);
        }
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let codes = Sq8Codes::encode(&[0.0, f32::NAN, f32::INFINITY, 1.0], 2);
        let q = codes.query(&[f32::NAN, 0.0]);
        let _ = codes.distance(Metric::L2, &q, 1);
        assert_eq!(Sq8Codes::encode(&[], 4).len(), 0);
    }
}

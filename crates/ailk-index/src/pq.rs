//! Product quantization: `m` sub-quantizers of 256 centroids each (8-bit codes), trained with
//! k-means per subspace, encoding by GEMM-based assignment, and asymmetric distance
//! computation (ADC) through per-query lookup tables.

use rayon::prelude::*;

use crate::error::{IndexError, Result};
use crate::gemm::{nearest, row_norms};
use crate::kmeans::{train as kmeans_train, KMeansParams};
use crate::Metric;

/// Centroids per sub-quantizer (8-bit codes).
pub const KSUB: usize = 256;

/// A trained product quantizer.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductQuantizer {
    /// Full vector dimension.
    pub dim: usize,
    /// Number of sub-quantizers (bytes per code).
    pub m: usize,
    /// `m × 256 × (dim / m)` centroids; sub-quantizer `j`'s centroid `c` at `(j·256 + c)·dsub`.
    pub codebooks: Vec<f32>,
}

/// Copies sub-vector `j` (width `dsub`) of every row of `data` into one contiguous block.
fn subvectors(data: &[f32], dim: usize, j: usize, dsub: usize) -> Vec<f32> {
    data.chunks_exact(dim).flat_map(|r| r[j * dsub..(j + 1) * dsub].iter().copied()).collect()
}

impl ProductQuantizer {
    /// Width of each sub-vector.
    pub fn dsub(&self) -> usize {
        self.dim / self.m
    }

    /// Checks `dim`, `m` and `nbits` (only 8-bit codes are implemented).
    pub fn check_shape(dim: usize, m: usize, nbits: u32) -> Result<()> {
        if m == 0 || dim == 0 || !dim.is_multiple_of(m) {
            return Err(IndexError::InvalidParams(format!("dimension {dim} is not divisible by m = {m}")));
        }
        if nbits != 8 {
            return Err(IndexError::InvalidParams(format!(
                "nbits = {nbits}: only 8-bit PQ codes are implemented"
            )));
        }
        Ok(())
    }

    /// Trains `m` sub-quantizers on `data` (at least 256 rows), in parallel over subspaces.
    pub fn train(data: &[f32], dim: usize, m: usize, params: &KMeansParams) -> Result<Self> {
        Self::check_shape(dim, m, 8)?;
        let n = crate::flat::check_vectors(data, dim)?;
        if n < KSUB {
            return Err(IndexError::InvalidParams(format!(
                "PQ training needs at least {KSUB} rows, got {n}"
            )));
        }
        let dsub = dim / m;
        let books: Vec<Vec<f32>> = (0..m)
            .into_par_iter()
            .map(|j| {
                let sub = subvectors(data, dim, j, dsub);
                let p = KMeansParams { k: KSUB, seed: params.seed.wrapping_add(j as u64), ..*params };
                kmeans_train(&sub, dsub, &p).map(|km| km.centroids)
            })
            .collect::<Result<_>>()?;
        Ok(ProductQuantizer { dim, m, codebooks: books.concat() })
    }

    pub(crate) fn book(&self, j: usize) -> &[f32] {
        let w = KSUB * self.dsub();
        &self.codebooks[j * w..(j + 1) * w]
    }

    /// Encodes rows into `m`-byte codes, in parallel over row blocks.
    pub fn encode(&self, data: &[f32]) -> Vec<u8> {
        const BLOCK: usize = 4096;
        let (dim, m, dsub) = (self.dim, self.m, self.dsub());
        let norms: Vec<Vec<f32>> = (0..m).map(|j| row_norms(self.book(j), dsub)).collect();
        data.par_chunks(BLOCK * dim)
            .flat_map_iter(|block| {
                let rows = block.len() / dim;
                let mut codes = vec![0u8; rows * m];
                for j in 0..m {
                    let sub = subvectors(block, dim, j, dsub);
                    for (i, (c, _)) in
                        nearest(&sub, self.book(j), &norms[j], dsub, false).into_iter().enumerate()
                    {
                        codes[i * m + j] = c as u8;
                    }
                }
                codes
            })
            .collect()
    }

    /// Reconstructs rows from codes.
    pub fn decode(&self, codes: &[u8]) -> Vec<f32> {
        let dsub = self.dsub();
        codes
            .chunks_exact(self.m)
            .flat_map(|code| {
                code.iter().enumerate().flat_map(move |(j, &c)| {
                    let s = (j * KSUB + c as usize) * dsub;
                    self.codebooks[s..s + dsub].iter().copied()
                })
            })
            .collect()
    }

    /// The ADC lookup table of `query` (`m × 256`): squared L2 of each sub-vector to each
    /// centroid, or minus their inner product for inner-product metrics.
    pub fn distance_table(&self, query: &[f32], metric: Metric, table: &mut Vec<f32>) {
        match metric {
            Metric::L2 => {
                self.table_with(query, table, |q, c| q.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum())
            }
            Metric::InnerProduct | Metric::Cosine => {
                self.table_with(query, table, |q, c| -q.iter().zip(c).map(|(a, b)| a * b).sum::<f32>())
            }
        }
    }

    /// `table[j·256 + c] = f(query_j, centroid_jc)`. Sub-vectors are short (2–16 values), so a
    /// plain loop the compiler unrolls beats a dispatched kernel call per entry.
    pub fn table_with(&self, query: &[f32], table: &mut Vec<f32>, f: impl Fn(&[f32], &[f32]) -> f32) {
        let dsub = self.dsub();
        table.clear();
        for j in 0..self.m {
            let q = &query[j * dsub..(j + 1) * dsub];
            table.extend(self.book(j).chunks_exact(dsub).map(|c| f(q, c)));
        }
    }
}

/// Fast ADC tables: codebooks transposed per sub-quantizer (`dsub × 256`), so each table row
/// is `dsub` passes of a multiply-add over 256 contiguous values, which the compiler
/// vectorizes. [`ProductQuantizer::distance_table`] is the reference these are tested against.
#[derive(Debug, Clone)]
pub struct TableMaker {
    m: usize,
    dsub: usize,
    transposed: Vec<f32>,
    /// `‖centroid_jc‖²`, for L2 tables.
    norms: Vec<f32>,
}

impl TableMaker {
    /// Prepares the transposed codebooks of `pq`.
    pub fn new(pq: &ProductQuantizer) -> Self {
        let (m, dsub) = (pq.m, pq.dsub());
        let mut transposed = vec![0f32; pq.codebooks.len()];
        for j in 0..m {
            let book = pq.book(j);
            let dst = &mut transposed[j * KSUB * dsub..(j + 1) * KSUB * dsub];
            for c in 0..KSUB {
                for t in 0..dsub {
                    dst[t * KSUB + c] = book[c * dsub + t];
                }
            }
        }
        let norms = pq.codebooks.chunks_exact(dsub).map(|c| c.iter().map(|v| v * v).sum()).collect();
        TableMaker { m, dsub, transposed, norms }
    }

    /// `table[j·256 + c] = scale · ⟨query_j, centroid_jc⟩`.
    pub fn inner(&self, query: &[f32], scale: f32, table: &mut Vec<f32>) {
        table.resize(self.m * KSUB, 0.0);
        crate::kernels::pq_inner_table(&self.transposed, query, self.dsub, scale, table);
    }

    /// The table [`ProductQuantizer::distance_table`] defines, computed the fast way.
    pub fn distances(&self, query: &[f32], metric: Metric, table: &mut Vec<f32>) {
        match metric {
            Metric::InnerProduct | Metric::Cosine => self.inner(query, -1.0, table),
            Metric::L2 => {
                self.inner(query, -2.0, table);
                for (j, row) in table.chunks_exact_mut(KSUB).enumerate() {
                    let q = &query[j * self.dsub..(j + 1) * self.dsub];
                    let qn: f32 = q.iter().map(|v| v * v).sum();
                    for (r, &n) in row.iter_mut().zip(&self.norms[j * KSUB..(j + 1) * KSUB]) {
                        *r += qn + n;
                    }
                }
            }
        }
    }
}

/// ADC distance of one code: the sum of its table entries (`table` viewed as `m` rows of 256,
/// so every lookup is in bounds by type and needs no check). Code bytes are read eight at a
/// time as one `u64`, halving the loads of the lookup loop.
#[inline(always)]
pub fn adc(table: &[[f32; KSUB]], code: &[u8]) -> f32 {
    let mut acc = [0f32; 4];
    let whole = (code.len().min(table.len())) / 8 * 8;
    for (rows, bytes) in table[..whole].chunks_exact(8).zip(code[..whole].chunks_exact(8)) {
        let w = u64::from_le_bytes([
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        ]);
        for t in 0..8 {
            acc[t % 4] += rows[t][((w >> (8 * t)) & 0xff) as usize];
        }
    }
    for (row, &c) in table[whole..].iter().zip(&code[whole..]) {
        acc[0] += row[c as usize];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// Views a flat `m × 256` table as rows.
pub fn table_rows(table: &[f32]) -> &[[f32; KSUB]] {
    table.as_chunks::<KSUB>().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adc_sums_the_table_entries_of_a_code() {
        let table: Vec<f32> = (0..13 * KSUB).map(|i| (i % 97) as f32 * 0.5).collect();
        for len in [1usize, 7, 8, 9, 13] {
            let code: Vec<u8> = (0..len).map(|j| (j * 37 % 256) as u8).collect();
            let want: f32 = code.iter().enumerate().map(|(j, &c)| table[j * KSUB + c as usize]).sum();
            let got = adc(table_rows(&table[..len * KSUB]), &code);
            assert!((got - want).abs() < 1e-3, "len {len}: {got} vs {want}");
        }
    }

    #[test]
    fn fast_tables_equal_the_reference() {
        let (dim, m) = (12, 4);
        let codebooks: Vec<f32> = (0..KSUB * dim).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect();
        let pq = ProductQuantizer { dim, m, codebooks };
        let maker = TableMaker::new(&pq);
        let q: Vec<f32> = (0..dim).map(|i| i as f32 * 0.3 - 1.5).collect();
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            maker.distances(&q, metric, &mut fast);
            pq.distance_table(&q, metric, &mut slow);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{metric:?}: {a} vs {b}");
            }
        }
    }
}

//! RaBitQ 1-bit codes (Gao & Long, SIGMOD 2024) for partition blocks: each row's residual to
//! its block's centroid, rotated by a seeded orthonormal [`Rotation`], is kept as one sign bit
//! per coordinate plus two floats (the residual's norm and the code's inner product with the
//! unit residual). A query's rotated residual is quantized to 4 bits per coordinate, so the
//! code's inner product with it is four AND + popcount passes per 64 coordinates
//! ([`CodeBlock::scan`]); [`CodeBlock::scan_reference`] is the same estimate computed one
//! coordinate at a time, which the fast path is tested against. Estimates carry an error
//! bound, so re-ranking knows which candidates may still beat the k-th exact distance.

use ailk_format::{CodeBlockParts, CODE_RABITQ_1BIT, CODE_RABITQ_EX4};

use crate::error::{IndexError, Result};
use crate::kernels;
use crate::rabitq_ex::{encode_ex4, ExCodes};
use crate::row_filter::RowFilter;
use crate::Metric;

/// Confidence multiplier of the estimate's error bound (RaBitQ's ε₀; 1.9 bounds the error
/// with high probability).
const EPS0: f32 = 1.9;
/// The same multiplier for the 4-bit codes' bound: their error is less like a random sum (with
/// 1.9, 1.3% of 40,000 uniform-data estimates fell outside their bound and 3 of 200 true top-10
/// rows were dropped; with 2.6 under 1% and none — `estimates_rank_well_and_bound_the_exact_distance`).
const EX_EPS0: f32 = 2.6;
/// Query quantization levels (4 bits).
const QUERY_LEVELS: f32 = 15.0;

/// Code bits per row for a `dim`-d column: the next power of two, at least 64.
pub fn padded_dim(dim: usize) -> usize {
    dim.next_power_of_two().max(64)
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// In-place fast Walsh–Hadamard transform (unnormalized); `x.len()` a power of two.
fn fwht(x: &mut [f32]) {
    let n = x.len();
    let mut h = 1;
    while h < n {
        for i in (0..n).step_by(2 * h) {
            for j in i..i + h {
                let (a, b) = (x[j], x[j + h]);
                x[j] = a + b;
                x[j + h] = a - b;
            }
        }
        h *= 2;
    }
}

/// A seeded orthonormal rotation of `padded_dim(dim)` coordinates: three rounds of random
/// sign flips each followed by a normalized Walsh–Hadamard transform (`docs/format.md` §4.6
/// specifies the signs: bit `i % 64` of the `i / 64`-th SplitMix64 output, round by round).
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    dim: usize,
    padded: usize,
    seed: u64,
    /// `3 × padded` factors of ±1.
    signs: Vec<f32>,
}

impl Rotation {
    /// The rotation of a `dim`-d column with `seed`.
    pub fn new(dim: usize, seed: u64) -> Self {
        let padded = padded_dim(dim);
        let mut state = seed;
        let mut signs = Vec::with_capacity(3 * padded);
        for _ in 0..3 * padded / 64 {
            let word = splitmix64(&mut state);
            signs.extend((0..64).map(|i| if word >> i & 1 == 1 { -1.0 } else { 1.0 }));
        }
        Self { dim, padded, seed, signs }
    }

    /// Coordinates after rotation.
    pub fn padded(&self) -> usize {
        self.padded
    }

    /// Dimension of the vectors it rotates.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// `v` (`dim` values) zero-padded and rotated.
    pub fn apply(&self, v: &[f32]) -> Vec<f32> {
        let mut x = vec![0f32; self.padded];
        x[..v.len().min(self.padded)].copy_from_slice(&v[..v.len().min(self.padded)]);
        let scale = 1.0 / (self.padded as f32).sqrt();
        for round in self.signs.chunks_exact(self.padded) {
            x.iter_mut().zip(round).for_each(|(a, s)| *a *= s);
            fwht(&mut x);
            x.iter_mut().for_each(|a| *a *= scale);
        }
        x
    }
}

/// Codes a block: rows `vectors` (row-major, as indexed) of partition `partition`, starting at
/// file row `row_start`, with their `RawVectors` CRCs, in code kind `code`
/// ([`CODE_RABITQ_1BIT`], or [`CODE_RABITQ_EX4`] adding 4-bit codes).
pub fn encode_block(
    vectors: &[f32],
    partition: u32,
    row_start: u32,
    rotation: &Rotation,
    code: u8,
) -> CodeBlockParts {
    let ex = code == CODE_RABITQ_EX4;
    let (dim, padded) = (rotation.dim, rotation.padded);
    let rows = vectors.len() / dim.max(1);
    let mut sum = vec![0f64; dim];
    for row in vectors.chunks_exact(dim) {
        sum.iter_mut().zip(row).for_each(|(s, &v)| *s += f64::from(v));
    }
    let centroid: Vec<f32> = sum.iter().map(|s| (s / rows.max(1) as f64) as f32).collect();
    let words = padded / 64;
    let mut parts = CodeBlockParts {
        code: if ex { CODE_RABITQ_EX4 } else { CODE_RABITQ_1BIT },
        partition,
        row_start,
        dim: dim as u32,
        padded: padded as u32,
        centroid,
        codes: Vec::with_capacity(rows * words),
        norms: Vec::with_capacity(rows),
        factors: Vec::with_capacity(rows),
        vector_crcs: Vec::with_capacity(rows),
        ex_codes: Vec::with_capacity(if ex { rows * padded / 2 } else { 0 }),
        ex_factors: Vec::new(),
    };
    let inv_sqrt = 1.0 / (padded as f32).sqrt();
    for row in vectors.chunks_exact(dim) {
        let residual: Vec<f32> = row.iter().zip(&parts.centroid).map(|(x, c)| x - c).collect();
        let norm = residual.iter().map(|v| v * v).sum::<f32>().sqrt();
        let y = rotation.apply(&residual);
        let mut code = vec![0u64; words];
        let mut abs = 0f32;
        for (i, &v) in y.iter().enumerate() {
            if v > 0.0 {
                code[i / 64] |= 1 << (i % 64);
            }
            abs += v.abs();
        }
        parts.codes.extend_from_slice(&code);
        parts.norms.push(norm);
        parts.factors.push(if norm > 0.0 { abs / norm * inv_sqrt } else { 0.0 });
        parts.vector_crcs.push(ailk_format::vector_crc(row));
        if ex {
            let (codes, cosine) = encode_ex4(&y);
            parts.ex_codes.extend(codes);
            parts.ex_factors.push(cosine);
        }
    }
    parts
}

/// A query prepared for scanning blocks of one rotation.
#[derive(Debug, Clone)]
pub struct RotatedQuery {
    metric: Metric,
    /// The query (unit length for cosine).
    query: Vec<f32>,
    rotated: Vec<f32>,
}

impl RotatedQuery {
    /// `query` (prepared: unit length for cosine) rotated by `rotation`.
    pub fn new(query: &[f32], metric: Metric, rotation: &Rotation) -> Self {
        Self { metric, query: query.to_vec(), rotated: rotation.apply(query) }
    }
}

/// One row's estimated distance and a lower bound of its exact distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Row of the file.
    pub row: u32,
    /// Estimated distance (the column's metric).
    pub distance: f32,
    /// The estimate less its error bound.
    pub lower: f32,
}

/// One decoded block, ready to scan; kept in the search's block cache.
#[derive(Debug, Clone)]
pub struct CodeBlock {
    /// The table partition of its rows.
    pub partition: u32,
    /// First file row it holds.
    pub row_start: u32,
    words: usize,
    padded: usize,
    centroid: Vec<f32>,
    rotated_centroid: Vec<f32>,
    codes: Vec<u64>,
    /// Set bits of each row's code.
    ones: Vec<u32>,
    /// Per row, the constants of its estimate.
    terms: Vec<RowTerms>,
    inv_sqrt_padded: f32,
    vector_crcs: Vec<u32>,
    /// Code kind 2's 4-bit codes.
    ex: Option<ExCodes>,
}

/// One row's estimate constants, from its residual norm `n` and code factor `f` (the code's
/// inner product with the unit residual): the estimated inner product of the residual with
/// the query's is `n / f` × the code's; its error is the code's (RaBitQ's bound, scaled by
/// `‖z‖`) plus the query quantization's: each rotated coordinate is off by at most δ/2,
/// about δ/√12 spread, which the code's ±1/√D' weights carry into its inner product
/// unchanged (three spreads kept). A row with `f` = 0 (a zero residual) estimates 0 ± 0.
#[derive(Debug, Clone, Copy)]
struct RowTerms {
    norm_sq: f32,
    ip_scale: f32,
    /// Times `‖z‖` (the query quantization's error is `ip_scale × QUANT_SPREADS × δ`).
    code_err: f32,
}

/// Spreads of the query quantization's error kept in a bound, per unit of δ: 3 / √12.
const QUANT_SPREADS: f32 = 0.866_025_4;

impl RowTerms {
    fn new(norm: f32, factor: f32, padded: usize) -> Self {
        if factor > 0.0 {
            let spread = (1.0 - factor * factor).max(0.0).sqrt() / factor;
            Self {
                norm_sq: norm * norm,
                ip_scale: norm / factor,
                code_err: norm * spread * EPS0 / ((padded - 1) as f32).sqrt(),
            }
        } else {
            Self { norm_sq: norm * norm, ip_scale: 0.0, code_err: 0.0 }
        }
    }
}

/// Per query and block: the 4-bit quantized rotated residual as bit planes, and constants.
struct BlockQuery {
    planes: Vec<u64>,
    lo: f32,
    delta: f32,
    sum_quantized: f32,
    /// `‖q − c‖²` (L2, cosine) or `−q·c` (inner product).
    base: f32,
    z_norm: f32,
}

impl CodeBlock {
    /// A parsed block checked against `rotation` (dimension and code width).
    pub fn new(parts: CodeBlockParts, rotation: &Rotation) -> Result<Self> {
        if parts.dim as usize != rotation.dim || parts.padded as usize != rotation.padded {
            return Err(IndexError::Corrupt(format!(
                "block of {}-d codes in {} bits; the column is {}-d in {} bits",
                parts.dim, parts.padded, rotation.dim, rotation.padded
            )));
        }
        let rotated_centroid = rotation.apply(&parts.centroid);
        let words = rotation.padded / 64;
        let ex = (parts.code == CODE_RABITQ_EX4)
            .then(|| ExCodes::new(parts.ex_codes, &parts.norms, &parts.ex_factors, rotation.padded, EX_EPS0));
        let ones = parts.codes.chunks_exact(words).map(|c| c.iter().map(|w| w.count_ones()).sum()).collect();
        Ok(Self {
            partition: parts.partition,
            row_start: parts.row_start,
            words,
            padded: rotation.padded,
            centroid: parts.centroid,
            rotated_centroid,
            codes: parts.codes,
            ones,
            terms: parts
                .norms
                .iter()
                .zip(&parts.factors)
                .map(|(&n, &f)| RowTerms::new(n, f, rotation.padded))
                .collect(),
            inv_sqrt_padded: 1.0 / (rotation.padded as f32).sqrt(),
            vector_crcs: parts.vector_crcs,
            ex,
        })
    }

    /// Whether it holds 4-bit codes that [`Self::refine`] uses.
    pub fn refines(&self) -> bool {
        self.ex.is_some()
    }

    /// Rows it holds.
    pub fn rows(&self) -> usize {
        self.terms.len()
    }

    /// The file rows it holds.
    pub fn row_range(&self) -> std::ops::Range<u32> {
        self.row_start..self.row_start + self.rows() as u32
    }

    /// The recorded CRC of file row `row`'s vector, when the block holds the row.
    pub fn vector_crc(&self, row: u32) -> Option<u32> {
        row.checked_sub(self.row_start).and_then(|i| self.vector_crcs.get(i as usize)).copied()
    }

    /// Bytes it holds in memory.
    pub fn memory_bytes(&self) -> u64 {
        let ex = self.ex.as_ref().map_or(0, ExCodes::memory_bytes);
        (self.codes.len() * 8 + (self.terms.len() * 5 + self.centroid.len() * 2) * 4 + ex + 128) as u64
    }

    fn prepare(&self, q: &RotatedQuery) -> BlockQuery {
        let ip = q.metric == Metric::InnerProduct;
        let mut z = vec![0f32; self.padded];
        let centroid = (!ip).then_some(self.rotated_centroid.as_slice());
        let (lo, hi, z_sq) = kernels::residual(&q.rotated, centroid, &mut z);
        let base = if ip { -kernels::dot(&q.query, &self.centroid) } else { z_sq };
        let delta = if hi > lo { (hi - lo) / QUERY_LEVELS } else { 1.0 };
        let mut planes = vec![0u64; 4 * self.words];
        let levels = kernels::quantize_planes(&z, lo, 1.0 / delta, self.words, &mut planes);
        let sum_quantized = lo * self.padded as f32 + delta * levels as f32;
        BlockQuery { planes, lo, delta, sum_quantized, base, z_norm: z_sq.sqrt() }
    }

    /// The estimate of row `i` of the block from `selected` (≈ the sum of the rotated
    /// residual's coordinates whose code bit is set).
    fn estimate(&self, metric: Metric, bq: &BlockQuery, i: usize, selected: f32) -> Estimate {
        let t = &self.terms[i];
        let ip = t.ip_scale * (2.0 * selected - bq.sum_quantized) * self.inv_sqrt_padded;
        let err = bq.z_norm * t.code_err + bq.delta * QUANT_SPREADS * t.ip_scale;
        self.finish(metric, bq.base, i, ip, err)
    }

    /// Row `i`'s estimate from its residual's estimated inner product `ip` with the query's
    /// (± `err`), the query's `base` term added.
    fn finish(&self, metric: Metric, base: f32, i: usize, ip: f32, err: f32) -> Estimate {
        let norm_sq = self.terms[i].norm_sq;
        let (distance, bound) = match metric {
            Metric::L2 => (base + norm_sq - 2.0 * ip, 2.0 * err),
            Metric::Cosine => ((base + norm_sq - 2.0 * ip) / 2.0, err),
            Metric::InnerProduct => (base - ip, err),
        };
        Estimate { row: self.row_start + i as u32, distance, lower: distance - bound }
    }

    /// The rotated residual of `q` to the block's centroid (its rotation for inner product),
    /// into `z`; returns the `base` term, `Σ zᵢ` and `‖z‖`.
    fn float_residual(&self, q: &RotatedQuery, z: &mut [f32]) -> (f32, f32, f32) {
        let ip = q.metric == Metric::InnerProduct;
        let centroid = (!ip).then_some(self.rotated_centroid.as_slice());
        let (_, _, z_sq) = kernels::residual(&q.rotated, centroid, z);
        let base = if ip { -kernels::dot(&q.query, &self.centroid) } else { z_sq };
        (base, z.iter().sum(), z_sq.sqrt())
    }

    /// Re-estimates `estimates` (rows of this block) with the block's 4-bit codes: a closer
    /// estimate and a tighter bound, no query quantization. Unchanged without 4-bit codes.
    pub fn refine(&self, query: &RotatedQuery, estimates: &mut [Estimate]) {
        let Some(ex) = &self.ex else { return };
        let mut z = vec![0f32; self.padded];
        let (base, z_sum, z_norm) = self.float_residual(query, &mut z);
        for e in estimates.iter_mut() {
            let Some(i) = e.row.checked_sub(self.row_start).map(|i| i as usize).filter(|&i| i < self.rows())
            else {
                continue;
            };
            let (ip, err) = ex.inner_product(i, &z, z_sum, z_norm);
            *e = self.finish(query.metric, base, i, ip, err);
        }
    }

    /// [`Self::refine`] one coordinate at a time (the reference it is tested against).
    pub fn refine_reference(&self, query: &RotatedQuery, estimates: &mut [Estimate]) {
        let Some(ex) = &self.ex else { return };
        let mut z = vec![0f32; self.padded];
        let (base, _, z_norm) = self.float_residual(query, &mut z);
        for e in estimates.iter_mut() {
            let i = (e.row - self.row_start) as usize;
            let (ip, err) = ex.inner_product_reference(i, &z, z_norm);
            *e = self.finish(query.metric, base, i, ip, err);
        }
    }

    /// Estimates for the block's rows (those in `allowed` when given), appended to `out`.
    pub fn scan(&self, query: &RotatedQuery, allowed: Option<&RowFilter>, out: &mut Vec<Estimate>) {
        let bq = self.prepare(query);
        let mut counts = Vec::with_capacity(self.rows());
        kernels::bitplane_scan(&self.codes, self.words, &bq.planes, &mut counts);
        for (i, (&ones, weighted)) in self.ones.iter().zip(counts).enumerate() {
            if allowed.is_some_and(|a| !a.contains(self.row_start + i as u32)) {
                continue;
            }
            let selected = bq.lo * ones as f32 + bq.delta * weighted as f32;
            out.push(self.estimate(query.metric, &bq, i, selected));
        }
    }

    /// [`Self::scan`] one coordinate at a time (the reference the fast path is tested against).
    pub fn scan_reference(&self, query: &RotatedQuery, out: &mut Vec<Estimate>) {
        let bq = self.prepare(query);
        for (i, code) in self.codes.chunks_exact(self.words).enumerate() {
            let bit = |words: &[u64], c: usize| (words[c / 64] >> (c % 64) & 1) as u8;
            let level = |c: usize| (0..4).map(|b| bit(&bq.planes[b * self.words..], c) << b).sum::<u8>();
            let selected: f32 = (0..self.padded)
                .filter(|&c| bit(code, c) == 1)
                .map(|c| bq.lo + bq.delta * f32::from(level(c)))
                .sum();
            out.push(self.estimate(query.metric, &bq, i, selected));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lcg(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn the_rotation_keeps_norms_and_inner_products() {
        let r = Rotation::new(100, 7);
        assert_eq!(r.padded(), 128);
        let (a, b) = (lcg(1, 100), lcg(2, 100));
        let (ra, rb) = (r.apply(&a), r.apply(&b));
        assert!((kernels::dot(&a, &b) - kernels::dot(&ra, &rb)).abs() < 1e-4);
        assert!((kernels::dot(&a, &a) - kernels::dot(&ra, &ra)).abs() < 1e-4);
        assert_ne!(Rotation::new(100, 8).apply(&a), ra, "the seed matters");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn the_fast_scan_equals_the_reference(seed in 0u64..1000, dim in 1usize..200, rows in 1usize..40, metric in 0u8..3) {
            let metric = Metric::from_code(metric).unwrap();
            let mut v = lcg(seed, rows * dim);
            let mut q = lcg(seed + 1, dim);
            if metric == Metric::Cosine {
                v.chunks_exact_mut(dim).for_each(kernels::normalize);
                kernels::normalize(&mut q);
            }
            let rotation = Rotation::new(dim, seed);
            let block = CodeBlock::new(encode_block(&v, 3, 10, &rotation, CODE_RABITQ_EX4), &rotation).unwrap();
            let query = RotatedQuery::new(&q, metric, &rotation);
            let (mut fast, mut reference) = (Vec::new(), Vec::new());
            block.scan(&query, None, &mut fast);
            block.scan_reference(&query, &mut reference);
            prop_assert_eq!(fast.len(), rows);
            for (f, r) in fast.iter().zip(&reference) {
                prop_assert_eq!(f.row, r.row);
                prop_assert!((f.distance - r.distance).abs() <= 1e-3 * (1.0 + r.distance.abs()), "{:?} vs {:?}", f, r);
            }
            // The 4-bit refinement equals its reference, row by row.
            prop_assert!(block.refines());
            let (mut fast, mut reference) = (fast.clone(), fast);
            block.refine(&query, &mut fast);
            block.refine_reference(&query, &mut reference);
            for (f, r) in fast.iter().zip(&reference) {
                prop_assert_eq!(f.row, r.row);
                prop_assert!((f.distance - r.distance).abs() <= 1e-3 * (1.0 + r.distance.abs()), "{:?} vs {:?}", f, r);
                prop_assert!((f.lower - r.lower).abs() <= 1e-3 * (1.0 + r.lower.abs()));
            }
            // A filter keeps exactly the allowed rows.
            let allowed = RowFilter::from_rows([10, 12], 10 + rows);
            let mut some = Vec::new();
            block.scan(&query, Some(&allowed), &mut some);
            prop_assert!(some.iter().all(|e| e.row == 10 || e.row == 12));
        }
    }

    #[test]
    fn a_one_bit_block_does_not_refine() {
        let rotation = Rotation::new(16, 1);
        let v = lcg(3, 5 * 16);
        let block = CodeBlock::new(encode_block(&v, 0, 0, &rotation, CODE_RABITQ_1BIT), &rotation).unwrap();
        assert!(!block.refines());
        let query = RotatedQuery::new(&v[..16], Metric::L2, &rotation);
        let mut est = Vec::new();
        block.scan(&query, None, &mut est);
        let before = est.clone();
        block.refine(&query, &mut est);
        assert_eq!(est, before);
    }

    #[test]
    fn estimates_rank_well_and_bound_the_exact_distance() {
        let mut kept_by = [0usize; 2];
        for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
            for refined in [false, true] {
                kept_by[usize::from(refined)] += rank_and_bound(metric, refined);
            }
        }
        // The 4-bit codes keep far fewer rows for re-ranking than the 1-bit bound alone.
        eprintln!("kept for re-ranking: 1-bit {}, 4-bit {}", kept_by[0], kept_by[1]);
        assert!(kept_by[1] * 10 < kept_by[0], "{kept_by:?}");
    }

    /// Scans (and refines when asked) a 2,000-row block for 20 queries; asserts the bound keeps
    /// the true top 10 and bounds the exact distances; returns the rows it keeps.
    fn rank_and_bound(metric: Metric, refined: bool) -> usize {
        let (dim, rows) = (128, 2000);
        let mut v = lcg(5, rows * dim);
        if metric == Metric::Cosine {
            v.chunks_exact_mut(dim).for_each(kernels::normalize);
        }
        let rotation = Rotation::new(dim, 11);
        let block = CodeBlock::new(encode_block(&v, 0, 0, &rotation, CODE_RABITQ_EX4), &rotation).unwrap();
        let (mut hits, mut bounded, mut reranked) = (0, 0, 0);
        for t in 0..20 {
            let mut q = lcg(100 + t, dim);
            if metric == Metric::Cosine {
                kernels::normalize(&mut q);
            }
            let mut est = Vec::new();
            let query = RotatedQuery::new(&q, metric, &rotation);
            block.scan(&query, None, &mut est);
            if refined {
                block.refine(&query, &mut est);
            }
            let exact: Vec<f32> = v.chunks_exact(dim).map(|x| kernels::distance(metric, &q, x)).collect();
            bounded += est.iter().filter(|e| e.lower <= exact[e.row as usize] + 1e-4).count();
            let mut truth: Vec<u32> = (0..rows as u32).collect();
            truth.sort_by(|a, b| exact[*a as usize].total_cmp(&exact[*b as usize]));
            // The rows whose bound says they may beat the 10th exact distance: re-ranking
            // them finds the true top 10, and they are a small part of the block.
            let kth = exact[truth[9] as usize];
            let kept: Vec<u32> = est.iter().filter(|e| e.lower <= kth).map(|e| e.row).collect();
            hits += truth[..10].iter().filter(|r| kept.contains(r)).count();
            reranked += kept.len();
        }
        eprintln!("{metric:?} (4-bit {refined}): {hits}/200 found, {reranked} of {} re-ranked", 20 * rows);
        assert!(hits >= 198, "{metric:?}: top-10 kept by the bound: {hits}/200");
        assert!(reranked < 20 * rows / 2, "{metric:?}: the bound keeps {reranked} rows");
        assert!(bounded as f64 >= 0.99 * 20.0 * rows as f64, "{metric:?}: bounded {bounded}");
        reranked
    }
}

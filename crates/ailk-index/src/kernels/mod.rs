//! Distance kernels behind one safe function per operation, dispatched at run time to the
//! best instruction set present (AVX-512F, AVX2+FMA, NEON), with a scalar reference.
//!
//! Index code calls [`l2_sq`], [`dot`] or [`distance`] and never sees an intrinsic.

#[cfg(feature = "cuda")]
pub mod cuda;
#[cfg(target_arch = "aarch64")]
mod neon;
mod rabitq;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
mod x86_rabitq;

pub use rabitq::{
    bitplane_scan, bitplane_scan_reference, quantize_planes, quantize_planes_reference, residual,
    residual_reference,
};

use std::sync::OnceLock;

use ailk_format::Metric;

/// An instruction-set backend for the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Portable scalar code (the reference).
    Scalar,
    /// x86-64 AVX2 with FMA.
    Avx2Fma,
    /// x86-64 AVX-512F.
    Avx512,
    /// aarch64 NEON.
    Neon,
}

type Kernel = fn(&[f32], &[f32]) -> f32;
type NearestKernel = fn(&[f32], &[f32], usize, bool) -> (u32, f32);
type CodeKernel = fn(&[u8], &[i8]) -> i32;

#[derive(Clone, Copy)]
struct Table {
    backend: Backend,
    l2: Kernel,
    dot: Kernel,
    nearest_t: NearestKernel,
    dot_u8: CodeKernel,
}

fn nearest_transposed_scalar(row: &[f32], transposed: &[f32], k: usize, inner_product: bool) -> (u32, f32) {
    if inner_product {
        scalar::nearest_transposed::<true>(row, transposed, k)
    } else {
        scalar::nearest_transposed::<false>(row, transposed, k)
    }
}

impl Table {
    fn for_backend(backend: Backend) -> Option<Table> {
        let (l2, dot, nearest_t): (Kernel, Kernel, NearestKernel) = match backend {
            Backend::Scalar => (scalar::l2_sq, scalar::dot, nearest_transposed_scalar),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2Fma if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") => {
                (x86::l2_avx2_entry, x86::dot_avx2_entry, x86::nearest_transposed_avx2_entry)
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 if is_x86_feature_detected!("avx512f") => {
                (x86::l2_avx512_entry, x86::dot_avx512_entry, x86::nearest_transposed_avx512_entry)
            }
            // NEON is part of the aarch64 baseline: the scalar body already vectorizes there.
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => (neon::l2_neon, neon::dot_neon, nearest_transposed_scalar),
            _ => return None,
        };
        Some(Table { backend, l2, dot, nearest_t, dot_u8: code_kernel(backend) })
    }
}

/// The byte-code dot product for `backend`: VNNI where AVX-512 comes with it, AVX2 otherwise.
fn code_kernel(backend: Backend) -> CodeKernel {
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 if is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512vnni") => {
            x86::dot_u8_i8_vnni_entry
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 | Backend::Avx2Fma if is_x86_feature_detected!("avx2") => x86::dot_u8_i8_avx2_entry,
        _ => scalar::dot_u8_i8,
    }
}

/// Every backend this machine can run, best first; `Scalar` is always last.
pub fn available_backends() -> Vec<Backend> {
    [Backend::Avx512, Backend::Avx2Fma, Backend::Neon, Backend::Scalar]
        .into_iter()
        .filter(|b| Table::for_backend(*b).is_some())
        .collect()
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let forced = std::env::var("AILAKE_KERNEL_BACKEND").ok();
        let wanted = match forced.as_deref() {
            Some("scalar") => Some(Backend::Scalar),
            Some("avx2") => Some(Backend::Avx2Fma),
            Some("avx512") => Some(Backend::Avx512),
            _ => None,
        };
        wanted
            .and_then(Table::for_backend)
            .or_else(|| available_backends().into_iter().find_map(Table::for_backend))
            .unwrap_or(Table {
                backend: Backend::Scalar,
                l2: scalar::l2_sq,
                dot: scalar::dot,
                nearest_t: nearest_transposed_scalar,
                dot_u8: scalar::dot_u8_i8,
            })
    })
}

/// The backend the dispatching functions use (the best available, unless the environment
/// variable `AILAKE_KERNEL_BACKEND` = `scalar` | `avx2` | `avx512` picks another present one).
pub fn active_backend() -> Backend {
    table().backend
}

/// Squared Euclidean distance. Only the common prefix of unequal slices is used; callers check
/// dimensions and report mismatches as errors.
#[inline]
pub fn l2_sq(a: &[f32], b: &[f32]) -> f32 {
    (table().l2)(a, b)
}

/// Inner product (common prefix, as for [`l2_sq`]).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    (table().dot)(a, b)
}

/// Nearest of `k` short centroids stored coordinate-major in `transposed` (`row.len() × k`:
/// coordinate `t` of centroid `j` at `t·k + j`), with its distance: squared L2, or `−row·c`
/// when `inner_product`. Ties go to the lowest index; `(0, +∞)` when `k = 0`. Every backend
/// returns the scalar reference's exact result (same additions in the same order).
#[inline]
pub fn nearest_transposed(row: &[f32], transposed: &[f32], k: usize, inner_product: bool) -> (u32, f32) {
    assert!(
        transposed.len() >= row.len() * k,
        "transposed holds {} values, needs {}",
        transposed.len(),
        row.len() * k
    );
    (table().nearest_t)(row, transposed, k, inner_product)
}

/// [`nearest_transposed`] on a specific backend, `None` if this machine lacks it.
pub fn nearest_transposed_with(
    backend: Backend,
    row: &[f32],
    transposed: &[f32],
    k: usize,
    inner_product: bool,
) -> Option<(u32, f32)> {
    assert!(
        transposed.len() >= row.len() * k,
        "transposed holds {} values, needs {}",
        transposed.len(),
        row.len() * k
    );
    Some((Table::for_backend(backend)?.nearest_t)(row, transposed, k, inner_product))
}

/// The per-query inner-product table of a product quantizer: `table[j·256 + c] = scale ·
/// ⟨query_j, centroid_jc⟩`, with the codebooks stored coordinate-major per sub-quantizer in
/// `transposed` (coordinate `t` of sub-quantizer `j`'s centroid `c` at `(j·dsub + t)·256 + c`).
/// `table.len()` must be a multiple of 256, `m = table.len() / 256`. Every backend computes
/// the scalar reference's exact values.
pub fn pq_inner_table(transposed: &[f32], query: &[f32], dsub: usize, scale: f32, table: &mut [f32]) {
    pq_inner_table_with(active_backend(), transposed, query, dsub, scale, table);
}

/// [`pq_inner_table`] on `backend` (the scalar build when this machine lacks it).
pub fn pq_inner_table_with(
    backend: Backend,
    transposed: &[f32],
    query: &[f32],
    dsub: usize,
    scale: f32,
    table: &mut [f32],
) {
    let m = table.len() / 256;
    assert!(table.len().is_multiple_of(256), "table length {} is not a multiple of 256", table.len());
    assert!(dsub >= 1, "sub-vectors need at least one value");
    assert!(query.len() >= m * dsub && transposed.len() >= m * dsub * 256, "query or codebooks too short");
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 if Table::for_backend(backend).is_some() => {
            x86::pq_inner_table_avx512_entry(transposed, query, dsub, scale, table)
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2Fma if Table::for_backend(backend).is_some() => {
            x86::pq_inner_table_avx2_entry(transposed, query, dsub, scale, table)
        }
        _ => scalar::pq_inner_table(transposed, query, dsub, scale, table),
    }
}

/// `out[i] = a[i] + b[i]` over the common length (exact on every backend).
pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    match active_backend() {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => x86::add_avx512_entry(a, b, out),
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2Fma => x86::add_avx2_entry(a, b, out),
        _ => scalar::add(a, b, out),
    }
}

/// Cosine distance `1 − a·b / (‖a‖‖b‖)` of arbitrary vectors (0 when either is zero).
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    let t = table();
    let norms = ((t.dot)(a, a) * (t.dot)(b, b)).sqrt();
    if norms == 0.0 {
        return 1.0;
    }
    1.0 - (t.dot)(a, b) / norms
}

/// `Σ u[i]·d[i]` over the common prefix, exact in `i32` (unsigned stored codes against a
/// signed query's codes: the SQ8 graph walk's kernel).
#[inline]
pub fn dot_u8_i8(u: &[u8], d: &[i8]) -> i32 {
    (table().dot_u8)(u, d)
}

/// [`dot_u8_i8`] on a specific backend, `None` if this machine lacks it.
pub fn dot_u8_i8_with(backend: Backend, u: &[u8], d: &[i8]) -> Option<i32> {
    Some((Table::for_backend(backend)?.dot_u8)(u, d))
}

/// `l2_sq` or `dot` computed with a specific backend, `None` if this machine lacks it (tests
/// compare every backend with the scalar reference through this).
pub fn with_backend(backend: Backend, op: Op, a: &[f32], b: &[f32]) -> Option<f32> {
    let t = Table::for_backend(backend)?;
    Some(match op {
        Op::L2Sq => (t.l2)(a, b),
        Op::Dot => (t.dot)(a, b),
    })
}

/// A kernel operation, for [`with_backend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Squared Euclidean distance.
    L2Sq,
    /// Inner product.
    Dot,
}

/// The distance an index ranks by for `metric`: smaller is nearer. L2 → squared L2; inner
/// product → `−a·b`; cosine → `1 − a·b` on vectors normalized at write time.
#[inline]
pub fn distance(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        Metric::L2 => l2_sq(a, b),
        Metric::InnerProduct => -dot(a, b),
        Metric::Cosine => 1.0 - dot(a, b),
    }
}

/// A metric's distance function resolved once, for hot loops.
#[derive(Clone, Copy)]
pub struct DistanceFn {
    metric: Metric,
    kernel: Kernel,
}

impl DistanceFn {
    /// Resolves the kernel for `metric` on this machine.
    pub fn new(metric: Metric) -> Self {
        let t = table();
        DistanceFn { metric, kernel: if metric == Metric::L2 { t.l2 } else { t.dot } }
    }

    /// The metric's distance (see [`distance`]).
    #[inline(always)]
    pub fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        let raw = (self.kernel)(a, b);
        match self.metric {
            Metric::L2 => raw,
            Metric::InnerProduct => -raw,
            Metric::Cosine => 1.0 - raw,
        }
    }

    /// Distances from `query` to each `dim`-wide row of `block`, written to `out`.
    pub fn eval_batch(&self, query: &[f32], block: &[f32], dim: usize, out: &mut Vec<f32>) {
        out.clear();
        out.extend(block.chunks_exact(dim).map(|row| self.eval(query, row)));
    }
}

/// Scales `v` to unit length in place. Left unchanged when its norm is 0, or already 1 within
/// float rounding (`|‖v‖² − 1| ≤ 4ε·√dim`): normalizing is idempotent, so a vector normalized
/// by the writer and again by an index build is bit-for-bit the one a reader normalizes once.
pub fn normalize(v: &mut [f32]) {
    let sq = dot(v, v);
    if (sq - 1.0).abs() <= 4.0 * f32::EPSILON * (v.len() as f32).sqrt() {
        return;
    }
    let norm = sq.sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Hints the CPU to start loading the cache line holding the start of `p` (no-op where
/// unsupported).
#[inline(always)]
pub fn prefetch<T>(p: &[T]) {
    #[cfg(target_arch = "x86_64")]
    x86::prefetch(p.as_ptr().cast());
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

//! x86-64 kernels: AVX2 + FMA (8 lanes) and AVX-512F (16 lanes, masked tails).
//!
//! Each `*_entry` function is a safe wrapper that may only be installed in the dispatch table
//! after run-time detection of the features its kernel needs.

use std::arch::x86_64::*;

#[target_feature(enable = "avx2,fma")]
fn hsum256(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps::<1>(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
    _mm_cvtss_f32(s)
}

macro_rules! avx2_kernel {
    ($name:ident, $entry:ident, |$acc:ident, $x:ident, $y:ident| $step:expr, |$sx:ident, $sy:ident| $scalar:expr) => {
        #[target_feature(enable = "avx2,fma")]
        fn $name(a: &[f32], b: &[f32]) -> f32 {
            let n = a.len().min(b.len());
            let (pa, pb) = (a.as_ptr(), b.as_ptr());
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut i = 0;
            while i + 32 <= n {
                for (j, $acc) in acc.iter_mut().enumerate() {
                    // SAFETY: i + 8j + 8 <= i + 32 <= n, and both slices hold at least n values.
                    let ($x, $y) =
                        unsafe { (_mm256_loadu_ps(pa.add(i + 8 * j)), _mm256_loadu_ps(pb.add(i + 8 * j))) };
                    *$acc = $step;
                }
                i += 32;
            }
            while i + 8 <= n {
                let $acc = &mut acc[0];
                // SAFETY: i + 8 <= n, and both slices hold at least n values.
                let ($x, $y) = unsafe { (_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i))) };
                *$acc = $step;
                i += 8;
            }
            let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
            let mut total = hsum256(sum);
            for k in i..n {
                let ($sx, $sy) = (a[k], b[k]);
                total += $scalar;
            }
            total
        }

        pub(super) fn $entry(a: &[f32], b: &[f32]) -> f32 {
            // SAFETY: installed only after `is_x86_feature_detected!("avx2")` and `("fma")`.
            unsafe { $name(a, b) }
        }
    };
}

avx2_kernel!(
    l2_avx2,
    l2_avx2_entry,
    |acc, x, y| {
        let d = _mm256_sub_ps(x, y);
        _mm256_fmadd_ps(d, d, *acc)
    },
    |x, y| (x - y) * (x - y)
);

avx2_kernel!(dot_avx2, dot_avx2_entry, |acc, x, y| _mm256_fmadd_ps(x, y, *acc), |x, y| x * y);

macro_rules! avx512_kernel {
    ($name:ident, $entry:ident, |$acc:ident, $x:ident, $y:ident| $step:expr) => {
        #[target_feature(enable = "avx512f")]
        fn $name(a: &[f32], b: &[f32]) -> f32 {
            let n = a.len().min(b.len());
            let (pa, pb) = (a.as_ptr(), b.as_ptr());
            let mut acc = [_mm512_setzero_ps(); 4];
            let mut i = 0;
            while i + 64 <= n {
                for (j, $acc) in acc.iter_mut().enumerate() {
                    // SAFETY: i + 16j + 16 <= i + 64 <= n, and both slices hold at least n values.
                    let ($x, $y) =
                        unsafe { (_mm512_loadu_ps(pa.add(i + 16 * j)), _mm512_loadu_ps(pb.add(i + 16 * j))) };
                    *$acc = $step;
                }
                i += 64;
            }
            while i < n {
                let left = n - i;
                let mask: __mmask16 = if left >= 16 { 0xffff } else { (1u16 << left) - 1 };
                let $acc = &mut acc[0];
                // SAFETY: the mask enables only lanes i..min(i + 16, n), all inside both slices;
                // masked-off lanes are not accessed.
                let ($x, $y) = unsafe {
                    (_mm512_maskz_loadu_ps(mask, pa.add(i)), _mm512_maskz_loadu_ps(mask, pb.add(i)))
                };
                *$acc = $step;
                i += 16;
            }
            let sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
            _mm512_reduce_add_ps(sum)
        }

        pub(super) fn $entry(a: &[f32], b: &[f32]) -> f32 {
            // SAFETY: installed only after `is_x86_feature_detected!("avx512f")`.
            unsafe { $name(a, b) }
        }
    };
}

avx512_kernel!(l2_avx512, l2_avx512_entry, |acc, x, y| {
    let d = _mm512_sub_ps(x, y);
    _mm512_fmadd_ps(d, d, *acc)
});

avx512_kernel!(dot_avx512, dot_avx512_entry, |acc, x, y| _mm512_fmadd_ps(x, y, *acc));

macro_rules! nearest_transposed_kernel {
    ($name:ident, $entry:ident, $features:literal) => {
        #[target_feature(enable = $features)]
        fn $name<const IP: bool>(row: &[f32], transposed: &[f32], k: usize) -> (u32, f32) {
            super::scalar::nearest_transposed::<IP>(row, transposed, k)
        }

        pub(super) fn $entry(row: &[f32], transposed: &[f32], k: usize, inner_product: bool) -> (u32, f32) {
            // SAFETY: installed only after run-time detection of these features.
            unsafe {
                if inner_product {
                    $name::<true>(row, transposed, k)
                } else {
                    $name::<false>(row, transposed, k)
                }
            }
        }
    };
}

nearest_transposed_kernel!(nearest_transposed_avx2, nearest_transposed_avx2_entry, "avx2,fma");
nearest_transposed_kernel!(nearest_transposed_avx512, nearest_transposed_avx512_entry, "avx512f");

macro_rules! table_kernels {
    ($inner:ident, $inner_entry:ident, $add:ident, $add_entry:ident, $features:literal) => {
        #[target_feature(enable = $features)]
        fn $inner(transposed: &[f32], query: &[f32], dsub: usize, scale: f32, table: &mut [f32]) {
            super::scalar::pq_inner_table(transposed, query, dsub, scale, table)
        }

        pub(super) fn $inner_entry(
            transposed: &[f32],
            query: &[f32],
            dsub: usize,
            scale: f32,
            table: &mut [f32],
        ) {
            // SAFETY: called only after run-time detection of these features.
            unsafe { $inner(transposed, query, dsub, scale, table) }
        }

        #[target_feature(enable = $features)]
        fn $add(a: &[f32], b: &[f32], out: &mut [f32]) {
            super::scalar::add(a, b, out)
        }

        pub(super) fn $add_entry(a: &[f32], b: &[f32], out: &mut [f32]) {
            // SAFETY: called only after run-time detection of these features.
            unsafe { $add(a, b, out) }
        }
    };
}

table_kernels!(pq_inner_table_avx2, pq_inner_table_avx2_entry, add_avx2, add_avx2_entry, "avx2,fma");
table_kernels!(pq_inner_table_avx512, pq_inner_table_avx512_entry, add_avx512, add_avx512_entry, "avx512f");

/// Hints the CPU to start loading the cache line holding `p`.
#[inline(always)]
pub(super) fn prefetch(p: *const i8) {
    // SAFETY: prefetching never faults and never dereferences in the language's sense; any
    // address, valid or not, is allowed. SSE is part of the x86-64 baseline.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(p) }
}

/// [`super::scalar::dot_u8_i8`] with AVX2: 16 codes per step, widened to `i16` and summed in
/// pairs by `madd` (no saturation: `255·127·2` fits an `i32` lane).
#[target_feature(enable = "avx2")]
fn dot_u8_i8_avx2(u: &[u8], d: &[i8]) -> i32 {
    let n = u.len().min(d.len());
    let (pu, pd) = (u.as_ptr(), d.as_ptr());
    let (mut acc0, mut acc1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n, and both slices hold at least n bytes.
        let (a0, b0, a1, b1) = unsafe {
            (
                _mm_loadu_si128(pu.add(i).cast()),
                _mm_loadu_si128(pd.add(i).cast()),
                _mm_loadu_si128(pu.add(i + 16).cast()),
                _mm_loadu_si128(pd.add(i + 16).cast()),
            )
        };
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(a0), _mm256_cvtepi8_epi16(b0)));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(a1), _mm256_cvtepi8_epi16(b1)));
        i += 32;
    }
    let acc = _mm256_add_epi32(acc0, acc1);
    let s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256::<1>(acc));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    let mut total = _mm_cvtsi128_si32(s);
    for k in i..n {
        total += i32::from(u[k]) * i32::from(d[k]);
    }
    total
}

pub(super) fn dot_u8_i8_avx2_entry(u: &[u8], d: &[i8]) -> i32 {
    // SAFETY: installed only after `is_x86_feature_detected!("avx2")`.
    unsafe { dot_u8_i8_avx2(u, d) }
}

/// [`super::scalar::dot_u8_i8`] with AVX-512 VNNI: `vpdpbusd` multiplies 64 unsigned by 64
/// signed bytes and adds each group of 4 products into an `i32` lane; the tail is masked.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn dot_u8_i8_vnni(u: &[u8], d: &[i8]) -> i32 {
    let n = u.len().min(d.len());
    let (pu, pd) = (u.as_ptr(), d.as_ptr());
    let (mut acc0, mut acc1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
    let mut i = 0;
    while i + 128 <= n {
        // SAFETY: i + 128 <= n, and both slices hold at least n bytes.
        let (a0, b0, a1, b1) = unsafe {
            (
                _mm512_loadu_si512(pu.add(i).cast()),
                _mm512_loadu_si512(pd.add(i).cast()),
                _mm512_loadu_si512(pu.add(i + 64).cast()),
                _mm512_loadu_si512(pd.add(i + 64).cast()),
            )
        };
        acc0 = _mm512_dpbusd_epi32(acc0, a0, b0);
        acc1 = _mm512_dpbusd_epi32(acc1, a1, b1);
        i += 128;
    }
    while i < n {
        let left = n - i;
        let mask: __mmask64 = if left >= 64 { u64::MAX } else { (1u64 << left) - 1 };
        // SAFETY: the mask enables only bytes i..min(i + 64, n), all inside both slices;
        // masked-off bytes are not accessed.
        let (a, b) = unsafe {
            (_mm512_maskz_loadu_epi8(mask, pu.add(i).cast()), _mm512_maskz_loadu_epi8(mask, pd.add(i)))
        };
        acc0 = _mm512_dpbusd_epi32(acc0, a, b);
        i += 64;
    }
    _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1))
}

pub(super) fn dot_u8_i8_vnni_entry(u: &[u8], d: &[i8]) -> i32 {
    // SAFETY: installed only after detecting `avx512f`, `avx512bw` and `avx512vnni`.
    unsafe { dot_u8_i8_vnni(u, d) }
}

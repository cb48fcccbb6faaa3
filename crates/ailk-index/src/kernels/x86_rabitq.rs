//! x86-64 RaBitQ kernels: the bit-plane scan with `popcnt` or AVX-512 `vpopcntq`, and the
//! query residual and its 4-bit planes with AVX-512F (16 lanes; tails in scalar code).
//!
//! Each `*_entry` function is a safe wrapper that may only be installed after run-time
//! detection of the features its kernel needs.

use std::arch::x86_64::*;

use super::scalar;

/// [`scalar::bitplane_scan`] compiled with the `popcnt` instruction (the baseline x86-64
/// target has none, and `count_ones` becomes a dozen shifts and masks per word).
#[target_feature(enable = "popcnt")]
fn bitplane_scan_popcnt(codes: &[u64], words: usize, planes: &[u64], out: &mut Vec<u32>) {
    scalar::bitplane_scan(codes, words, planes, out)
}

pub(super) fn bitplane_scan_popcnt_entry(codes: &[u64], words: usize, planes: &[u64], out: &mut Vec<u32>) {
    // SAFETY: installed only after `is_x86_feature_detected!("popcnt")`.
    unsafe { bitplane_scan_popcnt(codes, words, planes, out) }
}

/// [`scalar::bitplane_scan`] eight words at a time with `vpopcntq`; `words` a multiple of 8
/// (others go to the scalar body).
#[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
fn bitplane_scan_vpopcnt(codes: &[u64], words: usize, planes: &[u64], out: &mut Vec<u32>) {
    if words == 0 || !words.is_multiple_of(8) || planes.len() < 4 * words {
        return scalar::bitplane_scan(codes, words, planes, out);
    }
    let p = planes.as_ptr();
    out.extend(codes.chunks_exact(words).map(|code| {
        let mut acc = _mm512_setzero_si512();
        for w in (0..words).step_by(8) {
            // SAFETY: w + 8 <= words = code.len(), and b·words + w + 8 <= 4·words <= planes.len().
            let (c, p0, p1, p2, p3) = unsafe {
                (
                    _mm512_loadu_si512(code.as_ptr().add(w).cast()),
                    _mm512_loadu_si512(p.add(w).cast()),
                    _mm512_loadu_si512(p.add(words + w).cast()),
                    _mm512_loadu_si512(p.add(2 * words + w).cast()),
                    _mm512_loadu_si512(p.add(3 * words + w).cast()),
                )
            };
            let n0 = _mm512_popcnt_epi64(_mm512_and_si512(c, p0));
            let n1 = _mm512_slli_epi64::<1>(_mm512_popcnt_epi64(_mm512_and_si512(c, p1)));
            let n2 = _mm512_slli_epi64::<2>(_mm512_popcnt_epi64(_mm512_and_si512(c, p2)));
            let n3 = _mm512_slli_epi64::<3>(_mm512_popcnt_epi64(_mm512_and_si512(c, p3)));
            acc = _mm512_add_epi64(acc, _mm512_add_epi64(_mm512_add_epi64(n0, n1), _mm512_add_epi64(n2, n3)));
        }
        _mm512_reduce_add_epi64(acc) as u32
    }));
}

pub(super) fn bitplane_scan_vpopcnt_entry(codes: &[u64], words: usize, planes: &[u64], out: &mut Vec<u32>) {
    // SAFETY: installed only after detecting `avx512f`, `avx512vpopcntdq` and `popcnt`.
    unsafe { bitplane_scan_vpopcnt(codes, words, planes, out) }
}

/// [`scalar::residual`] 16 coordinates at a time.
#[target_feature(enable = "avx512f")]
fn residual_avx512(rotated: &[f32], centroid: Option<&[f32]>, z: &mut [f32]) -> (f32, f32, f32) {
    let n = z.len().min(rotated.len()).min(centroid.map_or(usize::MAX, <[f32]>::len));
    let body = n - n % 16;
    let (mut lo, mut hi, mut sq) =
        (_mm512_set1_ps(f32::INFINITY), _mm512_set1_ps(f32::NEG_INFINITY), _mm512_setzero_ps());
    let mut i = 0;
    while i < body {
        // SAFETY: i + 16 <= body <= n, and every slice read or written holds at least n values.
        let v = unsafe {
            let r = _mm512_loadu_ps(rotated.as_ptr().add(i));
            let v = match centroid {
                Some(c) => _mm512_sub_ps(r, _mm512_loadu_ps(c.as_ptr().add(i))),
                None => r,
            };
            _mm512_storeu_ps(z.as_mut_ptr().add(i), v);
            v
        };
        // NaN coordinates are skipped as `f32::min`/`max` skip them (the second operand wins).
        lo = _mm512_min_ps(v, lo);
        hi = _mm512_max_ps(v, hi);
        sq = _mm512_fmadd_ps(v, v, sq);
        i += 16;
    }
    let (tail_lo, tail_hi, tail_sq) = scalar::residual(
        rotated.get(body..).unwrap_or_default(),
        centroid.map(|c| c.get(body..).unwrap_or_default()),
        &mut z[body..],
    );
    (
        _mm512_reduce_min_ps(lo).min(tail_lo),
        _mm512_reduce_max_ps(hi).max(tail_hi),
        _mm512_reduce_add_ps(sq) + tail_sq,
    )
}

pub(super) fn residual_avx512_entry(
    rotated: &[f32],
    centroid: Option<&[f32]>,
    z: &mut [f32],
) -> (f32, f32, f32) {
    // SAFETY: installed only after detecting `avx512f`.
    unsafe { residual_avx512(rotated, centroid, z) }
}

/// [`scalar::quantize_planes`] 16 coordinates at a time: the same arithmetic lane by lane (no
/// fused operations), so the same levels; each plane's bits from one mask test.
#[target_feature(enable = "avx512f")]
fn quantize_planes_avx512(z: &[f32], lo: f32, inv: f32, words: usize, planes: &mut [u64]) -> u32 {
    planes.iter_mut().for_each(|w| *w = 0);
    if planes.len() < 4 * words {
        return 0;
    }
    let (vlo, vinv, half, top, zero) = (
        _mm512_set1_ps(lo),
        _mm512_set1_ps(inv),
        _mm512_set1_ps(0.5),
        _mm512_set1_ps(15.0),
        _mm512_setzero_ps(),
    );
    let masks = [_mm512_set1_epi32(1), _mm512_set1_epi32(2), _mm512_set1_epi32(4), _mm512_set1_epi32(8)];
    let (mut acc, mut levels) = (_mm512_setzero_si512(), 0u32);
    for (w, chunk) in z.chunks(64).enumerate().take(words) {
        let bits = if chunk.len() == 64 {
            let mut bits = [0u64; 4];
            for part in 0..4 {
                // SAFETY: the chunk holds 64 values and 16·part + 16 <= 64.
                let v = unsafe { _mm512_loadu_ps(chunk.as_ptr().add(16 * part)) };
                let x = _mm512_mul_ps(_mm512_sub_ps(v, vlo), vinv);
                // As `clamp` (NaN: `min` passes its second operand on, `max` then gives 0).
                let x = _mm512_max_ps(_mm512_min_ps(top, _mm512_add_ps(x, half)), zero);
                let u = _mm512_cvttps_epi32(x);
                acc = _mm512_add_epi32(acc, u);
                for (word, mask) in bits.iter_mut().zip(masks) {
                    *word |= u64::from(_mm512_test_epi32_mask(u, mask)) << (16 * part);
                }
            }
            bits
        } else {
            let (bits, sum) = scalar::quantize_word(chunk, lo, inv);
            levels += sum;
            bits
        };
        (0..4).for_each(|b| planes[b * words + w] = bits[b]);
    }
    levels + _mm512_reduce_add_epi32(acc) as u32
}

pub(super) fn quantize_planes_avx512_entry(
    z: &[f32],
    lo: f32,
    inv: f32,
    words: usize,
    planes: &mut [u64],
) -> u32 {
    // SAFETY: installed only after detecting `avx512f`.
    unsafe { quantize_planes_avx512(z, lo, inv, words, planes) }
}

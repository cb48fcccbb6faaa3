//! Every SIMD kernel equals the scalar reference within 1e-4 relative, on every backend this
//! machine has. "Relative" is to the magnitude of the summed terms (Σ|aᵢbᵢ| for the inner
//! product, the sum itself for L2², whose terms are all non-negative): that is the scale a
//! reordered float summation can err by, whatever the cancellation.

use ailk_index::kernels::{self, available_backends, with_backend, Backend, Op};
use proptest::prelude::*;

const LENGTHS: [usize; 11] = [1, 7, 15, 16, 17, 31, 64, 383, 384, 1000, 1536];

fn scale(op: Op, a: &[f32], b: &[f32]) -> f32 {
    match op {
        Op::L2Sq => a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum(),
        Op::Dot => a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum(),
    }
}

fn check_all_backends(a: &[f32], b: &[f32]) -> Result<(), TestCaseError> {
    for op in [Op::L2Sq, Op::Dot] {
        let reference = with_backend(Backend::Scalar, op, a, b).unwrap();
        let tol = 1e-4 * scale(op, a, b).max(f32::MIN_POSITIVE);
        for backend in available_backends() {
            let got = with_backend(backend, op, a, b).unwrap();
            prop_assert!(
                (got - reference).abs() <= tol,
                "{backend:?} {op:?} len {}: {got} vs scalar {reference} (tol {tol})",
                a.len()
            );
        }
    }
    Ok(())
}

fn vectors(len: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    let v = prop::collection::vec(-1000.0f32..1000.0, len);
    (v.clone(), v)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn simd_matches_scalar_on_listed_lengths((a, b) in prop::sample::select(LENGTHS.to_vec()).prop_flat_map(vectors)) {
        check_all_backends(&a, &b)?;
    }

    #[test]
    fn simd_matches_scalar_on_any_length((a, b) in (1usize..2100).prop_flat_map(vectors)) {
        check_all_backends(&a, &b)?;
    }

    #[test]
    fn simd_matches_scalar_on_tiny_and_huge_magnitudes(
        len in prop::sample::select(LENGTHS.to_vec()),
        exp in -30i32..30,
        seed in any::<u64>(),
    ) {
        let mut x = seed | 1;
        let mut next = || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; (x % 2001) as f32 / 1000.0 - 1.0 };
        let s = 2f32.powi(exp);
        let a: Vec<f32> = (0..len).map(|_| next() * s).collect();
        let b: Vec<f32> = (0..len).map(|_| next() * s).collect();
        check_all_backends(&a, &b)?;
    }
}

#[test]
fn the_dispatched_kernels_use_the_best_backend() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        assert!(available_backends().contains(&Backend::Avx2Fma), "AVX2 present but not offered");
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        assert!(available_backends().contains(&Backend::Avx512), "AVX-512 present but not offered");
    }
    let best = available_backends()[0];
    assert_eq!(kernels::active_backend(), best);
    assert_eq!(*available_backends().last().unwrap(), Backend::Scalar);
    let a: Vec<f32> = (0..384).map(|i| i as f32 * 0.01).collect();
    let b: Vec<f32> = (0..384).map(|i| 1.0 - i as f32 * 0.002).collect();
    let want = with_backend(best, Op::L2Sq, &a, &b).unwrap();
    assert_eq!(kernels::l2_sq(&a, &b), want);
}

#[test]
fn metric_distances_and_cosine() {
    use ailk_index::Metric;
    let mut a = vec![3.0, 4.0];
    let b = vec![4.0, 3.0];
    assert_eq!(kernels::distance(Metric::L2, &a, &b), 2.0);
    assert_eq!(kernels::distance(Metric::InnerProduct, &a, &b), -24.0);
    assert!((kernels::cosine_distance(&a, &b) - (1.0 - 24.0 / 25.0)).abs() < 1e-6);
    assert_eq!(kernels::cosine_distance(&a, &[0.0, 0.0]), 1.0);
    kernels::normalize(&mut a);
    assert!((kernels::dot(&a, &a) - 1.0).abs() < 1e-6);
    let mut bn = b.clone();
    kernels::normalize(&mut bn);
    assert!((kernels::distance(Metric::Cosine, &a, &bn) - kernels::cosine_distance(&a, &b)).abs() < 1e-6);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The nearest-centroid scan of PQ training and encoding returns the scalar reference's
    /// exact (index, distance) on every backend, and that pair is the true first minimum.
    #[test]
    fn nearest_transposed_is_exact_on_every_backend(
        dim in 1usize..9,
        k in 1usize..300,
        seed in any::<u64>(),
    ) {
        let value = |i: usize| (((i as u64).wrapping_mul(6364136223846793005).wrapping_add(seed) >> 40) % 2001) as f32 / 100.0 - 10.0;
        let centroids: Vec<f32> = (0..k * dim).map(value).collect();
        let mut transposed = vec![0f32; k * dim];
        for j in 0..k {
            for t in 0..dim {
                transposed[t * k + j] = centroids[j * dim + t];
            }
        }
        let row: Vec<f32> = (0..dim).map(|t| value(k * dim + 7 * t + 3)).collect();
        for ip in [false, true] {
            let dist = |j: usize| -> f32 {
                let c = &centroids[j * dim..(j + 1) * dim];
                if ip { row.iter().zip(c).fold(0.0f32, |a, (x, y)| a - x * y) }
                else { row.iter().zip(c).fold(0.0f32, |a, (x, y)| a + (x - y) * (x - y)) }
            };
            let want = (0..k).fold((0u32, f32::INFINITY), |a, j| if dist(j) < a.1 { (j as u32, dist(j)) } else { a });
            for backend in available_backends() {
                let got = kernels::nearest_transposed_with(backend, &row, &transposed, k, ip).unwrap();
                prop_assert_eq!(got, want, "{:?} dim {} k {} ip {}", backend, dim, k, ip);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The PQ query table is bit-identical on every backend (one body, same operation order).
    #[test]
    fn pq_inner_table_is_exact_on_every_backend(m in 1usize..9, dsub in 1usize..5, scale in -3.0f32..3.0, seed in any::<u32>()) {
        let value = |i: usize| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 250.0 - 2.0;
        let transposed: Vec<f32> = (0..m * dsub * 256).map(value).collect();
        let query: Vec<f32> = (0..m * dsub).map(|i| value(i * 13 + 5)).collect();
        let mut reference = vec![f32::NAN; m * 256];
        kernels::pq_inner_table_with(Backend::Scalar, &transposed, &query, dsub, scale, &mut reference);
        for j in 0..m {
            for c in 0..256 {
                let want = (0..dsub).fold(0.0f32, |a, t| a + scale * query[j * dsub + t] * transposed[(j * dsub + t) * 256 + c]);
                prop_assert_eq!(reference[j * 256 + c], want);
            }
        }
        for backend in available_backends() {
            let mut got = vec![f32::NAN; m * 256];
            kernels::pq_inner_table_with(backend, &transposed, &query, dsub, scale, &mut got);
            prop_assert_eq!(&got, &reference, "{:?}", backend);
        }
        let mut sum = vec![0.0; m * 256];
        kernels::add(&reference, &transposed, &mut sum);
        prop_assert!(sum.iter().zip(&reference).zip(&transposed).all(|((s, a), b)| *s == a + b));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The byte-code kernel is integer arithmetic: every backend equals the scalar sum exactly,
    /// at the extremes of both code ranges included.
    #[test]
    fn code_dot_matches_scalar_exactly(
        (u, d) in (0usize..1100).prop_flat_map(|n| (
            prop::collection::vec(prop_oneof![Just(0u8), Just(255u8), any::<u8>()], n),
            prop::collection::vec(prop_oneof![Just(-128i8), Just(127i8), any::<i8>()], n),
        ))
    ) {
        let reference: i32 = u.iter().zip(&d).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum();
        for backend in available_backends() {
            prop_assert_eq!(kernels::dot_u8_i8_with(backend, &u, &d).unwrap(), reference, "{:?}", backend);
        }
        prop_assert_eq!(kernels::dot_u8_i8(&u, &d), reference);
        // Unequal lengths use the common prefix.
        if !u.is_empty() {
            let short = &d[..d.len() - 1];
            let r: i32 = u.iter().zip(short).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum();
            prop_assert_eq!(kernels::dot_u8_i8(&u, short), r);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Normalizing twice is normalizing once, bit for bit, at any dimension and magnitude;
    /// the result has unit length.
    #[test]
    fn normalize_is_idempotent(
        v in (1usize..1600).prop_flat_map(|n| prop::collection::vec(-1000.0f32..1000.0, n)),
        exp in -20i32..20,
    ) {
        let mut once: Vec<f32> = v.iter().map(|x| x * 2f32.powi(exp)).collect();
        prop_assume!(once.iter().any(|&x| x != 0.0));
        kernels::normalize(&mut once);
        let mut twice = once.clone();
        kernels::normalize(&mut twice);
        prop_assert_eq!(&once, &twice);
        let norm: f64 = once.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        prop_assert!((norm - 1.0).abs() < 1e-4, "norm² {}", norm);
    }
}

proptest! {
    /// The dispatched bit-plane scan (hardware popcount where present) counts exactly as the
    /// scalar reference, and as a bit-by-bit count.
    #[test]
    fn bitplane_scan_matches_the_reference(words in prop_oneof![1usize..18, Just(8usize), Just(16usize)], rows in 0usize..20, seed in any::<u64>()) {
        let mut s = seed | 1;
        let mut next = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s };
        let codes: Vec<u64> = (0..rows * words).map(|_| next()).collect();
        let planes: Vec<u64> = (0..4 * words).map(|_| next()).collect();
        let (mut fast, mut reference) = (Vec::new(), Vec::new());
        kernels::bitplane_scan(&codes, words, &planes, &mut fast);
        kernels::bitplane_scan_reference(&codes, words, &planes, &mut reference);
        prop_assert_eq!(&fast, &reference);
        prop_assert_eq!(reference.len(), rows);
        for (r, &weighted) in reference.iter().enumerate() {
            let code = &codes[r * words..(r + 1) * words];
            let bit = |w: &[u64], i: usize| (w[i / 64] >> (i % 64) & 1) as u32;
            let q: u32 = (0..64 * words)
                .map(|i| bit(code, i) * (0..4).map(|b| bit(&planes[b * words..], i) << b).sum::<u32>())
                .sum();
            prop_assert_eq!(weighted, q);
        }
    }
}

proptest! {
    /// The dispatched residual (AVX-512 where present) writes the same coordinates and finds
    /// the same extremes as the scalar reference; its squared norm agrees to rounding.
    #[test]
    fn residual_matches_the_reference(
        rotated in proptest::collection::vec(-10f32..10.0, 0..300),
        centroid in proptest::collection::vec(-10f32..10.0, 0..300),
        with_centroid: bool,
        extra in 0usize..20,
    ) {
        let n = rotated.len() + extra;
        let c = with_centroid.then_some(centroid.as_slice());
        let (mut fast, mut reference) = (vec![f32::NAN; n], vec![f32::NAN; n]);
        let f = kernels::residual(&rotated, c, &mut fast);
        let r = kernels::residual_reference(&rotated, c, &mut reference);
        prop_assert_eq!(&fast, &reference);
        prop_assert_eq!((f.0, f.1), (r.0, r.1));
        prop_assert!((f.2 - r.2).abs() <= 1e-4 * (1.0 + r.2), "{} vs {}", f.2, r.2);
        for (i, v) in reference.iter().enumerate() {
            let want = rotated.get(i).copied().unwrap_or(0.0) - c.and_then(|c| c.get(i)).copied().unwrap_or(0.0);
            prop_assert_eq!(*v, want);
        }
    }

    /// The dispatched quantizer gives the reference's bits and level sum, and each
    /// coordinate's level is its value rounded to the nearest of 16 levels.
    #[test]
    fn quantize_planes_matches_the_reference(z in proptest::collection::vec(-1f32..1.0, 0..300)) {
        let words = z.len().div_ceil(64).max(1);
        let (lo, hi) = z.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let delta = if hi > lo { (hi - lo) / 15.0 } else { 1.0 };
        let lo = if lo.is_finite() { lo } else { 0.0 };
        let (mut fast, mut reference) = (vec![u64::MAX; 4 * words], vec![u64::MAX; 4 * words]);
        let sum_fast = kernels::quantize_planes(&z, lo, 1.0 / delta, words, &mut fast);
        let sum_reference = kernels::quantize_planes_reference(&z, lo, 1.0 / delta, words, &mut reference);
        prop_assert_eq!(&fast, &reference);
        prop_assert_eq!(sum_fast, sum_reference);
        let mut sum = 0u32;
        for i in 0..64 * words {
            let level = (0..4).map(|b| ((reference[b * words + i / 64] >> (i % 64) & 1) as u32) << b).sum::<u32>();
            match z.get(i) {
                Some(&v) => prop_assert!((lo + delta * level as f32 - v).abs() <= delta * 0.5001, "{} at level {}", v, level),
                None => prop_assert_eq!(level, 0),
            }
            sum += level;
        }
        prop_assert_eq!(sum, sum_reference);
    }
}

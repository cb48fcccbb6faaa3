//! aarch64 NEON kernels (4 lanes, 4 accumulators). NEON is part of the aarch64 baseline.

use std::arch::aarch64::*;

macro_rules! neon_kernel {
    ($name:ident, |$acc:ident, $x:ident, $y:ident| $step:expr, |$sx:ident, $sy:ident| $scalar:expr) => {
        pub(super) fn $name(a: &[f32], b: &[f32]) -> f32 {
            let n = a.len().min(b.len());
            let (pa, pb) = (a.as_ptr(), b.as_ptr());
            let mut acc = [vdupq_n_f32(0.0); 4];
            let mut i = 0;
            while i + 16 <= n {
                for (j, $acc) in acc.iter_mut().enumerate() {
                    // SAFETY: i + 4j + 4 <= i + 16 <= n, and both slices hold at least n values.
                    let ($x, $y) = unsafe { (vld1q_f32(pa.add(i + 4 * j)), vld1q_f32(pb.add(i + 4 * j))) };
                    *$acc = $step;
                }
                i += 16;
            }
            let sum = vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]));
            let mut total = vaddvq_f32(sum);
            for k in i..n {
                let ($sx, $sy) = (a[k], b[k]);
                total += $scalar;
            }
            total
        }
    };
}

neon_kernel!(
    l2_neon,
    |acc, x, y| {
        let d = vsubq_f32(x, y);
        vfmaq_f32(*acc, d, d)
    },
    |x, y| (x - y) * (x - y)
);

neon_kernel!(dot_neon, |acc, x, y| vfmaq_f32(*acc, x, y), |x, y| x * y);

//! Extended RaBitQ codes (Gao et al., arXiv 2409.09913) of partition blocks, code kind 2: per
//! rotated coordinate a 4-bit code `u` standing for `u − 7.5`, scaled so that the code's
//! direction is as close as a grid search finds to the residual's. A scan still ranks every
//! row by its 1-bit code; the 4-bit code refines the estimate (and shrinks its error bound
//! about five-fold) of the rows the 1-bit bounds keep, so far fewer exact vectors are read to
//! re-rank. [`ExCodes::inner_product`] is the refinement's inner product;
//! [`ExCodes::inner_product_reference`] computes it from the decoded values, for tests.

/// Half of the code range: a code `u` stands for `u − HALF`.
const HALF: f32 = 7.5;
/// Step of the uniform 16-level quantizer with the least squared error on a Gaussian, in
/// standard deviations (Max, 1960): the grid search starts there.
const GAUSS_STEP: f32 = 0.3352;

/// The 4-bit code of rotated residual `y` (`padded` values): `padded / 2` bytes (coordinate
/// `2j` in the low nibble of byte `j`) and the code's cosine with `y` (0 for a zero `y`).
/// Coordinate `i` gets `u ≥ 8` exactly when `yᵢ > 0` (its 1-bit code's bit).
pub fn encode_ex4(y: &[f32]) -> (Vec<u8>, f32) {
    let norm = y.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
    let levels = |t: f64| y.iter().map(move |v| ((f64::from(v.abs()) * t).floor() as i64).clamp(0, 7));
    let cosine = |t: f64| {
        let (mut dot, mut sq) = (0f64, 0f64);
        for (v, k) in y.iter().zip(levels(t)) {
            let x = k as f64 + 0.5;
            dot += f64::from(v.abs()) * x;
            sq += x * x;
        }
        if norm > 0.0 && sq > 0.0 {
            dot / (norm * sq.sqrt())
        } else {
            0.0
        }
    };
    // Scales around the Gaussian optimum, an octave each way in sixteenths, then halfway
    // between the best and its neighbours.
    let sigma = norm / (y.len().max(1) as f64).sqrt();
    let t0 = if sigma > 0.0 { 1.0 / (f64::from(GAUSS_STEP) * sigma) } else { 1.0 };
    // Scale 0 puts every coordinate at ±0.5: the 1-bit code, the floor of what 4 bits do.
    let mut best = (cosine(0.0), 0.0);
    for j in -16..=16 {
        let t = t0 * 2f64.powf(f64::from(j) / 16.0);
        let c = cosine(t);
        if c > best.0 {
            best = (c, t);
        }
    }
    for j in [-1.0, 1.0] {
        if best.1 == 0.0 {
            break;
        }
        let t = best.1 * 2f64.powf(j / 32.0);
        let c = cosine(t);
        if c > best.0 {
            best = (c, t);
        }
    }
    let codes: Vec<u8> =
        y.iter().zip(levels(best.1)).map(|(v, k)| if *v > 0.0 { 8 + k as u8 } else { 7 - k as u8 }).collect();
    let packed = codes.chunks(2).map(|p| p[0] | p.get(1).copied().unwrap_or(7) << 4).collect();
    (packed, if norm > 0.0 { best.0 as f32 } else { 0.0 })
}

/// The 4-bit codes of a block's rows and their estimate constants.
#[derive(Debug, Clone)]
pub(crate) struct ExCodes {
    /// `rows × padded / 2` bytes.
    codes: Vec<u8>,
    /// Bytes per row.
    stride: usize,
    /// Per row: `‖x − c‖ / (‖x̄‖ f)` (the inner product's scale) and `‖x − c‖ · ε₀ ·
    /// √(1 − f²) / (f √(p − 1))` (its error bound per unit of `‖z‖`).
    terms: Vec<(f32, f32)>,
}

impl ExCodes {
    /// From a block's parsed codes, norms and cosines (`f`), `padded` coordinates per row.
    pub(crate) fn new(codes: Vec<u8>, norms: &[f32], factors: &[f32], padded: usize, eps0: f32) -> Self {
        let stride = padded / 2;
        let terms = codes
            .chunks_exact(stride)
            .zip(norms.iter().zip(factors))
            .map(|(row, (&norm, &f))| {
                let sq: f32 = row.iter().map(|&b| value(b & 15).powi(2) + value(b >> 4).powi(2)).sum();
                if f > 0.0 && f <= 1.0 && sq > 0.0 {
                    let spread = (1.0 - f * f).max(0.0).sqrt() / f;
                    (norm / (sq.sqrt() * f), norm * spread * eps0 / ((padded - 1) as f32).sqrt())
                } else {
                    (0.0, 0.0)
                }
            })
            .collect();
        Self { codes, stride, terms }
    }

    /// Bytes it holds in memory.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.codes.len() + self.terms.len() * 8
    }

    /// Row `i`'s estimated inner product `<x − c, z>` and its error bound, `z` the rotated
    /// residual of the query (`z_sum` its coordinates' sum, `z_norm` its length).
    pub(crate) fn inner_product(&self, i: usize, z: &[f32], z_sum: f32, z_norm: f32) -> (f32, f32) {
        let (scale, err) = self.terms[i];
        let row = &self.codes[i * self.stride..(i + 1) * self.stride];
        (scale * (nibble_dot(row, z) - HALF * z_sum), err * z_norm)
    }

    /// [`Self::inner_product`] from the decoded values one coordinate at a time.
    pub(crate) fn inner_product_reference(&self, i: usize, z: &[f32], z_norm: f32) -> (f32, f32) {
        let (scale, err) = self.terms[i];
        let row = &self.codes[i * self.stride..(i + 1) * self.stride];
        let dot: f32 = (0..z.len()).map(|c| value(row[c / 2] >> (4 * (c % 2)) & 15) * z[c]).sum();
        (scale * dot, err * z_norm)
    }
}

/// What a 4-bit code stands for.
fn value(u: u8) -> f32 {
    f32::from(u) - HALF
}

/// `Σ uᵢ zᵢ` over a row's nibbles (8 partial sums, so the loop vectorizes).
fn nibble_dot(row: &[u8], z: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (bytes, zs) = (row.chunks_exact(4), z.chunks_exact(8));
    let (tail_bytes, tail_z) = (bytes.remainder(), zs.remainder());
    for (b, z) in bytes.zip(zs) {
        for j in 0..4 {
            acc[2 * j] += f32::from(b[j] & 15) * z[2 * j];
            acc[2 * j + 1] += f32::from(b[j] >> 4) * z[2 * j + 1];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (j, &b) in tail_bytes.iter().enumerate() {
        sum += f32::from(b & 15) * tail_z.get(2 * j).copied().unwrap_or(0.0);
        sum += f32::from(b >> 4) * tail_z.get(2 * j + 1).copied().unwrap_or(0.0);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(packed: &[u8], n: usize) -> Vec<f32> {
        (0..n).map(|c| value(packed[c / 2] >> (4 * (c % 2)) & 15)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn codes_keep_signs_and_their_cosine_is_the_decoded_one(y in prop::collection::vec(-4.0f32..4.0, 64..=64)) {
            let (packed, f) = encode_ex4(&y);
            prop_assert_eq!(packed.len(), 32);
            let x = decode(&packed, 64);
            for (v, x) in y.iter().zip(&x) {
                prop_assert_eq!(*v > 0.0, *x > 0.0);
            }
            let dot: f32 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
            let (nx, ny) = (x.iter().map(|a| a * a).sum::<f32>().sqrt(), y.iter().map(|a| a * a).sum::<f32>().sqrt());
            if ny > 0.0 {
                prop_assert!((dot / (nx * ny) - f).abs() < 1e-4, "{} vs {}", dot / (nx * ny), f);
                // No worse than the 1-bit code's cosine.
                let one_bit = y.iter().map(|v| v.abs()).sum::<f32>() / (ny * 8.0);
                prop_assert!(f >= one_bit - 1e-5);
            }
        }

        #[test]
        fn the_fast_inner_product_equals_the_reference(seed in 0u64..500, words in 1usize..5) {
            let padded = 64 * words;
            let mut s = seed;
            let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0 };
            let rows: Vec<Vec<f32>> = (0..3).map(|_| (0..padded).map(|_| next()).collect()).collect();
            let z: Vec<f32> = (0..padded).map(|_| next()).collect();
            let mut codes = Vec::new();
            let mut factors = Vec::new();
            for y in &rows {
                let (c, f) = encode_ex4(y);
                codes.extend(c);
                factors.push(f);
            }
            let ex = ExCodes::new(codes, &[1.0, 2.0, 0.5], &factors, padded, 1.9);
            let (z_sum, z_norm) = (z.iter().sum::<f32>(), z.iter().map(|v| v * v).sum::<f32>().sqrt());
            for i in 0..3 {
                let (fast, e1) = ex.inner_product(i, &z, z_sum, z_norm);
                let (slow, e2) = ex.inner_product_reference(i, &z, z_norm);
                prop_assert!((fast - slow).abs() <= 1e-3 * (1.0 + slow.abs()), "{} vs {}", fast, slow);
                prop_assert_eq!(e1, e2);
            }
        }
    }

    #[test]
    fn the_code_is_close_to_the_residual_on_gaussian_like_data() {
        // 512 coordinates of a sum of uniforms (near Gaussian): 4 bits keep a cosine near 0.99.
        let mut s = 7u64;
        let y: Vec<f32> = (0..512)
            .map(|_| {
                (0..4)
                    .map(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                    })
                    .sum()
            })
            .collect();
        let (_, f) = encode_ex4(&y);
        assert!(f > 0.985, "cosine {f}");
        assert_eq!(encode_ex4(&[0.0; 64]), (vec![0x77; 32], 0.0));
    }
}

//! Plain scalar kernels: the reference every SIMD kernel is tested against.

/// Squared Euclidean distance over the common prefix of `a` and `b`.
pub fn l2_sq(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Inner product over the common prefix of `a` and `b`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Lanes of the register-resident scan in [`nearest_transposed`].
pub(super) const LANES: usize = 16;

/// Nearest of `k` centroids stored coordinate-major in `transposed` (`dim × k`) to `row`:
/// squared L2, or `−row·c` with `IP`. Lane `l` of each 16-wide step tracks centroids `≡ l`
/// (mod 16); the lanes' minima are merged at the end, lowest index first on equal values.
/// Written for auto-vectorization: the SIMD backends compile this same body with wider
/// registers enabled, so every backend returns bit-identical results.
#[inline(always)]
pub(super) fn nearest_transposed<const IP: bool>(row: &[f32], transposed: &[f32], k: usize) -> (u32, f32) {
    // PQ sub-vectors are 1, 2, 4 or 8 wide: a compile-time width unrolls the coordinate loop
    // and keeps the row's values in registers across the whole scan.
    match row.len() {
        1 => scan::<IP, 1>(row, transposed, k),
        2 => scan::<IP, 2>(row, transposed, k),
        4 => scan::<IP, 4>(row, transposed, k),
        8 => scan::<IP, 8>(row, transposed, k),
        _ => scan::<IP, 0>(row, transposed, k),
    }
}

/// [`nearest_transposed`] for rows of `D` values (`D = 0`: the row's own length).
#[inline(always)]
fn scan<const IP: bool, const D: usize>(row: &[f32], transposed: &[f32], k: usize) -> (u32, f32) {
    let dim = if D == 0 { row.len() } else { D };
    let row = &row[..dim];
    let mut best = [f32::INFINITY; LANES];
    let mut best_idx = [0u32; LANES];
    let full = k - k % LANES;
    let mut base = 0;
    while base < full {
        let mut acc = [0f32; LANES];
        for t in 0..dim {
            let xt = row[t];
            let col: &[f32; LANES] =
                transposed[t * k + base..t * k + base + LANES].try_into().expect("16 centroid coordinates");
            for (a, &cv) in acc.iter_mut().zip(col) {
                if IP {
                    *a -= xt * cv;
                } else {
                    let d = xt - cv;
                    *a += d * d;
                }
            }
        }
        for l in 0..LANES {
            let better = acc[l] < best[l];
            best[l] = if better { acc[l] } else { best[l] };
            best_idx[l] = if better { (base + l) as u32 } else { best_idx[l] };
        }
        base += LANES;
    }
    let mut winner = (0u32, f32::INFINITY);
    for l in 0..LANES {
        if best[l] < winner.1 || (best[l] == winner.1 && best_idx[l] < winner.0) {
            winner = (best_idx[l], best[l]);
        }
    }
    for j in full..k {
        let d: f32 = row
            .iter()
            .enumerate()
            .map(|(t, &xt)| {
                let cv = transposed[t * k + j];
                if IP {
                    -xt * cv
                } else {
                    (xt - cv) * (xt - cv)
                }
            })
            .sum();
        if d < winner.1 {
            winner = (j as u32, d);
        }
    }
    winner
}

/// `table[j·256 + c] = scale · Σ_t query[j·dsub + t] · transposed[(j·dsub + t)·256 + c]`
/// (every entry overwritten, `dsub ≥ 1`): the
/// per-query inner-product table of a product quantizer whose codebooks are stored
/// coordinate-major per sub-quantizer. `table` holds `m × 256` values. Written for
/// auto-vectorization, compiled once per backend like [`nearest_transposed`].
#[inline(always)]
pub(super) fn pq_inner_table(transposed: &[f32], query: &[f32], dsub: usize, scale: f32, table: &mut [f32]) {
    const KSUB: usize = 256;
    for (j, row) in table.chunks_exact_mut(KSUB).enumerate() {
        let row: &mut [f32; KSUB] = row.try_into().expect("256 entries");
        for t in 0..dsub {
            let qt = scale * query[j * dsub + t];
            let start = (j * dsub + t) * KSUB;
            let col: &[f32; KSUB] = transposed[start..start + KSUB].try_into().expect("256 entries");
            // The first coordinate assigns (no separate zeroing pass), the rest accumulate.
            if t == 0 {
                for (r, &v) in row.iter_mut().zip(col) {
                    *r = qt * v;
                }
            } else {
                for (r, &v) in row.iter_mut().zip(col) {
                    *r += qt * v;
                }
            }
        }
    }
}

/// `out[i] = a[i] + b[i]` over the common length.
#[inline(always)]
pub(super) fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// `Σ u[i]·d[i]` over the common prefix: unsigned codes against signed query codes (the SQ8
/// traversal kernel). Exact in `i32` for any prefix up to 65,000 values.
pub fn dot_u8_i8(u: &[u8], d: &[i8]) -> i32 {
    u.iter().zip(d).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum()
}

/// For each row of `codes` (`words` `u64`s per row): `Σ_b 2^b · popcount(code & planes[b])`
/// over the four bit planes of a 4-bit query (`planes` = 4 × `words`), appended to `out`.
/// The reference of the popcount kernels (inlined into them, so `count_ones` becomes the
/// instruction where they enable it).
#[inline(always)]
pub fn bitplane_scan(codes: &[u64], words: usize, planes: &[u64], out: &mut Vec<u32>) {
    if words == 0 || planes.len() < 4 * words {
        return;
    }
    let (p0, p1, p2, p3) = (
        &planes[..words],
        &planes[words..2 * words],
        &planes[2 * words..3 * words],
        &planes[3 * words..4 * words],
    );
    out.extend(codes.chunks_exact(words).map(|code| {
        let mut weighted = 0u32;
        for (j, &c) in code.iter().enumerate() {
            weighted += (c & p0[j]).count_ones()
                + ((c & p1[j]).count_ones() << 1)
                + ((c & p2[j]).count_ones() << 2)
                + ((c & p3[j]).count_ones() << 3);
        }
        weighted
    }));
}

/// `z = rotated − centroid` (or `rotated` when no centroid) written over `z`; returns the
/// smallest and largest coordinate and `‖z‖²`.
pub fn residual(rotated: &[f32], centroid: Option<&[f32]>, z: &mut [f32]) -> (f32, f32, f32) {
    let (mut lo, mut hi, mut sq) = (f32::INFINITY, f32::NEG_INFINITY, 0f32);
    for (i, out) in z.iter_mut().enumerate() {
        let v =
            rotated.get(i).copied().unwrap_or(0.0) - centroid.and_then(|c| c.get(i)).copied().unwrap_or(0.0);
        *out = v;
        lo = lo.min(v);
        hi = hi.max(v);
        sq += v * v;
    }
    (lo, hi, sq)
}

/// Each of `z` quantized to 4 bits, `⌊clamp((v − lo) · inv + ½, 0, 15)⌋` (rounded to the
/// nearest level; NaN is level 0), written as four bit planes over `planes` (bit `b` of
/// coordinate `i` at bit `i % 64` of word `b × words + i / 64`; `planes` = 4 × `words` words,
/// `words` ≥ ⌈len/64⌉). Returns the sum of the levels.
pub fn quantize_planes(z: &[f32], lo: f32, inv: f32, words: usize, planes: &mut [u64]) -> u32 {
    planes.iter_mut().for_each(|w| *w = 0);
    if planes.len() < 4 * words {
        return 0;
    }
    let mut levels = 0u32;
    for (w, chunk) in z.chunks(64).enumerate().take(words) {
        let (bits, sum) = quantize_word(chunk, lo, inv);
        (0..4).for_each(|b| planes[b * words + w] = bits[b]);
        levels += sum;
    }
    levels
}

/// [`quantize_planes`] of at most 64 values: their four plane words and their levels' sum.
#[inline(always)]
pub fn quantize_word(chunk: &[f32], lo: f32, inv: f32) -> ([u64; 4], u32) {
    let (mut bits, mut levels) = ([0u64; 4], 0u32);
    for (j, &v) in chunk.iter().enumerate().take(64) {
        let u = ((v - lo) * inv + 0.5).clamp(0.0, 15.0) as u64;
        levels += u as u32;
        for (b, word) in bits.iter_mut().enumerate() {
            *word |= (u >> b & 1) << j;
        }
    }
    (bits, levels)
}

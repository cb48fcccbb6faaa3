//! The RaBitQ block-scan kernels: a query's residual to a block centroid, its 4-bit bit
//! planes, and the codes' inner products with them — dispatched to AVX-512 (`vpopcntq`,
//! mask tests) or the `popcnt` instruction where present, with the scalar references in
//! `scalar.rs` they are tested against.

use std::sync::OnceLock;

use super::scalar;

type ScanKernel = fn(&[u64], usize, &[u64], &mut Vec<u32>);
type ResidualKernel = fn(&[f32], Option<&[f32]>, &mut [f32]) -> (f32, f32, f32);
type QuantizeKernel = fn(&[f32], f32, f32, usize, &mut [u64]) -> u32;

#[derive(Clone, Copy)]
struct Kernels {
    /// The scan for rows of whole 512-bit words.
    scan_wide: ScanKernel,
    scan: ScanKernel,
    residual: ResidualKernel,
    quantize: QuantizeKernel,
}

fn kernels() -> &'static Kernels {
    static KERNELS: OnceLock<Kernels> = OnceLock::new();
    KERNELS.get_or_init(|| {
        #[allow(unused_mut)] // only x86-64 has faster kernels to install
        let mut k = Kernels {
            scan_wide: scalar::bitplane_scan,
            scan: scalar::bitplane_scan,
            residual: scalar::residual,
            quantize: scalar::quantize_planes,
        };
        #[cfg(target_arch = "x86_64")]
        {
            use super::{active_backend, x86_rabitq as x86, Backend};
            let backend = active_backend();
            if backend != Backend::Scalar && is_x86_feature_detected!("popcnt") {
                k.scan = x86::bitplane_scan_popcnt_entry;
                k.scan_wide = x86::bitplane_scan_popcnt_entry;
            }
            if backend == Backend::Avx512 && is_x86_feature_detected!("avx512f") {
                k.residual = x86::residual_avx512_entry;
                k.quantize = x86::quantize_planes_avx512_entry;
                if is_x86_feature_detected!("avx512vpopcntdq") {
                    k.scan_wide = x86::bitplane_scan_vpopcnt_entry;
                }
            }
        }
        k
    })
}

/// Per row of RaBitQ codes (`words` `u64`s each), `Σ_b 2^b · popcount(code & planes[b])` over
/// a 4-bit query's bit planes, appended to `out` (see [`scalar::bitplane_scan`]).
pub fn bitplane_scan(codes: &[u64], words: usize, planes: &[u64], out: &mut Vec<u32>) {
    let k = kernels();
    if words.is_multiple_of(8) {
        (k.scan_wide)(codes, words, planes, out)
    } else {
        (k.scan)(codes, words, planes, out)
    }
}

/// The scalar reference of [`bitplane_scan`].
pub fn bitplane_scan_reference(codes: &[u64], words: usize, planes: &[u64], out: &mut Vec<u32>) {
    scalar::bitplane_scan(codes, words, planes, out)
}

/// `z = rotated − centroid` (zero beyond either slice), with its smallest and largest
/// coordinate and `‖z‖²` (see [`scalar::residual`]).
pub fn residual(rotated: &[f32], centroid: Option<&[f32]>, z: &mut [f32]) -> (f32, f32, f32) {
    (kernels().residual)(rotated, centroid, z)
}

/// The scalar reference of [`residual`].
pub fn residual_reference(rotated: &[f32], centroid: Option<&[f32]>, z: &mut [f32]) -> (f32, f32, f32) {
    scalar::residual(rotated, centroid, z)
}

/// `z` quantized to 4-bit levels as bit planes; returns the levels' sum (see
/// [`scalar::quantize_planes`]; the dispatched kernel gives the same bits).
pub fn quantize_planes(z: &[f32], lo: f32, inv: f32, words: usize, planes: &mut [u64]) -> u32 {
    (kernels().quantize)(z, lo, inv, words, planes)
}

/// The scalar reference of [`quantize_planes`].
pub fn quantize_planes_reference(z: &[f32], lo: f32, inv: f32, words: usize, planes: &mut [u64]) -> u32 {
    scalar::quantize_planes(z, lo, inv, words, planes)
}

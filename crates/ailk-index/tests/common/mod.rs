//! Helpers shared by the ailk-index integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use ailk_format::{AlignedBytes, Section, SectionBuilder, VectorColumn};
use ailk_index::Metric;
use ailk_testkit::texmex::{read_fvecs, read_ivecs, Matrix};

/// The real dataset (`../shared/data/debian-minilm`): base vectors, up to `queries` queries
/// (all when `None`) and the true top-10 ids of each. Fails with a clear message if absent.
pub fn debian_minilm(queries: Option<usize>) -> (Matrix<f32>, Matrix<f32>, Vec<Vec<u32>>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/debian-minilm");
    assert!(dir.join("base.fvecs").exists(), "the real dataset is missing: expected it at {}", dir.display());
    let base = read_fvecs(dir.join("base.fvecs"), None).unwrap();
    let q = read_fvecs(dir.join("query.fvecs"), queries).unwrap();
    let gt = read_ivecs(dir.join("gt.ivecs"), queries).unwrap();
    let truth = (0..gt.rows()).map(|i| gt.row(i)[..10].iter().map(|&x| x as u32).collect()).collect();
    (base, q, truth)
}

/// Encodes a one-column section over `base` whose payloads `add` fills, and decodes it again.
pub fn round_trip_section<'a>(
    base: &[f32],
    dim: usize,
    metric: Metric,
    add: impl FnOnce(&mut SectionBuilder<'a>, u16),
) -> (Section, u16) {
    let mut sb = SectionBuilder::new((base.len() / dim) as u64);
    let col = sb.column(VectorColumn::summarize(3, "embedding", metric, dim as u32, base).unwrap());
    add(&mut sb, col);
    (Section::decode(AlignedBytes::copy_from(&sb.encode().unwrap())).unwrap(), col)
}

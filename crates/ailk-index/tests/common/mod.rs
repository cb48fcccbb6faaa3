//! Helpers shared by the ailk-index integration tests.
#![allow(dead_code)]

use ailk_format::{AlignedBytes, Section, SectionBuilder, VectorColumn};
use ailk_index::Metric;
use ailk_testkit::sample::Sample;
use ailk_testkit::texmex::Matrix;

/// The in-repo real sample (`data/sample`: 4,000 × 384 MiniLM vectors, 100 held-out queries):
/// base vectors, queries and the true top-10 ids of each.
pub fn real_sample() -> (Matrix<f32>, Matrix<f32>, Vec<Vec<u32>>) {
    let s = Sample::load().expect("the committed sample data/sample");
    let truth = s.truth_top(s.queries.rows(), 10);
    (s.base, s.queries, truth)
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

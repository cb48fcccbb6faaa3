//! Fusing ranked lists (hybrid search: a vector list and a text list): reciprocal-rank fusion
//! and a weighted sum of min-max normalized scores. Scores are higher-is-better throughout
//! (give vector distances negated).

use std::collections::HashMap;
use std::hash::Hash;

/// The `k0` of reciprocal-rank fusion unless told otherwise.
pub const RRF_K0: f32 = 60.0;

/// Reciprocal-rank fusion: each key scores `Σ 1 / (k0 + rank)` over the lists it appears in
/// (ranks from 1); the `k` best, highest first, ties by first appearance.
pub fn reciprocal_rank_fusion<K: Eq + Hash + Clone>(lists: &[Vec<K>], k0: f32, k: usize) -> Vec<(K, f32)> {
    let mut scores: HashMap<K, (f32, usize)> = HashMap::new();
    let mut order = 0usize;
    for list in lists {
        for (rank, key) in list.iter().enumerate() {
            let e = scores.entry(key.clone()).or_insert_with(|| {
                order += 1;
                (0.0, order)
            });
            e.0 += 1.0 / (k0 + rank as f32 + 1.0);
        }
    }
    top(scores, k)
}

/// Weighted fusion: each list's scores min-max normalized to [0, 1] (all equal: 1), times its
/// weight, summed per key; the `k` best, highest first, ties by first appearance.
pub fn weighted_fusion<K: Eq + Hash + Clone>(lists: &[(Vec<(K, f32)>, f32)], k: usize) -> Vec<(K, f32)> {
    let mut scores: HashMap<K, (f32, usize)> = HashMap::new();
    let mut order = 0usize;
    for (list, weight) in lists {
        let lo = list.iter().map(|e| e.1).fold(f32::INFINITY, f32::min);
        let hi = list.iter().map(|e| e.1).fold(f32::NEG_INFINITY, f32::max);
        for (key, score) in list {
            let norm = if hi > lo { (score - lo) / (hi - lo) } else { 1.0 };
            let e = scores.entry(key.clone()).or_insert_with(|| {
                order += 1;
                (0.0, order)
            });
            e.0 += weight * norm;
        }
    }
    top(scores, k)
}

fn top<K>(scores: HashMap<K, (f32, usize)>, k: usize) -> Vec<(K, f32)> {
    let mut all: Vec<(K, f32, usize)> = scores.into_iter().map(|(key, (s, o))| (key, s, o)).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    all.truncate(k);
    all.into_iter().map(|(key, s, _)| (key, s)).collect()
}

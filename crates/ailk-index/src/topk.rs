//! Neighbours and bounded top-k selection.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A search result: a row id and its distance (smaller is nearer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    /// Row id within the shard.
    pub id: u32,
    /// Distance under the index's metric (see [`crate::kernels::distance`]).
    pub distance: f32,
}

impl Neighbor {
    /// Total order: by distance, then by id (so ties are deterministic).
    pub fn cmp_by_distance(&self, other: &Self) -> Ordering {
        self.distance.total_cmp(&other.distance).then(self.id.cmp(&other.id))
    }
}

/// Heap entry ordered by (distance, id).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Far(pub Neighbor);

impl Eq for Far {}
impl PartialOrd for Far {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Far {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp_by_distance(&other.0)
    }
}

/// The most entries a [`TopK`] reserves before anything is pushed.
const PREALLOCATE_MAX: usize = 1024;

/// Keeps the `k` nearest of the neighbours pushed into it.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Far>,
}

impl TopK {
    /// An empty selection of at most `k` neighbours. Memory grows with what is pushed, not
    /// with `k`: a huge `k` (everything, nearest first) allocates nothing up front.
    pub fn new(k: usize) -> Self {
        TopK { k, heap: BinaryHeap::with_capacity(k.saturating_add(1).min(PREALLOCATE_MAX)) }
    }

    /// Offers a neighbour.
    #[inline]
    pub fn push(&mut self, id: u32, distance: f32) {
        let n = Far(Neighbor { id, distance });
        if self.heap.len() < self.k {
            self.heap.push(n);
        } else if let Some(mut top) = self.heap.peek_mut() {
            if n < *top {
                *top = n;
            }
        }
    }

    /// The distance a newcomer must beat once full (`+∞` before).
    #[inline]
    pub fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::INFINITY
        } else {
            self.heap.peek().map_or(f32::INFINITY, |f| f.0.distance)
        }
    }

    /// Merges another selection into this one.
    pub fn merge(&mut self, other: TopK) {
        for f in other.heap {
            self.push(f.0.id, f.0.distance);
        }
    }

    /// The neighbours, nearest first.
    pub fn into_sorted_vec(self) -> Vec<Neighbor> {
        self.heap.into_sorted_vec().into_iter().map(|f| f.0).collect()
    }
}

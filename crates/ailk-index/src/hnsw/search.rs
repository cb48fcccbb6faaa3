//! The graph walk shared by construction and queries: greedy descent on upper levels and the
//! best-first `ef` search on a level, with per-thread scratch space reused across queries.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::kernels::{prefetch, DistanceFn};
use crate::row_filter::Accept;
use crate::topk::{Far, Neighbor};

/// Read access to neighbour lists, implemented by the graph under construction (atomic
/// slots) and by the frozen graph (plain `u32` slices, possibly straight from a section).
pub(crate) trait Links {
    /// Appends the neighbours of `node` on `level` to `out`.
    fn links_into(&self, node: u32, level: usize, out: &mut Vec<u32>);

    /// Starts loading `node`'s list on `level` into cache (it is about to be expanded).
    fn prefetch_links(&self, _node: u32, _level: usize) {}
}

/// Visited marks, reset in O(1) by bumping an epoch.
#[derive(Default)]
pub(crate) struct Visited {
    marks: Vec<u16>,
    epoch: u16,
}

impl Visited {
    pub(crate) fn reset(&mut self, n: usize) {
        if self.marks.len() < n {
            self.marks.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
    }

    /// Marks `id`; true if it was not marked before.
    #[inline(always)]
    fn insert(&mut self, id: u32) -> bool {
        let m = &mut self.marks[id as usize];
        let fresh = *m != self.epoch;
        *m = self.epoch;
        fresh
    }
}

/// Everything one search needs, allocated once per thread.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) visited: Visited,
    candidates: BinaryHeap<Reverse<Far>>,
    pub(crate) results: BinaryHeap<Far>,
    links: Vec<u32>,
    fresh: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch space.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

/// Distances from one query to graph nodes: what a walk reads.
pub(crate) trait Oracle {
    /// The distance from the query to `id` (smaller is nearer).
    fn distance(&self, id: u32) -> f32;
    /// Starts loading `id`'s data into cache (it is about to be measured).
    fn prefetch(&self, id: u32);
}

/// The data a walk reads: vectors, dimension, distance.
pub(crate) struct Space<'a> {
    pub vectors: &'a [f32],
    pub dim: usize,
    pub dist: DistanceFn,
}

impl Space<'_> {
    #[inline(always)]
    pub fn vector(&self, id: u32) -> &[f32] {
        let s = id as usize * self.dim;
        &self.vectors[s..s + self.dim]
    }

    #[inline(always)]
    pub fn distance(&self, q: &[f32], id: u32) -> f32 {
        self.dist.eval(q, self.vector(id))
    }

    /// This space with `q` bound as the query.
    pub fn bind<'q>(&'q self, q: &'q [f32]) -> Exact<'q> {
        Exact { space: self, q }
    }
}

/// Exact distances from a bound query over full-precision vectors.
pub(crate) struct Exact<'a> {
    space: &'a Space<'a>,
    q: &'a [f32],
}

impl Oracle for Exact<'_> {
    #[inline(always)]
    fn distance(&self, id: u32) -> f32 {
        self.space.distance(self.q, id)
    }

    #[inline(always)]
    fn prefetch(&self, id: u32) {
        prefetch(self.space.vector(id));
    }
}

/// Greedy descent from `entry` on `level`: moves to a closer neighbour until none is.
pub(crate) fn greedy<L: Links, O: Oracle>(
    links: &L,
    o: &O,
    mut entry: Neighbor,
    level: usize,
    buf: &mut Vec<u32>,
) -> Neighbor {
    loop {
        buf.clear();
        links.links_into(entry.id, level, buf);
        let mut moved = false;
        for &id in buf.iter() {
            let d = o.distance(id);
            if d < entry.distance {
                entry = Neighbor { id, distance: d };
                moved = true;
            }
        }
        if !moved {
            return entry;
        }
    }
}

/// Best-first search of `level` from `entry`, keeping the `ef` nearest nodes `accept`
/// admits in `s.results` (a max-heap); nodes it refuses are still walked through.
/// `s.visited` must have been reset by the caller for this query.
pub(crate) fn search_level<L: Links, O: Oracle, A: Accept>(
    links: &L,
    o: &O,
    entry: Neighbor,
    ef: usize,
    level: usize,
    s: &mut Scratch,
    accept: &A,
) {
    s.candidates.clear();
    s.results.clear();
    s.visited.insert(entry.id);
    s.candidates.push(Reverse(Far(entry)));
    if accept.accept(entry.id) {
        s.results.push(Far(entry));
    }
    while let Some(Reverse(Far(c))) = s.candidates.pop() {
        let worst = s.results.peek().map_or(f32::INFINITY, |f| f.0.distance);
        if c.distance > worst && s.results.len() >= ef {
            break;
        }
        s.links.clear();
        links.links_into(c.id, level, &mut s.links);
        s.fresh.clear();
        for &id in &s.links {
            if s.visited.insert(id) {
                o.prefetch(id);
                s.fresh.push(id);
            }
        }
        for &id in &s.fresh {
            let d = o.distance(id);
            let worst = s.results.peek().map_or(f32::INFINITY, |f| f.0.distance);
            if s.results.len() < ef || d < worst {
                links.prefetch_links(id, level);
                let n = Neighbor { id, distance: d };
                s.candidates.push(Reverse(Far(n)));
                if accept.accept(id) {
                    s.results.push(Far(n));
                    if s.results.len() > ef {
                        s.results.pop();
                    }
                }
            }
        }
    }
}

/// Full query: greedy descent through the upper levels, `ef` search on level 0; the walk's
/// candidates (only nodes `accept` admits, unsorted) are left in `s.results`.
pub(crate) fn walk<L: Links, O: Oracle, A: Accept>(
    links: &L,
    o: &O,
    s: &mut Scratch,
    (entry_point, max_level): (u32, usize),
    ef: usize,
    n: usize,
    accept: &A,
) {
    let mut entry = Neighbor { id: entry_point, distance: o.distance(entry_point) };
    for level in (1..=max_level).rev() {
        entry = greedy(links, o, entry, level, &mut s.links);
    }
    s.visited.reset(n);
    search_level(links, o, entry, ef, 0, s, accept);
}

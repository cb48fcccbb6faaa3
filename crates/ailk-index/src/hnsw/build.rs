//! Parallel HNSW construction. Neighbour lists live in atomic `u32` slots: a node's list is
//! rewritten only under that node's lock, while searches read slots without locks (a reader
//! may see a list mid-update, which costs a little quality, never safety: every slot always
//! holds a valid node id). Levels are drawn up front from the seed, so the layout is fixed
//! before any thread starts, and a one-thread build is deterministic.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Mutex;

use ailk_format::sync::lock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::search::{greedy, search_level, with_scratch, Links, Space};
use crate::row_filter::AllRows;
use crate::topk::Neighbor;

/// Highest level a node may draw.
pub(crate) const MAX_LEVEL: u8 = 16;

/// Level of every node, from `seed`: `floor(−ln(U) / ln(m))`, capped.
pub(crate) fn draw_levels(n: usize, m: usize, seed: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let scale = 1.0 / (m.max(2) as f64).ln();
    (0..n)
        .map(|_| {
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            ((-u.ln() * scale).floor() as u64).min(u64::from(MAX_LEVEL)) as u8
        })
        .collect()
}

/// The graph under construction.
pub(crate) struct BuildGraph {
    pub m: usize,
    pub m0: usize,
    pub levels: Vec<u8>,
    pub level0: Vec<AtomicU32>,
    pub upper_offsets: Vec<u32>,
    pub upper: Vec<AtomicU32>,
    locks: Vec<Mutex<()>>,
}

impl BuildGraph {
    pub fn new(levels: Vec<u8>, m: usize) -> Self {
        let n = levels.len();
        let m0 = 2 * m;
        let mut upper_offsets = Vec::with_capacity(n + 1);
        let mut total = 0u32;
        upper_offsets.push(0);
        for &l in &levels {
            total += u32::from(l) * (m as u32 + 1);
            upper_offsets.push(total);
        }
        BuildGraph {
            m,
            m0,
            level0: (0..n * (m0 + 1)).map(|_| AtomicU32::new(0)).collect(),
            upper: (0..total).map(|_| AtomicU32::new(0)).collect(),
            upper_offsets,
            levels,
            locks: (0..n).map(|_| Mutex::new(())).collect(),
        }
    }

    pub(super) fn block(&self, node: u32, level: usize) -> &[AtomicU32] {
        let i = node as usize;
        if level == 0 {
            &self.level0[i * (self.m0 + 1)..(i + 1) * (self.m0 + 1)]
        } else {
            let start = self.upper_offsets[i] as usize + (level - 1) * (self.m + 1);
            &self.upper[start..start + self.m + 1]
        }
    }

    pub(super) fn cap(&self, level: usize) -> usize {
        if level == 0 {
            self.m0
        } else {
            self.m
        }
    }

    fn write(&self, block: &[AtomicU32], ids: &[u32]) {
        for (slot, &id) in block[1..].iter().zip(ids) {
            slot.store(id, Relaxed);
        }
        block[0].store(ids.len() as u32, Relaxed);
    }
}

impl Links for BuildGraph {
    fn links_into(&self, node: u32, level: usize, out: &mut Vec<u32>) {
        let block = self.block(node, level);
        let count = (block[0].load(Relaxed) as usize).min(block.len() - 1);
        out.extend(block[1..=count].iter().map(|a| a.load(Relaxed)));
    }

    fn prefetch_links(&self, node: u32, level: usize) {
        if level == 0 {
            crate::kernels::prefetch(self.block(node, 0));
        }
    }
}

/// The HNSW neighbour-selection heuristic: walk candidates nearest first and keep one only if
/// it is nearer to the base than to every neighbour kept so far (diversifies directions).
pub(crate) fn select_neighbors(
    space: &Space<'_>,
    candidates: &mut [Neighbor],
    cap: usize,
    out: &mut Vec<u32>,
) {
    candidates.sort_by(Neighbor::cmp_by_distance);
    out.clear();
    for c in candidates.iter() {
        if out.len() >= cap {
            break;
        }
        let cv = space.vector(c.id);
        // A copy of a kept neighbour adds no direction: without this, copies of one vector
        // fill each other's lists and a walk that enters them cannot leave.
        if out.iter().all(|&kept| space.distance(cv, kept) >= c.distance && space.vector(kept) != cv) {
            out.push(c.id);
        }
    }
}

/// Shared state of one build.
pub(crate) struct Builder<'a> {
    pub space: Space<'a>,
    pub graph: BuildGraph,
    pub ef_construction: usize,
    /// (entry point, its level); updated under this lock when a higher node arrives.
    pub entry: Mutex<(u32, usize)>,
}

impl Builder<'_> {
    /// Inserts every node but the first (the initial entry point), on the current rayon pool
    /// or, with `serial`, in order on this thread.
    pub fn run(&self, serial: bool) {
        let n = self.graph.levels.len() as u32;
        if serial {
            (1..n).for_each(|i| self.insert(i));
        } else {
            (1..n).into_par_iter().for_each(|i| self.insert(i));
        }
    }

    fn insert(&self, node: u32) {
        let level = usize::from(self.graph.levels[node as usize]);
        let (mut entry_id, mut top) = *lock(&self.entry);
        // A node that will become the new entry point holds the entry lock for its whole
        // insertion, so no other new top-level node interleaves (as hnswlib does).
        let _guard = if level > top {
            let g = lock(&self.entry);
            (entry_id, top) = *g;
            Some(g)
        } else {
            None
        };
        let q = self.space.vector(node);
        let oracle = self.space.bind(q);
        with_scratch(|s| {
            let mut buf = Vec::new();
            let mut entry = Neighbor { id: entry_id, distance: self.space.distance(q, entry_id) };
            for l in (level + 1..=top).rev() {
                entry = greedy(&self.graph, &oracle, entry, l, &mut buf);
            }
            let mut selected = Vec::new();
            for l in (0..=level.min(top)).rev() {
                s.visited.reset(self.graph.levels.len());
                search_level(&self.graph, &oracle, entry, self.ef_construction, l, s, &AllRows);
                let mut found: Vec<Neighbor> = s.results.drain().map(|f| f.0).collect();
                found.retain(|c| c.id != node);
                if let Some(best) = found.iter().min_by(|a, b| a.cmp_by_distance(b)) {
                    entry = *best;
                }
                select_neighbors(&self.space, &mut found, self.graph.cap(l), &mut selected);
                {
                    let _lock = lock(&self.graph.locks[node as usize]);
                    self.graph.write(self.graph.block(node, l), &selected);
                }
                for &nb in &selected {
                    self.link(nb, node, l, &mut buf);
                }
            }
        });
        if let Some(mut g) = _guard {
            *g = (node, level);
        }
    }

    /// Adds `node` to `target`'s list on `level`, re-selecting when the list is full.
    fn link(&self, target: u32, node: u32, level: usize, buf: &mut Vec<u32>) {
        let _lock = lock(&self.graph.locks[target as usize]);
        let block = self.graph.block(target, level);
        let cap = self.graph.cap(level);
        let count = block[0].load(Relaxed) as usize;
        if count < cap {
            block[count + 1].store(node, Relaxed);
            block[0].store(count as u32 + 1, Relaxed);
            return;
        }
        let tv = self.space.vector(target);
        let mut candidates: Vec<Neighbor> = block[1..=count]
            .iter()
            .map(|a| a.load(Relaxed))
            .chain(std::iter::once(node))
            .map(|id| Neighbor { id, distance: self.space.distance(tv, id) })
            .collect();
        select_neighbors(&self.space, &mut candidates, cap, buf);
        self.graph.write(block, buf);
    }
}

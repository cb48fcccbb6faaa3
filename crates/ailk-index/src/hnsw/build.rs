//! Parallel HNSW construction. Neighbour lists live in atomic `u32` slots: a node's list is
//! rewritten only under that node's lock, while searches read slots without locks (a reader
//! may see a list mid-update, which costs a little quality, never safety: every slot always
//! holds a valid node id). Levels are drawn up front from the seed, so the layout is fixed
//! before any thread starts, and a one-thread build is deterministic.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Mutex;

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

    fn block(&self, node: u32, level: usize) -> &[AtomicU32] {
        let i = node as usize;
        if level == 0 {
            &self.level0[i * (self.m0 + 1)..(i + 1) * (self.m0 + 1)]
        } else {
            let start = self.upper_offsets[i] as usize + (level - 1) * (self.m + 1);
            &self.upper[start..start + self.m + 1]
        }
    }

    fn cap(&self, level: usize) -> usize {
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
        if out.iter().all(|&kept| space.distance(cv, kept) >= c.distance) {
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
        let (mut entry_id, mut top) = *self.entry.lock().unwrap_or_else(|p| p.into_inner());
        // A node that will become the new entry point holds the entry lock for its whole
        // insertion, so no other new top-level node interleaves (as hnswlib does).
        let _guard = if level > top {
            let g = self.entry.lock().unwrap_or_else(|p| p.into_inner());
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
                    let _lock = self.graph.locks[node as usize].lock().unwrap_or_else(|p| p.into_inner());
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
        let _lock = self.graph.locks[target as usize].lock().unwrap_or_else(|p| p.into_inner());
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

/// The nodes a level-0 walk from `entry` can reach, by breadth-first search over `links`.
pub(crate) fn reachable<L: Links>(links: &L, n: usize, entry: u32) -> Vec<bool> {
    let mut seen = vec![false; n];
    let mut queue = std::collections::VecDeque::new();
    if (entry as usize) < n {
        seen[entry as usize] = true;
        queue.push_back(entry);
    }
    let mut buf = Vec::new();
    while let Some(node) = queue.pop_front() {
        buf.clear();
        links.links_into(node, 0, &mut buf);
        for &nb in &buf {
            if let Some(s) = seen.get_mut(nb as usize) {
                if !*s {
                    *s = true;
                    queue.push_back(nb);
                }
            }
        }
    }
    seen
}

/// Rounds of [`Builder::connect_unreachable`] before it gives up (each round links every node
/// still unreachable; an eviction can cut off at most one node per link).
const REPAIR_ROUNDS: usize = 8;

impl Builder<'_> {
    /// Links every node that no level-0 walk from `entry` reaches (back-links pruned by the
    /// neighbour heuristic, races of a parallel build, duplicate vectors) into the graph: each
    /// gets a link from its nearest reachable node with room in its list (else from the
    /// nearest, whose farthest neighbour it replaces and then links to itself). Returns how
    /// many nodes were linked. Deterministic for a given graph.
    pub fn connect_unreachable(&self, entry: u32) -> usize {
        let n = self.graph.levels.len();
        let cap = self.graph.cap(0);
        let mut linked = 0;
        for _ in 0..REPAIR_ROUNDS {
            let mut seen = reachable(&self.graph, n, entry);
            let missing: Vec<u32> = (0..n as u32).filter(|&i| !seen[i as usize]).collect();
            if missing.is_empty() {
                break;
            }
            let mut buf = Vec::new();
            for u in missing {
                if seen[u as usize] {
                    continue;
                }
                let q = self.space.vector(u);
                let oracle = self.space.bind(q);
                let mut found: Vec<Neighbor> = with_scratch(|s| {
                    s.visited.reset(n);
                    let start = Neighbor { id: entry, distance: self.space.distance(q, entry) };
                    search_level(&self.graph, &oracle, start, self.ef_construction, 0, s, &AllRows);
                    s.results.drain().map(|f| f.0).collect()
                });
                found.retain(|c| c.id != u && seen[c.id as usize]);
                found.sort_by(Neighbor::cmp_by_distance);
                let count = |id: u32| self.graph.block(id, 0)[0].load(Relaxed) as usize;
                let Some(target) = found.iter().find(|c| count(c.id) < cap).or(found.first()).map(|c| c.id)
                else {
                    continue;
                };
                let block = self.graph.block(target, 0);
                let used = count(target).min(cap);
                if used < cap {
                    block[used + 1].store(u, Relaxed);
                    block[0].store(used as u32 + 1, Relaxed);
                } else {
                    // Replace the target's farthest neighbour by `u`, and keep that one
                    // reachable through `u` when `u` has room.
                    let tv = self.space.vector(target);
                    let far = (1..=used)
                        .max_by(|&a, &b| {
                            let da = self.space.distance(tv, block[a].load(Relaxed));
                            let db = self.space.distance(tv, block[b].load(Relaxed));
                            da.total_cmp(&db)
                        })
                        .expect("a full list");
                    let evicted = block[far].load(Relaxed);
                    block[far].store(u, Relaxed);
                    let own = self.graph.block(u, 0);
                    let have = count(u).min(cap);
                    buf.clear();
                    self.graph.links_into(u, 0, &mut buf);
                    if have < cap && evicted != u && !buf.contains(&evicted) {
                        own[have + 1].store(evicted, Relaxed);
                        own[0].store(have as u32 + 1, Relaxed);
                    }
                }
                linked += 1;
                // Everything reachable from `u` is reachable now.
                let mut queue = vec![u];
                seen[u as usize] = true;
                while let Some(node) = queue.pop() {
                    buf.clear();
                    self.graph.links_into(node, 0, &mut buf);
                    for &nb in &buf {
                        if !seen[nb as usize] {
                            seen[nb as usize] = true;
                            queue.push(nb);
                        }
                    }
                }
            }
        }
        linked
    }
}

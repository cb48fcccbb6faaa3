//! Post-build repair of the level-0 graph: every node reachable from the entry point, and the
//! entry point reachable from every node. Together they make level 0 one strongly connected
//! component, so a walk that lands anywhere (the descent through the upper levels picks the
//! landing node) can reach every row when its beam is wide enough. Back-links pruned by the
//! neighbour heuristic, races of a parallel build and duplicate vectors each break this.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;

use super::build::Builder;
use super::search::{search_level, with_scratch, Links};
use crate::row_filter::AllRows;
use crate::topk::Neighbor;

/// The nodes a level-0 walk from `entry` can reach, by breadth-first search over `links`.
pub(crate) fn reachable<L: Links>(links: &L, n: usize, entry: u32) -> Vec<bool> {
    let mut seen = vec![false; n];
    let mut queue = VecDeque::new();
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

/// Level-0 predecessors of every node (who links to it), from `links`.
pub(crate) fn predecessors<L: Links>(links: &L, n: usize) -> Vec<Vec<u32>> {
    let mut preds = vec![Vec::new(); n];
    let mut buf = Vec::new();
    for node in 0..n as u32 {
        buf.clear();
        links.links_into(node, 0, &mut buf);
        for &nb in &buf {
            if let Some(p) = preds.get_mut(nb as usize) {
                p.push(node);
            }
        }
    }
    preds
}

/// The nodes from which a level-0 walk can reach `entry` (breadth-first over `preds`,
/// starting at every node already marked in `reaches`).
fn mark_reaching(preds: &[Vec<u32>], reaches: &mut [bool], from: &[u32]) {
    let mut queue: VecDeque<u32> = from.iter().copied().collect();
    while let Some(node) = queue.pop_front() {
        for &p in &preds[node as usize] {
            if !reaches[p as usize] {
                reaches[p as usize] = true;
                queue.push_back(p);
            }
        }
    }
}

/// Nodes outside the entry point's strongly connected level-0 component.
pub(crate) fn stranded<L: Links>(links: &L, n: usize, entry: u32) -> usize {
    if n == 0 {
        return 0;
    }
    let forward = reachable(links, n, entry);
    let mut back = vec![false; n];
    if let Some(b) = back.get_mut(entry as usize) {
        *b = true;
    }
    mark_reaching(&predecessors(links, n), &mut back, &[entry]);
    forward.iter().zip(&back).filter(|(f, b)| !(**f && **b)).count()
}

/// Rounds of [`Builder::repair`] before it gives up (each round links every node still
/// stranded; a replaced link can strand at most one node per repair).
const REPAIR_ROUNDS: usize = 8;

impl Builder<'_> {
    /// Makes level 0 strongly connected around `entry` (see the module doc): links every node
    /// no walk from `entry` reaches into the list of a reachable node near it, and gives every
    /// node that cannot walk back to `entry` a link to a near node that can. Returns how many
    /// links were added or replaced. Deterministic for a given graph.
    pub fn repair(&self, entry: u32) -> usize {
        let n = self.graph.levels.len();
        let mut changed = 0;
        for _ in 0..REPAIR_ROUNDS {
            let round = self.connect_unreachable(entry) + self.connect_to_entry(entry);
            if round == 0 {
                break;
            }
            changed += round;
        }
        if n > 0 && changed > 0 && stranded(&self.graph, n, entry) > 0 {
            tracing::warn!(rows = n, "HNSW repair left rows outside the entry point's component");
        }
        changed
    }

    /// The nearest nodes to `u` a walk from `entry` finds (ef_construction of them), nearest
    /// first, `u` itself left out.
    fn near(&self, u: u32, entry: u32) -> Vec<Neighbor> {
        let n = self.graph.levels.len();
        let q = self.space.vector(u);
        let oracle = self.space.bind(q);
        let mut found: Vec<Neighbor> = with_scratch(|s| {
            s.visited.reset(n);
            let start = Neighbor { id: entry, distance: self.space.distance(q, entry) };
            search_level(&self.graph, &oracle, start, self.ef_construction, 0, s, &AllRows);
            s.results.drain().map(|f| f.0).collect()
        });
        found.retain(|c| c.id != u);
        found.sort_by(Neighbor::cmp_by_distance);
        found
    }

    fn count(&self, id: u32) -> usize {
        (self.graph.block(id, 0)[0].load(Relaxed) as usize).min(self.graph.cap(0))
    }

    fn indegrees(&self, n: usize) -> Vec<u32> {
        let mut indegree = vec![0u32; n];
        let mut buf = Vec::new();
        for node in 0..n as u32 {
            buf.clear();
            self.graph.links_into(node, 0, &mut buf);
            for &nb in &buf {
                if let Some(d) = indegree.get_mut(nb as usize) {
                    *d += 1;
                }
            }
        }
        indegree
    }

    /// Writes `to` into `from`'s level-0 list: appended when there is room, else in place of
    /// the farthest neighbour that another node links to as well (so it keeps a way in).
    /// False when neither is possible.
    fn add_link(&self, from: u32, to: u32, indegree: &mut [u32]) -> bool {
        let block = self.graph.block(from, 0);
        let used = self.count(from);
        if block[1..=used].iter().any(|a| a.load(Relaxed) == to) {
            return false;
        }
        if used < self.graph.cap(0) {
            block[used + 1].store(to, Relaxed);
            block[0].store(used as u32 + 1, Relaxed);
            indegree[to as usize] += 1;
            return true;
        }
        let fv = self.space.vector(from);
        let slot = (1..=used).filter(|&s| indegree[block[s].load(Relaxed) as usize] > 1).max_by(|&a, &b| {
            let da = self.space.distance(fv, block[a].load(Relaxed));
            let db = self.space.distance(fv, block[b].load(Relaxed));
            da.total_cmp(&db)
        });
        match slot {
            Some(s) => {
                indegree[block[s].load(Relaxed) as usize] -= 1;
                block[s].store(to, Relaxed);
                indegree[to as usize] += 1;
                true
            }
            None => false,
        }
    }

    /// Links every node no level-0 walk from `entry` reaches from its nearest reachable node
    /// that can take it (else from any reachable node with room). Returns the links made.
    fn connect_unreachable(&self, entry: u32) -> usize {
        let n = self.graph.levels.len();
        let mut seen = reachable(&self.graph, n, entry);
        let mut indegree = self.indegrees(n);
        let mut linked = 0;
        let mut buf = Vec::new();
        for u in 0..n as u32 {
            if seen[u as usize] {
                continue;
            }
            let found = self.near(u, entry);
            let from = found
                .iter()
                .map(|c| c.id)
                .filter(|&c| seen[c as usize])
                .find(|&c| self.add_link(c, u, &mut indegree))
                .or_else(|| {
                    (0..n as u32).find(|&c| {
                        seen[c as usize]
                            && c != u
                            && self.count(c) < self.graph.cap(0)
                            && self.add_link(c, u, &mut indegree)
                    })
                });
            if from.is_none() {
                continue;
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
        linked
    }

    /// Gives every node that cannot walk back to `entry` a link to its nearest node that can.
    /// Returns the links made.
    fn connect_to_entry(&self, entry: u32) -> usize {
        let n = self.graph.levels.len();
        if n == 0 {
            return 0;
        }
        let preds = predecessors(&self.graph, n);
        let mut reaches = vec![false; n];
        reaches[entry as usize] = true;
        mark_reaching(&preds, &mut reaches, &[entry]);
        let mut indegree = self.indegrees(n);
        let mut linked = 0;
        for u in 0..n as u32 {
            if reaches[u as usize] {
                continue;
            }
            let found = self.near(u, entry);
            let to = found
                .iter()
                .map(|c| c.id)
                .filter(|&c| reaches[c as usize])
                .chain(std::iter::once(entry))
                .find(|&c| c != u && self.add_link(u, c, &mut indegree));
            if to.is_none() {
                continue;
            }
            linked += 1;
            // `u` and every node that walks to it reach `entry` now.
            reaches[u as usize] = true;
            mark_reaching(&preds, &mut reaches, &[u]);
        }
        linked
    }
}

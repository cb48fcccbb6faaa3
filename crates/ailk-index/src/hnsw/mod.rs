//! HNSW (hierarchical navigable small world) graphs: parallel build, allocation-free search,
//! and storage as AILK sub-sections that a freshly opened shard searches in place.

mod build;
mod repair;
mod search;

use std::sync::{Arc, Mutex};

use ailk_format::sync::lock;
use ailk_format::{
    HnswGraph, HnswGraphRef, HnswMeta, Payload, RawVectors, Section, SectionBuilder, SubsectionKind,
    TypedArray, VectorData,
};

use crate::error::{IndexError, Result};
use crate::flat::{check_query, check_vectors};
use crate::kernels::{normalize, DistanceFn};
use crate::knobs::SectionVectors;
use crate::row_filter::{Accept, AllRows, RowFilter};
use crate::sq8::{Sq8Codes, Sq8Query};
use crate::topk::Neighbor;
use crate::Metric;
use build::{draw_levels, BuildGraph, Builder};
use search::{walk, with_scratch, Links, Oracle, Space};

/// Build and search parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswParams {
    /// Neighbours per node on upper levels; level 0 keeps `2 × m`.
    pub m: usize,
    /// Candidate list size while building.
    pub ef_construction: usize,
    /// Default candidate list size while searching (raised to `k` when smaller).
    pub ef_search: usize,
    /// Seed of the level generator.
    pub seed: u64,
    /// Build threads: 0 = the current rayon pool, 1 = serial and deterministic, n = a pool of n.
    pub threads: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams { m: 16, ef_construction: 200, ef_search: 64, seed: 0x5eed, threads: 0 }
    }
}

impl HnswParams {
    fn validate(&self) -> Result<()> {
        if !(2..=2048).contains(&self.m) || self.ef_construction == 0 || self.ef_search == 0 {
            return Err(IndexError::InvalidParams(format!(
                "m must be in 2..=2048 and ef_construction, ef_search at least 1 (got {self:?})"
            )));
        }
        Ok(())
    }
}

/// A frozen graph: the exact arrays of the AILK `HnswGraph` payload.
#[derive(Debug, Clone)]
struct Frozen {
    m: usize,
    m0: usize,
    levels: TypedArray<u8>,
    level0: TypedArray<u32>,
    upper_offsets: TypedArray<u32>,
    upper: TypedArray<u32>,
}

/// Borrowed slices of a [`Frozen`] graph, taken once per query (no per-access casts).
struct FrozenView<'a> {
    m: usize,
    m0: usize,
    level0: &'a [u32],
    upper_offsets: &'a [u32],
    upper: &'a [u32],
}

impl Links for FrozenView<'_> {
    #[inline(always)]
    fn links_into(&self, node: u32, level: usize, out: &mut Vec<u32>) {
        let i = node as usize;
        let block = if level == 0 {
            &self.level0[i * (self.m0 + 1)..(i + 1) * (self.m0 + 1)]
        } else {
            let s = self.upper_offsets[i] as usize + (level - 1) * (self.m + 1);
            &self.upper[s..s + self.m + 1]
        };
        out.extend_from_slice(&block[1..=block[0] as usize]);
    }

    #[inline(always)]
    fn prefetch_links(&self, node: u32, level: usize) {
        if level == 0 {
            if let Some(block) = self.level0.get(node as usize * (self.m0 + 1)..) {
                crate::kernels::prefetch(block);
            }
        }
    }
}

/// How a search measures distances while it walks the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Traversal {
    /// Full-precision `f32` distances all the way.
    Exact,
    /// SQ8 codes ([`crate::sq8`]) during the walk, a quarter of the bytes per node; the walk's
    /// `ef` candidates are then re-ranked with the exact vectors.
    #[default]
    Sq8,
}

/// Approximate distances from a bound query over a shard's SQ8 codes.
struct Sq8Oracle<'a> {
    codes: &'a Sq8Codes,
    query: Sq8Query,
    metric: Metric,
}

impl Oracle for Sq8Oracle<'_> {
    #[inline(always)]
    fn distance(&self, id: u32) -> f32 {
        self.codes.distance(self.metric, &self.query, id)
    }

    #[inline(always)]
    fn prefetch(&self, id: u32) {
        self.codes.prefetch(id);
    }
}

/// An HNSW index over one shard's vectors (row ids are positions in the shard).
#[derive(Debug, Clone)]
pub struct HnswIndex {
    dim: usize,
    metric: Metric,
    params: HnswParams,
    vectors: TypedArray<f32>,
    graph: Frozen,
    entry_point: u32,
    max_level: usize,
    /// Codes of the [`Traversal::Sq8`] walk (`None`: exact walks).
    sq8: Option<Arc<Sq8Codes>>,
}

impl HnswIndex {
    /// Builds an index over `vectors` (row-major, `dim` wide). With [`Metric::Cosine`] the
    /// stored vectors are normalized (queries are normalized at search time).
    pub fn build(vectors: &[f32], dim: usize, metric: Metric, params: HnswParams) -> Result<Self> {
        params.validate()?;
        let n = check_vectors(vectors, dim)?;
        if n == 0 {
            return Err(IndexError::EmptyIndex);
        }
        if n > u32::MAX as usize {
            return Err(IndexError::InvalidParams(format!("{n} rows exceed a shard's u32 row ids")));
        }
        let stored = TypedArray::from_fill(vectors.len(), |dst| {
            dst.copy_from_slice(vectors);
            if metric == Metric::Cosine {
                dst.chunks_exact_mut(dim).for_each(normalize);
            }
        });
        let levels = draw_levels(n, params.m, params.seed);
        let entry = levels.iter().position(|&l| l == levels[0]).unwrap_or(0) as u32;
        let builder = Builder {
            space: Space { vectors: &stored, dim, dist: DistanceFn::new(metric) },
            graph: BuildGraph::new(levels, params.m),
            ef_construction: params.ef_construction.max(params.m),
            entry: Mutex::new((entry, 0)),
        };
        *lock(&builder.entry) = (0, usize::from(builder.graph.levels[0]));
        match params.threads {
            0 => builder.run(false),
            1 => builder.run(true),
            t => rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| IndexError::InvalidParams(format!("thread pool: {e}")))?
                .install(|| builder.run(false)),
        }
        let (entry_point, max_level) = *lock(&builder.entry);
        let linked = builder.repair(entry_point);
        if linked > 0 {
            tracing::debug!(rows = n, linked, "linked stranded nodes into the graph");
        }
        let g = builder.graph;
        let freeze = |atoms: &[std::sync::atomic::AtomicU32]| {
            TypedArray::from_fill(atoms.len(), |dst| {
                for (d, a) in dst.iter_mut().zip(atoms) {
                    *d = a.load(std::sync::atomic::Ordering::Relaxed);
                }
            })
        };
        let graph = Frozen {
            m: g.m,
            m0: g.m0,
            level0: freeze(&g.level0),
            upper: freeze(&g.upper),
            upper_offsets: TypedArray::from_slice(&g.upper_offsets),
            levels: TypedArray::from_slice(&g.levels),
        };
        let sq8 = Some(Arc::new(Sq8Codes::encode(&stored, dim)));
        Ok(HnswIndex { dim, metric, params, vectors: stored, graph, entry_point, max_level, sq8 })
    }

    /// How many rows lie outside the entry point's strongly connected level-0 component: rows
    /// no walk from the entry point reaches, or from which no walk returns to it (a search
    /// landing there misses rows however wide its beam). Zero for every graph this crate builds.
    pub fn unreachable_rows(&self) -> usize {
        let view = FrozenView {
            m: self.graph.m,
            m0: self.graph.m0,
            level0: &self.graph.level0,
            upper_offsets: &self.graph.upper_offsets,
            upper: &self.graph.upper,
        };
        repair::stranded(&view, self.len(), self.entry_point)
    }

    /// How searches walk the graph: [`Traversal::Sq8`] (the default) or [`Traversal::Exact`].
    pub fn traversal(&self) -> Traversal {
        if self.sq8.is_some() {
            Traversal::Sq8
        } else {
            Traversal::Exact
        }
    }

    /// Chooses how searches walk the graph; switching to SQ8 encodes the vectors (one pass).
    pub fn set_traversal(&mut self, traversal: Traversal) {
        match traversal {
            Traversal::Exact => self.sq8 = None,
            Traversal::Sq8 if self.sq8.is_none() => {
                self.sq8 = Some(Arc::new(Sq8Codes::encode(&self.vectors, self.dim)))
            }
            Traversal::Sq8 => {}
        }
    }

    /// Bytes this index holds in memory beyond what it views in place (the SQ8 codes).
    pub fn owned_bytes(&self) -> usize {
        self.sq8.as_ref().map_or(0, |c| c.memory_bytes())
    }

    /// Number of indexed rows.
    pub fn len(&self) -> usize {
        self.vectors.len() / self.dim
    }

    /// Whether the index holds no rows (never true for a built or loaded index).
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The metric searched by.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The parameters it was built with.
    pub fn params(&self) -> HnswParams {
        self.params
    }

    /// The stored (for cosine: normalized) vectors.
    pub fn vectors(&self) -> &[f32] {
        &self.vectors
    }

    /// The `k` approximate nearest rows to `query`, nearest first, searching with candidate
    /// list `ef` (at least `k`; `None` = the default `ef_search`).
    pub fn search(&self, query: &[f32], k: usize, ef: Option<usize>) -> Result<Vec<Neighbor>> {
        self.search_with(query, k, ef, &AllRows)
    }

    /// [`Self::search`] returning only rows of `allowed`: the walk goes through every node
    /// but keeps the `ef` nearest allowed ones (fewer than `k` when the walk ends before
    /// meeting `k` allowed rows; widen `ef` for sparse filters).
    pub fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        ef: Option<usize>,
        allowed: &RowFilter,
    ) -> Result<Vec<Neighbor>> {
        self.search_with(query, k, ef, allowed)
    }

    fn search_with<A: Accept>(
        &self,
        query: &[f32],
        k: usize,
        ef: Option<usize>,
        accept: &A,
    ) -> Result<Vec<Neighbor>> {
        check_query(query, self.dim, k)?;
        let mut normalized;
        let q = if self.metric == Metric::Cosine {
            normalized = query.to_vec();
            normalize(&mut normalized);
            &normalized[..]
        } else {
            query
        };
        let view = FrozenView {
            m: self.graph.m,
            m0: self.graph.m0,
            level0: &self.graph.level0,
            upper_offsets: &self.graph.upper_offsets,
            upper: &self.graph.upper,
        };
        let space = Space { vectors: &self.vectors, dim: self.dim, dist: DistanceFn::new(self.metric) };
        let ef = ef.unwrap_or(self.params.ef_search).max(k);
        let start = (self.entry_point, self.max_level);
        let mut out: Vec<Neighbor> = with_scratch(|s| match &self.sq8 {
            Some(codes) => {
                let oracle = Sq8Oracle { codes, query: codes.query(q), metric: self.metric };
                walk(&view, &oracle, s, start, ef, self.len(), accept);
                // Re-rank the walk's candidates exactly.
                s.results
                    .drain()
                    .map(|f| Neighbor { id: f.0.id, distance: space.distance(q, f.0.id) })
                    .collect()
            }
            None => {
                walk(&view, &space.bind(q), s, start, ef, self.len(), accept);
                s.results.drain().map(|f| f.0).collect()
            }
        });
        out.sort_by(Neighbor::cmp_by_distance);
        out.truncate(k);
        Ok(out)
    }

    /// The graph as the AILK `HnswGraph` payload sees it.
    pub fn graph_ref(&self) -> HnswGraphRef<'_> {
        HnswGraphRef {
            meta: HnswMeta {
                node_count: self.len() as u32,
                m: self.graph.m as u32,
                m0: self.graph.m0 as u32,
                ef_construction: self.params.ef_construction as u32,
                entry_point: self.entry_point,
                max_level: self.max_level as u32,
                metric: self.metric,
                seed: self.params.seed,
            },
            levels: &self.graph.levels,
            level0: &self.graph.level0,
            upper_offsets: &self.graph.upper_offsets,
            upper: &self.graph.upper,
        }
    }

    /// Adds this index (its `RawVectors` and `HnswGraph` payloads) to a section under
    /// vector column `column`.
    pub fn add_to_section<'a>(&'a self, section: &mut SectionBuilder<'a>, column: u16) -> Result<()> {
        self.add_to_section_with(section, column, SectionVectors::F32)
    }

    /// [`Self::add_to_section`], the vectors copied into the section or not (`vectors`).
    pub fn add_to_section_with<'a>(
        &'a self,
        section: &mut SectionBuilder<'a>,
        column: u16,
        vectors: SectionVectors,
    ) -> Result<()> {
        if vectors == SectionVectors::F32 {
            section.add(
                SubsectionKind::RawVectors,
                column,
                RawVectors::encode_f32(self.dim as u32, &self.vectors)?,
            );
        }
        section.add(SubsectionKind::HnswGraph, column, self.graph_ref().encode()?);
        Ok(())
    }

    /// Loads the index of vector column `column` from a decoded section, in place.
    pub fn from_section(section: &Section, column: u16) -> Result<Self> {
        let graph = section.payload(SubsectionKind::HnswGraph, column)?;
        let vectors = section.payload(SubsectionKind::RawVectors, column)?;
        Self::from_payloads(&graph, &vectors)
    }

    /// Loads an index from its `HnswGraph` and `RawVectors` payloads without copying the
    /// graph or the vectors: searches read the payload bytes directly.
    pub fn from_payloads(graph: &Payload, vectors: &Payload) -> Result<Self> {
        let raw = RawVectors::decode(vectors)?;
        let VectorData::F32(data) = raw.data else {
            return Err(IndexError::Corrupt("HNSW needs f32 raw vectors".into()));
        };
        Self::from_graph(graph, data, raw.dim as usize)
    }

    /// Loads an index from its `HnswGraph` payload (viewed in place) and its vectors given
    /// apart (`dim` wide, normalized for cosine): a section written with
    /// [`SectionVectors::Parquet`], the vectors read from the data file's own column.
    pub fn from_graph(graph: &Payload, data: TypedArray<f32>, dim: usize) -> Result<Self> {
        let g = HnswGraph::decode(graph)?;
        let meta = g.meta;
        let rows = data.len().checked_div(dim).unwrap_or(0);
        if dim == 0 || rows * dim != data.len() || rows != meta.node_count as usize || meta.node_count == 0 {
            return Err(IndexError::Corrupt(format!(
                "graph has {} nodes but {} values of dimension {dim} are given",
                meta.node_count,
                data.len()
            )));
        }
        let params = HnswParams {
            m: meta.m as usize,
            ef_construction: meta.ef_construction as usize,
            seed: meta.seed,
            ..HnswParams::default()
        };
        let sq8 = Some(Arc::new(Sq8Codes::encode(&data, dim)));
        Ok(HnswIndex {
            dim,
            metric: meta.metric,
            params,
            vectors: data,
            graph: Frozen {
                m: meta.m as usize,
                m0: meta.m0 as usize,
                levels: g.levels,
                level0: g.level0,
                upper_offsets: g.upper_offsets,
                upper: g.upper,
            },
            entry_point: meta.entry_point,
            max_level: meta.max_level as usize,
            sq8,
        })
    }

    /// Whether this index's vectors and graph are views of `section`'s bytes (loaded in place).
    pub fn shares_bytes_with(&self, payload: &Payload) -> bool {
        let p = payload.bytes().as_ptr_range();
        let v = self.vectors.bytes().as_ptr_range();
        let g = self.graph.level0.bytes().as_ptr_range();
        (p.start <= v.start && v.end <= p.end) || (p.start <= g.start && g.end <= p.end)
    }
}

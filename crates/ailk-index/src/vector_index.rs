//! [`VectorIndex`]: the index type the writer and the search share — an enum with one variant
//! per index kind (HNSW, IVF-PQ, flat) whose methods build from vectors, add to an AILK
//! section, load from a section (viewed in place), search with an optional [`RowFilter`] of
//! allowed rows and name their own defaults, so callers never match on the kind.

use std::sync::Arc;

use ailk_format::{RawVectors, Section, SectionBuilder, SubsectionKind, TypedArray, VectorData};

use crate::error::{IndexError, Result};
use crate::flat::{check_query, check_vectors, flat_search};
use crate::hnsw::{HnswIndex, HnswParams};
use crate::ivfpq::{IvfPqCodebook, IvfPqConfig, IvfPqIndex, IvfPqSearch};
use crate::kernels;
use crate::knobs::{QueryParams, SectionVectors, DEFAULT_EF};
use crate::row_filter::RowFilter;
use crate::topk::{Neighbor, TopK};
use crate::Metric;

/// What index to build over a block of vectors.
#[derive(Debug, Clone)]
pub enum IndexSpec {
    /// An HNSW graph (raw vectors kept: the graph searches them).
    Hnsw(HnswParams),
    /// IVF-PQ with a codebook trained on these vectors; raw vectors kept for refine.
    IvfPq(IvfPqConfig),
    /// IVF-PQ with an existing (table-wide) codebook: assign and encode only.
    IvfPqShared(Arc<IvfPqCodebook>),
    /// No index: raw vectors only, searched exactly.
    Flat,
}

/// Raw vectors of a flat index: viewed in a section, or owned (read from Parquet).
#[derive(Debug, Clone)]
pub enum FlatVectors {
    /// Viewed in place in a loaded section.
    Section(TypedArray<f32>),
    /// Owned values.
    Owned(Vec<f32>),
}

impl std::ops::Deref for FlatVectors {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        match self {
            FlatVectors::Section(v) => v,
            FlatVectors::Owned(v) => v,
        }
    }
}

/// One vector column's index over one shard: one variant per index kind.
#[derive(Debug, Clone)]
pub enum VectorIndex {
    /// HNSW graph over raw vectors.
    Hnsw(HnswIndex),
    /// IVF-PQ codes (raw vectors kept for refine when present).
    IvfPq(IvfPqIndex),
    /// Raw vectors only, searched exactly.
    Flat {
        /// Row-major values (unit length for cosine).
        vectors: FlatVectors,
        /// Dimension.
        dim: usize,
        /// Distance.
        metric: Metric,
    },
}

impl VectorIndex {
    /// Builds `spec` over `vectors` (row-major, `dim` wide, unit length for cosine).
    pub fn build(vectors: &[f32], dim: usize, metric: Metric, spec: &IndexSpec) -> Result<Self> {
        Ok(match spec {
            IndexSpec::Hnsw(p) => VectorIndex::Hnsw(HnswIndex::build(vectors, dim, metric, *p)?),
            IndexSpec::IvfPq(cfg) => VectorIndex::IvfPq(IvfPqIndex::build(vectors, dim, metric, cfg, true)?),
            IndexSpec::IvfPqShared(book) => {
                VectorIndex::IvfPq(IvfPqIndex::build_with_codebook(vectors, book.clone(), true)?)
            }
            IndexSpec::Flat => Self::flat(vectors.to_vec(), dim, metric)?,
        })
    }

    /// A flat index over owned `vectors` (checked for shape and finiteness).
    pub fn flat(vectors: Vec<f32>, dim: usize, metric: Metric) -> Result<Self> {
        check_vectors(&vectors, dim)?;
        Ok(VectorIndex::Flat { vectors: FlatVectors::Owned(vectors), dim, metric })
    }

    /// Loads vector column `column` of a decoded section: HNSW or IVF-PQ when the section has
    /// one, else its raw vectors as a flat index. A section with neither is `Corrupt`.
    pub fn from_section(section: &Section, column: u16) -> Result<Self> {
        Self::from_section_with(section, column, None)
    }

    /// Whether `column`'s index in `section` needs its vectors given apart: a graph or lists
    /// without `RawVectors`, written with [`SectionVectors::Parquet`] (the vectors are the data
    /// file's own Parquet column).
    pub fn needs_vectors(section: &Section, column: u16) -> bool {
        let dir = section.directory();
        let indexed = dir.find(SubsectionKind::HnswGraph, column).is_some()
            || dir.find(SubsectionKind::IvfLists, column).is_some();
        indexed && dir.find(SubsectionKind::RawVectors, column).is_none()
    }

    /// [`Self::from_section`] with `vectors` (row-major, normalized for cosine) given apart
    /// for an index whose section holds none ([`Self::needs_vectors`]); ignored otherwise.
    pub fn from_section_with(
        section: &Section,
        column: u16,
        vectors: Option<TypedArray<f32>>,
    ) -> Result<Self> {
        // A kind whose companion is missing (a graph without its vectors, lists without their
        // centroids) is an incomplete section: corrupt, not "not found".
        Self::load(section, column, vectors).map_err(|e| match e {
            IndexError::Format(f @ ailk_format::FormatError::SubsectionNotFound { .. }) => {
                IndexError::Corrupt(format!("incomplete section: {f}"))
            }
            e => e,
        })
    }

    fn load(section: &Section, column: u16, given: Option<TypedArray<f32>>) -> Result<Self> {
        let given = given.filter(|_| Self::needs_vectors(section, column));
        let dir = section.directory();
        let col = dir
            .columns
            .get(usize::from(column))
            .ok_or_else(|| IndexError::Corrupt(format!("no vector column {column} in the section")))?;
        if dir.find(SubsectionKind::HnswGraph, column).is_some() {
            let index = match given {
                Some(v) => HnswIndex::from_graph(
                    &section.payload(SubsectionKind::HnswGraph, column)?,
                    v,
                    col.dim as usize,
                )?,
                None => HnswIndex::from_section(section, column)?,
            };
            if index.metric() != col.metric
                || index.dim() != col.dim as usize
                || index.len() as u64 != dir.row_count
            {
                return Err(IndexError::Corrupt(format!(
                    "HNSW graph ({:?}, {}-d, {} nodes) does not match its column ({:?}, {}-d, {} rows)",
                    index.metric(),
                    index.dim(),
                    index.len(),
                    col.metric,
                    col.dim,
                    dir.row_count
                )));
            }
            return Ok(VectorIndex::Hnsw(index));
        }
        if dir.find(SubsectionKind::IvfLists, column).is_some() {
            let mut index = IvfPqIndex::from_section(section, column)?;
            if let Some(v) = given {
                index.set_vectors(v)?;
            }
            return Ok(VectorIndex::IvfPq(index));
        }
        if dir.find(SubsectionKind::RawVectors, column).is_some() {
            let raw = RawVectors::decode(&section.payload(SubsectionKind::RawVectors, column)?)?;
            let VectorData::F32(values) = raw.data else {
                return Err(IndexError::Corrupt("flat search needs f32 raw vectors".into()));
            };
            if raw.dim != col.dim {
                return Err(IndexError::Corrupt(format!(
                    "raw vectors are {}-d, the column {}-d",
                    raw.dim, col.dim
                )));
            }
            return Ok(VectorIndex::Flat {
                vectors: FlatVectors::Section(values),
                dim: col.dim as usize,
                metric: col.metric,
            });
        }
        Err(IndexError::Corrupt(format!("the section has no index for vector column {column}")))
    }

    /// Adds this index's payloads to a section under vector column `column`.
    pub fn add_to_section<'a>(&'a self, section: &mut SectionBuilder<'a>, column: u16) -> Result<()> {
        self.add_to_section_with(section, column, SectionVectors::F32)
    }

    /// [`Self::add_to_section`], an index's vectors copied into the section or not (a flat
    /// index, which is nothing but its vectors, always copies them).
    pub fn add_to_section_with<'a>(
        &'a self,
        section: &mut SectionBuilder<'a>,
        column: u16,
        vectors: SectionVectors,
    ) -> Result<()> {
        match self {
            VectorIndex::Hnsw(h) => h.add_to_section_with(section, column, vectors),
            VectorIndex::IvfPq(ivf) => ivf.add_to_section_with(section, column, vectors),
            VectorIndex::Flat { vectors, dim, .. } => {
                section.add(
                    SubsectionKind::RawVectors,
                    column,
                    RawVectors::encode_f32(*dim as u32, vectors)?,
                );
                Ok(())
            }
        }
    }

    /// Estimated bytes the index holds in memory (vectors, graph or codes).
    pub fn memory_bytes(&self) -> u64 {
        let vectors = self.vectors().map_or(0, |v| v.len() as u64 * 4);
        match self {
            // Level 0 holds up to 2·m neighbours and a count per node; upper levels are few.
            VectorIndex::Hnsw(h) => {
                vectors + h.len() as u64 * (2 * h.params().m as u64 + 1) * 4 + h.owned_bytes() as u64
            }
            VectorIndex::IvfPq(ivf) => vectors + ivf.len() as u64 * (ivf.codebook().pq.m as u64 + 4),
            VectorIndex::Flat { .. } => vectors,
        }
    }

    /// Number of indexed rows.
    pub fn rows(&self) -> usize {
        match self {
            VectorIndex::Hnsw(h) => h.len(),
            VectorIndex::IvfPq(ivf) => ivf.len(),
            VectorIndex::Flat { vectors, dim, .. } => vectors.len() / (*dim).max(1),
        }
    }

    /// The beam width a query without `ef` uses: the graph's `ef_search`, else
    /// [`DEFAULT_EF`] (what a filtered search widens by the inverse selectivity).
    pub fn default_ef(&self) -> usize {
        match self {
            VectorIndex::Hnsw(h) => h.params().ef_search,
            VectorIndex::IvfPq(_) | VectorIndex::Flat { .. } => DEFAULT_EF,
        }
    }

    /// Whether queries scan every row (no graph or codes).
    pub fn is_flat(&self) -> bool {
        matches!(self, VectorIndex::Flat { .. })
    }

    /// Dimension of the indexed vectors.
    pub fn dim(&self) -> usize {
        match self {
            VectorIndex::Hnsw(h) => h.dim(),
            VectorIndex::IvfPq(ivf) => ivf.codebook().dim,
            VectorIndex::Flat { dim, .. } => *dim,
        }
    }

    /// The distance the index ranks by.
    pub fn metric(&self) -> Metric {
        match self {
            VectorIndex::Hnsw(h) => h.metric(),
            VectorIndex::IvfPq(ivf) => ivf.codebook().metric,
            VectorIndex::Flat { metric, .. } => *metric,
        }
    }

    /// The raw vectors, when the index keeps them.
    pub fn vectors(&self) -> Option<&[f32]> {
        match self {
            VectorIndex::Hnsw(h) => Some(h.vectors()),
            VectorIndex::IvfPq(ivf) => ivf.vectors(),
            VectorIndex::Flat { vectors, .. } => Some(vectors),
        }
    }

    /// The `k` nearest rows to `query` (unit length for cosine), nearest first, through the
    /// index. With `allowed`, only those rows come back: HNSW walks through the other nodes
    /// without returning them, IVF-PQ skips their codes, flat scans only them; when the walk
    /// or the probed lists meet fewer than `min(k, allowed)` rows, the allowed rows are
    /// scanned exactly instead, so a filtered search always returns `min(k, allowed)` rows.
    /// Widen `ef` / `nprobe` for sparse filters (the search session does).
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        params: &QueryParams,
        allowed: Option<&RowFilter>,
    ) -> Result<Vec<Neighbor>> {
        let hits = match self {
            VectorIndex::Hnsw(h) => match allowed {
                Some(rows) => h.search_filtered(query, k, params.ef, rows)?,
                None => h.search(query, k, params.ef)?,
            },
            VectorIndex::IvfPq(ivf) => {
                // Refine needs kept raw vectors; without them rank by codes only.
                let refine = if ivf.vectors().is_some() { params.refine_factor.max(1) } else { 1 };
                let knobs = IvfPqSearch { nprobe: params.nprobe.max(1), refine_factor: refine };
                ivf.search_filtered(query, k, &knobs, allowed)?
            }
            VectorIndex::Flat { vectors, dim, metric } => match allowed {
                Some(rows) => return self.search_exact(query, k, rows),
                None => flat_search(vectors, *dim, *metric, query, k)?,
            },
        };
        match allowed {
            Some(rows) if hits.len() < k.min(rows.len()) => self.search_exact(query, k, rows),
            _ => Ok(hits),
        }
    }

    /// The `k` nearest of the `rows` allowed, scored exactly against the raw vectors (the
    /// fast path for sparse filters: cost linear in allowed rows, not in the shard).
    pub fn search_exact(&self, query: &[f32], k: usize, rows: &RowFilter) -> Result<Vec<Neighbor>> {
        let dim = self.dim();
        check_query(query, dim, k)?;
        let raw = self.vectors().ok_or_else(|| {
            IndexError::InvalidParams("a filtered search needs the shard's raw vectors".into())
        })?;
        let mut top = TopK::new(k);
        for r in rows.iter() {
            let Some(v) = raw.get(r as usize * dim..(r as usize + 1) * dim) else { break };
            top.push(r, kernels::distance(self.metric(), query, v));
        }
        Ok(top.into_sorted_vec())
    }
}

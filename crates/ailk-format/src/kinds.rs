//! Typed payloads of every sub-section kind, each a writer/reader pair over [`Payload`].
//!
//! Decoding validates every count and every id, so index code built on these views can
//! index arrays without further checks and never reads out of bounds.

use crate::aligned::TypedArray;
use crate::bytes_le::{LeReader, LeWrite};
use crate::error::{FormatError, Result};
use crate::payload::{Payload, PayloadBuilder};
use crate::types::{ElementType, Metric};

fn bad(kind: &str, msg: impl std::fmt::Display) -> FormatError {
    FormatError::layout(format!("{kind}: {msg}"))
}

fn product(kind: &str, factors: &[u64]) -> Result<usize> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(f))
        .and_then(|p| usize::try_from(p).ok())
        .ok_or_else(|| bad(kind, "size overflows"))
}

fn expect_len(kind: &str, what: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(bad(kind, format!("{what} has {got} elements, expected {want}")));
    }
    Ok(())
}

/// Stored vectors of a column, row-major, in file row order.
#[derive(Debug, Clone)]
pub struct RawVectors {
    /// Number of rows.
    pub rows: u64,
    /// Vector dimension.
    pub dim: u32,
    /// The values, `rows × dim`.
    pub data: VectorData,
}

/// Element storage of [`RawVectors`].
#[derive(Debug, Clone)]
pub enum VectorData {
    /// `f32` values.
    F32(TypedArray<f32>),
    /// `f16` values as raw bits.
    F16(TypedArray<u16>),
}

impl VectorData {
    /// The element type.
    pub fn element(&self) -> ElementType {
        match self {
            VectorData::F32(_) => ElementType::F32,
            VectorData::F16(_) => ElementType::F16,
        }
    }
    fn len(&self) -> usize {
        match self {
            VectorData::F32(a) => a.len(),
            VectorData::F16(a) => a.len(),
        }
    }
}

impl RawVectors {
    const KIND: &'static str = "raw vectors";

    /// Encodes `f32` vectors (`data.len() == rows × dim`).
    pub fn encode_f32(dim: u32, data: &[f32]) -> Result<PayloadBuilder<'_>> {
        Self::builder(dim, data.len(), ElementType::F32).map(|b| b.array(data))
    }

    /// Encodes `f16` vectors given as raw bits.
    pub fn encode_f16(dim: u32, data: &[u16]) -> Result<PayloadBuilder<'_>> {
        Self::builder(dim, data.len(), ElementType::F16).map(|b| b.array(data))
    }

    fn builder<'a>(dim: u32, len: usize, element: ElementType) -> Result<PayloadBuilder<'a>> {
        if dim == 0 || !len.is_multiple_of(dim as usize) {
            return Err(FormatError::InvalidInput(format!("{len} values are not rows of dimension {dim}")));
        }
        let mut meta = Vec::new();
        meta.put_u64((len / dim as usize) as u64);
        meta.put_u32(dim);
        meta.put_u8(element.code());
        Ok(PayloadBuilder::new(meta))
    }

    /// Views a payload as raw vectors.
    pub fn decode(p: &Payload) -> Result<Self> {
        let mut r = LeReader::new(p.meta(), "raw vectors metadata");
        let rows = r.u64()?;
        let dim = r.u32()?;
        let data = match ElementType::from_code(r.u8()?)? {
            ElementType::F32 => VectorData::F32(p.array(0)?),
            ElementType::F16 => VectorData::F16(p.array(0)?),
        };
        if dim == 0 {
            return Err(bad(Self::KIND, "dimension 0"));
        }
        expect_len(Self::KIND, "data", data.len(), product(Self::KIND, &[rows, dim.into()])?)?;
        Ok(RawVectors { rows, dim, data })
    }
}

/// Parameters and shape of a stored HNSW graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswMeta {
    /// Nodes in the graph (one per row).
    pub node_count: u32,
    /// Most neighbours per node on levels ≥ 1.
    pub m: u32,
    /// Most neighbours per node on level 0.
    pub m0: u32,
    /// Candidate list size used while building.
    pub ef_construction: u32,
    /// Node searches start from.
    pub entry_point: u32,
    /// Highest level of any node.
    pub max_level: u32,
    /// Distance the graph was built with.
    pub metric: Metric,
    /// Seed of the level generator.
    pub seed: u64,
}

/// An HNSW graph, viewed in place.
///
/// Level 0 is a dense block of `node_count × (m0 + 1)` `u32` slots: per node, a neighbour
/// count followed by `m0` neighbour slots. Upper levels are sparse: node `i` with level
/// `L = levels[i] ≥ 1` owns `L × (m + 1)` slots of `upper` starting at `upper_offsets[i]`,
/// level `l` (1-based) at `upper_offsets[i] + (l − 1)(m + 1)`, again count then neighbours.
#[derive(Debug, Clone)]
pub struct HnswGraph {
    /// Parameters and shape.
    pub meta: HnswMeta,
    /// Level of each node.
    pub levels: TypedArray<u8>,
    /// Level-0 adjacency, `node_count × (m0 + 1)`.
    pub level0: TypedArray<u32>,
    /// Start of each node's upper-level block in `upper`; `node_count + 1` entries.
    pub upper_offsets: TypedArray<u32>,
    /// Upper-level adjacency blocks.
    pub upper: TypedArray<u32>,
}

/// Borrowed parts of an HNSW graph, for encoding.
#[derive(Debug, Clone, Copy)]
pub struct HnswGraphRef<'a> {
    /// Parameters and shape.
    pub meta: HnswMeta,
    /// Level of each node.
    pub levels: &'a [u8],
    /// Level-0 adjacency.
    pub level0: &'a [u32],
    /// Upper block starts.
    pub upper_offsets: &'a [u32],
    /// Upper-level adjacency.
    pub upper: &'a [u32],
}

impl<'a> HnswGraphRef<'a> {
    const KIND: &'static str = "hnsw graph";

    /// Checks that every count, offset and neighbour id is consistent.
    pub fn validate(&self) -> Result<()> {
        let m = &self.meta;
        let n = m.node_count as usize;
        let k = Self::KIND;
        if m.m == 0 || m.m0 == 0 || m.m > 4096 || m.m0 > 8192 || m.max_level > 64 {
            return Err(bad(k, format!("implausible m={} m0={} max_level={}", m.m, m.m0, m.max_level)));
        }
        expect_len(k, "levels", self.levels.len(), n)?;
        expect_len(k, "level0", self.level0.len(), product(k, &[n as u64, u64::from(m.m0) + 1])?)?;
        expect_len(k, "upper_offsets", self.upper_offsets.len(), n + 1)?;
        if n > 0
            && (m.entry_point as usize >= n || u32::from(self.levels[m.entry_point as usize]) != m.max_level)
        {
            return Err(bad(k, "entry point is not a node of the top level"));
        }
        let check_block = |block: &[u32], cap: u32| -> Result<()> {
            let count = block[0];
            if count > cap || block[1..=count as usize].iter().any(|&id| id >= m.node_count) {
                return Err(bad(k, "neighbour count or id out of range"));
            }
            Ok(())
        };
        for block in self.level0.chunks_exact(m.m0 as usize + 1) {
            check_block(block, m.m0)?;
        }
        let stride = m.m as usize + 1;
        if self.upper_offsets.first().is_some_and(|&o| o != 0) {
            return Err(bad(k, "upper offsets must start at 0"));
        }
        for i in 0..n {
            let level = u32::from(self.levels[i]);
            let (start, end) = (self.upper_offsets[i] as usize, self.upper_offsets[i + 1] as usize);
            if level > m.max_level
                || end < start
                || end - start != level as usize * stride
                || end > self.upper.len()
            {
                return Err(bad(
                    k,
                    format!("node {i}: upper block {start}..{end} does not fit level {level}"),
                ));
            }
            for (l, block) in self.upper[start..end].chunks_exact(stride).enumerate() {
                check_block(block, m.m)?;
                // A level-l neighbour has a level-l block of its own: search follows it there.
                if block[1..=block[0] as usize].iter().any(|&id| (self.levels[id as usize] as usize) <= l) {
                    return Err(bad(k, format!("node {i}: a level-{} neighbour is below that level", l + 1)));
                }
            }
        }
        if self.upper_offsets.last().map(|&o| o as usize) != Some(self.upper.len()) {
            return Err(bad(k, "upper array has trailing slots"));
        }
        Ok(())
    }

    /// Validates and encodes the graph.
    pub fn encode(&self) -> Result<PayloadBuilder<'a>> {
        self.validate().map_err(|e| FormatError::InvalidInput(e.to_string()))?;
        let m = &self.meta;
        let mut meta = Vec::new();
        for v in [m.node_count, m.m, m.m0, m.ef_construction, m.entry_point, m.max_level] {
            meta.put_u32(v);
        }
        meta.put_u8(m.metric.code());
        meta.extend_from_slice(&[0; 7]);
        meta.put_u64(m.seed);
        Ok(PayloadBuilder::new(meta)
            .array(self.levels)
            .array(self.level0)
            .array(self.upper_offsets)
            .array(self.upper))
    }
}

impl HnswGraph {
    /// Views and validates a payload as an HNSW graph.
    pub fn decode(p: &Payload) -> Result<Self> {
        let mut r = LeReader::new(p.meta(), "hnsw metadata");
        let mut f = [0u32; 6];
        for v in &mut f {
            *v = r.u32()?;
        }
        let metric = Metric::from_code(r.u8()?)?;
        r.skip(7)?;
        let seed = r.u64()?;
        let meta = HnswMeta {
            node_count: f[0],
            m: f[1],
            m0: f[2],
            ef_construction: f[3],
            entry_point: f[4],
            max_level: f[5],
            metric,
            seed,
        };
        let g = HnswGraph {
            meta,
            levels: p.array(0)?,
            level0: p.array(1)?,
            upper_offsets: p.array(2)?,
            upper: p.array(3)?,
        };
        g.as_ref().validate()?;
        Ok(g)
    }

    /// Borrowed view (for re-encoding or validation).
    pub fn as_ref(&self) -> HnswGraphRef<'_> {
        HnswGraphRef {
            meta: self.meta,
            levels: &self.levels,
            level0: &self.level0,
            upper_offsets: &self.upper_offsets,
            upper: &self.upper,
        }
    }
}

/// IVF coarse centroids: `nlist × dim` values.
#[derive(Debug, Clone)]
pub struct IvfCentroids {
    /// Number of inverted lists.
    pub nlist: u32,
    /// Dimension.
    pub dim: u32,
    /// Centroids, row-major.
    pub centroids: TypedArray<f32>,
}

impl IvfCentroids {
    const KIND: &'static str = "ivf centroids";

    /// Encodes `nlist` centroids of dimension `dim`.
    pub fn encode(dim: u32, centroids: &[f32]) -> Result<PayloadBuilder<'_>> {
        if dim == 0 || centroids.is_empty() || !centroids.len().is_multiple_of(dim as usize) {
            return Err(FormatError::InvalidInput(format!(
                "{} values are not centroids of dimension {dim}",
                centroids.len()
            )));
        }
        let mut meta = Vec::new();
        meta.put_u32((centroids.len() / dim as usize) as u32);
        meta.put_u32(dim);
        Ok(PayloadBuilder::new(meta).array(centroids))
    }

    /// Views a payload as IVF centroids.
    pub fn decode(p: &Payload) -> Result<Self> {
        let mut r = LeReader::new(p.meta(), "ivf centroid metadata");
        let (nlist, dim) = (r.u32()?, r.u32()?);
        let centroids: TypedArray<f32> = p.array(0)?;
        if nlist == 0 || dim == 0 {
            return Err(bad(Self::KIND, "empty"));
        }
        expect_len(
            Self::KIND,
            "centroids",
            centroids.len(),
            product(Self::KIND, &[nlist.into(), dim.into()])?,
        )?;
        Ok(IvfCentroids { nlist, dim, centroids })
    }
}

/// Product-quantization codebooks: `m` sub-quantizers of `2^nbits` centroids of `dim / m` values.
#[derive(Debug, Clone)]
pub struct PqCodebook {
    /// Full vector dimension.
    pub dim: u32,
    /// Number of sub-quantizers.
    pub m: u32,
    /// Bits per code (4 or 8).
    pub nbits: u32,
    /// Whether codes encode residuals relative to the IVF centroid.
    pub residual: bool,
    /// Codebooks, `m × 2^nbits × (dim / m)`.
    pub codebooks: TypedArray<f32>,
}

impl PqCodebook {
    const KIND: &'static str = "pq codebook";

    fn check(dim: u32, m: u32, nbits: u32, len: usize) -> Result<()> {
        // Version 1.0 defines one byte per sub-quantizer code: nbits is 8.
        if m == 0 || dim == 0 || !dim.is_multiple_of(m) || nbits != 8 {
            return Err(bad(Self::KIND, format!("dim {dim}, m {m}, nbits {nbits} do not fit")));
        }
        expect_len(Self::KIND, "codebooks", len, product(Self::KIND, &[1u64 << nbits, dim.into()])?)
    }

    /// Encodes codebooks.
    pub fn encode(
        dim: u32,
        m: u32,
        nbits: u32,
        residual: bool,
        codebooks: &[f32],
    ) -> Result<PayloadBuilder<'_>> {
        Self::check(dim, m, nbits, codebooks.len()).map_err(|e| FormatError::InvalidInput(e.to_string()))?;
        let mut meta = Vec::new();
        for v in [dim, m, nbits] {
            meta.put_u32(v);
        }
        meta.put_u8(u8::from(residual));
        Ok(PayloadBuilder::new(meta).array(codebooks))
    }

    /// Views a payload as PQ codebooks.
    pub fn decode(p: &Payload) -> Result<Self> {
        let mut r = LeReader::new(p.meta(), "pq metadata");
        let (dim, m, nbits, residual) = (r.u32()?, r.u32()?, r.u32()?, r.u8()?);
        if residual > 1 {
            return Err(bad(Self::KIND, format!("residual flag {residual}")));
        }
        let residual = residual == 1;
        let codebooks: TypedArray<f32> = p.array(0)?;
        Self::check(dim, m, nbits, codebooks.len())?;
        Ok(PqCodebook { dim, m, nbits, residual, codebooks })
    }
}

/// IVF inverted lists: list `l` holds entries `offsets[l]..offsets[l + 1]` of `codes`
/// (`code_size` bytes each) and `row_ids`.
#[derive(Debug, Clone)]
pub struct IvfLists {
    /// Number of lists.
    pub nlist: u32,
    /// Bytes per PQ code.
    pub code_size: u32,
    /// `nlist + 1` list boundaries, starting at 0, non-decreasing.
    pub offsets: TypedArray<u64>,
    /// Codes of all lists, concatenated.
    pub codes: TypedArray<u8>,
    /// Row id (row position in the file) of each entry.
    pub row_ids: TypedArray<u32>,
}

impl IvfLists {
    const KIND: &'static str = "ivf lists";

    fn check(nlist: u32, code_size: u32, offsets: &[u64], codes: usize, row_ids: usize) -> Result<()> {
        let k = Self::KIND;
        if nlist == 0 || code_size == 0 {
            return Err(bad(k, "empty"));
        }
        expect_len(k, "offsets", offsets.len(), nlist as usize + 1)?;
        if offsets[0] != 0 || offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err(bad(k, "offsets must start at 0 and never decrease"));
        }
        let total = offsets[nlist as usize];
        expect_len(k, "row_ids", row_ids, usize::try_from(total).map_err(|_| bad(k, "too many entries"))?)?;
        expect_len(k, "codes", codes, product(k, &[total, code_size.into()])?)
    }

    /// Encodes inverted lists.
    pub fn encode<'a>(
        code_size: u32,
        offsets: &'a [u64],
        codes: &'a [u8],
        row_ids: &'a [u32],
    ) -> Result<PayloadBuilder<'a>> {
        let nlist = offsets.len().saturating_sub(1) as u32;
        Self::check(nlist, code_size, offsets, codes.len(), row_ids.len())
            .map_err(|e| FormatError::InvalidInput(e.to_string()))?;
        let mut meta = Vec::new();
        meta.put_u32(nlist);
        meta.put_u32(code_size);
        Ok(PayloadBuilder::new(meta).array(offsets).array(codes).array(row_ids))
    }

    /// Views and validates a payload as inverted lists.
    pub fn decode(p: &Payload) -> Result<Self> {
        let mut r = LeReader::new(p.meta(), "ivf list metadata");
        let (nlist, code_size) = (r.u32()?, r.u32()?);
        let lists =
            IvfLists { nlist, code_size, offsets: p.array(0)?, codes: p.array(1)?, row_ids: p.array(2)? };
        Self::check(nlist, code_size, &lists.offsets, lists.codes.len(), lists.row_ids.len())?;
        Ok(lists)
    }

    /// Row ids and codes of list `l` (`None` past the last list).
    pub fn list(&self, l: usize) -> Option<(&[u32], &[u8])> {
        let (s, e) = (*self.offsets.get(l)? as usize, *self.offsets.get(l + 1)? as usize);
        Some((&self.row_ids[s..e], &self.codes[s * self.code_size as usize..e * self.code_size as usize]))
    }
}

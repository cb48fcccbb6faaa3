//! IVF-PQ: a coarse k-means quantizer splits rows into `nlist` inverted lists; each row is
//! stored as a PQ code of its residual to its list's centroid. A search probes the `nprobe`
//! nearest lists, ranks codes by ADC and optionally re-ranks the best `k × refine` exactly
//! with raw vectors kept in the shard.
//!
//! The trained part (coarse centroids + PQ codebooks) is an [`IvfPqCodebook`], serializable
//! on its own so that later shards only assign and encode.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use ailk_format::{
    AlignedBytes, IvfCentroids, IvfLists, PqCodebook, RawVectors, Section, SectionBuilder, SubsectionKind,
    TypedArray, VectorColumn, VectorData,
};

use crate::error::{IndexError, Result};
use crate::flat::{check_query, check_vectors};
use crate::gemm::{nearest, row_norms};
use crate::kernels::{normalize, DistanceFn};
use crate::kmeans::{train as kmeans_train, KMeansParams};
use crate::pq::{adc, table_rows, ProductQuantizer, TableMaker, KSUB};
use crate::row_filter::RowFilter;
use crate::topk::{Neighbor, TopK};
use crate::Metric;

/// How an IVF-PQ index is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfPqConfig {
    /// Inverted lists (coarse centroids).
    pub nlist: usize,
    /// PQ sub-quantizers (bytes per code); must divide the dimension.
    pub m: usize,
    /// Bits per sub-quantizer code (8).
    pub nbits: u32,
    /// Encode residuals to the list centroid (more accurate) rather than raw vectors.
    pub residual: bool,
    /// k-means iterations (coarse and PQ).
    pub kmeans_iters: usize,
    /// Training sample cap per centroid (FAISS and Lance use 256).
    pub max_points_per_centroid: usize,
    /// Seed of all training randomness.
    pub seed: u64,
}

impl IvfPqConfig {
    /// Parameters chosen from the data size.
    ///
    /// - `nlist ≈ √n` (FAISS's rule of thumb), clamped so every list trains on ≥ 39 points.
    ///   Shards are single files, small next to Lance datasets, where Lance's `n / 8192`
    ///   would leave one list.
    /// - `m` (bytes per code): sub-vectors of 2 values up to 128 dimensions (`m = dim / 2`,
    ///   FAISS's usual `PQ64` for 128-d SIFT), of 4 values above (`m = dim / 4`, e.g. 96
    ///   bytes for 384-d); when `dim` is not divisible, the largest divisor below that. Finer
    ///   than Lance's `dim / 16` so that ranking without refine stays useful (recall@10 ≥ 0.6)
    ///   while codes are still 8–16× smaller than the vectors.
    pub fn for_dataset(n: usize, dim: usize) -> Self {
        let nlist = ((n as f64).sqrt().round() as usize).clamp(1, (n / 39).max(1));
        let dsub = if dim <= 128 { 2 } else { 4 };
        let m = (1..=(dim / dsub).max(1)).rev().find(|m| dim.is_multiple_of(*m)).unwrap_or(1);
        IvfPqConfig {
            nlist,
            m,
            nbits: 8,
            residual: true,
            kmeans_iters: 25,
            max_points_per_centroid: 256,
            seed: 42,
        }
    }

    fn kmeans(&self, k: usize) -> KMeansParams {
        KMeansParams {
            k,
            max_iters: self.kmeans_iters,
            max_points_per_centroid: self.max_points_per_centroid,
            tolerance: 1e-4,
            seed: self.seed,
        }
    }
}

/// Search-time knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfPqSearch {
    /// Lists probed.
    pub nprobe: usize,
    /// Re-rank the best `k × refine_factor` candidates exactly (needs raw vectors); 1 = off.
    pub refine_factor: usize,
}

impl Default for IvfPqSearch {
    fn default() -> Self {
        IvfPqSearch {
            nprobe: crate::knobs::DEFAULT_NPROBE,
            refine_factor: crate::knobs::DEFAULT_REFINE_FACTOR,
        }
    }
}

/// The trained part of IVF-PQ, shareable across shards.
#[derive(Debug, Clone)]
pub struct IvfPqCodebook {
    /// Metric the codebook ranks by.
    pub metric: Metric,
    /// Dimension.
    pub dim: usize,
    /// `nlist × dim` coarse centroids.
    pub centroids: Vec<f32>,
    /// PQ of residuals (or of vectors, without `residual`).
    pub pq: ProductQuantizer,
    /// Whether codes encode residuals.
    pub residual: bool,
    /// For L2 on residuals, per list `l`, sub-quantizer `j`, centroid `c`:
    /// `‖r_jc‖² + 2⟨centroid_l,j, r_jc⟩`, the query-independent part of the ADC table
    /// (FAISS's precomputed tables). Built on first search; `nlist × m × 256` floats.
    precomputed: OnceLock<Vec<f32>>,
    /// Transposed codebooks for fast per-query tables, built on first search.
    tables: OnceLock<TableMaker>,
}

impl PartialEq for IvfPqCodebook {
    fn eq(&self, other: &Self) -> bool {
        (self.metric, self.dim, self.residual) == (other.metric, other.dim, other.residual)
            && self.centroids == other.centroids
            && self.pq == other.pq
    }
}

impl IvfPqCodebook {
    /// Trains coarse centroids and PQ codebooks on `data` (normalized first for cosine).
    pub fn train(data: &[f32], dim: usize, metric: Metric, cfg: &IvfPqConfig) -> Result<Self> {
        let n = check_vectors(data, dim)?;
        ProductQuantizer::check_shape(dim, cfg.m, cfg.nbits)?;
        if cfg.nlist == 0 || cfg.nlist > n {
            return Err(IndexError::InvalidParams(format!("nlist = {} needs 1..={n} rows", cfg.nlist)));
        }
        let prepared = prepare(data, dim, metric);
        let coarse = kmeans_train(&prepared, dim, &cfg.kmeans(cfg.nlist))?;
        let sample = random_rows(&prepared, dim, KSUB * cfg.max_points_per_centroid, cfg.seed);
        let pq_input =
            if cfg.residual { Cow::Owned(residuals(&sample, &coarse.centroids, dim)) } else { sample };
        let pq = ProductQuantizer::train(&pq_input, dim, cfg.m, &cfg.kmeans(KSUB))?;
        Ok(IvfPqCodebook::new(metric, dim, coarse.centroids, pq, cfg.residual))
    }

    /// Assembles a codebook from trained parts.
    pub fn new(
        metric: Metric,
        dim: usize,
        centroids: Vec<f32>,
        pq: ProductQuantizer,
        residual: bool,
    ) -> Self {
        IvfPqCodebook {
            metric,
            dim,
            centroids,
            pq,
            residual,
            precomputed: OnceLock::new(),
            tables: OnceLock::new(),
        }
    }

    /// The query-independent L2 table terms of every list (see the field's doc).
    fn precomputed(&self) -> &[f32] {
        self.precomputed.get_or_init(|| {
            let (m, dsub) = (self.pq.m, self.pq.dsub());
            let norms: Vec<f32> =
                self.pq.codebooks.chunks_exact(dsub).map(|r| r.iter().map(|v| v * v).sum()).collect();
            let mut out = Vec::with_capacity(self.nlist() * m * KSUB);
            let mut table = Vec::with_capacity(m * KSUB);
            for c in self.centroids.chunks_exact(self.dim) {
                self.pq
                    .table_with(c, &mut table, |a, b| 2.0 * a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>());
                out.extend(table.iter().zip(&norms).map(|(t, n)| t + n));
            }
            out
        })
    }

    /// Number of inverted lists.
    pub fn nlist(&self) -> usize {
        self.centroids.len() / self.dim
    }

    /// List and code of each row (rows already normalized for cosine).
    fn encode_prepared(&self, data: &[f32]) -> (Vec<u32>, Vec<u8>) {
        let lists: Vec<u32> =
            nearest(data, &self.centroids, &row_norms(&self.centroids, self.dim), self.dim, false)
                .into_iter()
                .map(|a| a.0)
                .collect();
        let codes = if self.residual {
            // Residuals a block at a time: a full-size copy would double the build's memory.
            const BLOCK: usize = 8192;
            let mut codes = Vec::with_capacity(lists.len() * self.pq.m);
            let mut r = Vec::with_capacity(BLOCK.min(lists.len()) * self.dim);
            for (block, block_lists) in data.chunks(BLOCK * self.dim).zip(lists.chunks(BLOCK)) {
                r.clear();
                r.extend_from_slice(block);
                for (row, &l) in r.chunks_exact_mut(self.dim).zip(block_lists) {
                    let c = &self.centroids[l as usize * self.dim..(l as usize + 1) * self.dim];
                    row.iter_mut().zip(c).for_each(|(x, c)| *x -= c);
                }
                codes.extend(self.pq.encode(&r));
            }
            codes
        } else {
            self.pq.encode(data)
        };
        (lists, codes)
    }

    /// Assigns and encodes `data` with this codebook: the list of each row and its code.
    pub fn encode(&self, data: &[f32]) -> Result<(Vec<u32>, Vec<u8>)> {
        check_vectors(data, self.dim)?;
        Ok(self.encode_prepared(&prepare(data, self.dim, self.metric)))
    }

    /// Adds the codebook's `IvfCentroids` and `PqCodebook` payloads under `column`.
    pub fn add_to_section<'a>(&'a self, section: &mut SectionBuilder<'a>, column: u16) -> Result<()> {
        section.add(
            SubsectionKind::IvfCentroids,
            column,
            IvfCentroids::encode(self.dim as u32, &self.centroids)?,
        );
        section.add(
            SubsectionKind::PqCodebook,
            column,
            PqCodebook::encode(self.dim as u32, self.pq.m as u32, 8, self.residual, &self.pq.codebooks)?,
        );
        Ok(())
    }

    /// The codebook on its own, as a row-less AILK section (what a table keeps in its
    /// metadata directory and every later shard reuses).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut sb = SectionBuilder::new(0);
        let col = sb.column(VectorColumn::summarize(
            -1,
            "codebook",
            self.metric,
            self.dim as u32,
            &self.centroids,
        )?);
        self.add_to_section(&mut sb, col)?;
        Ok(sb.encode()?)
    }

    /// Reads a codebook written by [`IvfPqCodebook::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_section(&Section::decode(AlignedBytes::copy_from(bytes))?, 0)
    }

    /// Reads the codebook of `column` from a section.
    pub fn from_section(section: &Section, column: u16) -> Result<Self> {
        let metric = section
            .directory()
            .columns
            .get(usize::from(column))
            .map(|c| c.metric)
            .ok_or_else(|| IndexError::Corrupt(format!("no vector column {column}")))?;
        let c = IvfCentroids::decode(&section.payload(SubsectionKind::IvfCentroids, column)?)?;
        let p = PqCodebook::decode(&section.payload(SubsectionKind::PqCodebook, column)?)?;
        if p.dim != c.dim || p.nbits != 8 {
            return Err(IndexError::Corrupt("codebook shapes disagree".into()));
        }
        let pq = ProductQuantizer { dim: p.dim as usize, m: p.m as usize, codebooks: p.codebooks.to_vec() };
        Ok(IvfPqCodebook::new(metric, c.dim as usize, c.centroids.to_vec(), pq, p.residual))
    }
}

/// Cosine data is normalized once (a copy); other metrics are used as given (borrowed).
fn prepare(data: &[f32], dim: usize, metric: Metric) -> Cow<'_, [f32]> {
    if metric != Metric::Cosine {
        return Cow::Borrowed(data);
    }
    let mut v = data.to_vec();
    v.chunks_exact_mut(dim).for_each(normalize);
    Cow::Owned(v)
}

/// At most `cap` rows of `data`, drawn uniformly with `seed` (all rows, borrowed, if fewer).
fn random_rows(data: &[f32], dim: usize, cap: usize, seed: u64) -> Cow<'_, [f32]> {
    use rand::SeedableRng;
    let n = data.len() / dim;
    if n <= cap {
        return Cow::Borrowed(data);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x9e37_79b9);
    let mut idx = rand::seq::index::sample(&mut rng, n, cap).into_vec();
    idx.sort_unstable();
    Cow::Owned(idx.iter().flat_map(|&i| data[i * dim..(i + 1) * dim].iter().copied()).collect())
}

fn residuals(data: &[f32], centroids: &[f32], dim: usize) -> Vec<f32> {
    let assign = nearest(data, centroids, &row_norms(centroids, dim), dim, false);
    let mut r = data.to_vec();
    for (row, a) in r.chunks_exact_mut(dim).zip(assign) {
        let c = &centroids[a.0 as usize * dim..(a.0 as usize + 1) * dim];
        row.iter_mut().zip(c).for_each(|(x, c)| *x -= c);
    }
    r
}

thread_local! {
    /// Per-thread query tables of [`IvfPqIndex::search`] (query part, list part).
    static SCRATCH: std::cell::RefCell<(Vec<f32>, Vec<f32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// An IVF-PQ index over one shard.
#[derive(Debug, Clone)]
pub struct IvfPqIndex {
    codebook: Arc<IvfPqCodebook>,
    offsets: TypedArray<u64>,
    codes: TypedArray<u8>,
    row_ids: TypedArray<u32>,
    vectors: Option<TypedArray<f32>>,
    rows: usize,
}

impl IvfPqIndex {
    /// Trains a codebook on `data` and indexes it; keeps raw vectors for refine if asked.
    pub fn build(
        data: &[f32],
        dim: usize,
        metric: Metric,
        cfg: &IvfPqConfig,
        keep_vectors: bool,
    ) -> Result<Self> {
        let codebook = Arc::new(IvfPqCodebook::train(data, dim, metric, cfg)?);
        Self::build_with_codebook(data, codebook, keep_vectors)
    }

    /// Indexes `data` with an existing (shared) codebook: assign and encode only.
    pub fn build_with_codebook(
        data: &[f32],
        codebook: Arc<IvfPqCodebook>,
        keep_vectors: bool,
    ) -> Result<Self> {
        let rows = check_vectors(data, codebook.dim)?;
        if rows == 0 {
            return Err(IndexError::EmptyIndex);
        }
        // Kept vectors are prepared straight into their final aligned storage, which the
        // encoder then reads: no second full-size copy.
        let dim = codebook.dim;
        let vectors = keep_vectors.then(|| {
            TypedArray::from_fill(data.len(), |out: &mut [f32]| {
                out.copy_from_slice(data);
                if codebook.metric == Metric::Cosine {
                    out.chunks_exact_mut(dim).for_each(normalize);
                }
            })
        });
        let prepared = match &vectors {
            Some(v) => Cow::Borrowed(&v[..]),
            None => prepare(data, dim, codebook.metric),
        };
        let (lists, codes) = codebook.encode_prepared(&prepared);
        drop(prepared);
        let nlist = codebook.nlist();
        let m = codebook.pq.m;
        let mut offsets = vec![0u64; nlist + 1];
        lists.iter().for_each(|&l| offsets[l as usize + 1] += 1);
        for i in 0..nlist {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut row_ids = vec![0u32; rows];
        let mut sorted = vec![0u8; rows * m];
        for (row, &l) in lists.iter().enumerate() {
            let at = fill[l as usize] as usize;
            fill[l as usize] += 1;
            row_ids[at] = row as u32;
            sorted[at * m..(at + 1) * m].copy_from_slice(&codes[row * m..(row + 1) * m]);
        }
        Ok(IvfPqIndex {
            codebook,
            offsets: TypedArray::from_slice(&offsets),
            codes: TypedArray::from_slice(&sorted),
            row_ids: TypedArray::from_slice(&row_ids),
            vectors,
            rows,
        })
    }

    /// The codebook in use.
    pub fn codebook(&self) -> &Arc<IvfPqCodebook> {
        &self.codebook
    }

    /// Rows indexed.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no rows are indexed (never true for a built index).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The raw vectors kept for refine (unit length for cosine), if any.
    pub fn vectors(&self) -> Option<&[f32]> {
        self.vectors.as_deref()
    }

    /// The PQ code of each row, in row order (for tests and re-encoding checks).
    pub fn codes_by_row(&self) -> Vec<u8> {
        let m = self.codebook.pq.m;
        let mut out = vec![0u8; self.rows * m];
        for (at, &row) in self.row_ids.iter().enumerate() {
            out[row as usize * m..(row as usize + 1) * m].copy_from_slice(&self.codes[at * m..(at + 1) * m]);
        }
        out
    }

    /// The `k` nearest rows by ADC over `nprobe` lists, re-ranked exactly when
    /// `refine_factor > 1` and raw vectors are kept.
    pub fn search(&self, query: &[f32], k: usize, params: &IvfPqSearch) -> Result<Vec<Neighbor>> {
        self.search_filtered(query, k, params, None)
    }

    /// [`Self::search`] returning only rows of `allowed`: codes of other rows are skipped in
    /// the scan (fewer than `k` come back when the probed lists hold fewer allowed rows;
    /// widen `nprobe` for sparse filters).
    pub fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        params: &IvfPqSearch,
        allowed: Option<&RowFilter>,
    ) -> Result<Vec<Neighbor>> {
        let cb = &*self.codebook;
        check_query(query, cb.dim, k)?;
        let mut q = query.to_vec();
        if cb.metric == Metric::Cosine {
            normalize(&mut q);
        }
        let dist = DistanceFn::new(cb.metric);
        let nlist = cb.nlist();
        // The `nprobe` nearest lists: every centroid's distance, then a partial selection
        // (cheaper than a heap push per centroid when nprobe is small).
        let mut probes: Vec<Neighbor> = cb
            .centroids
            .chunks_exact(cb.dim)
            .enumerate()
            .map(|(l, c)| Neighbor { id: l as u32, distance: dist.eval(&q, c) })
            .collect();
        let nprobe = params.nprobe.clamp(1, nlist);
        if nprobe < probes.len() {
            probes.select_nth_unstable_by(nprobe - 1, Neighbor::cmp_by_distance);
            probes.truncate(nprobe);
        }
        probes.sort_by(Neighbor::cmp_by_distance);
        let want = if params.refine_factor > 1 && self.vectors.is_some() {
            k.saturating_mul(params.refine_factor)
        } else {
            k
        };
        let mut top = TopK::new(want);
        let (m, l2) = (cb.pq.m, cb.metric == Metric::L2);
        // Per-query table. L2 on residuals: ‖q − c − r‖² = ‖q − c‖² + (‖r‖² + 2⟨c, r⟩) − 2⟨q, r⟩,
        // so the list's table = precomputed part + this −2⟨q, r⟩ part, and its bias is the
        // probe distance. Inner product: q·(c + r) = q·c + q·r, one table plus the list bias.
        // The two m × 256 tables are per-thread scratch: allocating (and zeroing) 2 × 64 KB per
        // query would cost as much as scanning a small list.
        SCRATCH.with_borrow_mut(|(table, list_table)| {
            let residual_l2 = cb.residual && l2;
            let maker = cb.tables.get_or_init(|| TableMaker::new(&cb.pq));
            if residual_l2 {
                maker.inner(&q, -2.0, table);
            } else {
                maker.distances(&q, cb.metric, table);
            }
            let precomputed = if residual_l2 { cb.precomputed() } else { &[] };
            for probe in probes {
                let l = probe.id as usize;
                let (start, end) = (self.offsets[l] as usize, self.offsets[l + 1] as usize);
                if start == end {
                    continue;
                }
                let bias = if cb.residual { probe.distance } else { 0.0 };
                let table = if residual_l2 {
                    let pre = &precomputed[l * m * KSUB..(l + 1) * m * KSUB];
                    list_table.resize(m * KSUB, 0.0);
                    crate::kernels::add(pre, table, list_table);
                    &*list_table
                } else {
                    &*table
                };
                let table = table_rows(table);
                let codes = &self.codes[start * m..end * m];
                let ids = &self.row_ids[start..end];
                for (code, &id) in codes.chunks_exact(m).zip(ids) {
                    let d = bias + adc(table, code);
                    if d < top.threshold() && allowed.is_none_or(|a| a.contains(id)) {
                        top.push(id, d);
                    }
                }
            }
        });
        let candidates = top.into_sorted_vec();
        match (&self.vectors, want > k) {
            (Some(v), true) => {
                let mut exact = TopK::new(k);
                for c in candidates {
                    let row = &v[c.id as usize * cb.dim..(c.id as usize + 1) * cb.dim];
                    exact.push(c.id, dist.eval(&q, row));
                }
                Ok(exact.into_sorted_vec())
            }
            _ => Ok(candidates.into_iter().take(k).collect()),
        }
    }

    /// Adds codebook, lists and (if kept) raw vectors to a section under `column`.
    pub fn add_to_section<'a>(&'a self, section: &mut SectionBuilder<'a>, column: u16) -> Result<()> {
        self.add_to_section_with(section, column, crate::knobs::SectionVectors::F32)
    }

    /// [`Self::add_to_section`], raw vectors copied into the section only with
    /// [`crate::knobs::SectionVectors::F32`].
    pub fn add_to_section_with<'a>(
        &'a self,
        section: &mut SectionBuilder<'a>,
        column: u16,
        vectors: crate::knobs::SectionVectors,
    ) -> Result<()> {
        self.codebook.add_to_section(section, column)?;
        section.add(
            SubsectionKind::IvfLists,
            column,
            IvfLists::encode(self.codebook.pq.m as u32, &self.offsets, &self.codes, &self.row_ids)?,
        );
        if let Some(v) = self.vectors.as_ref().filter(|_| vectors == crate::knobs::SectionVectors::F32) {
            section.add(
                SubsectionKind::RawVectors,
                column,
                RawVectors::encode_f32(self.codebook.dim as u32, v)?,
            );
        }
        Ok(())
    }

    /// Gives the index its raw vectors for refine (`rows × dim`, normalized for cosine), read
    /// apart from its section.
    pub fn set_vectors(&mut self, vectors: TypedArray<f32>) -> Result<()> {
        if vectors.len() != self.rows * self.codebook.dim {
            return Err(IndexError::Corrupt(format!(
                "{} values given for {} rows of dimension {}",
                vectors.len(),
                self.rows,
                self.codebook.dim
            )));
        }
        self.vectors = Some(vectors);
        Ok(())
    }

    /// Loads the index of `column` from a section: lists and raw vectors are viewed in place.
    pub fn from_section(section: &Section, column: u16) -> Result<Self> {
        let codebook = Arc::new(IvfPqCodebook::from_section(section, column)?);
        let lists = IvfLists::decode(&section.payload(SubsectionKind::IvfLists, column)?)?;
        let rows = usize::try_from(section.directory().row_count)
            .map_err(|_| IndexError::Corrupt("row count overflows".into()))?;
        if lists.nlist as usize != codebook.nlist() || lists.code_size as usize != codebook.pq.m {
            return Err(IndexError::Corrupt("inverted lists do not match the codebook".into()));
        }
        // Every row exactly once: as many ids as rows, each in range, none twice.
        let mut seen = vec![false; rows];
        let permutation = lists.row_ids.len() == rows
            && lists
                .row_ids
                .iter()
                .all(|&r| seen.get_mut(r as usize).is_some_and(|s| !std::mem::replace(s, true)));
        if !permutation {
            return Err(IndexError::Corrupt(
                "inverted lists do not hold each of the shard's rows once".into(),
            ));
        }
        if codebook.dim != section.directory().columns[usize::from(column)].dim as usize {
            return Err(IndexError::Corrupt("the codebook's dimension is not the column's".into()));
        }
        let vectors = match section.payload(SubsectionKind::RawVectors, column) {
            Ok(p) => match RawVectors::decode(&p)?.data {
                VectorData::F32(v) if v.len() == rows * codebook.dim => Some(v),
                _ => return Err(IndexError::Corrupt("raw vectors do not match the shard".into())),
            },
            Err(_) => None,
        };
        Ok(IvfPqIndex {
            codebook,
            offsets: lists.offsets,
            codes: lists.codes,
            row_ids: lists.row_ids,
            vectors,
            rows,
        })
    }
}

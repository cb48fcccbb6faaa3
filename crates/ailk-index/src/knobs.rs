//! Knobs every index kind shares: where a shard's full-precision vectors live
//! ([`SectionVectors`]), the query-time parameters ([`QueryParams`]) and their one set of
//! defaults, which the search session's parameters use too.

/// Where a shard's index finds its full-precision vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SectionVectors {
    /// An `f32` copy in the AILK section (`RawVectors`): searched in place the moment the
    /// section is read; the file holds the vectors twice.
    #[default]
    F32,
    /// No copy: the index reads the data file's own Parquet vector column when the shard is
    /// opened (walks use SQ8 codes made then, re-ranks the exact values). The lightest file.
    Parquet,
}

/// IVF lists probed per query unless the caller says otherwise (the one default every layer
/// uses: [`QueryParams`], [`crate::IvfPqSearch`], the search session's parameters).
pub const DEFAULT_NPROBE: usize = 32;
/// IVF-PQ candidates re-ranked exactly per result unless the caller says otherwise.
pub const DEFAULT_REFINE_FACTOR: usize = 4;
/// The beam an index without its own default (IVF-PQ, flat) is widened from for a filter.
pub const DEFAULT_EF: usize = 64;

/// Query-time knobs of every index kind (each reads the ones it has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryParams {
    /// HNSW beam width (`None`: the index's default).
    pub ef: Option<usize>,
    /// IVF lists probed.
    pub nprobe: usize,
    /// IVF-PQ candidates re-ranked exactly: `k × refine_factor` (1: no refine).
    pub refine_factor: usize,
}

impl Default for QueryParams {
    fn default() -> Self {
        Self { ef: None, nprobe: DEFAULT_NPROBE, refine_factor: DEFAULT_REFINE_FACTOR }
    }
}

//! How a [`crate::TableWriter`] builds indexes.

use ailk_index::{BlockCode, HnswParams, SectionVectors};

/// Index-building policy of a writer.
#[derive(Debug, Clone, Copy)]
pub struct WritePolicy {
    /// HNSW parameters of `write_batch`, `write_batch_multi`, deferred and idempotent writes.
    pub hnsw: HnswParams,
    /// `write_batch_auto` picks IVF-PQ only for batches of at least this many rows.
    pub auto_min_rows: usize,
    /// ... and only with a CUDA device or at least this many CPU cores.
    pub auto_min_cores: usize,
    /// Whether a data file's section keeps an `f32` copy of its vectors (searched in place) or
    /// none (its index reads the file's own Parquet vector column when opened: a lighter
    /// file). See `docs/benchmarks-engine.md` for what each costs.
    pub section_vectors: SectionVectors,
    /// Whether a file whose rows come clustered by the table's partitions (compaction's
    /// output) also gets partition blocks of compressed codes (AILK 1.1), which let a search
    /// read only the partitions it probes.
    pub partition_blocks: bool,
    /// The codes of those blocks (default: by dimension — 1-bit plus 4-bit codes, format 1.3,
    /// up to 256 rotated coordinates; 1-bit codes alone, format 1.1, above).
    pub block_code: BlockCode,
}

impl Default for WritePolicy {
    fn default() -> Self {
        Self {
            hnsw: HnswParams::default(),
            auto_min_rows: 5_000,
            auto_min_cores: 8,
            section_vectors: SectionVectors::default(),
            partition_blocks: true,
            block_code: BlockCode::default(),
        }
    }
}

impl WritePolicy {
    /// Physical CPU cores (from `sysinfo`), falling back to the logical count.
    pub fn cpu_cores() -> usize {
        sysinfo::System::physical_core_count()
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Whether `write_batch_auto` builds IVF-PQ for a batch of `rows` rows on this machine.
    pub fn prefers_ivf_pq(&self, rows: usize) -> bool {
        let hardware = ailk_index::cuda_available() || Self::cpu_cores() >= self.auto_min_cores;
        hardware && rows >= self.auto_min_rows
    }
}

//! How a [`crate::TableWriter`] builds indexes.

use ailk_index::HnswParams;

/// Index-building policy of a writer.
#[derive(Debug, Clone, Copy)]
pub struct WritePolicy {
    /// HNSW parameters of `write_batch`, `write_batch_multi`, deferred and idempotent writes.
    pub hnsw: HnswParams,
    /// `write_batch_auto` picks IVF-PQ only for batches of at least this many rows.
    pub auto_min_rows: usize,
    /// ... and only with a CUDA device or at least this many CPU cores.
    pub auto_min_cores: usize,
}

impl Default for WritePolicy {
    fn default() -> Self {
        Self { hnsw: HnswParams::default(), auto_min_rows: 5_000, auto_min_cores: 8 }
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

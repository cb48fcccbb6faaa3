//! [`WriteOptions`]: how one write indexes its rows, when, and under which batch id.

use ailk_index::IvfPqConfig;

/// Which index a write gives its file.
#[derive(Debug, Clone, Default)]
pub enum IndexChoice {
    /// An HNSW graph per vector column (the writer's `WritePolicy::hnsw` parameters).
    #[default]
    Hnsw,
    /// IVF-PQ. Synchronous writes train a codebook on the batch (`None`:
    /// `IvfPqConfig::for_dataset`); deferred writes use the table's shared codebook, trained
    /// (with this config when given) by the first build that needs it.
    IvfPq(Option<IvfPqConfig>),
    /// IVF-PQ when a CUDA device or enough CPU cores are present and the batch is large
    /// enough (see `WritePolicy`), HNSW otherwise.
    Auto,
    /// No index: the section holds the raw vectors only and the file is searched exactly
    /// (the `Flat` of `IndexSpec`, `IndexPlan` and `IndexKind`).
    Flat,
}

/// Options of [`crate::TableWriter::write`]; every combination is valid.
///
/// ```
/// # use ailk_writer::{IndexChoice, WriteOptions};
/// let opts = WriteOptions::default().index(IndexChoice::IvfPq(None)).deferred().batch_id("day-7");
/// assert!(opts.deferred);
/// ```
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// The index of the new file.
    pub index: IndexChoice,
    /// Return once the Parquet file is stored and build the index in a background task; the
    /// file is searched exactly until its index lands (see `TableWriter::commit`).
    pub deferred: bool,
    /// Exactly-once tag: a batch id already committed to the table, or already staged by this
    /// writer, makes the write a no-op that returns `None`. A write of an id another clone is
    /// still writing waits for that write's outcome (and takes over if it fails).
    pub batch_id: Option<String>,
}

impl WriteOptions {
    /// Sets the index.
    pub fn index(mut self, index: IndexChoice) -> Self {
        self.index = index;
        self
    }

    /// Builds the index in the background.
    pub fn deferred(mut self) -> Self {
        self.deferred = true;
        self
    }

    /// Tags the write with `id` (exactly-once).
    pub fn batch_id(mut self, id: impl Into<String>) -> Self {
        self.batch_id = Some(id.into());
        self
    }
}

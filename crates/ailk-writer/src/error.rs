//! The error type of `ailk-writer`.

use ailk_format::error_kind::{arrow_error_kind, store_error_kind};
use ailk_format::ErrorKind;

/// Everything that can go wrong while writing to a table. Every variant is raised before any
/// data file becomes visible: a failed write commits nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriterError {
    /// The catalog or commit layer failed (including typed conflicts and stale parents).
    #[error(transparent)]
    Catalog(#[from] ailk_catalog::CatalogError),
    /// Evaluating a filter against the table's files failed.
    #[error(transparent)]
    Search(#[from] ailk_search::SearchError),
    /// Building an index failed.
    #[error(transparent)]
    Index(#[from] ailk_index::IndexError),
    /// Writing or reading a data file failed.
    #[error(transparent)]
    Format(#[from] ailk_format::FormatError),
    /// Arrow rejected a column.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The object store failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// `embeddings.len()` (or the flat values) differ from the batch's row count.
    #[error("column {column}: {embeddings} embeddings for {rows} rows")]
    LengthMismatch {
        /// Vector column.
        column: String,
        /// Rows in the batch.
        rows: usize,
        /// Embeddings given.
        embeddings: usize,
    },
    /// An embedding has the wrong dimension.
    #[error("column {column}: row {row} has {got} values, the column has dimension {expected}")]
    WrongDimension {
        /// Vector column.
        column: String,
        /// Row index in the batch.
        row: usize,
        /// The column's dimension.
        expected: u32,
        /// Values given.
        got: usize,
    },
    /// An embedding of a cosine column is all zeros (its cosine distance is undefined).
    #[error("column {column}: row {row} is a zero vector, which has no cosine distance")]
    ZeroVector {
        /// Vector column.
        column: String,
        /// Row index in the batch.
        row: usize,
    },
    /// An embedding holds NaN or infinity.
    #[error("column {column}: row {row} holds NaN or infinity")]
    NonFinite {
        /// Vector column.
        column: String,
        /// Row index in the batch.
        row: usize,
    },
    /// The table has a vector column the write did not provide, or the write names one the
    /// table does not have.
    #[error("vector column {0}: missing from the write or not in the table")]
    MissingVectorColumn(String),
    /// The batch's columns differ from the table's attribute columns.
    #[error("schema mismatch: {0}")]
    SchemaMismatch(String),
    /// A background index build failed, panicked or was cancelled.
    #[error("index build of {file}: {reason}")]
    BuildFailed {
        /// The data file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// A writer task failed unexpectedly (panicked or was cancelled by the runtime).
    #[error("internal: {0}")]
    Internal(String),
    /// Anything else the caller passed that cannot be written.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A compaction's local spill failed (its directory missing or not writable, disk full).
    #[error("compaction spill: {what}: {source}")]
    Spill {
        /// What the spill was doing.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl WriterError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        use WriterError as W;
        match self {
            W::Catalog(e) => e.kind(),
            W::Index(e) => e.kind(),
            W::Search(e) => e.kind(),
            W::Format(e) => e.kind(),
            W::Store(e) => store_error_kind(e),
            W::BuildFailed { .. } | W::Internal(_) => ErrorKind::Internal,
            W::Arrow(e) => arrow_error_kind(e),
            W::Spill { source, .. } => ailk_format::error_kind::io_error_kind(source),
            W::LengthMismatch { .. }
            | W::WrongDimension { .. }
            | W::NonFinite { .. }
            | W::ZeroVector { .. }
            | W::MissingVectorColumn(_)
            | W::SchemaMismatch(_)
            | W::InvalidInput(_) => ErrorKind::InvalidInput,
        }
    }

    /// Whether retrying the same call may succeed (the wrapped layer's answer).
    pub fn is_retryable(&self) -> bool {
        match self {
            WriterError::Catalog(e) => e.is_retryable(),
            WriterError::Index(e) => e.is_retryable(),
            WriterError::Search(e) => e.is_retryable(),
            WriterError::Format(e) => e.is_retryable(),
            e => e.kind().is_retryable(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = WriterError> = std::result::Result<T, E>;

//! The error type of `ailk-search`.

use ailk_format::error_kind::{arrow_error_kind, parquet_error_kind};
use ailk_format::ErrorKind;

/// Everything that can go wrong while searching a table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The catalog or table metadata layer failed.
    #[error(transparent)]
    Catalog(#[from] ailk_catalog::CatalogError),
    /// The index layer failed.
    #[error(transparent)]
    Index(#[from] ailk_index::IndexError),
    /// The AILK/Parquet file layer failed.
    #[error(transparent)]
    Format(#[from] ailk_format::FormatError),
    /// Reading rows from Parquet failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Building the result batch failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The caller asked for something the table cannot answer.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A data file does not hold what its metadata says (rows missing on fetch, ...).
    #[error("corrupt data file: {0}")]
    Corrupt(String),
    /// A search task failed unexpectedly (panicked or was cancelled).
    #[error("internal: {0}")]
    Internal(String),
    /// The snapshot uses a table feature this version cannot apply correctly.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl SearchError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SearchError::Catalog(e) => e.kind(),
            SearchError::Index(e) => e.kind(),
            SearchError::Format(e) => e.kind(),
            SearchError::Parquet(e) => parquet_error_kind(e),
            SearchError::Arrow(e) => arrow_error_kind(e),
            SearchError::Internal(_) => ErrorKind::Internal,
            SearchError::InvalidQuery(_) => ErrorKind::InvalidInput,
            SearchError::Corrupt(_) => ErrorKind::Corrupt,
            SearchError::Unsupported(_) => ErrorKind::Unsupported,
        }
    }

    /// Whether retrying the same call may succeed (the wrapped layer's answer).
    pub fn is_retryable(&self) -> bool {
        match self {
            SearchError::Catalog(e) => e.is_retryable(),
            SearchError::Index(e) => e.is_retryable(),
            SearchError::Format(e) => e.is_retryable(),
            e => e.kind().is_retryable(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;

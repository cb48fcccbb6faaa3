//! [`AilakeError`]: the one error of the public API. Errors of the layered crates are
//! flattened on the way in (a conflict is `Catalog(..)` whether the writer or the catalog
//! raised it), and every error has an [`ErrorKind`] and [`AilakeError::is_retryable`].

use std::error::Error;

use ailk_catalog::CatalogError;
use ailk_format::error_kind::{arrow_error_kind, foreign_error_kind};
use ailk_format::{ErrorKind, FormatError};
use ailk_index::IndexError;
use ailk_search::SearchError;
use ailk_writer::WriterError;

/// The one error type of the public API. Branch on [`AilakeError::kind`]; the variant says
/// which layer raised it, with its source attached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AilakeError {
    /// The AILK section or Parquet file layer failed.
    #[error(transparent)]
    Format(FormatError),
    /// The index layer failed.
    #[error(transparent)]
    Index(IndexError),
    /// The catalog, Iceberg metadata or commit layer failed.
    #[error(transparent)]
    Catalog(CatalogError),
    /// Searching failed (a reason of the search layer itself).
    #[error(transparent)]
    Search(SearchError),
    /// Writing failed (a reason of the write layer itself).
    #[error(transparent)]
    Writer(WriterError),
    /// Arrow rejected a schema or column the caller built.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

impl AilakeError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AilakeError::Format(e) => e.kind(),
            AilakeError::Index(e) => e.kind(),
            AilakeError::Catalog(e) => e.kind(),
            AilakeError::Search(e) => e.kind(),
            AilakeError::Writer(e) => e.kind(),
            AilakeError::Arrow(e) => arrow_error_kind(e),
        }
    }

    /// Whether retrying the same call may succeed: a lost commit race or an I/O failure. A
    /// stale parent or a replaced file is a `Conflict` that needs re-planning, not a retry.
    pub fn is_retryable(&self) -> bool {
        match self {
            AilakeError::Format(e) => e.is_retryable(),
            AilakeError::Index(e) => e.is_retryable(),
            AilakeError::Catalog(e) => e.is_retryable(),
            AilakeError::Search(e) => e.is_retryable(),
            AilakeError::Writer(e) => e.is_retryable(),
            AilakeError::Arrow(e) => arrow_error_kind(e).is_retryable(),
        }
    }
}

/// The kind of `e` when it is an error of ailake's stack: [`AilakeError`], an error of a layered
/// crate, or an object store, Parquet, Arrow or I/O error (classified once, in
/// `ailk_format::error_kind`, the same whichever layer met it). `None` for any other type.
/// Front ends walk a source chain with it instead of matching each layer's type.
pub fn error_kind(e: &(dyn Error + 'static)) -> Option<ErrorKind> {
    if let Some(a) = e.downcast_ref::<AilakeError>() {
        Some(a.kind())
    } else if let Some(c) = e.downcast_ref::<CatalogError>() {
        Some(c.kind())
    } else if let Some(w) = e.downcast_ref::<WriterError>() {
        Some(w.kind())
    } else if let Some(s) = e.downcast_ref::<SearchError>() {
        Some(s.kind())
    } else if let Some(i) = e.downcast_ref::<IndexError>() {
        Some(i.kind())
    } else if let Some(f) = e.downcast_ref::<FormatError>() {
        Some(f.kind())
    } else {
        foreign_error_kind(e)
    }
}

impl From<parquet::errors::ParquetError> for AilakeError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        AilakeError::Format(e.into())
    }
}

impl From<std::io::Error> for AilakeError {
    fn from(e: std::io::Error) -> Self {
        AilakeError::Format(e.into())
    }
}

impl From<ailk_format::object_store::Error> for AilakeError {
    fn from(e: ailk_format::object_store::Error) -> Self {
        AilakeError::Format(e.into())
    }
}

impl From<FormatError> for AilakeError {
    fn from(e: FormatError) -> Self {
        AilakeError::Format(e)
    }
}

impl From<IndexError> for AilakeError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Format(e) => e.into(),
            e => AilakeError::Index(e),
        }
    }
}

impl From<CatalogError> for AilakeError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Format(e) => e.into(),
            e => AilakeError::Catalog(e),
        }
    }
}

impl From<SearchError> for AilakeError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Catalog(e) => e.into(),
            SearchError::Index(e) => e.into(),
            SearchError::Format(e) => e.into(),
            e => AilakeError::Search(e),
        }
    }
}

impl From<WriterError> for AilakeError {
    fn from(e: WriterError) -> Self {
        match e {
            WriterError::Catalog(e) => e.into(),
            WriterError::Index(e) => e.into(),
            WriterError::Format(e) => e.into(),
            WriterError::Search(e) => e.into(),
            e => AilakeError::Writer(e),
        }
    }
}

/// Result alias of the public API.
pub type AilakeResult<T> = Result<T, AilakeError>;

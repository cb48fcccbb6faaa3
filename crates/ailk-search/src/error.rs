//! The error type of `ailk-search`.

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
}

/// Result alias of this crate.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;

//! The error type of `ailk-index`.

/// Everything that can go wrong while building, loading or searching an index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The section codec refused the bytes or the input.
    #[error(transparent)]
    Format(#[from] ailk_format::FormatError),
    /// A vector or query has the wrong number of values.
    #[error("dimension mismatch: expected {expected}, got {got}")]
    DimensionMismatch {
        /// The index's dimension.
        expected: usize,
        /// The dimension given.
        got: usize,
    },
    /// A vector or query contains NaN or ±∞.
    #[error("non-finite value in {what} (row {row})")]
    NonFinite {
        /// `"vectors"` or `"query"`.
        what: &'static str,
        /// Row of the offending value.
        row: usize,
    },
    /// `k` must be at least 1.
    #[error("k must be at least 1")]
    ZeroK,
    /// The index holds no vectors.
    #[error("the index is empty")]
    EmptyIndex,
    /// Parameters out of their valid range.
    #[error("invalid parameters: {0}")]
    InvalidParams(String),
    /// A stored index payload is inconsistent (shapes disagree, rows not covered).
    #[error("corrupt index: {0}")]
    Corrupt(String),
}

/// Result alias for this crate.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;

impl IndexError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ailk_format::ErrorKind {
        use ailk_format::ErrorKind as K;
        match self {
            IndexError::Format(e) => e.kind(),
            IndexError::DimensionMismatch { .. }
            | IndexError::NonFinite { .. }
            | IndexError::ZeroK
            | IndexError::EmptyIndex
            | IndexError::InvalidParams(_) => K::InvalidInput,
            IndexError::Corrupt(_) => K::Corrupt,
        }
    }

    /// Whether retrying the same call may succeed (the wrapped layer's answer).
    pub fn is_retryable(&self) -> bool {
        match self {
            IndexError::Format(e) => e.is_retryable(),
            e => e.kind().is_retryable(),
        }
    }
}

//! The error type of `ailk-index`.

/// Everything that can go wrong while building, loading or searching an index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The section codec refused the bytes or the input.
    #[error(transparent)]
    Format(#[from] ailk_format::FormatError),
    /// Reading a local file failed.
    #[error("i/o on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A TEXMEX (`.fvecs` / `.ivecs`) file is malformed.
    #[error("malformed TEXMEX file {path}: {reason}")]
    Texmex {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;

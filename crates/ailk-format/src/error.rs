//! The error type of `ailk-format`.

use crate::error_kind::{arrow_error_kind, io_error_kind, parquet_error_kind, store_error_kind, ErrorKind};

/// Everything that can go wrong while encoding, decoding, writing or reading an AILK section.
///
/// Decoders never panic on bad bytes: every malformed input maps to one of these variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The object store failed (missing file, permission, network).
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// The Parquet layer failed (bad footer, write error).
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// An Arrow schema or array was not what the writer needs.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// Local I/O failed while writing.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes at the section offset do not start with `AILK`.
    #[error("bad AILK magic: found {found:02x?}")]
    BadMagic {
        /// The four bytes found instead.
        found: [u8; 4],
    },
    /// The section was written by a newer, incompatible major version of the format.
    #[error("AILK format version {major}.{minor} is not supported (this reader supports major version {supported})")]
    UnsupportedVersion {
        /// Major version found in the section header.
        major: u16,
        /// Minor version found in the section header.
        minor: u16,
        /// The major version this reader understands.
        supported: u16,
    },
    /// Fewer bytes than a structure needs.
    #[error("truncated {what}: need {needed} bytes, have {available}")]
    Truncated {
        /// Which structure was cut short.
        what: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// A CRC32C check failed: the bytes were altered after writing.
    #[error("checksum mismatch in {what}: stored {stored:#010x}, computed {computed:#010x}")]
    ChecksumMismatch {
        /// Which structure failed its check.
        what: String,
        /// The checksum recorded by the writer.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// Offsets, lengths or counts inside the section are inconsistent.
    #[error("invalid AILK layout: {0}")]
    InvalidLayout(String),
    /// A size field asks for more than any sane section holds.
    #[error("absurd size for {what}: {size} (limit {limit})")]
    AbsurdSize {
        /// The field in question.
        what: &'static str,
        /// The value found.
        size: u64,
        /// The largest value accepted.
        limit: u64,
    },
    /// A footer key-value pointer (`ailake.ailk.*`) is missing, unparsable or points outside the file.
    #[error("bad footer pointer {key}={value:?}: {reason}")]
    BadFooterPointer {
        /// The key-value metadata key.
        key: &'static str,
        /// The value found (empty when missing).
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The file is not a Parquet file (too short, or no `PAR1` magic).
    #[error("not a Parquet file: {0}")]
    NotParquet(String),
    /// A requested sub-section is not in the section.
    #[error("sub-section {kind:?} for column {column} not found")]
    SubsectionNotFound {
        /// The kind asked for.
        kind: crate::SubsectionKind,
        /// The vector column index asked for.
        column: u16,
    },
    /// The caller passed something the writer cannot encode (dimension mismatch, NaN, …).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Re-sectioning was asked of a file that already carries an AILK section.
    #[error("file already carries an AILK section at offset {offset}")]
    AlreadySectioned {
        /// Offset of the existing section.
        offset: u64,
    },
}

/// Result alias for this crate.
pub type Result<T, E = FormatError> = std::result::Result<T, E>;

impl FormatError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        use FormatError as F;
        match self {
            F::Store(e) => store_error_kind(e),
            F::Parquet(e) => parquet_error_kind(e),
            F::Arrow(e) => arrow_error_kind(e),
            F::Io(e) => io_error_kind(e),
            F::InvalidInput(_) => ErrorKind::InvalidInput,
            F::BadMagic { .. }
            | F::Truncated { .. }
            | F::ChecksumMismatch { .. }
            | F::InvalidLayout(_)
            | F::AbsurdSize { .. }
            | F::BadFooterPointer { .. }
            | F::NotParquet(_) => ErrorKind::Corrupt,
            F::UnsupportedVersion { .. } => ErrorKind::Unsupported,
            F::SubsectionNotFound { .. } => ErrorKind::NotFound,
            F::AlreadySectioned { .. } => ErrorKind::AlreadyExists,
        }
    }

    /// Whether retrying may succeed (see [`ErrorKind::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    pub(crate) fn layout(msg: impl Into<String>) -> Self {
        FormatError::InvalidLayout(msg.into())
    }
}

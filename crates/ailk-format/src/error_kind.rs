//! [`ErrorKind`]: what went wrong, independent of which layer raised it. Every error type of
//! ailake has a `kind()` and an `is_retryable()`; callers branch on the kind, never on the
//! crate that raised the error.

/// The class of an error, shared by every ailake crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller passed something that cannot be used (bad shape, NaN, unknown column, ...).
    InvalidInput,
    /// A table, namespace, snapshot, file or sub-section does not exist.
    NotFound,
    /// Something of that name already exists.
    AlreadyExists,
    /// Another writer changed the table first (lost swap, stale parent, file no longer live):
    /// re-read the table and try again.
    Conflict,
    /// Stored bytes are malformed (bad checksum, truncated section, unreadable metadata).
    Corrupt,
    /// The storage or catalog backend failed (network, disk, database busy).
    Io,
    /// A format version or feature this build does not support.
    Unsupported,
    /// A bug or an unexpected state inside ailake (a panicked task, an impossible shape).
    Internal,
    /// A catalog server refused the credentials (HTTP 401/403): fix the token or the grants.
    Unauthorized,
}

impl ErrorKind {
    /// Whether errors of this kind are usually worth retrying: conflicts and I/O failures.
    /// Each error's own `is_retryable()` refines it (a stale parent is a conflict that a
    /// retry of the same call cannot resolve).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Conflict | ErrorKind::Io)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// The kind of an `object_store` error.
pub fn store_error_kind(e: &object_store::Error) -> ErrorKind {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } => ErrorKind::NotFound,
        E::AlreadyExists { .. } => ErrorKind::AlreadyExists,
        E::Precondition { .. } | E::NotModified { .. } => ErrorKind::Conflict,
        E::NotSupported { .. } | E::NotImplemented { .. } => ErrorKind::Unsupported,
        E::InvalidPath { .. } | E::UnknownConfigurationKey { .. } => ErrorKind::InvalidInput,
        _ => ErrorKind::Io,
    }
}

/// The kind of a Parquet error: a store or I/O failure underneath keeps its own kind, anything
/// else means the bytes could not be decoded.
pub fn parquet_error_kind(e: &parquet::errors::ParquetError) -> ErrorKind {
    use parquet::errors::ParquetError as P;
    match e {
        P::External(inner) => foreign_error_kind(inner.as_ref()).unwrap_or(ErrorKind::Io),
        P::NYI(_) => ErrorKind::Unsupported,
        _ => ErrorKind::Corrupt,
    }
}

/// The kind of an Arrow error. Arrow refuses what it was handed (a schema, a column, a cast,
/// text to parse): that is the caller's input. I/O and wrapped errors keep their own kind, an
/// unimplemented feature is `Unsupported`, an allocation failure `Internal`.
pub fn arrow_error_kind(e: &arrow_schema::ArrowError) -> ErrorKind {
    use arrow_schema::ArrowError as A;
    match e {
        A::IoError(_, io) => io_error_kind(io),
        A::ExternalError(inner) => foreign_error_kind(inner.as_ref()).unwrap_or(ErrorKind::Internal),
        A::NotYetImplemented(_) => ErrorKind::Unsupported,
        A::MemoryError(_) => ErrorKind::Internal,
        A::ParquetError(_) | A::IpcError(_) | A::AvroError(_) => ErrorKind::Corrupt,
        _ => ErrorKind::InvalidInput,
    }
}

/// The kind of a local I/O error: a missing path is `NotFound`, refused input `InvalidInput`,
/// anything else `Io` (worth a retry).
pub fn io_error_kind(e: &std::io::Error) -> ErrorKind {
    use std::io::ErrorKind as Io;
    match e.kind() {
        Io::NotFound => ErrorKind::NotFound,
        Io::AlreadyExists => ErrorKind::AlreadyExists,
        Io::InvalidInput | Io::InvalidData => ErrorKind::InvalidInput,
        Io::Unsupported => ErrorKind::Unsupported,
        _ => ErrorKind::Io,
    }
}

/// The kind of a foreign error this module classifies (object store, Parquet, Arrow, I/O), or
/// `None` for any other type.
pub fn foreign_error_kind(e: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    if let Some(s) = e.downcast_ref::<object_store::Error>() {
        Some(store_error_kind(s))
    } else if let Some(p) = e.downcast_ref::<parquet::errors::ParquetError>() {
        Some(parquet_error_kind(p))
    } else if let Some(a) = e.downcast_ref::<arrow_schema::ArrowError>() {
        Some(arrow_error_kind(a))
    } else {
        e.downcast_ref::<std::io::Error>().map(io_error_kind)
    }
}

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

/// The kind of a Parquet error: a store failure underneath stays I/O, anything else means the
/// bytes could not be decoded.
pub fn parquet_error_kind(e: &parquet::errors::ParquetError) -> ErrorKind {
    use parquet::errors::ParquetError as P;
    match e {
        P::External(inner) => match inner.downcast_ref::<object_store::Error>() {
            Some(s) => store_error_kind(s),
            None => ErrorKind::Io,
        },
        P::NYI(_) => ErrorKind::Unsupported,
        _ => ErrorKind::Corrupt,
    }
}

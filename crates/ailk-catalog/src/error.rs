//! The error type of `ailk-catalog`.

use ailk_format::error_kind::{foreign_error_kind, io_error_kind, parquet_error_kind, store_error_kind};
use ailk_format::ErrorKind;

/// Everything that can go wrong while reading or committing table metadata.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// iceberg-rust failed (bad metadata, Avro, serialization).
    #[error("iceberg: {0}")]
    Iceberg(#[from] iceberg::Error),
    /// The SQL catalog database failed.
    #[error("sql catalog: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The object store failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// A data file's Parquet footer could not be read.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// The AILK layer failed while reading a data file.
    #[error("format: {0}")]
    Format(#[from] ailk_format::FormatError),
    /// Local file-system I/O failed (creating or resolving a warehouse directory).
    #[error("i/o on {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// No table of that name in the catalog.
    #[error("table {0} does not exist")]
    TableNotFound(String),
    /// A table of that name already exists.
    #[error("table {0} already exists")]
    TableExists(String),
    /// The table has no snapshot with that id.
    #[error("snapshot {0} does not exist")]
    SnapshotNotFound(i64),
    /// No namespace of that name in the catalog.
    #[error("namespace {0} does not exist")]
    NamespaceNotFound(String),
    /// Another writer kept winning the metadata swap until the retries ran out.
    #[error("commit to {table} lost the metadata swap {attempts} times in a row")]
    CommitConflict {
        /// The table.
        table: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A replace or delete names a data file that is not live in the table's current snapshot.
    #[error(
        "data file {path} is not live in snapshot {snapshot:?} (replaced or deleted by another commit?)"
    )]
    FileNotLive {
        /// The file path (URI).
        path: String,
        /// The snapshot checked, `None` for an empty table.
        snapshot: Option<i64>,
    },
    /// A data file's columns do not match the table schema.
    #[error("schema mismatch: {0}")]
    SchemaMismatch(String),
    /// Another writer changed the table's schema incompatibly with files about to be
    /// committed (a column dropped or retyped): re-open the table and write again.
    #[error("schema changed: {0}")]
    SchemaChanged(String),
    /// The commit was built on a snapshot that is no longer the table's current one.
    #[error("stale parent: commit expects snapshot {expected:?}, table is at {actual:?}")]
    StaleParent {
        /// The parent snapshot the commit was built on.
        expected: Option<i64>,
        /// The table's current snapshot.
        actual: Option<i64>,
    },
    /// A file a commit would add does not exist (deleted after it was written): nothing was
    /// committed; write it again.
    #[error("file {0} to be committed does not exist (removed after it was written?)")]
    MissingFile(String),
    /// The caller passed something that cannot be committed.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A catalog task failed unexpectedly (panicked or was cancelled).
    #[error("internal: {0}")]
    Internal(String),
    /// Stored metadata or a statistics blob is malformed.
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
    /// A concurrent commit deleted rows of a file this rewrite removes (delete file named):
    /// re-plan on the new snapshot.
    #[error("rows of a rewritten file were deleted by a concurrent commit ({0}); re-plan")]
    DeletedMeanwhile(String),
    /// A REST catalog refused the credentials (401/403); `message` is the server's.
    #[error("the catalog refused the credentials (HTTP {status}): {message}")]
    Unauthorized {
        /// The HTTP status.
        status: u16,
        /// The server's message (never the token).
        message: String,
    },
    /// A REST catalog answered a request with an error.
    #[error("REST catalog: HTTP {status} on {request}: {message}")]
    Remote {
        /// The HTTP status.
        status: u16,
        /// The request (`GET /v1/…`), without query secrets.
        request: String,
        /// The server's message.
        message: String,
    },
    /// The HTTP connection to a REST catalog failed (unreachable, timeout, bad response).
    #[error("REST catalog at {url}: {message}")]
    Http {
        /// The server's base URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// The catalog failed after receiving a commit (5xx, timeout): it may or may not have
    /// landed. The commit loop re-reads the table to find out.
    #[error("commit to {0}: the catalog failed after receiving it, so its outcome is unknown")]
    CommitStateUnknown(String),
    /// The table uses an Iceberg feature ailake cannot apply yet (e.g. equality deletes).
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl CatalogError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        use CatalogError as C;
        match self {
            C::Iceberg(e) => iceberg_error_kind(e),
            C::Sql(e) => sql_error_kind(e),
            C::Io { source, .. } => io_error_kind(source),
            C::Store(e) => store_error_kind(e),
            C::Parquet(e) => parquet_error_kind(e),
            C::Format(e) => e.kind(),
            C::TableNotFound(_) | C::SnapshotNotFound(_) | C::NamespaceNotFound(_) | C::MissingFile(_) => {
                ErrorKind::NotFound
            }
            C::TableExists(_) => ErrorKind::AlreadyExists,
            C::CommitConflict { .. }
            | C::FileNotLive { .. }
            | C::StaleParent { .. }
            | C::SchemaChanged(_)
            | C::DeletedMeanwhile(_) => ErrorKind::Conflict,
            C::SchemaMismatch(_) | C::InvalidInput(_) => ErrorKind::InvalidInput,
            C::Corrupt(_) => ErrorKind::Corrupt,
            C::Internal(_) => ErrorKind::Internal,
            C::Unsupported(_) => ErrorKind::Unsupported,
            C::Unauthorized { .. } => ErrorKind::Unauthorized,
            C::Http { .. } | C::CommitStateUnknown(_) => ErrorKind::Io,
            C::Remote { status, .. } => match status {
                404 => ErrorKind::NotFound,
                409 => ErrorKind::Conflict,
                400 | 405 | 406 | 422 => ErrorKind::InvalidInput,
                408 | 429 | 500..=599 => ErrorKind::Io,
                _ => ErrorKind::Internal,
            },
        }
    }

    /// Whether retrying the same call may succeed: a lost swap or an I/O failure. A stale
    /// parent or a file no longer live is a `Conflict` too, but only re-planning against the
    /// refreshed table can succeed, so it is not retryable as is.
    pub fn is_retryable(&self) -> bool {
        match self {
            CatalogError::StaleParent { .. }
            | CatalogError::FileNotLive { .. }
            | CatalogError::SchemaChanged(_)
            | CatalogError::DeletedMeanwhile(_)
            | CatalogError::MissingFile(_) => false,
            CatalogError::Format(e) => e.is_retryable(),
            e => e.kind().is_retryable(),
        }
    }
}

/// A busy or locked database (another connection holds the write lock) is I/O and worth a
/// retry; any other SQLite failure (corrupt file, schema, constraint) is not.
fn sql_error_kind(e: &rusqlite::Error) -> ErrorKind {
    use rusqlite::ErrorCode as Code;
    match e.sqlite_error_code() {
        Some(Code::DatabaseBusy | Code::DatabaseLocked | Code::CannotOpen | Code::SystemIoFailure) => {
            ErrorKind::Io
        }
        Some(Code::DatabaseCorrupt | Code::NotADatabase) => ErrorKind::Corrupt,
        _ => ErrorKind::Internal,
    }
}

/// iceberg-rust errors raised by our own storage keep our error as their source: use its kind.
fn iceberg_error_kind(e: &iceberg::Error) -> ErrorKind {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(ours) = s.downcast_ref::<CatalogError>() {
            return ours.kind();
        }
        if let Some(kind) = foreign_error_kind(s) {
            return kind;
        }
        source = s.source();
    }
    match e.kind() {
        iceberg::ErrorKind::DataInvalid => ErrorKind::Corrupt,
        iceberg::ErrorKind::FeatureUnsupported => ErrorKind::Unsupported,
        iceberg::ErrorKind::NamespaceNotFound | iceberg::ErrorKind::TableNotFound => ErrorKind::NotFound,
        iceberg::ErrorKind::NamespaceAlreadyExists | iceberg::ErrorKind::TableAlreadyExists => {
            ErrorKind::AlreadyExists
        }
        iceberg::ErrorKind::CatalogCommitConflicts => ErrorKind::Conflict,
        _ => ErrorKind::Internal,
    }
}

/// Result alias of this crate.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

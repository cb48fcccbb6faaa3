//! One classification: an Arrow, Parquet, I/O or object store error has the same
//! [`ErrorKind`] whichever layer meets it, and `ailake::error_kind` names the kind of any
//! error of the stack, so front ends convert once.

use ailake::catalog::CatalogError;
use ailake::format::FormatError;
use ailake::search::SearchError;
use ailake::writer::WriterError;
use ailake::{error_kind, AilakeError, ErrorKind};
use arrow_schema::ArrowError;
use parquet::errors::ParquetError;

fn io(kind: std::io::ErrorKind) -> std::io::Error {
    std::io::Error::new(kind, "disk said no")
}

/// The kinds the layers give one Arrow error (made anew for each).
fn arrow_kinds(make: impl Fn() -> ArrowError) -> Vec<ErrorKind> {
    vec![
        FormatError::from(make()).kind(),
        SearchError::from(make()).kind(),
        WriterError::from(make()).kind(),
        AilakeError::from(make()).kind(),
        error_kind(&make()).unwrap(),
    ]
}

fn parquet_kinds(make: impl Fn() -> ParquetError) -> Vec<ErrorKind> {
    vec![
        FormatError::from(make()).kind(),
        SearchError::from(make()).kind(),
        CatalogError::from(make()).kind(),
        AilakeError::from(make()).kind(),
        error_kind(&make()).unwrap(),
    ]
}

fn io_kinds(kind: std::io::ErrorKind) -> Vec<ErrorKind> {
    vec![
        FormatError::from(io(kind)).kind(),
        CatalogError::Io { path: "/x".into(), source: io(kind) }.kind(),
        AilakeError::from(io(kind)).kind(),
        error_kind(&io(kind)).unwrap(),
    ]
}

#[test]
fn an_arrow_error_is_one_kind_in_every_layer() {
    for (make, want) in [
        (
            Box::new(|| ArrowError::SchemaError("no such field".into())) as Box<dyn Fn() -> ArrowError>,
            ErrorKind::InvalidInput,
        ),
        (Box::new(|| ArrowError::CastError("'abc' is not an integer".into())), ErrorKind::InvalidInput),
        (Box::new(|| ArrowError::NotYetImplemented("union".into())), ErrorKind::Unsupported),
        (Box::new(|| ArrowError::IoError("read".into(), io(std::io::ErrorKind::TimedOut))), ErrorKind::Io),
        (
            Box::new(|| ArrowError::ExternalError(Box::new(io(std::io::ErrorKind::NotFound)))),
            ErrorKind::NotFound,
        ),
        (Box::new(|| ArrowError::MemoryError("out of memory".into())), ErrorKind::Internal),
    ] {
        let kinds = arrow_kinds(make);
        assert!(kinds.iter().all(|k| *k == want), "{kinds:?}, want {want:?}");
    }
}

#[test]
fn a_parquet_error_is_one_kind_in_every_layer() {
    for (make, want) in [
        (
            Box::new(|| ParquetError::General("bad page header".into())) as Box<dyn Fn() -> ParquetError>,
            ErrorKind::Corrupt,
        ),
        (Box::new(|| ParquetError::EOF("unexpected end".into())), ErrorKind::Corrupt),
        (Box::new(|| ParquetError::NYI("encoding".into())), ErrorKind::Unsupported),
        (
            Box::new(|| ParquetError::External(Box::new(io(std::io::ErrorKind::ConnectionReset)))),
            ErrorKind::Io,
        ),
        (
            Box::new(|| ParquetError::External(Box::new(io(std::io::ErrorKind::NotFound)))),
            ErrorKind::NotFound,
        ),
    ] {
        let kinds = parquet_kinds(make);
        assert!(kinds.iter().all(|k| *k == want), "{kinds:?}, want {want:?}");
    }
}

#[test]
fn an_io_error_is_one_kind_in_every_layer() {
    for (kind, want) in [
        (std::io::ErrorKind::NotFound, ErrorKind::NotFound),
        (std::io::ErrorKind::AlreadyExists, ErrorKind::AlreadyExists),
        (std::io::ErrorKind::InvalidData, ErrorKind::InvalidInput),
        (std::io::ErrorKind::PermissionDenied, ErrorKind::Io),
        (std::io::ErrorKind::TimedOut, ErrorKind::Io),
    ] {
        let kinds = io_kinds(kind);
        assert!(kinds.iter().all(|k| *k == want), "{kind:?}: {kinds:?}, want {want:?}");
    }
    assert!(AilakeError::from(io(std::io::ErrorKind::TimedOut)).is_retryable());
    assert!(!AilakeError::from(io(std::io::ErrorKind::InvalidData)).is_retryable());
}

#[test]
fn error_kind_classifies_the_stack_and_nothing_else() {
    let missing = CatalogError::TableNotFound("docs.t".into());
    assert_eq!(error_kind(&missing), Some(ErrorKind::NotFound));
    let wrapped = WriterError::Catalog(CatalogError::StaleParent { expected: Some(1), actual: Some(2) });
    assert_eq!(error_kind(&wrapped), Some(ErrorKind::Conflict));
    let search = SearchError::InvalidQuery("k must be at least 1".into());
    assert_eq!(error_kind(&search), Some(ErrorKind::InvalidInput));
    assert_eq!(error_kind(&AilakeError::from(search)), Some(ErrorKind::InvalidInput));
    assert_eq!(error_kind(&std::fmt::Error), None);
}

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

/// The kinds the layers every foreign error passes through give it (made anew for each).
fn common_kinds<E: std::error::Error + 'static>(make: fn() -> E) -> Vec<ErrorKind>
where
    FormatError: From<E>,
    SearchError: From<E>,
    AilakeError: From<E>,
{
    vec![
        FormatError::from(make()).kind(),
        SearchError::from(make()).kind(),
        AilakeError::from(make()).kind(),
        error_kind(&make()).unwrap(),
    ]
}

/// An Arrow error also meets the writer.
fn arrow_kinds(make: fn() -> ArrowError) -> Vec<ErrorKind> {
    let mut kinds = common_kinds(make);
    kinds.push(WriterError::from(make()).kind());
    kinds
}

/// A Parquet error also meets the catalog.
fn parquet_kinds(make: fn() -> ParquetError) -> Vec<ErrorKind> {
    let mut kinds = common_kinds(make);
    kinds.push(CatalogError::from(make()).kind());
    kinds
}

fn io_kinds(kind: std::io::ErrorKind) -> Vec<ErrorKind> {
    vec![
        FormatError::from(io(kind)).kind(),
        CatalogError::Io { path: "/x".into(), source: io(kind) }.kind(),
        AilakeError::from(io(kind)).kind(),
        error_kind(&io(kind)).unwrap(),
    ]
}

/// Every layer gives each case's error the case's kind.
fn assert_cases<C: Copy + std::fmt::Debug>(cases: &[(C, ErrorKind)], kinds: impl Fn(C) -> Vec<ErrorKind>) {
    for &(case, want) in cases {
        let got = kinds(case);
        assert!(got.iter().all(|k| *k == want), "{case:?}: {got:?}, want {want:?}");
    }
}

#[test]
fn an_arrow_error_is_one_kind_in_every_layer() {
    let cases: [(fn() -> ArrowError, ErrorKind); 6] = [
        (|| ArrowError::SchemaError("no such field".into()), ErrorKind::InvalidInput),
        (|| ArrowError::CastError("'abc' is not an integer".into()), ErrorKind::InvalidInput),
        (|| ArrowError::NotYetImplemented("union".into()), ErrorKind::Unsupported),
        (|| ArrowError::IoError("read".into(), io(std::io::ErrorKind::TimedOut)), ErrorKind::Io),
        (|| ArrowError::ExternalError(Box::new(io(std::io::ErrorKind::NotFound))), ErrorKind::NotFound),
        (|| ArrowError::MemoryError("out of memory".into()), ErrorKind::Internal),
    ];
    assert_cases(&cases, arrow_kinds);
}

#[test]
fn a_parquet_error_is_one_kind_in_every_layer() {
    let cases: [(fn() -> ParquetError, ErrorKind); 5] = [
        (|| ParquetError::General("bad page header".into()), ErrorKind::Corrupt),
        (|| ParquetError::EOF("unexpected end".into()), ErrorKind::Corrupt),
        (|| ParquetError::NYI("encoding".into()), ErrorKind::Unsupported),
        (|| ParquetError::External(Box::new(io(std::io::ErrorKind::ConnectionReset))), ErrorKind::Io),
        (|| ParquetError::External(Box::new(io(std::io::ErrorKind::NotFound))), ErrorKind::NotFound),
    ];
    assert_cases(&cases, parquet_kinds);
}

#[test]
fn an_io_error_is_one_kind_in_every_layer() {
    use std::io::ErrorKind as Io;
    let cases = [
        (Io::NotFound, ErrorKind::NotFound),
        (Io::AlreadyExists, ErrorKind::AlreadyExists),
        (Io::InvalidData, ErrorKind::InvalidInput),
        (Io::PermissionDenied, ErrorKind::Io),
        (Io::TimedOut, ErrorKind::Io),
    ];
    assert_cases(&cases, io_kinds);
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

//! Errors as the command line reports them: one line, and an exit code by kind.

use ailake::catalog::CatalogError;
use ailake::format::FormatError;
use ailake::index::IndexError;
use ailake::search::SearchError;
use ailake::writer::WriterError;
use ailake::{AilakeError, ErrorKind};

/// A failure the command line itself detects (bad flags, unreadable input files), with a kind.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What went wrong, naming the input.
    pub message: String,
}

/// An invalid-input failure.
pub fn invalid(message: impl Into<String>) -> anyhow::Error {
    CliError { kind: ErrorKind::InvalidInput, message: message.into() }.into()
}

/// A not-found failure.
pub fn not_found(message: impl Into<String>) -> anyhow::Error {
    CliError { kind: ErrorKind::NotFound, message: message.into() }.into()
}

/// The kind of the first error in `e`'s chain that has one.
pub fn kind(e: &anyhow::Error) -> ErrorKind {
    for cause in e.chain() {
        let kind = if let Some(c) = cause.downcast_ref::<CliError>() {
            c.kind
        } else if let Some(a) = cause.downcast_ref::<AilakeError>() {
            a.kind()
        } else if let Some(c) = cause.downcast_ref::<CatalogError>() {
            c.kind()
        } else if let Some(w) = cause.downcast_ref::<WriterError>() {
            w.kind()
        } else if let Some(s) = cause.downcast_ref::<SearchError>() {
            s.kind()
        } else if let Some(f) = cause.downcast_ref::<FormatError>() {
            f.kind()
        } else if let Some(i) = cause.downcast_ref::<IndexError>() {
            i.kind()
        } else if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
                _ => ErrorKind::Io,
            }
        } else if cause.downcast_ref::<parquet::errors::ParquetError>().is_some()
            || cause.downcast_ref::<arrow_schema::ArrowError>().is_some()
        {
            ErrorKind::InvalidInput
        } else {
            continue;
        };
        return kind;
    }
    ErrorKind::Internal
}

/// The process exit code for `e`.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    match kind(e) {
        ErrorKind::InvalidInput | ErrorKind::Unsupported => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Conflict | ErrorKind::AlreadyExists => 4,
        ErrorKind::Corrupt => 5,
        ErrorKind::Io => 6,
        _ => 1,
    }
}

/// The error and its causes on one line, without repeating a cause its parent already quotes.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out.replace('\n', " ")
}

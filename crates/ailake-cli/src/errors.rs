//! Errors as the command line reports them: one line, and an exit code by kind.

use ailake::ErrorKind;

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

/// The kind of the first error in `e`'s chain that has one: the command line's own, else
/// whatever ailake classifies (its errors, and Arrow, Parquet, object store and I/O errors).
pub fn kind(e: &anyhow::Error) -> ErrorKind {
    e.chain()
        .find_map(|cause| match cause.downcast_ref::<CliError>() {
            Some(c) => Some(c.kind),
            None => ailake::error_kind(cause),
        })
        .unwrap_or(ErrorKind::Internal)
}

/// The process exit code for `e`.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    match kind(e) {
        ErrorKind::InvalidInput | ErrorKind::Unsupported => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Conflict | ErrorKind::AlreadyExists => 4,
        ErrorKind::Corrupt => 5,
        ErrorKind::Io => 6,
        ErrorKind::Unauthorized => 7,
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

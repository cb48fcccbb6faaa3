//! Rust errors as the Python exceptions of `ailake.errors`, chosen by [`ErrorKind`].

use ailake::{AilakeError, ErrorKind};
use pyo3::prelude::*;

/// The `ailake.errors` class for `kind`.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "InvalidInputError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::AlreadyExists => "AlreadyExistsError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::Corrupt => "CorruptDataError",
        ErrorKind::Io => "StorageError",
        ErrorKind::Unsupported => "UnsupportedError",
        ErrorKind::Unauthorized => "AuthError",
        _ => "InternalError",
    }
}

/// A Python exception of the class for `kind` carrying `message` and `retryable`.
pub fn exception(py: Python<'_>, kind: ErrorKind, message: String, retryable: bool) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let class = py.import("ailake.errors")?.getattr(class_name(kind))?;
        let err = class.call1((message.clone(),))?;
        err.setattr("retryable", retryable)?;
        err.setattr("kind", kind.to_string())?;
        Ok(PyErr::from_value(err))
    })();
    // Without the package's Python half (the module imported on its own), a RuntimeError
    // still carries the message.
    made.unwrap_or_else(|_| pyo3::exceptions::PyRuntimeError::new_err(message))
}

/// An [`AilakeError`] as its Python exception.
pub fn to_py(py: Python<'_>, e: AilakeError) -> PyErr {
    let retryable = e.is_retryable();
    exception(py, e.kind(), e.to_string(), retryable)
}

/// An `InvalidInputError` (also a `ValueError`).
pub fn invalid(py: Python<'_>, message: impl Into<String>) -> PyErr {
    exception(py, ErrorKind::InvalidInput, message.into(), false)
}

/// `.map_err` for anything convertible into [`AilakeError`].
pub trait IntoPyResult<T> {
    /// The result with its error raised as the matching Python exception.
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T, E: Into<AilakeError>> IntoPyResult<T> for Result<T, E> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e.into()))
    }
}

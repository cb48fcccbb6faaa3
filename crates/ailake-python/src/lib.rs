//! The native module of the `ailake` Python package (`ailake._native`).
//!
//! PyO3 bindings over the umbrella crate: a [`catalog::PyCatalog`] opened by `connect()`, and
//! [`table::PyTable`] handles that write, commit, search, delete and compact. Arrow data
//! crosses the boundary through the Arrow C data interface (no copy of the columns), vectors
//! given as NumPy arrays are borrowed, and every call that does I/O or computation releases
//! the GIL while it runs on one process-wide Tokio runtime.
//!
//! The Python-facing API, its documentation and its type stubs live in `python/ailake`.

mod catalog;
mod convert;
mod errors;
mod handoff;
mod runtime;
mod table;
mod text;

use pyo3::prelude::*;

/// `ailake._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<catalog::PyCatalog>()?;
    m.add_class::<table::PyTable>()?;
    m.add_class::<handoff::PyWrittenFile>()?;
    m.add_class::<handoff::PyWriteLease>()?;
    m.add_function(wrap_pyfunction!(catalog::connect, m)?)?;
    m.add_function(wrap_pyfunction!(text::analyze, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("HAS_S3", cfg!(feature = "s3"))?;
    Ok(())
}

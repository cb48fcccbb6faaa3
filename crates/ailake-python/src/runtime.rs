//! The process-wide Tokio runtime every call runs on, with the GIL released.

use std::future::Future;
use std::sync::OnceLock;

use pyo3::prelude::*;

/// One multi-threaded runtime for the process: deferred index builds keep running on it
/// between Python calls, and loaded shard indexes stay in the process-wide shard cache.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("ailake")
            .enable_all()
            .build()
            .expect("the ailake runtime could not start (no threads available)")
    })
}

/// Runs `fut` to completion on the runtime with the GIL released, so other Python threads
/// run meanwhile (and call into ailake concurrently).
pub fn block_on<F>(py: Python<'_>, fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    py.detach(|| runtime().block_on(fut))
}

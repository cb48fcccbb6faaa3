//! # ailk-index
//!
//! Vector indexes for ailake shards. This first cut holds the TEXMEX dataset readers used by
//! tests, benchmarks and examples; distance kernels, flat search, HNSW, k-means and IVF-PQ
//! land here next (see `docs/ARCHITECTURE.md`).
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod error;
pub mod texmex;

pub use ailk_format::Metric;
pub use error::{IndexError, Result};

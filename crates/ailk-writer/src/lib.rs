//! # ailk-writer
//!
//! [`TableWriter`]: writes Arrow batches and their embeddings into an ailake table. Each write
//! becomes one Parquet data file carrying its AILK section (HNSW or IVF-PQ), staged until
//! [`TableWriter::commit`] makes one Iceberg snapshot of everything staged. Deferred writes
//! persist the Parquet-only file first and build the index in a background task; idempotent
//! writes carry a batch id into the snapshot summary.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod build;
pub mod error;
pub mod policy;
mod prepare;
mod writer;

pub use error::{Result, WriterError};
pub use policy::WritePolicy;
pub use prepare::MultiVectorBatch;
pub use writer::{TableWriter, WrittenFile};

//! # ailk-writer
//!
//! [`TableWriter`]: writes Arrow batches and their embeddings into an ailake table. Each write
//! becomes one Parquet data file carrying its AILK section (HNSW, IVF-PQ or raw vectors),
//! staged until [`TableWriter::commit`] makes one Iceberg snapshot of everything staged. One
//! general call, [`TableWriter::write`] with [`WriteOptions`], combines every option: the
//! index, deferred building (the Parquet-only file first, the index from a background task),
//! and an exactly-once batch id.
//!
//! Modules by concern: `writer` (the handle and the write path), `staging` (staged files,
//! batch-id reservations, the commit), `deferred` (background builds, resume), `codebook`
//! (the table's shared IVF-PQ codebooks), `prepare` (checking a write against the table),
//! `build` (index sections), `blocks` (partition blocks of clustered files), `delete` (row deletes by filter), `compact` (clustering compaction), `handoff`
//! (staged files handed to another process and committed there: [`commit_files`]).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod blocks;
mod build;
mod codebook;
mod compact;
mod compat;
mod deferred;
mod delete;
pub mod error;
mod handoff;
mod list_vectors;
pub mod options;
pub mod policy;
mod prepare;
mod staging;
mod text;
mod writer;

pub use ailk_index::BlockCode;
pub use compact::{compact, CompactOptions, CompactOutcome, CompactProgress};
pub use deferred::IndexProgress;
pub use delete::{delete_matching, DeleteOutcome};
pub use error::{Result, WriterError};
pub use handoff::{commit_files, CommitFilesOutcome, StagedFile};
pub use options::{IndexChoice, WriteOptions};
pub use policy::WritePolicy;
pub use prepare::MultiVectorBatch;
pub use writer::{TableWriter, WrittenFile};

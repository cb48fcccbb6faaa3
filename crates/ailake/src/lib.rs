//! # ailake
//!
//! Vector search on Apache Iceberg tables without a second system: every Parquet data file
//! carries, inside its own bytes, an AILK section holding its vector index, placed so that
//! ordinary Parquet readers still read the file.
//!
//! This umbrella crate re-exports the public API of the layered crates and maps their errors
//! into one [`AilakeError`]: the section format ([`format`]), the indexes ([`index`]), the
//! Iceberg catalog layer ([`catalog`]), the [`TableWriter`] ([`writer`]) and the
//! [`SearchSession`] ([`search`]).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub use ailk_catalog as catalog;
pub use ailk_search as search;
pub use ailk_writer as writer;

pub use ailk_catalog::VectorSpec;
pub use ailk_format as format;
pub use ailk_index as index;
pub use ailk_search::{CounterSnapshot, Filter, Op, SearchParams, SearchSession, DISTANCE_COLUMN};
pub use ailk_writer::{MultiVectorBatch, TableWriter, WritePolicy, WrittenFile};

pub use ailk_catalog::{
    CatalogProvider, CommitOutcome, MemoryCatalog, SnapshotUpdate, SqlCatalog, Table, TableIdent, Warehouse,
};

/// The object store trait every ailake component reads and writes through.
pub use ailk_format::object_store::ObjectStore as Store;
pub use ailk_format::{
    local_store, memory_store, Metric, ReadOptions, Section, SectionBuilder, ShardReader, ShardWriter,
    SubsectionKind, VectorColumn,
};

/// The one error type of the public API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AilakeError {
    /// The AILK section or Parquet file layer failed.
    #[error(transparent)]
    Format(#[from] ailk_format::FormatError),
    /// The index layer failed.
    #[error(transparent)]
    Index(#[from] ailk_index::IndexError),
    /// The catalog, Iceberg metadata or commit layer failed.
    #[error(transparent)]
    Catalog(#[from] ailk_catalog::CatalogError),
    /// Searching failed.
    #[error(transparent)]
    Search(#[from] ailk_search::SearchError),
    /// Writing failed.
    #[error(transparent)]
    Writer(#[from] ailk_writer::WriterError),
}

/// Result alias of the public API.
pub type AilakeResult<T> = Result<T, AilakeError>;

/// The names most programs need.
pub mod prelude {
    pub use crate::{
        AilakeError, AilakeResult, CatalogProvider, Filter, Metric, MultiVectorBatch, ReadOptions,
        SearchParams, SearchSession, ShardReader, ShardWriter, SqlCatalog, Store, Table, TableIdent,
        TableWriter, VectorSpec, Warehouse, WritePolicy,
    };
}

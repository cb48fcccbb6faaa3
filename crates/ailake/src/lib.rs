//! # ailake
//!
//! Vector search on Apache Iceberg tables without a second system: every Parquet data file
//! carries, inside its own bytes, an AILK section holding its vector index, placed so that
//! ordinary Parquet readers still read the file.
//!
//! This umbrella crate re-exports the public API of the layered crates and maps their errors
//! into one [`AilakeError`] with an [`ErrorKind`]: the section format ([`mod@format`]), the indexes
//! ([`index`]), the Iceberg catalog layer ([`catalog`]), the [`TableWriter`] ([`writer`]) and
//! the [`SearchSession`] ([`search`]).
//!
//! Everything starts from a [`Table`] handle — one version of the table's metadata:
//!
//! ```no_run
//! # async fn demo(batch: arrow_array::RecordBatch, query: Vec<f32>) -> ailake::AilakeResult<()> {
//! use ailake::prelude::*;
//! let catalog = Catalog::local("warehouse/catalog.db", "default", "warehouse").await?;
//! let ident = TableIdent::parse("docs.chunks")?;
//! let spec = VectorSpec::new("embedding", 384, Metric::Cosine);
//! let table = catalog.create_or_load_table(&ident, &batch.schema().project(&[0])?, &[spec]).await?;
//! let writer = table.writer(WritePolicy::default())?;
//! writer.write(&batch, &WriteOptions::default().deferred().batch_id("load-1")).await?;
//! writer.commit().await?;
//! let hits = table.refresh().await?.search().await?.search(&query, 10, &SearchParams::default()).await?;
//! # let _ = hits; Ok(()) }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

// The layered crates, for programs that need more than the flat names below. Front ends (the
// CLI, Python and SQL crates) use the flat names only (`tests/api_boundary.rs` checks it).
pub use ailk_catalog as catalog;
pub use ailk_format as format;
pub use ailk_index as index;
pub use ailk_search as search;
pub use ailk_writer as writer;

// The table, its catalog and its metadata.
pub use ailk_catalog::{
    BlockEntry, BlockLayout, Catalog, CatalogProvider, CommitOptions, CommitOutcome, ConnectOptions,
    IndexKind, IndexStatus, LiveFile, MemoryCatalog, MetadataCommit, OrphanOptions, RestCatalog, RestOptions,
    Secret, ShardSummary, SnapshotUpdate, SqlCatalog, Table, TableIdent, TextSpec, VectorSpec, Warehouse,
    BATCH_IDS_PROPERTY, TEXT_COLUMNS_PROPERTY,
};
// Write leases: what keeps uncommitted files from vacuum (a driver holds one while its workers write).
pub use ailk_catalog::{release_lease, WriteLease};
// Searching.
pub use ailk_search::{
    file_may_match, load_partitions, scan_file, CounterSnapshot, FileScan, Filter, FilterStrategy, Fusion,
    HybridParams, Literal, Op, SearchParams, SearchSession, SessionCache, SessionKey, DISTANCE_COLUMN,
    SCORE_COLUMN,
};
// Full-text analysis (what a text index holds for a text, and what a query is matched by).
pub use ailk_index::text::{Analyzer as TextAnalyzer, RRF_K0};
// Writing and maintenance.
pub use ailk_writer::{
    BlockCode, CommitFilesOutcome, CompactOptions, CompactOutcome, CompactProgress, DeleteOutcome,
    IndexChoice, IndexProgress, MultiVectorBatch, StagedFile, TableWriter, WriteOptions, WritePolicy,
    WrittenFile,
};

/// The object store trait every ailake component reads and writes through.
pub use ailk_format::object_store::ObjectStore as Store;
/// Poison-tolerant lock helpers (a panicked holder does not wedge the lock).
pub use ailk_format::sync;
pub use ailk_format::{
    column_type_name, local_store, memory_store, ErrorKind, Metric, ReadOptions, Section, SectionBuilder,
    ShardReader, ShardWriter, SubsectionKind, VectorColumn,
};

mod error;
mod table_ext;

pub use error::{error_kind, AilakeError, AilakeResult};
pub use table_ext::TableExt;

/// Test doubles: a store that behaves like a remote one (latency, bandwidth, injected faults)
/// over any other. For tests and benchmarks, not for production paths.
pub mod testing {
    pub use ailk_format::{
        Fault, FaultTarget, LatencyProfile, SimulatedSnapshot, SimulatedStats, SimulatedStore,
    };
}

/// The names most programs need.
pub mod prelude {
    pub use crate::{
        AilakeError, AilakeResult, Catalog, CatalogProvider, CompactOptions, ConnectOptions, DeleteOutcome,
        ErrorKind, Filter, IndexChoice, Metric, MultiVectorBatch, ReadOptions, SearchParams, SearchSession,
        Secret, SqlCatalog, StagedFile, Store, Table, TableExt, TableIdent, TableWriter, TextSpec,
        VectorSpec, Warehouse, WriteOptions, WritePolicy,
    };
}

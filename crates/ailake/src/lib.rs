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

pub use ailk_catalog as catalog;
pub use ailk_search as search;
pub use ailk_writer as writer;

pub use ailk_catalog::VectorSpec;
pub use ailk_format as format;
pub use ailk_index as index;
pub use ailk_search::{
    CounterSnapshot, Filter, FilterStrategy, Op, SearchParams, SearchSession, DISTANCE_COLUMN,
};
pub use ailk_writer::{
    CompactOptions, CompactOutcome, CompactProgress, DeleteOutcome, IndexChoice, MultiVectorBatch,
    TableWriter, WriteOptions, WritePolicy, WrittenFile,
};

pub use ailk_catalog::{
    Catalog, CatalogProvider, CommitOutcome, MemoryCatalog, OrphanOptions, SnapshotUpdate, SqlCatalog, Table,
    TableIdent, Warehouse,
};

/// The object store trait every ailake component reads and writes through.
pub use ailk_format::object_store::ObjectStore as Store;
pub use ailk_format::{
    local_store, memory_store, ErrorKind, Fault, FaultTarget, LatencyProfile, Metric, ReadOptions, Section,
    SectionBuilder, ShardReader, ShardWriter, SimulatedStore, SubsectionKind, VectorColumn,
};

mod error;
mod table_ext;

pub use error::{AilakeError, AilakeResult};
pub use table_ext::TableExt;

/// The names most programs need.
pub mod prelude {
    pub use crate::{
        AilakeError, AilakeResult, Catalog, CatalogProvider, CompactOptions, DeleteOutcome, ErrorKind,
        Filter, IndexChoice, Metric, MultiVectorBatch, ReadOptions, SearchParams, SearchSession, ShardReader,
        ShardWriter, SqlCatalog, Store, Table, TableExt, TableIdent, TableWriter, VectorSpec, Warehouse,
        WriteOptions, WritePolicy,
    };
}

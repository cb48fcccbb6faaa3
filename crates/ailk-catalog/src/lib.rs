//! # ailk-catalog
//!
//! ailake tables are genuine Apache Iceberg v2 tables. This crate owns their metadata:
//!
//! - [`storage`]: iceberg-rust's `Storage` over the user's `object_store` ([`Warehouse`]).
//! - [`datafile`]: Iceberg `DataFile` entries (counts, sizes, bounds) from Parquet footers.
//! - [`provider`], [`sql`]: the [`CatalogProvider`] contract (namespaces, tables, an atomic
//!   compare-and-swap of the metadata location) with [`MemoryCatalog`] and [`SqlCatalog`]
//!   (SQLite, pyiceberg's schema); [`pointer`]: how those two apply a commit;
//!   [`rest`]: [`RestCatalog`], the Iceberg REST protocol.
//! - [`catalog`]: [`Catalog`], a provider plus a warehouse: `load_table` / `create_table`.
//! - [`table`], [`commit`]: a [`Table`] handle at one metadata version — its snapshot, live
//!   files, time travel, refresh, the
//!   append / replace / delete snapshot producer with optimistic retries, idempotency by batch
//!   id.
//! - [`vacuum`]: orphan removal; [`leases`]: the write leases that keep in-flight files from it;
//!   [`checkpoints`]: resumable compactions' progress, whose files vacuum also keeps.
//! - [`manifests`]: a snapshot's live data and delete files.
//! - [`deletes`]: Iceberg v2 position delete files and the deleted rows of a snapshot.
//! - [`layout`]: attribute + vector columns of a table, its property and file schema.
//! - [`summaries`]: per-shard vector summaries of a snapshot in a Puffin statistics file;
//!   [`block_layout`]: where a clustered file's partition blocks lie.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod block_layout;
pub mod catalog;
pub mod checkpoints;
pub mod commit;
mod connect;
mod cursor;
pub mod datafile;
pub mod deletes;
pub mod error;
pub mod layout;
pub mod leases;
pub mod maintenance;
pub mod manifests;
pub mod memory;
pub mod pointer;
pub mod provider;
pub mod rest;
mod snapshot_summary;
pub mod sql;
pub mod storage;
pub mod summaries;
pub mod table;
pub mod text_columns;
mod update;
pub mod vacuum;

pub use block_layout::{BlockEntry, BlockLayout};
pub use catalog::Catalog;
pub use checkpoints::CHECKPOINT_TTL;
pub use commit::{CommitOptions, CommitOutcome, SnapshotUpdate};
pub use connect::ConnectOptions;
pub use datafile::{data_file_from_metadata, data_file_from_store};
pub use deletes::DeleteIndex;
pub use error::{CatalogError, Result};
pub use layout::{
    encode_specs, file_schema, parse_specs, table_schema, VectorSpec, BATCH_IDS_PROPERTY, TABLE_FILE_PREFIX,
    VECTOR_COLUMNS_PROPERTY,
};
pub use leases::{release_lease, WriteLease, LEASE_TTL};
pub use manifests::LiveFile;
pub use memory::MemoryCatalog;
pub use provider::{CatalogProvider, MetadataCommit, TableIdent};
pub use rest::{RestCatalog, RestOptions, Secret};
pub use sql::SqlCatalog;
pub use storage::Warehouse;
pub use summaries::{
    decode_summaries, encode_summaries, IndexKind, IndexStatus, Occupancy, ShardSummary, SHARD_SUMMARIES_BLOB,
};
pub use table::Table;
pub use text_columns::{TextSpec, TEXT_COLUMNS_PROPERTY};
pub use vacuum::{OrphanOptions, DEFAULT_ORPHAN_AGE};

/// The error classes shared by every ailake crate.
pub use ailk_format::ErrorKind;

/// Re-exported so users name one `iceberg`.
pub use iceberg;

//! # ailake-datafusion
//!
//! SQL over ailake tables with Apache DataFusion, and search beyond one machine with Apache
//! Ballista.
//!
//! - [`AilakeTable`]: a table's rows for SQL scans — projection pushdown, filters pruning data
//!   files (Iceberg column bounds) and row groups (Parquet statistics), position deletes
//!   honoured, one snapshot (time travel), one partition per group of data files.
//! - `vector_search(table, column, query, k [, options])` ([`AilakeSql`]): the `k` nearest
//!   rows with `_distance`, planned as one search node per group of the shards the query
//!   visits ([`VectorSearchExec`]) and a global merge of their top-k ([`VectorMergeExec`]).
//! - `text_search(table, column, 'words', k [, options])` and `hybrid_search(table,
//!   vector_column, query, text_column, 'words', k [, options])`: full-text (BM25) and hybrid
//!   search with `_score`, one node running the session's search ([`TextSearchExec`]).
//! - [`PreparedSearch`]: a statement taking the query vector as a
//!   parameter (`vector_search('t', 'embedding', $1, 10)`), planned once, run per vector.
//! - [`AilakeCodec`]: the plans' ailake nodes as bytes, so a Ballista scheduler ships them to
//!   executors (feature `ballista`, on by default: [`ballista_config`],
//!   [`start_local_cluster`], [`remote_context`]).
//!
//! ```no_run
//! # async fn demo(table: ailake::Table) -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! let sql = ailake_datafusion::AilakeSql::new();
//! sql.register_functions(&ctx);
//! sql.register_table(&ctx, "chunks", &table).await?;
//! let hits = ctx
//!     .sql("SELECT id, _distance FROM vector_search('chunks', 'embedding', [0.1, 0.2, 0.3], 10) WHERE lang = 'en'")
//!     .await?
//!     .collect()
//!     .await?;
//! # let _ = hits; Ok(()) }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod args;
#[cfg(feature = "ballista")]
mod ballista;
mod codec;
mod error;
mod exec;
mod filter_expr;
mod functions;
mod options;
mod prepared;
mod provider;
mod schema;
mod source;
mod text_functions;

#[cfg(feature = "ballista")]
pub use ballista::{ballista_config, remote_context, start_local_cluster};
pub use codec::AilakeCodec;
pub use error::to_df;
pub use exec::merge::VectorMergeExec;
pub use exec::scan::AilakeScanExec;
pub use exec::search::VectorSearchExec;
pub use exec::text::TextSearchExec;
pub use filter_expr::{conjunction, to_filter};
pub use functions::AilakeSql;
pub use options::SearchOptions;
pub use prepared::{vector_param, PreparedSearch};
pub use provider::search::VectorSearchTable;
pub use provider::table::AilakeTable;
pub use provider::text::TextSearchTable;

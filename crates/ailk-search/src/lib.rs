//! # ailk-search
//!
//! [`SearchSession`]: search one snapshot of an ailake table. Shards (data files) are planned
//! from the snapshot's shard summaries, visited nearest-first by a distance lower bound and
//! pruned once `k` results beat their bound; each is searched with the index in its AILK
//! section (HNSW or IVF-PQ, viewed in place) or by exact scan while its index is pending;
//! results are merged and the winners' columns fetched with Parquet row selection.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod cache;
pub mod error;
pub mod filter;
pub mod params;
mod partitions;
mod rows;
mod scan;
mod session;
mod shard;
mod text_shard;

pub use cache::disk::DiskCache;
pub use cache::sessions::{SessionCache, SessionKey, GLOBAL_SESSIONS};
pub use cache::{CacheStats, ShardCache};
pub use error::{Result, SearchError};
pub use filter::prune::may_match as file_may_match;
pub use filter::rows::{check_filter, rows_matching};
pub use filter::{Filter, Literal, Op};
pub use params::{CounterSnapshot, FilterStrategy, SearchParams};
pub use partitions::{load_partitions, partitions_property, read_table_columns, read_table_rows};
pub use scan::{scan_file, FileScan};
pub use session::{Fusion, HybridParams, SearchSession, ShardCandidate, DISTANCE_COLUMN, SCORE_COLUMN};

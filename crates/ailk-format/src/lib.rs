//! # ailk-format
//!
//! The AILK section: a vector-index section carried inside the bytes of a Parquet data file,
//! between its last row group and its footer, so that ordinary Parquet readers still read the
//! file and ailake finds its index with two range reads.
//!
//! - [`section`]: the section layout — header, vector columns with their shard summaries,
//!   sub-section table, 64-byte aligned payloads — with [`SectionBuilder`] and [`Section`].
//! - [`payload`] and [`kinds`]: the payload container and the typed payload of every
//!   sub-section kind (raw vectors, HNSW graph, IVF centroids, PQ codebooks, IVF lists),
//!   all viewed in place without per-element decoding; [`blocks`]: per-partition code blocks
//!   (format 1.1) a search reads one by one; [`text_section`]: full-text indexes (format 1.2).
//! - [`shard_writer`], [`shard_reader`], [`resection`]: embedding into Parquet, reading back
//!   through `object_store` range reads, and adding a section to a Parquet-only file.
//! - [`vector_column`]: the vector column as Arrow `FixedSizeList<Float32>` with Iceberg field ids.
//!
//! The byte-level specification is `docs/format.md`. Decoders never panic on corrupt input.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(target_endian = "big")]
compile_error!("ailk-format views little-endian payloads in place and supports little-endian targets only");

pub mod aligned;
pub mod blocks;
mod bytes_le;
pub mod columns;
pub mod error;
pub mod error_kind;
pub mod kinds;
pub mod payload;
pub mod resection;
pub mod section;
pub mod shard_reader;
pub mod shard_writer;
pub mod simulated;
pub mod store;
pub mod sync;
pub mod text_blob;
pub mod text_index;
pub mod text_section;
pub mod thrift_guard;
pub mod types;
pub mod vector_column;
pub mod vector_rows;

pub use aligned::{AlignedBytes, TypedArray, ALIGN};
pub use blocks::{
    block_length, encode_code_block, known_code, vector_crc, BlocksMeta, CodeBlockParts, PartitionBlocks,
    CODE_RABITQ_1BIT, CODE_RABITQ_EX4,
};
pub use columns::{
    read_columns, read_vector_column, read_vector_rows, read_vectors, resolve_columns, PAGED_CHUNK_MIN,
};
pub use error::{FormatError, Result};
pub use error_kind::ErrorKind;
pub use kinds::{
    HnswGraph, HnswGraphRef, HnswMeta, IvfCentroids, IvfLists, PqCodebook, RawVectors, VectorData,
};
pub use payload::{ArrayElement, ArrayType, Payload, PayloadBuilder, PayloadHead};
pub use resection::{resection_bytes, resection_object, resection_parts, ResectionedFile};
pub use section::{
    Section, SectionBuilder, SectionDirectory, SubsectionEntry, VectorColumn, FORMAT_MAJOR, FORMAT_MINOR,
    MAGIC,
};
pub use shard_reader::{section_location, ReadOptions, ShardReader};
pub use shard_writer::{
    default_writer_properties, write_shard_bytes, SectionLocation, ShardWriter, WrittenShard,
    KEY_DIRECTORY_LENGTH, KEY_LENGTH, KEY_OFFSET, KEY_VERSION,
};
pub use simulated::{Fault, FaultTarget, LatencyProfile, SimulatedSnapshot, SimulatedStats, SimulatedStore};
pub use store::{local_store, memory_store, CountingStore, IoCounters};
pub use text_blob::{parse_trailer, TermBlockRef, TermEntry, TextHead, TEXT_TRAILER_BYTES};
pub use text_index::{Posting, TextIndex, MAX_TERM_BYTES};
pub use text_section::{TextColumnIndex, TextColumnName, TextColumnParts, TextIndexes, TEXT_ANALYZERS};
pub use types::{column_type_name, ElementType, Metric, SubsectionKind};
pub use vector_rows::{vector_rows, BadVector, VectorRows};

/// Re-exported so users name one `object_store`.
pub use object_store;

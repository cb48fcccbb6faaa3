//! # ailk-index
//!
//! Vector indexes for ailake shards: distance [`kernels`] (scalar reference plus run-time
//! dispatched AVX-512 / AVX2+FMA / NEON), exact [`flat`] search (also the ground-truth oracle),
//! [`hnsw`] graphs built in parallel and loaded in place from AILK sections, k-means, PQ and
//! [`ivfpq`], RaBitQ codes of partition blocks ([`rabitq`]), all behind one interface, [`VectorIndex`] (build, load from a section, search
//! with an optional [`RowFilter`]), which the writer and the search share.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod blocks;
pub mod error;
pub mod flat;
pub mod gemm;
pub mod hnsw;
pub mod ivfpq;
pub mod kernels;
pub mod kmeans;
pub mod knobs;
pub mod partitions;
pub mod pq;
pub mod rabitq;
mod rabitq_ex;
pub mod row_filter;
pub mod sq8;
pub mod text;
pub mod topk;
pub mod vector_index;

pub use ailk_format::Metric;

/// Whether a usable CUDA device is present (always `false` without the `cuda` feature).
/// The writer asks this to choose IVF-PQ; index code uses the GPU only when it says yes.
pub fn cuda_available() -> bool {
    #[cfg(feature = "cuda")]
    return kernels::cuda::available();
    #[cfg(not(feature = "cuda"))]
    false
}
pub use blocks::{blocks_seed, BlockCode, BuiltBlocks, EX4_MAX_PADDED};
pub use error::{IndexError, Result};
pub use flat::{flat_search, ground_truth, FlatIndex};
pub use hnsw::{HnswIndex, HnswParams, Traversal};
pub use ivfpq::{IvfPqCodebook, IvfPqConfig, IvfPqIndex, IvfPqSearch};
pub use kmeans::{KMeans, KMeansParams};
pub use knobs::{QueryParams, SectionVectors, DEFAULT_EF, DEFAULT_NPROBE, DEFAULT_REFINE_FACTOR};
pub use partitions::Partitions;
pub use pq::ProductQuantizer;
pub use rabitq::{CodeBlock, Estimate, RotatedQuery, Rotation};
pub use row_filter::RowFilter;
pub use topk::{Neighbor, TopK};
pub use vector_index::{FlatVectors, IndexSpec, VectorIndex};

//! Full-text search building blocks (issue 33, in progress): the [`analyzer`] that turns text
//! into terms (the same for documents and queries), the per-file [`inverted`] index and its
//! compact binary form, and [`bm25`] scoring with collection statistics summed over files, so
//! that scores are comparable across the files of a table; the [`query`] language (terms,
//! phrases, `AND` / `OR`) and [`fusion`] of ranked lists (reciprocal-rank and weighted).
//!
//! Not yet wired into the AILK section, the writer or the search session.

pub mod analyzer;
pub mod bm25;
pub mod fusion;
pub mod inverted;
pub mod query;

pub use analyzer::Analyzer;
pub use bm25::{Bm25, CollectionStats};
pub use fusion::{reciprocal_rank_fusion, weighted_fusion, RRF_K0};
pub use inverted::{Posting, TextIndex};
pub use query::TextQuery;

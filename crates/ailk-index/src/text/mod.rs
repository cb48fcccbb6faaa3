//! Full-text search building blocks (issue 33): the [`analyzer`] that turns text into terms
//! (the same for documents and queries) and [`index_texts`], which builds a file's
//! [`TextIndex`] (its codec lives in `ailk-format`); [`bm25`] scoring with collection
//! statistics summed over files, so that scores are comparable across the files of a table; the [`query`] language (terms,
//! phrases, `AND` / `OR`) and [`fusion`] of ranked lists (reciprocal-rank and weighted).

pub mod analyzer;
pub mod bm25;
pub mod fusion;
pub mod query;

pub use ailk_format::{Posting, TextIndex};
pub use analyzer::{index_texts, Analyzer};
pub use bm25::{Bm25, CollectionStats};
pub use fusion::{reciprocal_rank_fusion, weighted_fusion, RRF_K0};
pub use query::TextQuery;

//! Index builds: the AILK section of a prepared batch for each write path.

use std::sync::Arc;

use ailk_catalog::{IndexKind, ShardSummary};
use ailk_format::{SectionBuilder, VectorColumn};
use ailk_index::{HnswIndex, HnswParams, IvfPqCodebook, IvfPqConfig, IvfPqIndex};

use crate::error::Result;
use crate::prepare::PreparedColumn;

/// Which index a shard gets.
#[derive(Debug, Clone)]
pub(crate) enum IndexPlan {
    /// HNSW graph (+ raw vectors).
    Hnsw(HnswParams),
    /// IVF-PQ trained on this shard (`None`: `IvfPqConfig::for_dataset`), raw vectors kept for refine.
    IvfPq(Option<IvfPqConfig>),
    /// IVF-PQ with a table-wide codebook per column (in column order).
    IvfPqShared(Vec<Arc<IvfPqCodebook>>),
}

impl IndexPlan {
    pub fn kind(&self) -> IndexKind {
        match self {
            IndexPlan::Hnsw(_) => IndexKind::Hnsw,
            IndexPlan::IvfPq(_) | IndexPlan::IvfPqShared(_) => IndexKind::IvfPq,
        }
    }
}

enum Built {
    Hnsw(HnswIndex),
    IvfPq(IvfPqIndex),
}

/// Summaries of each column (centroid and radius of the indexed values).
pub(crate) fn summarize(columns: &[PreparedColumn]) -> Result<Vec<VectorColumn>> {
    columns
        .iter()
        .map(|c| {
            Ok(VectorColumn::summarize(
                c.field_id,
                c.spec.name.clone(),
                c.spec.metric,
                c.spec.dim,
                &c.index_values,
            )?)
        })
        .collect()
}

/// Builds every column's index and encodes the section (CPU-bound: call on a blocking thread).
pub(crate) fn build_section(rows: usize, columns: &[PreparedColumn], plan: &IndexPlan) -> Result<Vec<u8>> {
    let summaries = summarize(columns)?;
    let mut built = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let dim = c.spec.dim as usize;
        built.push(match plan {
            IndexPlan::Hnsw(p) => Built::Hnsw(HnswIndex::build(&c.index_values, dim, c.spec.metric, *p)?),
            IndexPlan::IvfPq(cfg) => {
                let cfg = cfg.unwrap_or_else(|| IvfPqConfig::for_dataset(rows, dim));
                Built::IvfPq(IvfPqIndex::build(&c.index_values, dim, c.spec.metric, &cfg, true)?)
            }
            IndexPlan::IvfPqShared(books) => {
                Built::IvfPq(IvfPqIndex::build_with_codebook(&c.index_values, books[i].clone(), true)?)
            }
        });
    }
    let mut section = SectionBuilder::new(rows as u64);
    for (summary, index) in summaries.into_iter().zip(&built) {
        let col = section.column(summary);
        match index {
            Built::Hnsw(h) => h.add_to_section(&mut section, col)?,
            Built::IvfPq(ivf) => ivf.add_to_section(&mut section, col)?,
        }
    }
    Ok(section.encode()?)
}

/// The shard summary of a written file from its primary column's summary.
pub(crate) fn shard_summary(
    uri: &str,
    rows: usize,
    primary: &VectorColumn,
    index: IndexKind,
    section: Option<(u64, u64)>,
) -> ShardSummary {
    ShardSummary {
        file_path: uri.to_string(),
        rows: rows as u64,
        column: primary.name.clone(),
        centroid: primary.centroid.clone(),
        radius: primary.radius,
        index,
        status: if section.is_some() {
            ailk_catalog::IndexStatus::Ready
        } else {
            ailk_catalog::IndexStatus::Pending
        },
        section,
    }
}

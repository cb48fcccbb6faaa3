//! Index builds: the AILK section of a prepared batch, one [`VectorIndex`] per vector column.

use std::sync::Arc;

use ailk_catalog::TextSpec;
use ailk_catalog::{IndexKind, IndexStatus, ShardSummary};
use ailk_format::{SectionBuilder, SubsectionKind, TextIndexes, VectorColumn};
use ailk_index::{
    BuiltBlocks, HnswParams, IndexSpec, IvfPqCodebook, IvfPqConfig, SectionVectors, VectorIndex,
};

use crate::error::{Result, WriterError};
use crate::prepare::{PreparedBatch, PreparedColumn};
use crate::text::{text_indexes, TextBlob};

/// Which index a shard gets, resolved for every column.
#[derive(Debug, Clone)]
pub(crate) enum IndexPlan {
    /// HNSW graph (+ raw vectors).
    Hnsw(HnswParams),
    /// IVF-PQ trained on this shard (`None`: `IvfPqConfig::for_dataset`), raw vectors kept for refine.
    IvfPq(Option<IvfPqConfig>),
    /// IVF-PQ with a table-wide codebook per column (in column order).
    IvfPqShared(Vec<Arc<IvfPqCodebook>>),
    /// Raw vectors only.
    Flat,
}

impl IndexPlan {
    pub fn kind(&self) -> IndexKind {
        match self {
            IndexPlan::Hnsw(_) => IndexKind::Hnsw,
            IndexPlan::IvfPq(_) | IndexPlan::IvfPqShared(_) => IndexKind::IvfPq,
            IndexPlan::Flat => IndexKind::Flat,
        }
    }

    /// The index spec of column `i` of a shard of `rows` rows.
    fn spec(&self, i: usize, rows: usize, dim: usize) -> IndexSpec {
        match self {
            IndexPlan::Hnsw(p) => IndexSpec::Hnsw(*p),
            IndexPlan::IvfPq(cfg) => {
                IndexSpec::IvfPq(cfg.unwrap_or_else(|| IvfPqConfig::for_dataset(rows, dim)))
            }
            IndexPlan::IvfPqShared(books) => IndexSpec::IvfPqShared(books[i].clone()),
            IndexPlan::Flat => IndexSpec::Flat,
        }
    }
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

/// Builds every column's index and encodes the section, the indexes' vectors copied into it
/// or not (`vectors`), with the primary column's partition `blocks` when given and the text
/// columns' indexes `texts` (CPU-bound: call on a blocking thread).
pub(crate) fn build_section(
    rows: usize,
    columns: &[PreparedColumn],
    plan: &IndexPlan,
    vectors: SectionVectors,
    blocks: Option<&BuiltBlocks>,
    texts: &[TextBlob],
) -> Result<Vec<u8>> {
    let summaries = summarize(columns)?;
    let built = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let dim = c.spec.dim as usize;
            Ok(VectorIndex::build(&c.index_values, dim, c.spec.metric, &plan.spec(i, rows, dim))?)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut section = SectionBuilder::new(rows as u64);
    for (summary, index) in summaries.into_iter().zip(&built) {
        let col = section.column(summary);
        index.add_to_section_with(&mut section, col, vectors)?;
        if let Some(blocks) = blocks.filter(|_| col == 0) {
            blocks.add_to_section(&mut section, col)?;
        }
    }
    let parts: Vec<_> =
        texts.iter().map(|t| (t.field_id, t.name.as_str(), t.analyzer.as_str(), t.blob.as_slice())).collect();
    if !parts.is_empty() {
        section.add(SubsectionKind::TextIndexes, 0, TextIndexes::encode(&parts)?);
    }
    Ok(section.encode()?)
}

/// Builds the section of `prepared` (with the indexes of its `texts` columns) on a blocking
/// thread; returns it with the primary column's summary. A panicking build surfaces as
/// `BuildFailed` naming `file`.
pub(crate) async fn build_off_thread(
    prepared: PreparedBatch,
    plan: IndexPlan,
    vectors: SectionVectors,
    texts: Vec<TextSpec>,
    file: &str,
) -> Result<(Vec<u8>, VectorColumn)> {
    tokio::task::spawn_blocking(move || -> Result<_> {
        let texts = text_indexes(&prepared.batch, prepared.rows, &texts)?;
        let section = build_section(prepared.rows, &prepared.columns, &plan, vectors, None, &texts)?;
        Ok((section, summarize(&prepared.columns[..1])?.remove(0)))
    })
    .await
    .map_err(|e| WriterError::BuildFailed { file: file.to_string(), reason: e.to_string() })?
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
        status: if section.is_some() { IndexStatus::Ready } else { IndexStatus::Pending },
        section,
        occupancy: None,
        blocks: None,
    }
}

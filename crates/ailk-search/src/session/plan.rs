//! Planning: the snapshot's live data files as [`ShardPlan`]s (manifest entry, centroid
//! bound, partition occupancy, section offset) and, per query, the order shards are visited
//! in ([`Visit`]): the probed partitions' shards first, nearest lower bound first.

use std::collections::HashMap;

use ailk_catalog::{BlockLayout, LiveFile, Occupancy, VectorSpec};
use ailk_format::object_store::path::Path;
use ailk_format::ErrorKind;
use ailk_index::{kernels, Metric};

use super::SearchSession;
use crate::error::Result;
use crate::params::SearchParams;

/// Partitions probed per query when the caller sets none: 1/8 of them, at least 16. Measured
/// on the real sample compacted into 7 files of 125 partitions: recall@10 0.900 at 8 probes,
/// 0.958 at 12, 0.975 at 16, 0.990 at 24 (the shards' own indexes lose nothing more).
pub(super) fn default_partition_probes(partitions: usize) -> usize {
    partitions.div_ceil(8).max(16)
}

/// Partitions probed per query through partition blocks when the caller sets none: a quarter
/// of them, at least 48. A block holds one partition of one file (not a whole file), so fewer
/// rows are seen per probe than on the whole-file path, and real embeddings need many probes
/// of the small partitions (about √rows / 2 rows each) the table trains. Measured with 4 × k
/// re-ranked: on the real sample (4,000 rows, 126 partitions; `tests/partition_blocks.rs`)
/// recall@10 0.858 at 16 probes, 0.920 at 32, 0.978 at 48, 0.995 at 64; on the real 30k × 384
/// set (346 partitions; `cargo xtask bench --only scale`) 0.881 at 24, 0.919 at 48, 0.961 at
/// 96, 0.988 at 192; on 100k × 128 Gaussian mixtures 0.997 already at 24. The codes and their
/// error bound lose almost nothing (1.000 with every partition probed): the probes decide.
pub(super) fn default_block_probes(partitions: usize) -> usize {
    partitions.div_ceil(4).max(48)
}

/// The planning rank of a shard that holds none of the probed partitions.
pub(super) const OUTSIDE_PROBES: usize = usize::MAX;

pub(super) struct ShardPlan {
    /// The manifest entry: URI, row count, size, column bounds (which prune filters).
    pub(super) file: LiveFile,
    /// The file's path in the warehouse store.
    pub(super) path: Path,
    /// Centroid and radius of the primary column, when known.
    pub(super) bound: Option<(Vec<f32>, f32)>,
    /// The table partitions the shard's rows fall in, when recorded.
    pub(super) occupancy: Option<Occupancy>,
    /// Offset of the AILK section, when the shard summary records it: opening the shard for
    /// its index reads from there to the end (section and footer) in one request.
    pub(super) section_offset: Option<u64>,
    /// Where the file's partition blocks lie, when it has them.
    pub(super) blocks: Option<BlockLayout>,
}

impl ShardPlan {
    /// The data file's URI.
    pub(super) fn uri(&self) -> &str {
        self.file.path()
    }

    /// Rows of the file, as its manifest entry records them (planning only: nothing is
    /// sized by it).
    pub(super) fn rows(&self) -> u64 {
        self.file.data_file.record_count()
    }

    /// File size from the manifest (no `HEAD` request to open the file).
    pub(super) fn file_size(&self) -> u64 {
        self.file.data_file.file_size_in_bytes()
    }

    /// Distance lower bound of the shard for the (prepared) query, in the column's distance units.
    pub(super) fn lower_bound(&self, q: &[f32], metric: Metric) -> Option<f32> {
        let (c, r) = self.bound.as_ref()?;
        if c.len() != q.len() {
            return None;
        }
        let gap = (kernels::l2_sq(q, c).sqrt() - r).max(0.0);
        match metric {
            Metric::L2 => Some(gap * gap),
            Metric::Cosine => Some(gap * gap / 2.0),
            Metric::InnerProduct => None,
        }
    }
}

/// One shard's place in a query's visit order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Visit {
    /// The shard's index in the session's plan.
    pub(super) shard: usize,
    /// Rank of the nearest probed partition the shard holds: 0 when partitions do not
    /// steer this query, [`OUTSIDE_PROBES`] when it holds none of them.
    pub(super) rank: usize,
    /// The shard's distance lower bound for the query, when known.
    pub(super) lower_bound: Option<f32>,
}

impl SearchSession {
    /// The snapshot's live `files` as shards: bounds and occupancy from the Puffin shard
    /// summaries, else (no summary) from each file's own AILK directory.
    pub(super) async fn build_plan(&self, files: &[LiveFile]) -> Result<Vec<ShardPlan>> {
        let summaries = self.table.shard_summaries().await?;
        let summaries: HashMap<&str, &ailk_catalog::ShardSummary> =
            summaries.iter().flat_map(|s| s.iter()).map(|s| (s.file_path.as_str(), s)).collect();
        let primary = &self.specs[0].name;
        let mut plan = Vec::with_capacity(files.len());
        for f in files {
            let uri = f.path().to_string();
            let path = self.table.warehouse().path_of(&uri)?;
            let occupancy = summaries.get(uri.as_str()).and_then(|s| s.occupancy.clone());
            let file_size = f.data_file.file_size_in_bytes();
            let section_offset =
                summaries.get(uri.as_str()).and_then(|s| s.section).map(|(offset, _)| offset);
            let bound = match summaries.get(uri.as_str()) {
                Some(s) if &s.column == primary && !s.centroid.is_empty() => {
                    Some((s.centroid.clone(), s.radius))
                }
                Some(_) => None,
                None => {
                    // No summary recorded: read the file's own directory (footer fallback). An
                    // unreadable file is planned without a bound; searching it decides.
                    match self.reader(&uri, &path, file_size).await {
                        Ok(reader) => reader
                            .directory()
                            .and_then(|d| d.primary())
                            .map(|c| (c.centroid.clone(), c.radius)),
                        Err(e) if e.kind() == ErrorKind::Corrupt => None,
                        Err(e) => return Err(e),
                    }
                }
            };
            let blocks = summaries
                .get(uri.as_str())
                .filter(|s| &s.column == primary)
                .and_then(|s| s.blocks.clone())
                .filter(|b| b.vectors_offset > 0 && b.rows() == f.data_file.record_count());
            plan.push(ShardPlan { file: f.clone(), path, bound, occupancy, section_offset, blocks });
        }
        Ok(plan)
    }

    /// The shards in the order a search of `q` visits them: shards holding the partitions
    /// probed first (by the rank of the nearest one they hold), then nearest first by bound.
    pub(super) fn visit_order(&self, q: &[f32], spec: &VectorSpec, params: &SearchParams) -> Vec<Visit> {
        let primary = spec.name == self.specs[0].name;
        // Partition-aware planning: the shards holding the partitions nearest the query, in
        // the order of their nearest such partition; shards without a recorded occupancy
        // (written before the partitions) are always visited.
        let probed: Option<(u32, HashMap<u32, usize>)> = match &self.partitions {
            Some(p) if primary && params.prune => {
                let n = params.partition_probes.unwrap_or_else(|| default_partition_probes(p.len()));
                Some((
                    p.version,
                    p.nearest(q, n).into_iter().enumerate().map(|(rank, id)| (id, rank)).collect(),
                ))
            }
            _ => None,
        };
        let mut order = Vec::with_capacity(self.plan.len());
        for (i, plan) in self.plan.iter().enumerate() {
            let rank = match (&probed, &plan.occupancy) {
                (Some((version, ranks)), Some(o)) if o.version == *version => {
                    // A shard holding none of them goes last, and is searched only while
                    // fewer than `k` rows are found (a selective filter, a large `k`).
                    o.counts
                        .iter()
                        .filter_map(|(id, _)| ranks.get(id))
                        .min()
                        .copied()
                        .unwrap_or(OUTSIDE_PROBES)
                }
                _ => 0,
            };
            let lower_bound = if primary && params.prune { plan.lower_bound(q, spec.metric) } else { None };
            order.push(Visit { shard: i, rank, lower_bound });
        }
        order.sort_by(|a, b| {
            a.rank.cmp(&b.rank).then(a.lower_bound.unwrap_or(0.0).total_cmp(&b.lower_bound.unwrap_or(0.0)))
        });
        order
    }
}

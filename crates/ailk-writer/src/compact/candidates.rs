//! What a compaction rewrites: the candidate files, their decoded size, and (in-memory path)
//! their live rows read as one batch.

use std::collections::HashMap;

use ailk_catalog::{LiveFile, Table};
use ailk_index::{kernels, Metric, Partitions};
use ailk_search::read_table_rows;
use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{Array, BooleanArray, RecordBatch};

use super::CompactOptions;
use crate::error::Result;
use crate::writer::TableWriter;

/// About how many bytes the candidates' rows take decoded: their vectors, plus three times
/// the rest of their Parquet bytes (less the section's copy of the vectors).
pub(super) fn decoded_bytes(files: &[LiveFile], writer: &TableWriter) -> u64 {
    let row_vectors: u64 = writer.inner.specs.iter().map(|s| s.dim as u64 * 4).sum();
    files
        .iter()
        .map(|f| {
            let vectors = f.data_file.record_count() * row_vectors;
            vectors + 3 * f.data_file.file_size_in_bytes().saturating_sub(2 * vectors)
        })
        .sum()
}

/// The files worth rewriting: small ones, ones with deleted rows, and (clustering) ones not
/// clustered by the current partitions; capped at `max_rows` rows. A single file that is
/// already clustered and has no deletes is left alone.
pub(super) async fn candidates(
    table: &Table,
    partitions: Option<&Partitions>,
    opts: &CompactOptions,
) -> Result<Vec<LiveFile>> {
    let files = table.live_files().await?;
    let deletes = table.deleted_rows().await?;
    let summaries = table.shard_summaries().await?;
    let occupancy: HashMap<&str, Option<u32>> = summaries
        .iter()
        .flat_map(|s| s.iter())
        .map(|s| (s.file_path.as_str(), s.occupancy.as_ref().map(|o| o.version)))
        .collect();
    let small = opts.small_file_rows.unwrap_or(opts.target_rows / 2).max(1) as u64;
    let mut picked = Vec::new();
    let mut rows = 0u64;
    let mut needs_rewrite = false;
    for f in files.iter() {
        let deleted = !deletes.deleted(f.path()).is_empty();
        let clustered = match partitions {
            Some(p) => occupancy.get(f.path()).copied().flatten() == Some(p.version),
            None => !opts.cluster,
        };
        if f.data_file.record_count() >= small && !deleted && clustered {
            continue;
        }
        if rows + f.data_file.record_count() > opts.max_rows as u64 && !picked.is_empty() {
            break;
        }
        needs_rewrite |= deleted || !clustered;
        rows += f.data_file.record_count();
        picked.push(f.clone());
    }
    if picked.len() == 1 && !needs_rewrite {
        picked.clear();
    }
    Ok(picked)
}

/// The live rows of the candidates, as one batch in the writer's schema.
pub(super) struct Rows {
    /// Files whose rows are in `batch` (unreadable candidates are left out and stay).
    pub files: Vec<LiveFile>,
    pub batch: RecordBatch,
    /// The primary column of `batch`, as indexed (unit length for cosine).
    pub primary: Vec<f32>,
    /// Deleted rows dropped.
    pub purged: u64,
}

pub(super) async fn read_candidates(
    table: &Table,
    writer: &TableWriter,
    candidates: &[LiveFile],
) -> Result<Rows> {
    let deletes = table.deleted_rows().await?;
    let schema = writer.inner.schema.clone();
    let spec = &writer.inner.specs[0];
    let (mut files, mut parts, mut purged) = (Vec::new(), Vec::new(), 0u64);
    for f in candidates {
        let batches = match read_table_rows(table, f.path()).await {
            Ok(b) => b,
            Err(e) if e.kind() == ailk_format::ErrorKind::Corrupt => {
                tracing::warn!(file = %f.path(), error = %e, "cannot read the file as the table's schema; left as it is");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let deleted = deletes.deleted(f.path());
        let Some(kept) = live_rows(&batches, deleted)? else {
            files.push(f.clone()); // no rows at all: the file just goes
            continue;
        };
        let conformed = match RecordBatch::try_new(schema.clone(), kept.columns().to_vec()) {
            Ok(b) if vectors_usable(&b, writer) => b,
            _ => {
                tracing::warn!(file = %f.path(), "rows without a usable vector or value: left as it is");
                continue;
            }
        };
        purged += deleted.len() as u64;
        files.push(f.clone());
        parts.push(conformed);
    }
    let batch = arrow_select::concat::concat_batches(&schema, &parts)?;
    let primary = primary_values(&batch, &spec.name, spec.metric, spec.dim as usize);
    Ok(Rows { files, batch, primary, purged })
}

/// The live rows of a candidate whose rows were read as `batches`, without the `deleted`
/// positions (sorted); `None` when the file has no rows at all.
pub(super) fn live_rows(batches: &[RecordBatch], deleted: &[u64]) -> Result<Option<RecordBatch>> {
    let Some(first) = batches.first() else { return Ok(None) };
    let all = arrow_select::concat::concat_batches(&first.schema(), batches)?;
    let keep: BooleanArray =
        (0..all.num_rows() as u64).map(|r| Some(deleted.binary_search(&r).is_err())).collect();
    Ok(Some(arrow_select::filter::filter_record_batch(&all, &keep)?))
}

/// The primary column `column` of `batch` as indexed (unit length for cosine).
pub(super) fn primary_values(batch: &RecordBatch, column: &str, metric: Metric, dim: usize) -> Vec<f32> {
    let mut v = match batch.column_by_name(column) {
        Some(c) if batch.num_rows() > 0 => {
            c.as_fixed_size_list().values().as_primitive::<Float32Type>().values().to_vec()
        }
        _ => Vec::new(),
    };
    if metric == Metric::Cosine {
        v.chunks_exact_mut(dim).for_each(kernels::normalize);
    }
    v
}

/// Every vector column of `batch` is non-null with finite values (compaction never drops a
/// row: a file with unusable vectors is not compacted).
pub(super) fn vectors_usable(batch: &RecordBatch, writer: &TableWriter) -> bool {
    writer.inner.specs.iter().all(|s| {
        batch.column_by_name(&s.name).is_some_and(|c| {
            let list = c.as_fixed_size_list();
            list.null_count() == 0
                && list.values().null_count() == 0
                && list.values().as_primitive::<Float32Type>().values().iter().all(|v| v.is_finite())
        })
    })
}

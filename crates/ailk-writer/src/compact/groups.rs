//! The shape of a compaction's output: the table's coarse partitions trained on the candidates'
//! vectors (when the table has none), the rows grouped into output files of whole partitions
//! (partitions in a nearest-neighbour chain so neighbours share files), and the groups written.

use ailk_catalog::Table;
use ailk_format::object_store::{ObjectStoreExt, PutMode, PutPayload};
use ailk_index::{kernels, Partitions};
use ailk_search::partitions_property;
use arrow_array::UInt32Array;

use super::{CompactOptions, CompactProgress, Rows};
use crate::error::{Result, WriterError};
use crate::prepare::{prepare, split_vector_columns};
use crate::writer::TableWriter;

/// Partitions above which the nearest-neighbour chaining of partitions is skipped (k² cost).
const CHAIN_MAX: usize = 2048;

/// Trains the table's partitions on `primary` and names them in the table properties (a
/// concurrent trainer that wins keeps its partitions; ours are then discarded). Returns the
/// table and, when this call named them, the property key and the partitions file's URI.
pub(super) async fn train_partitions(
    table: &Table,
    writer: &TableWriter,
    primary: &[f32],
    opts: &CompactOptions,
) -> Result<(Table, Option<(String, String)>)> {
    let spec = writer.inner.specs[0].clone();
    let dim = spec.dim as usize;
    let rows = primary.len() / dim;
    let count = opts.partitions.unwrap_or_else(|| Partitions::count_for(rows)).min(rows).max(1);
    let sample = primary.to_vec();
    let p = tokio::task::spawn_blocking(move || Partitions::train(&sample, dim, spec.metric, count, 1))
        .await
        .map_err(|e| WriterError::Internal(format!("partition training: {e}")))??;
    let uri = format!(
        "{}/metadata/{}partitions-{}-{}.ailk",
        table.location(),
        ailk_catalog::TABLE_FILE_PREFIX,
        spec.name,
        uuid::Uuid::new_v4()
    );
    let wh = table.warehouse();
    let path = wh.path_of(&uri)?;
    wh.store().put_opts(&path, PutPayload::from(p.to_bytes()), PutMode::Create.into()).await?;
    let key = partitions_property(&spec.name);
    let (table, won) = table.set_property_if_absent(&key, &uri).await?;
    if won {
        tracing::info!(table = %table.ident(), %uri, partitions = p.len(), rows, "trained the table's partitions");
        Ok((table, Some((key, uri))))
    } else {
        wh.store().delete(&path).await.ok();
        Ok((table, None))
    }
}

/// Output groups: row indices of `rows.batch`, whole partitions per group where they fit.
pub(super) fn plan_groups(rows: &Rows, partitions: Option<&Partitions>, target: usize) -> Vec<Vec<u32>> {
    let n = rows.batch.num_rows();
    let Some(p) = partitions else {
        let all: Vec<u32> = (0..n as u32).collect();
        return all.chunks(target).map(<[u32]>::to_vec).collect();
    };
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); p.len()];
    for (row, part) in p.assign(&rows.primary).into_iter().enumerate() {
        members[part as usize].push(row as u32);
    }
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut current: Vec<u32> = Vec::new();
    for part in chain(p) {
        let m = &members[part];
        if m.is_empty() {
            continue;
        }
        if !current.is_empty() && current.len() + m.len() > target + target / 4 {
            groups.push(std::mem::take(&mut current));
        }
        for piece in m.chunks(target) {
            if !current.is_empty() && current.len() + piece.len() > target + target / 4 {
                groups.push(std::mem::take(&mut current));
            }
            current.extend_from_slice(piece);
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// Partition ids in an order where neighbours are near each other (greedy nearest-neighbour
/// chain from partition 0; id order above `CHAIN_MAX` partitions).
fn chain(p: &Partitions) -> Vec<usize> {
    let k = p.len();
    if k > CHAIN_MAX {
        return (0..k).collect();
    }
    let c = |i: usize| &p.centroids[i * p.dim..(i + 1) * p.dim];
    let mut left: Vec<usize> = (1..k).collect();
    let mut order = vec![0];
    while !left.is_empty() {
        let last = *order.last().expect("non-empty");
        let (at, _) = left
            .iter()
            .enumerate()
            .map(|(at, &j)| (at, kernels::l2_sq(c(last), c(j))))
            .fold((0, f32::INFINITY), |best, x| if x.1 < best.1 { x } else { best });
        order.push(left.swap_remove(at));
    }
    order
}

/// Writes one indexed file per group; `written` collects their URIs for cleanup.
pub(super) async fn write_groups(
    writer: &TableWriter,
    rows: &Rows,
    groups: &[Vec<u32>],
    opts: &CompactOptions,
    written: &mut Vec<String>,
) -> Result<Vec<crate::staging::Entry>> {
    let mut entries = Vec::with_capacity(groups.len());
    let rows_planned = groups.iter().map(|g| g.len() as u64).sum();
    let report = |files_written, rows_written| {
        if let Some(progress) = &opts.progress {
            progress(CompactProgress {
                files_written,
                files_planned: groups.len(),
                rows_written,
                rows_planned,
            });
        }
    };
    report(0, 0);
    let mut rows_written = 0u64;
    for (i, group) in groups.iter().enumerate() {
        let take = UInt32Array::from(group.clone());
        let batch = arrow_select::take::take_record_batch(&rows.batch, &take)?;
        let (attributes, vectors) = split_vector_columns(&writer.inner.specs, &batch)?;
        let prepared = prepare(&writer.inner.schema, &writer.inner.specs, &attributes, vectors)?;
        let plan = writer.plan(&opts.index, prepared.rows);
        let entry = writer.build_indexed(prepared, plan, None).await?;
        written.push(entry.data_file.file_path().to_string());
        rows_written += group.len() as u64;
        tracing::info!(file = %entry.data_file.file_path(), rows = group.len(), done = i + 1, of = groups.len(), "compaction wrote a file");
        report(i + 1, rows_written);
        entries.push(entry);
    }
    Ok(entries)
}

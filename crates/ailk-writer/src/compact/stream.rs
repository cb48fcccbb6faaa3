//! The streamed compaction, for candidates larger than the memory budget: memory holds one
//! candidate file, a sample, one partition id per row and the spill buffers, never the table.
//!
//! 1. **Sample** (only when the table has no partitions yet): every n-th live row's primary
//!    vector, read column-only; the partitions are trained on it.
//! 2. **Assign**: each candidate's vector columns are read, checked and routed to their
//!    partitions; the per-partition counts give the [`GroupPlan`], recorded in the checkpoint.
//! 3. **Route**: each candidate's rows are read again and appended to their group's buffer,
//!    spilled to local Arrow IPC files past the budget ([`Spill`]).
//! 4. **Write**: each group's rows are loaded in chain order, indexed and put, and marked done
//!    in the checkpoint. A resumed checkpoint skips the groups it marked done.

use std::collections::HashMap;
use std::sync::Arc;

use ailk_catalog::{LiveFile, Table};
use ailk_index::Partitions;
use ailk_search::{read_table_columns, read_table_rows};
use arrow_array::{RecordBatch, UInt32Array};

use super::candidates::{live_rows, primary_values, vectors_usable};
use super::checkpoint::{plan_changed, Checkpoint, Plan, PlannedFile};
use super::groups::{counts, train_partitions, write_group, GroupPlan, Reporter};
use super::spill::Spill;
use super::{CompactOptions, Rewrite};
use crate::error::Result;
use crate::policy::WritePolicy;
use crate::staging::{Entry, EntryState};
use crate::writer::TableWriter;

/// One candidate's live rows: which ones, and the partition of each.
struct Assigned {
    file: LiveFile,
    /// Deleted row positions (sorted).
    deleted: Vec<u64>,
    partitions: Vec<u32>,
}

/// Whether live row number `seen` (counted over the candidates in order) joins a training
/// sample of about `want` of `total` rows: a hash of its position against the share, so the
/// rows are picked as at random. A fixed stride aliases with periodic data: rows written
/// cycling through 1,000 clusters, sampled every 38th, gave partitions of the even clusters
/// only (`docs/benchmarks-bigtable.md`, 10M rows).
fn sampled(seen: u64, want: u64, total: u64) -> bool {
    if want >= total {
        return true;
    }
    // The finalizer of splitmix64: consecutive positions map to unrelated values.
    let mut z = seen.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z as u128 * total as u128) >> 64) < want as u128
}

/// The key of the options that shape a compaction's output (a checkpoint resumes only under
/// the same).
pub(super) fn options_key(opts: &CompactOptions) -> String {
    format!("target={};cluster={};index={:?}", opts.target_rows, opts.cluster, opts.index)
}

/// Compacts `files` through `checkpoint` (see the module docs) and returns what to commit.
pub(super) async fn rewrite_streamed(
    table: Table,
    policy: WritePolicy,
    files: Vec<LiveFile>,
    partitions: Option<Arc<Partitions>>,
    mut checkpoint: Checkpoint,
    opts: &CompactOptions,
) -> Result<(Table, Rewrite, Checkpoint)> {
    let mut table = table;
    let mut writer = TableWriter::for_table(&table, policy)?;
    let spec = writer.inner.specs[0].clone();
    let dim = spec.dim as usize;
    let vector_names: Vec<String> = writer.inner.specs.iter().map(|s| s.name.clone()).collect();
    let vector_names: Vec<&str> = vector_names.iter().map(String::as_str).collect();
    let deletes = table.deleted_rows().await?;
    let live_total: u64 =
        files.iter().map(|f| f.data_file.record_count() - deletes.deleted(f.path()).len() as u64).sum();
    let reading = Reporter { opts, files_planned: 0, rows_planned: live_total };
    let mut partitions = partitions;
    if opts.cluster && partitions.is_none() {
        let count = opts.partitions.unwrap_or_else(|| Partitions::count_for(live_total as usize));
        let want = (count as u64 * 64).clamp(1, live_total.max(1));
        let (mut sample, mut seen) = (Vec::new(), 0u64);
        for f in &files {
            let batches = match read_table_columns(&table, f.path(), &[spec.name.as_str()]).await {
                Ok(b) => b,
                Err(e) if e.kind() == ailk_format::ErrorKind::Corrupt => continue,
                Err(e) => return Err(e.into()),
            };
            let Some(rows) = live_rows(&batches, deletes.deleted(f.path()))? else { continue };
            let values = primary_values(&rows, &spec.name, spec.metric, dim);
            for v in values.chunks_exact(dim) {
                if sampled(seen, want, live_total) && v.iter().all(|x| x.is_finite()) {
                    sample.extend_from_slice(v);
                }
                seen += 1;
            }
            reading.reading(seen);
        }
        if !sample.is_empty() {
            let (t, _) = train_partitions(&table, &writer, &sample, count).await?;
            table = t;
            writer = TableWriter::for_table(&table, policy)?;
            partitions = writer.partitions().await?;
        }
    }
    // 2. Assign.
    let mut assigned = Vec::new();
    let mut read = 0u64;
    for f in files {
        let batches = match read_table_columns(&table, f.path(), &vector_names).await {
            Ok(b) => b,
            Err(e) if e.kind() == ailk_format::ErrorKind::Corrupt => {
                tracing::warn!(file = %f.path(), error = %e, "cannot read the file as the table's schema; left as it is");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let deleted = deletes.deleted(f.path()).to_vec();
        let rows = live_rows(&batches, &deleted)?;
        if let Some(rows) = &rows {
            let usable = writer.inner.specs.iter().all(|s| rows.column_by_name(&s.name).is_some())
                && vectors_usable(rows, &writer);
            if !usable {
                tracing::warn!(file = %f.path(), "rows without a usable vector or value: left as it is");
                continue;
            }
        }
        let values =
            rows.as_ref().map(|r| primary_values(r, &spec.name, spec.metric, dim)).unwrap_or_default();
        read += (values.len() / dim.max(1)) as u64;
        let parts = match &partitions {
            Some(p) => p.assign(&values),
            None => vec![0; values.len() / dim.max(1)],
        };
        assigned.push(Assigned { file: f, deleted, partitions: parts });
        reading.reading(read);
    }
    let all_parts: Vec<u32> = assigned.iter().flat_map(|a| a.partitions.iter().copied()).collect();
    let parts = partitions.as_ref().map_or(1, |p| p.len());
    let plan = GroupPlan::new(&counts(&all_parts, parts), partitions.as_deref(), opts.target_rows);
    drop(all_parts);
    let recorded = Plan {
        options: super::stream::options_key(opts),
        partitions_version: partitions.as_ref().map(|p| p.version),
        files: assigned
            .iter()
            .map(|a| PlannedFile {
                path: a.file.path().to_string(),
                rows: a.file.data_file.record_count(),
                deleted: a.deleted.len() as u64,
            })
            .collect(),
        group_rows: plan.group_rows.clone(),
    };
    match &checkpoint.plan {
        Some(p) if *p != recorded => return Err(plan_changed(&checkpoint.id)),
        Some(_) => {}
        None => checkpoint.save_plan(recorded).await?,
    }
    // A marker whose file holds other than its group's rows is not trusted.
    checkpoint.done.retain(|&g, s| plan.group_rows.get(g as usize) == Some(&s.rows));
    // 3. Route.
    let limit = opts.memory_bytes / 2;
    let mut spill = Spill::new(
        writer.inner.schema.clone(),
        plan.len(),
        limit,
        opts.spill_dir.as_deref(),
        &checkpoint.id,
    )?;
    let mut router = plan.router();
    let (mut routed, mut purged) = (0u64, 0u64);
    for a in &assigned {
        purged += a.deleted.len() as u64;
        let groups: Vec<u32> = a.partitions.iter().map(|&p| router.route(p)).collect();
        routed += groups.len() as u64;
        if groups.iter().all(|g| checkpoint.done.contains_key(g)) {
            continue;
        }
        let batches = read_table_rows(&table, a.file.path()).await?;
        let Some(rows) = live_rows(&batches, &a.deleted)? else { continue };
        let rows = RecordBatch::try_new(writer.inner.schema.clone(), rows.columns().to_vec())?;
        let mut by_group: HashMap<u32, Vec<u32>> = HashMap::new();
        for (row, &g) in groups.iter().enumerate() {
            if !checkpoint.done.contains_key(&g) {
                by_group.entry(g).or_default().push(row as u32);
            }
        }
        for (g, rows_of) in by_group {
            let parts_of = rows_of.iter().map(|&r| a.partitions[r as usize]).collect();
            let batch = arrow_select::take::take_record_batch(&rows, &UInt32Array::from(rows_of))?;
            spill.push(g as usize, &batch, parts_of)?;
        }
        reading.reading(routed);
    }
    // 4. Write.
    let writing = Reporter { opts, files_planned: plan.len(), rows_planned: routed };
    let mut rows_written: u64 = checkpoint.done.values().map(|s| s.rows).sum();
    writing.writing(checkpoint.done.len(), rows_written);
    let (mut entries, mut written) = (Vec::new(), Vec::new());
    for g in 0..plan.len() as u32 {
        if checkpoint.done.contains_key(&g) {
            continue;
        }
        let batch = spill.take(g as usize, &plan)?;
        let entry = write_group(&writer, &batch, opts).await?;
        written.push(entry.data_file.file_path().to_string());
        checkpoint.mark_done(g, entry.summary.clone()).await?;
        rows_written += batch.num_rows() as u64;
        tracing::info!(file = %entry.data_file.file_path(), rows = batch.num_rows(), done = checkpoint.done.len(), of = plan.len(), "compaction wrote a file");
        writing.writing(checkpoint.done.len(), rows_written);
        entries.push(entry);
    }
    if spill.spilled_bytes > 0 {
        tracing::info!(bytes = spill.spilled_bytes, "compaction spilled rows to local disk");
    }
    // Files a previous call wrote.
    let fresh: std::collections::HashSet<String> = written.iter().cloned().collect();
    for summary in checkpoint.done.values().filter(|s| !fresh.contains(&s.file_path)) {
        let data_file =
            ailk_catalog::data_file_from_store(table.warehouse(), &summary.file_path, table.schema()).await?;
        entries.push(Entry {
            key: writer.staging().next_key(),
            data_file,
            summary: summary.clone(),
            batch_id: None,
            state: EntryState::Staged,
            lease: None,
        });
    }
    let rewrite = Rewrite {
        files: assigned.into_iter().map(|a| a.file).collect(),
        entries,
        written,
        rows: routed,
        purged,
        partitions_version: partitions.as_ref().map(|p| p.version),
        trained: None,
    };
    Ok((table, rewrite, checkpoint))
}

#[cfg(test)]
mod tests {
    use super::sampled;

    #[test]
    fn the_training_sample_takes_every_residue_of_periodic_rows() {
        // 1M rows cycling through 1,000 clusters, a sample of 1/38 of them: a stride of 38
        // held only the even clusters; the hashed pick holds every cluster, at about the share.
        let (total, want) = (1_000_000u64, 26_315u64);
        let mut clusters = vec![0u32; 1000];
        let mut picked = 0u64;
        for row in (0..total).filter(|&r| sampled(r, want, total)) {
            clusters[(row % 1000) as usize] += 1;
            picked += 1;
        }
        assert!(picked.abs_diff(want) < want / 20, "{picked} picked for {want}");
        assert!(clusters.iter().all(|&c| c >= 8), "least {:?}", clusters.iter().min());
        // A sample as large as the rows takes them all.
        assert!((0..100).all(|r| sampled(r, 100, 100)));
    }
}

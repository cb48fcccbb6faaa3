//! The shape of a compaction's output: the table's coarse partitions trained on the candidates'
//! vectors (when the table has none), the rows grouped into output files of whole partitions
//! (partitions in a nearest-neighbour chain so neighbours share files), and the groups written.

use ailk_catalog::Table;
use ailk_format::object_store::{ObjectStoreExt, PutMode, PutPayload};
use ailk_index::{kernels, Partitions};
use ailk_search::partitions_property;
use arrow_array::{RecordBatch, UInt32Array};

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
    count: usize,
) -> Result<(Table, Option<(String, String)>)> {
    let spec = writer.inner.specs[0].clone();
    let dim = spec.dim as usize;
    let rows = primary.len() / dim;
    let count = count.min(rows).max(1);
    let sample = primary.to_vec();
    // Each training gets its own version (files record it), so after a retrain the files
    // clustered by the old partitions are never read as if clustered by the new ones.
    let id = uuid::Uuid::new_v4();
    let version = (id.as_u128() as u32).max(1);
    let p = tokio::task::spawn_blocking(move || Partitions::train(&sample, dim, spec.metric, count, version))
        .await
        .map_err(|e| WriterError::Internal(format!("partition training: {e}")))??;
    let uri = format!(
        "{}/metadata/{}partitions-{}-{id}.ailk",
        table.location(),
        ailk_catalog::TABLE_FILE_PREFIX,
        spec.name,
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

/// Which output file each row goes to: partitions in chain order, whole partitions per group
/// where they fit, a partition larger than `target` split into pieces of `target` rows (its
/// rows in the order they are routed). Both compaction paths route rows through it, so the
/// in-memory and the streamed path write the same files.
pub(super) struct GroupPlan {
    /// Per partition: the group of each of its pieces.
    pieces: Vec<Vec<u32>>,
    /// Per partition: its position in the chain (rows of a group are ordered by it).
    rank: Vec<u32>,
    target: u64,
    /// Rows of each group.
    pub group_rows: Vec<u64>,
}

impl GroupPlan {
    /// The plan for partitions holding `counts` rows each (one partition: row order chunks).
    pub fn new(counts: &[u64], partitions: Option<&Partitions>, target: usize) -> Self {
        let order: Vec<usize> = match partitions {
            Some(p) => chain(p),
            None => (0..counts.len()).collect(),
        };
        let target = target.max(1) as u64;
        let limit = target + target / 4;
        let mut plan = Self {
            pieces: vec![Vec::new(); counts.len()],
            rank: vec![0; counts.len()],
            target,
            group_rows: Vec::new(),
        };
        let mut current = 0u64;
        for (rank, part) in order.into_iter().enumerate() {
            plan.rank[part] = rank as u32;
            let m = counts[part];
            if m == 0 {
                continue;
            }
            if current > 0 && current + m > limit {
                current = 0;
            }
            let mut left = m;
            while left > 0 {
                let piece = left.min(target);
                if current > 0 && current + piece > limit {
                    current = 0;
                }
                if current == 0 {
                    plan.group_rows.push(0);
                }
                let group = plan.group_rows.len() - 1;
                plan.group_rows[group] += piece;
                plan.pieces[part].push(group as u32);
                current += piece;
                left -= piece;
            }
        }
        plan
    }

    /// Number of groups (output files).
    pub fn len(&self) -> usize {
        self.group_rows.len()
    }

    /// A router that sends rows, in stream order, to their group.
    pub fn router(&self) -> Router<'_> {
        Router { plan: self, seen: vec![0; self.pieces.len()] }
    }

    /// Chain position of partition `part`: a group's rows are sorted by it (stable).
    pub fn rank(&self, part: u32) -> u32 {
        self.rank[part as usize]
    }
}

/// Routes rows to groups in the order they come (see [`GroupPlan`]).
pub(super) struct Router<'a> {
    plan: &'a GroupPlan,
    seen: Vec<u64>,
}

impl Router<'_> {
    /// The group of the next row of partition `part`.
    pub fn route(&mut self, part: u32) -> u32 {
        let p = part as usize;
        let k = self.seen[p];
        self.seen[p] += 1;
        self.plan.pieces[p][(k / self.plan.target) as usize]
    }
}

/// Rows per partition of an assignment (`parts` partitions).
pub(super) fn counts(assignment: &[u32], parts: usize) -> Vec<u64> {
    let mut counts = vec![0u64; parts];
    for &a in assignment {
        counts[a as usize] += 1;
    }
    counts
}

/// Output groups of the in-memory path: row indices of `rows.batch`, each group's rows in
/// chain order of their partitions.
pub(super) fn plan_groups(rows: &Rows, partitions: Option<&Partitions>, target: usize) -> Vec<Vec<u32>> {
    let n = rows.batch.num_rows();
    let assignment = match partitions {
        Some(p) => p.assign(&rows.primary),
        None => vec![0; n],
    };
    let plan =
        GroupPlan::new(&counts(&assignment, partitions.map_or(1, Partitions::len)), partitions, target);
    let mut router = plan.router();
    let mut groups: Vec<Vec<u32>> = vec![Vec::new(); plan.len()];
    for (row, &part) in assignment.iter().enumerate() {
        groups[router.route(part) as usize].push(row as u32);
    }
    for g in &mut groups {
        g.sort_by_key(|&row| plan.rank(assignment[row as usize]));
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
    let report = Reporter { opts, files_planned: groups.len(), rows_planned };
    report.writing(0, 0);
    let mut rows_written = 0u64;
    for (i, group) in groups.iter().enumerate() {
        let take = UInt32Array::from(group.clone());
        let batch = arrow_select::take::take_record_batch(&rows.batch, &take)?;
        let entry = write_group(writer, &batch, opts).await?;
        written.push(entry.data_file.file_path().to_string());
        rows_written += group.len() as u64;
        tracing::info!(file = %entry.data_file.file_path(), rows = group.len(), done = i + 1, of = groups.len(), "compaction wrote a file");
        report.writing(i + 1, rows_written);
        entries.push(entry);
    }
    Ok(entries)
}

/// Builds and puts one output file of `batch` (rows in the writer's schema).
pub(super) async fn write_group(
    writer: &TableWriter,
    batch: &RecordBatch,
    opts: &CompactOptions,
) -> Result<crate::staging::Entry> {
    let (attributes, vectors) = split_vector_columns(&writer.inner.specs, batch)?;
    let prepared = prepare(&writer.inner.schema, &writer.inner.specs, &attributes, vectors)?;
    let plan = writer.plan(&opts.index, prepared.rows);
    writer.build_indexed(prepared, plan, None).await
}

/// Reports a compaction's progress to its callback.
pub(super) struct Reporter<'a> {
    pub opts: &'a CompactOptions,
    pub files_planned: usize,
    pub rows_planned: u64,
}

impl Reporter<'_> {
    fn report(&self, files_written: usize, rows_written: u64, rows_read: u64) {
        if let Some(progress) = &self.opts.progress {
            progress(CompactProgress {
                files_written,
                files_planned: self.files_planned,
                rows_written,
                rows_planned: self.rows_planned,
                rows_read,
            });
        }
    }

    /// While the candidates are read (before the output files are known).
    pub fn reading(&self, rows_read: u64) {
        self.report(0, 0, rows_read);
    }

    /// While the output files are written.
    pub fn writing(&self, files_written: usize, rows_written: u64) {
        self.report(files_written, rows_written, self.rows_planned);
    }
}

//! The rows of a streamed compaction on their way to their output files: one buffer per
//! output group, and when the buffers together pass their byte budget the largest ones are
//! written to Arrow IPC files in a local spill directory (removed when the spill is dropped).
//! Each buffered row carries its partition (an extra column) so a group's rows can be put in
//! chain order when it is loaded.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt32Type;
use arrow_array::{Array, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::groups::GroupPlan;
use crate::error::{Result, WriterError};

/// The name prefix of the spill directories of checkpoint `id`.
fn dir_prefix(id: &str) -> String {
    format!("ailake-compact-{id}-")
}

/// Removes the spill directories a killed run of checkpoint `id` left under `parent` (the
/// system's temporary directory when `None`); called once the checkpoint's owner is gone.
pub(super) fn remove_leftovers(parent: Option<&Path>, id: &str) {
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let prefix = dir_prefix(id);
    let Ok(entries) = std::fs::read_dir(&parent) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => {
                    tracing::info!(dir = %entry.path().display(), "removed a killed compaction's spill")
                }
                Err(e) => {
                    tracing::warn!(dir = %entry.path().display(), error = %e, "could not remove a killed compaction's spill")
                }
            }
        }
    }
}

/// The name of the partition column spilled rows carry.
const PARTITION_COLUMN: &str = "__ailake_partition";

/// One group's rows not yet written.
#[derive(Default)]
struct GroupRows {
    batches: Vec<RecordBatch>,
    bytes: usize,
    files: Vec<PathBuf>,
}

/// Buffers and spill files of every group of one compaction.
pub(super) struct Spill {
    dir: tempfile::TempDir,
    schema: SchemaRef,
    groups: Vec<GroupRows>,
    buffered: usize,
    limit: usize,
    /// Bytes written to spill files so far.
    pub spilled_bytes: u64,
}

fn io(what: &str, e: std::io::Error) -> WriterError {
    WriterError::Spill { what: what.to_string(), source: e }
}

impl Spill {
    /// A spill for `groups` groups of rows in `schema`, buffering up to `limit` bytes in
    /// memory, spilling under `parent` (the system's temporary directory when `None`) in a
    /// directory named for checkpoint `id` (see [`remove_leftovers`]).
    pub fn new(
        schema: SchemaRef,
        groups: usize,
        limit: usize,
        parent: Option<&Path>,
        id: &str,
    ) -> Result<Self> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let dir = tempfile::Builder::new()
            .prefix(&dir_prefix(id))
            .tempdir_in(parent)
            .map_err(|e| io("creating the spill directory", e))?;
        let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new(PARTITION_COLUMN, DataType::UInt32, false)));
        Ok(Self {
            dir,
            schema: Arc::new(Schema::new(fields)),
            groups: (0..groups).map(|_| GroupRows::default()).collect(),
            buffered: 0,
            limit,
            spilled_bytes: 0,
        })
    }

    /// Adds `batch` (rows of `group`, in the compaction's schema) with each row's partition.
    pub fn push(&mut self, group: usize, batch: &RecordBatch, partitions: Vec<u32>) -> Result<()> {
        let mut columns = batch.columns().to_vec();
        columns.push(Arc::new(UInt32Array::from(partitions)));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        let bytes = batch.get_array_memory_size();
        let g = &mut self.groups[group];
        g.batches.push(batch);
        g.bytes += bytes;
        self.buffered += bytes;
        while self.buffered > self.limit {
            let (largest, _) =
                self.groups.iter().enumerate().max_by_key(|(_, g)| g.bytes).expect("a spill has groups");
            self.spill_group(largest)?;
            if self.buffered <= self.limit / 2 {
                break;
            }
        }
        Ok(())
    }

    /// Writes `group`'s buffered rows to a new spill file.
    fn spill_group(&mut self, group: usize) -> Result<()> {
        let g = &mut self.groups[group];
        if g.batches.is_empty() {
            return Ok(());
        }
        let path = self.dir.path().join(format!("g{group}-{}.arrow", g.files.len()));
        let file = File::create(&path).map_err(|e| io("creating a spill file", e))?;
        let mut writer = arrow_ipc::writer::FileWriter::try_new(std::io::BufWriter::new(file), &self.schema)?;
        for b in g.batches.drain(..) {
            writer.write(&b)?;
        }
        writer.finish()?;
        let written = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        self.spilled_bytes += written;
        self.buffered -= g.bytes;
        g.bytes = 0;
        g.files.push(path);
        Ok(())
    }

    /// Takes `group`'s rows (spilled and buffered, in the order they came), sorted stably by
    /// the chain rank of their partitions, without the partition column; its spill files go.
    pub fn take(&mut self, group: usize, plan: &GroupPlan) -> Result<RecordBatch> {
        let g = std::mem::take(&mut self.groups[group]);
        self.buffered -= g.bytes;
        let mut batches = Vec::new();
        for path in &g.files {
            let file = File::open(path).map_err(|e| io("reading a spill file", e))?;
            for b in arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)? {
                batches.push(b?);
            }
            std::fs::remove_file(path).ok();
        }
        batches.extend(g.batches);
        let all = arrow_select::concat::concat_batches(&self.schema, &batches)?;
        drop(batches);
        let last = all.num_columns() - 1;
        let parts = all.column(last).as_primitive::<UInt32Type>().clone();
        let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
        order.sort_by_key(|&r| plan.rank(parts.value(r as usize)));
        let rows = arrow_select::take::take_record_batch(&all, &UInt32Array::from(order))?;
        let mut columns = rows.columns().to_vec();
        columns.truncate(last);
        let schema = Arc::new(Schema::new(self.schema.fields()[..last].to_vec()));
        debug_assert_eq!(parts.null_count(), 0);
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

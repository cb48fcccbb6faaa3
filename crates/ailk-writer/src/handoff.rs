//! Files written in one place, committed in another: [`StagedFile`] (a staged data file as a
//! value that travels — JSON, bytes — from the worker that wrote it to the process that
//! commits), [`TableWriter::take_staged`] (the writer hands its staged files over instead of
//! committing them) and [`commit_files`] (one snapshot of any set of them, exactly once under
//! a batch id). This is how distributed engines write Iceberg tables: workers write files, the
//! driver commits them once.
//!
//! Nothing in a [`StagedFile`] is trusted at commit: the file must exist under the table's
//! `data/` directory, its Parquet footer must agree with the row count and section pointers
//! the value claims, and its Iceberg entry (column statistics) is read from that footer.

use std::collections::HashSet;
use std::sync::Arc;

use ailk_catalog::{
    data_file_from_metadata, decode_summaries, encode_summaries, CommitOutcome, IndexKind, IndexStatus,
    ShardSummary, SnapshotUpdate, Table,
};
use ailk_format::{ReadOptions, ShardReader};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::error::{Result, WriterError};
use crate::staging::EntryState;
use crate::writer::TableWriter;

/// Version tag of the serialized form.
const WIRE_VERSION: u32 = 1;
/// Footers read at once while checking the files of one commit.
const FOOTER_READS: usize = 16;

/// A data file written and staged but not committed, as a value that can travel between
/// processes ([`StagedFile::to_json`] / [`StagedFile::from_json`], or bytes). Commit any set
/// of them with [`commit_files`].
#[derive(Debug, Clone, PartialEq)]
pub struct StagedFile {
    /// The location of the table the file was written for.
    pub table_location: String,
    /// The exactly-once tag of the write, if it had one (recorded by the commit).
    pub batch_id: Option<String>,
    /// What planning knows of the file (path, rows, index, section, partitions).
    pub summary: ShardSummary,
}

/// The serialized form: the summary as its canonical (fuzzed) binary encoding, in hex.
#[derive(Serialize, Deserialize)]
struct Wire {
    version: u32,
    table_location: String,
    batch_id: Option<String>,
    summary: String,
}

impl StagedFile {
    /// The file's URI.
    pub fn path(&self) -> &str {
        &self.summary.file_path
    }

    /// Rows in the file.
    pub fn rows(&self) -> u64 {
        self.summary.rows
    }

    /// The index the file has (or will have once indexed).
    pub fn index(&self) -> IndexKind {
        self.summary.index
    }

    /// Whether the file carries its index section (`false`: a deferred build that did not
    /// finish; `resume_indexing` builds it after the commit).
    pub fn indexed(&self) -> bool {
        self.summary.status == IndexStatus::Ready
    }

    /// The value as JSON text.
    pub fn to_json(&self) -> String {
        let blob = encode_summaries(std::slice::from_ref(&self.summary));
        let wire = Wire {
            version: WIRE_VERSION,
            table_location: self.table_location.clone(),
            batch_id: self.batch_id.clone(),
            summary: blob.iter().map(|b| format!("{b:02x}")).collect(),
        };
        serde_json::to_string(&wire).expect("a struct of strings serializes")
    }

    /// Parses [`StagedFile::to_json`]'s text; `InvalidInput` for anything else.
    pub fn from_json(text: &str) -> Result<Self> {
        let bad = |why: String| WriterError::InvalidInput(format!("not a serialized staged file: {why}"));
        let wire: Wire = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if wire.version != WIRE_VERSION {
            return Err(bad(format!("version {} (this build reads {WIRE_VERSION})", wire.version)));
        }
        let hex = wire.summary.as_bytes();
        if !hex.len().is_multiple_of(2) {
            return Err(bad("odd summary length".into()));
        }
        let blob = hex
            .chunks(2)
            .map(|p| std::str::from_utf8(p).ok().and_then(|s| u8::from_str_radix(s, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| bad("summary is not hex".into()))?;
        let mut summaries = decode_summaries(&blob).map_err(|e| bad(e.to_string()))?;
        if summaries.len() != 1 {
            return Err(bad(format!("{} summaries, expected one", summaries.len())));
        }
        Ok(Self {
            table_location: wire.table_location,
            batch_id: wire.batch_id,
            summary: summaries.remove(0),
        })
    }

    /// The value as bytes (UTF-8 JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_json().into_bytes()
    }

    /// Parses [`StagedFile::to_bytes`]'s bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| WriterError::InvalidInput("not a serialized staged file: not UTF-8".into()))?;
        Self::from_json(text)
    }
}

impl TableWriter {
    /// Hands over every file this writer has staged, instead of committing it: the files leave
    /// the writer's staging (its `commit` no longer sees them) and come back as values to pass
    /// to [`commit_files`], here or in another process. Waits for the writer's background
    /// index builds first, so a file comes back indexed unless its build failed (then
    /// unindexed: `resume_indexing` builds it once committed).
    ///
    /// The files stay safe from vacuum for its `min_age` (3 days by default) after this call;
    /// a process that commits them later should hold the table's write lease
    /// (`Table::lease`) from before the files were written until it commits.
    pub async fn take_staged(&self) -> Result<Vec<StagedFile>> {
        if let Err(e) = self.wait_indexed().await {
            tracing::warn!(error = %e, "a background build failed; its file is handed over unindexed");
        }
        let building: HashSet<String> =
            ailk_format::sync::lock(&self.inner.tasks).iter().map(|(f, _)| f.clone()).collect();
        let mut entries = self.staging().entries.lock().await;
        let mut taken = Vec::new();
        let mut leases = Vec::new();
        entries.retain_mut(|e| {
            if e.state != EntryState::Staged || building.contains(e.data_file.file_path()) {
                return true;
            }
            leases.extend(e.lease.take());
            taken.push(StagedFile {
                table_location: self.table().location().to_string(),
                batch_id: e.batch_id.clone(),
                summary: e.summary.clone(),
            });
            false
        });
        drop(entries);
        for lease in leases {
            ailk_catalog::release_lease(lease).await;
        }
        tracing::info!(files = taken.len(), "handed over staged files");
        Ok(taken)
    }
}

/// What [`commit_files`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitFilesOutcome {
    /// The snapshot holding the files: the new one, or the current one when nothing was
    /// committed.
    pub snapshot_id: i64,
    /// Whether this call committed a snapshot (`false`: the batch id was already in the
    /// table's lineage, or every file's batch was).
    pub committed: bool,
    /// Files committed.
    pub files: usize,
    /// Rows committed.
    pub rows: u64,
    /// Files left out because their own batch id was already committed (by a retried task's
    /// first attempt, or a concurrent job). They are garbage: vacuum removes them.
    pub skipped: Vec<String>,
}

/// Commits `files` (written by any writer of `table`, in any process) as one snapshot and
/// moves nothing else. With `batch_id`, exactly once: an id already in the table's lineage
/// makes the call a no-op (`committed: false`), and of two concurrent calls with the same id
/// one commits and the other is a no-op. A file whose own batch id is already committed is
/// skipped. Refused (`InvalidInput`, nothing committed): a file of another table, a path given
/// twice, a file already live in the table, a file missing from the store or whose footer
/// disagrees with the value.
pub async fn commit_files(
    table: &Table,
    files: &[StagedFile],
    batch_id: Option<&str>,
) -> Result<CommitFilesOutcome> {
    if let Some(id) = batch_id {
        if id.is_empty() || id.contains(',') {
            return Err(WriterError::InvalidInput(format!("batch id {id:?} is empty or contains a comma")));
        }
    }
    let table = table.refresh().await?;
    let current = table.snapshot_id().unwrap_or(0);
    let already = match batch_id {
        Some(id) => table.contains_batch(id)?.then_some(id),
        None => None,
    };
    if let Some(id) = already {
        tracing::info!(batch_id = %id, "batch already committed; commit_files is a no-op");
        return Ok(CommitFilesOutcome {
            snapshot_id: current,
            committed: false,
            files: 0,
            rows: 0,
            skipped: vec![],
        });
    }
    check_paths(&table, files).await?;
    let reads: Vec<_> = files.iter().map(|f| checked_entry(table.clone(), f.clone())).collect();
    let checked: Vec<_> = futures::stream::iter(reads).buffered(FOOTER_READS).try_collect().await?;
    let mut pending: Vec<(&StagedFile, ailk_catalog::iceberg::spec::DataFile)> =
        files.iter().zip(checked).collect();
    let mut skipped = Vec::new();
    loop {
        if pending.is_empty() {
            let snapshot_id = table.refresh().await?.snapshot_id().unwrap_or(0);
            return Ok(CommitFilesOutcome { snapshot_id, committed: false, files: 0, rows: 0, skipped });
        }
        let update = SnapshotUpdate::append(pending.iter().map(|(_, d)| d.clone()).collect())
            .with_summaries(pending.iter().map(|(f, _)| f.summary.clone()).collect())
            .with_batch_ids(
                pending.iter().filter_map(|(f, _)| f.batch_id.clone()).chain(batch_id.map(String::from)),
            )
            .with_written_schema(Arc::new(table.schema().clone()));
        match table.commit(update).await? {
            CommitOutcome::Committed { snapshot_id, attempts } => {
                let rows = pending.iter().map(|(f, _)| f.rows()).sum();
                tracing::info!(
                    snapshot_id,
                    files = pending.len(),
                    rows,
                    attempts,
                    "committed handed-over files"
                );
                return Ok(CommitFilesOutcome {
                    snapshot_id,
                    committed: true,
                    files: pending.len(),
                    rows,
                    skipped,
                });
            }
            CommitOutcome::AlreadyCommitted { batch_id: won, snapshot_id }
                if Some(won.as_str()) == batch_id =>
            {
                tracing::info!(batch_id = %won, "another call committed this batch first; no-op");
                return Ok(CommitFilesOutcome { snapshot_id, committed: false, files: 0, rows: 0, skipped });
            }
            CommitOutcome::AlreadyCommitted { batch_id: won, .. } => {
                pending.retain(|(f, _)| {
                    let lost = f.batch_id.as_deref() == Some(won.as_str());
                    if lost {
                        skipped.push(f.path().to_string());
                    }
                    !lost
                });
                tracing::info!(batch_id = %won, "a file's batch was committed elsewhere; left out");
            }
        }
    }
}

/// Refuses files of another table, outside its `data/` directory, given twice, or already live.
async fn check_paths(table: &Table, files: &[StagedFile]) -> Result<()> {
    let data_dir = format!("{}/data/", table.location().trim_end_matches('/'));
    let mut seen = HashSet::new();
    for f in files {
        if f.table_location.trim_end_matches('/') != table.location().trim_end_matches('/') {
            return Err(WriterError::InvalidInput(format!(
                "{} was written for the table at {}, not {}",
                f.path(),
                f.table_location,
                table.location()
            )));
        }
        let rest = f.path().strip_prefix(&data_dir).unwrap_or("");
        if rest.is_empty() || rest.contains("..") {
            return Err(WriterError::InvalidInput(format!(
                "{} is not a data file of {}",
                f.path(),
                table.ident()
            )));
        }
        if !seen.insert(f.path()) {
            return Err(WriterError::InvalidInput(format!("{} is given twice", f.path())));
        }
    }
    if table.snapshot_id().is_some() {
        let live = table.live_files().await?;
        if let Some(l) = live.iter().find(|l| seen.contains(l.data_file.file_path())) {
            return Err(WriterError::InvalidInput(format!(
                "{} is already live in {}",
                l.data_file.file_path(),
                table.ident()
            )));
        }
    }
    Ok(())
}

/// The Iceberg entry of `f`, read from its footer, once the footer agrees with the value.
async fn checked_entry(table: Table, f: StagedFile) -> Result<ailk_catalog::iceberg::spec::DataFile> {
    let wh = table.warehouse();
    let path = wh.path_of(f.path())?;
    let reader = ShardReader::open(wh.store().clone(), path, ReadOptions::default())
        .await
        .map_err(|e| WriterError::InvalidInput(format!("{}: cannot read the staged file ({e})", f.path())))?;
    let data_file = data_file_from_metadata(f.path(), reader.file_size(), reader.metadata(), table.schema())?;
    let section = reader.location().map(|l| (l.offset, l.length));
    if data_file.record_count() != f.rows() || section != f.summary.section {
        return Err(WriterError::InvalidInput(format!(
            "{}: the file holds {} rows and section {:?}; the staged value says {} and {:?}",
            f.path(),
            data_file.record_count(),
            section,
            f.rows(),
            f.summary.section
        )));
    }
    Ok(data_file)
}

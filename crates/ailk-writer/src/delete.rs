//! Row deletes (merge-on-read, as Iceberg v2 defines them): find the rows of the current
//! snapshot matching a [`Filter`], write one position delete file per touched data file (a
//! file whose every row is then gone is removed whole instead), and commit them as one
//! `delete` snapshot. A delete planned against a file that a concurrent commit replaced or
//! removed meanwhile is re-planned on the new snapshot, never applied to the wrong rows.

use std::collections::HashSet;

use ailk_catalog::{CatalogError, LiveFile, SnapshotUpdate, Table};
use ailk_search::{check_filter, file_may_match, rows_matching, Filter};
use futures::{StreamExt, TryStreamExt};

use crate::error::{Result, WriterError};

/// Plans a delete re-runs after losing to a concurrent commit before giving up.
const MAX_PLANS: u32 = 8;
/// Data files whose filter columns are read at once.
const READ_CONCURRENCY: usize = 8;

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// The snapshot that holds the delete; `None` when no live row matched (nothing is
    /// committed then).
    pub snapshot_id: Option<i64>,
    /// Live rows removed.
    pub rows_deleted: u64,
    /// Data files removed whole (every remaining row matched).
    pub files_removed: usize,
    /// Position delete files written.
    pub delete_files: usize,
    /// Plans it took (more than 1 when a concurrent commit replaced or removed a file).
    pub plans: u32,
}

/// The changes to one data file.
enum FileDelete {
    /// Every remaining row matched.
    Whole { uri: String, rows: u64 },
    /// These rows (not deleted before) matched.
    Rows { file: Box<LiveFile>, positions: Vec<u64> },
}

/// Deletes the live rows of `table`'s current snapshot matching `filter` in one commit.
/// A filter naming an unknown column or comparing incompatible types, and a table without
/// commits, are `InvalidInput` with nothing written. Files are read only when their
/// column bounds admit a match, and only the filter's columns.
pub async fn delete_matching(table: &Table, filter: &Filter) -> Result<DeleteOutcome> {
    // The delete files are unreferenced until the commit: a lease keeps vacuum off them.
    let lease = table.lease().await?;
    let outcome = delete_leased(table, filter).await;
    ailk_catalog::release_lease(lease).await;
    outcome
}

async fn delete_leased(table: &Table, filter: &Filter) -> Result<DeleteOutcome> {
    for plans in 1..=MAX_PLANS {
        let table = table.refresh().await?;
        if table.snapshot_id().is_none() {
            return Err(WriterError::InvalidInput(format!(
                "{} has no commits: nothing to delete",
                table.ident()
            )));
        }
        check_filter(&table, filter).map_err(invalid)?;
        let changes = plan(&table, filter).await?;
        let mut outcome =
            DeleteOutcome { snapshot_id: None, rows_deleted: 0, files_removed: 0, delete_files: 0, plans };
        if changes.is_empty() {
            tracing::info!(table = %table.ident(), ?filter, "delete matched no live row; nothing committed");
            return Ok(outcome);
        }
        let mut removed = Vec::new();
        let mut targets = Vec::new();
        for change in changes {
            match change {
                FileDelete::Whole { uri, rows } => {
                    outcome.rows_deleted += rows;
                    removed.push(uri);
                }
                FileDelete::Rows { file, positions } => {
                    outcome.rows_deleted += positions.len() as u64;
                    targets.push((file, positions));
                }
            }
        }
        let writes = targets.into_iter().map(|(file, positions)| {
            let table = table.clone();
            async move { table.write_position_deletes(&file.data_file, &positions).await }
        });
        let deletes: Vec<_> =
            futures::stream::iter(writes).buffer_unordered(READ_CONCURRENCY).collect().await;
        let written: Vec<_> =
            deletes.iter().filter_map(|d| d.as_ref().ok()).map(|d| d.file_path().to_string()).collect();
        let deletes = match deletes.into_iter().collect::<std::result::Result<Vec<_>, _>>() {
            Ok(d) => d,
            Err(e) => {
                discard(&table, &written).await;
                return Err(e.into());
            }
        };
        outcome.files_removed = removed.len();
        outcome.delete_files = deletes.len();
        match table.commit(SnapshotUpdate::delete_with_positions(removed, deletes)).await {
            Ok(committed) => {
                outcome.snapshot_id = Some(committed.snapshot_id());
                tracing::info!(table = %table.ident(), rows = outcome.rows_deleted, files_removed = outcome.files_removed, delete_files = outcome.delete_files, snapshot = committed.snapshot_id(), "deleted rows");
                return Ok(outcome);
            }
            Err(CatalogError::FileNotLive { path, .. }) => {
                discard(&table, &written).await;
                tracing::info!(table = %table.ident(), %path, plans, "a file the delete targets was replaced or removed meanwhile; re-planning");
            }
            Err(e) => {
                discard(&table, &written).await;
                return Err(e.into());
            }
        }
    }
    Err(CatalogError::CommitConflict { table: table.ident().to_string(), attempts: MAX_PLANS }.into())
}

/// The changes `filter` makes to the live files of `table`'s snapshot.
async fn plan(table: &Table, filter: &Filter) -> Result<Vec<FileDelete>> {
    let files = table.live_files().await?;
    let deleted = table.deleted_rows().await?;
    let schema = table.schema();
    let candidates: Vec<LiveFile> =
        files.iter().filter(|f| file_may_match(filter, &f.data_file, schema)).cloned().collect();
    let reads = candidates.into_iter().map(|f| {
        let (table, filter, deleted) = (table.clone(), filter.clone(), deleted.clone());
        async move {
            let gone: HashSet<u64> = deleted.deleted(f.path()).iter().copied().collect();
            let matched = rows_matching(&table, f.path(), &filter).await.map_err(invalid)?;
            let positions: Vec<u64> =
                matched.into_iter().map(u64::from).filter(|p| !gone.contains(p)).collect();
            let total = f.data_file.record_count();
            Ok::<_, WriterError>(match positions.len() as u64 {
                0 => None,
                n if n + gone.len() as u64 >= total => {
                    Some(FileDelete::Whole { uri: f.path().to_string(), rows: total - gone.len() as u64 })
                }
                _ => Some(FileDelete::Rows { file: Box::new(f), positions }),
            })
        }
    });
    let changes: Vec<Option<FileDelete>> =
        futures::stream::iter(reads).buffer_unordered(READ_CONCURRENCY).try_collect().await?;
    Ok(changes.into_iter().flatten().collect())
}

/// Search-layer errors of a filter are the caller's input; I/O and corruption keep their kind.
fn invalid(e: ailk_search::SearchError) -> WriterError {
    match e.kind() {
        ailk_format::ErrorKind::InvalidInput => WriterError::InvalidInput(e.to_string()),
        _ => WriterError::Search(e),
    }
}

async fn discard(table: &Table, uris: &[String]) {
    for uri in uris {
        if let Err(e) = table.file_io().delete(uri).await {
            tracing::warn!(%uri, error = %e, "could not remove a delete file of a failed delete");
        }
    }
}

//! [`TableExt`]: the writer and the search of a [`Table`] handle, as methods on it.

use std::future::Future;

use ailk_catalog::Table;
use ailk_search::Filter;
use ailk_search::SearchSession;
use ailk_writer::{
    CommitFilesOutcome, CompactOptions, CompactOutcome, DeleteOutcome, StagedFile, TableWriter, WritePolicy,
};

use crate::AilakeResult;

/// Writing and searching from a [`Table`] handle (in the prelude).
pub trait TableExt {
    /// A [`TableWriter`] for the table.
    fn writer(&self, policy: WritePolicy) -> AilakeResult<TableWriter>;

    /// A [`SearchSession`] over the handle's snapshot (time travel: `table.at_snapshot(id)?.search()`).
    fn search(&self) -> impl Future<Output = AilakeResult<SearchSession>> + Send;

    /// Deletes the rows of the table's current snapshot matching `filter` in one commit
    /// (Iceberg v2 position deletes; files whose every row matches are removed whole).
    fn delete(&self, filter: &Filter) -> impl Future<Output = AilakeResult<DeleteOutcome>> + Send;

    /// Rewrites small, unclustered or delete-carrying files into target-size files clustered
    /// by the table's coarse partitions, in one `replace` commit (the default write policy
    /// builds the new files' indexes).
    fn compact(&self, opts: &CompactOptions) -> impl Future<Output = AilakeResult<CompactOutcome>> + Send;

    /// Commits files staged by any writer of the table, in any process (handed over with
    /// [`TableWriter::take_staged`]), as one snapshot — exactly once under `batch_id` (an id
    /// already committed makes it a no-op). See [`ailk_writer::commit_files`].
    fn commit_files(
        &self,
        files: &[StagedFile],
        batch_id: Option<&str>,
    ) -> impl Future<Output = AilakeResult<CommitFilesOutcome>> + Send;
}

impl TableExt for Table {
    fn writer(&self, policy: WritePolicy) -> AilakeResult<TableWriter> {
        Ok(TableWriter::for_table(self, policy)?)
    }

    fn search(&self) -> impl Future<Output = AilakeResult<SearchSession>> + Send {
        let table = self.clone();
        async move { Ok(SearchSession::new(&table).await?) }
    }

    fn delete(&self, filter: &Filter) -> impl Future<Output = AilakeResult<DeleteOutcome>> + Send {
        let (table, filter) = (self.clone(), filter.clone());
        async move { Ok(ailk_writer::delete_matching(&table, &filter).await?) }
    }

    fn compact(&self, opts: &CompactOptions) -> impl Future<Output = AilakeResult<CompactOutcome>> + Send {
        let (table, opts) = (self.clone(), opts.clone());
        async move { Ok(ailk_writer::compact(&table, WritePolicy::default(), &opts).await?) }
    }

    fn commit_files(
        &self,
        files: &[StagedFile],
        batch_id: Option<&str>,
    ) -> impl Future<Output = AilakeResult<CommitFilesOutcome>> + Send {
        let (table, files, batch_id) = (self.clone(), files.to_vec(), batch_id.map(String::from));
        async move { Ok(ailk_writer::commit_files(&table, &files, batch_id.as_deref()).await?) }
    }
}

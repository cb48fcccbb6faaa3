//! [`SnapshotUpdate`]: one change to a table as a commit applies it — data files added and
//! removed, position delete files added, batch ids, shard summaries, and the conditions the
//! commit checks on every attempt (expected parent, schema, deletes since a rewrite's plan).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use iceberg::spec::{DataContentType, DataFile, Operation, Schema};

use crate::error::{CatalogError, Result};
use crate::summaries::ShardSummary;

/// One change to a table: files added, files removed, and what the snapshot records about it.
#[derive(Debug, Clone, Default)]
pub struct SnapshotUpdate {
    /// Data files to add.
    pub added: Vec<DataFile>,
    /// URIs of live data files to remove. Delete files that reference only a removed file
    /// are removed with it.
    pub removed: Vec<String>,
    /// Position delete files to add. One that names its data file (`referenced_data_file`, as
    /// ailake writes them) requires that file to be live when the commit lands, else the
    /// commit fails with `FileNotLive` and the caller re-plans; one covering several files (as
    /// Spark writes them) is added as is.
    pub added_deletes: Vec<DataFile>,
    /// The added files hold the removed files' rows at the same positions (a re-sectioned
    /// replace): position deletes of each removed file are carried over to the added file
    /// that replaces it (by order: `removed[i]` → `added[i]`).
    pub same_positions: bool,
    /// A rewrite that applied the deletes of its removed files as of this sequence number
    /// (compaction): the commit fails with `DeletedMeanwhile` when a delete file added
    /// since may remove rows of one of them (they would come back in the new files).
    pub deletes_as_of: Option<i64>,
    /// Batch ids this commit carries (idempotency); none may contain a comma.
    pub batch_ids: Vec<String>,
    /// Shard summaries of the added files (files without one are planned from footers).
    pub summaries: Vec<ShardSummary>,
    /// Extra snapshot-summary properties.
    pub properties: HashMap<String, String>,
    /// When set, the commit fails with `StaleParent` unless the table's current snapshot is
    /// this one (`Some(None)`: the table must have no snapshot).
    pub expected_parent: Option<Option<i64>>,
    /// The table schema the added files were written with. When set, every attempt checks
    /// that the table's current schema still has each of its fields (by id) with the same
    /// type (or a promotion Iceberg allows); another engine dropping or retyping a column the
    /// files hold fails the commit with `SchemaChanged`.
    pub written_with: Option<Arc<Schema>>,
}

impl SnapshotUpdate {
    /// Adds `files` (operation `append`).
    pub fn append(files: Vec<DataFile>) -> Self {
        Self { added: files, ..Self::default() }
    }

    /// Replaces live file `old` by `new` holding the same rows (operation `replace`); fails
    /// with `FileNotLive` if another commit removed `old` first.
    pub fn replace(old: impl Into<String>, new: DataFile) -> Self {
        Self { added: vec![new], removed: vec![old.into()], same_positions: true, ..Self::default() }
    }

    /// Removes rows of live data files: whole files (`removed`) and rows by position
    /// (`position_deletes`, written with [`crate::Table::write_position_deletes`]); operation `delete`.
    pub fn delete_with_positions(removed: Vec<String>, position_deletes: Vec<DataFile>) -> Self {
        Self { removed, added_deletes: position_deletes, ..Self::default() }
    }

    /// Removes whole live files (operation `delete`).
    pub fn delete(files: Vec<String>) -> Self {
        Self { removed: files, ..Self::default() }
    }

    /// Tags the commit with batch ids.
    pub fn with_batch_ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.batch_ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Attaches shard summaries of added files.
    pub fn with_summaries(mut self, summaries: Vec<ShardSummary>) -> Self {
        self.summaries.extend(summaries);
        self
    }

    /// Records the schema the added files were written with (see `written_with`).
    pub fn with_written_schema(mut self, schema: Arc<Schema>) -> Self {
        self.written_with = Some(schema);
        self
    }

    /// Marks a rewrite that applied its removed files' deletes as of sequence number `seq`.
    pub fn with_deletes_as_of(mut self, seq: i64) -> Self {
        self.deletes_as_of = Some(seq);
        self
    }

    /// Requires the table to still be at `parent` when the commit lands.
    pub fn with_expected_parent(mut self, parent: Option<i64>) -> Self {
        self.expected_parent = Some(parent);
        self
    }

    /// The operation before looking at the base: a replace whose rows differ becomes an
    /// overwrite in `prepare`.
    pub(crate) fn operation(&self) -> Operation {
        match (self.added.is_empty(), self.removed.is_empty(), self.added_deletes.is_empty()) {
            (false, true, true) => Operation::Append,
            (true, _, _) => Operation::Delete,
            (false, false, true) => Operation::Replace,
            (false, _, false) => Operation::Overwrite,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.added.is_empty() && self.removed.is_empty() && self.added_deletes.is_empty() {
            return Err(CatalogError::InvalidInput("a commit must add or remove at least one file".into()));
        }
        if let Some(bad) =
            self.added_deletes.iter().find(|d| d.content_type() != DataContentType::PositionDeletes)
        {
            return Err(CatalogError::InvalidInput(format!(
                "{} is not a position delete file",
                bad.file_path()
            )));
        }
        if self.same_positions && self.added.len() != self.removed.len() {
            return Err(CatalogError::InvalidInput(
                "a same-position replace pairs each removed file with one added file".into(),
            ));
        }
        if let Some(bad) = self.batch_ids.iter().find(|b| b.is_empty() || b.contains(',')) {
            return Err(CatalogError::InvalidInput(format!("batch id {bad:?} is empty or contains a comma")));
        }
        // Exactly-once: one snapshot never carries a batch id twice (two staged copies of one
        // batch would both land).
        let mut ids = HashSet::new();
        if let Some(dup) = self.batch_ids.iter().find(|b| !ids.insert(b.as_str())) {
            return Err(CatalogError::InvalidInput(format!(
                "batch id {dup:?} is staged twice in one commit"
            )));
        }
        let mut seen = HashSet::new();
        for f in &self.added {
            if !seen.insert(f.file_path()) {
                return Err(CatalogError::InvalidInput(format!("{} is added twice", f.file_path())));
            }
        }
        Ok(())
    }
}

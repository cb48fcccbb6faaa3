//! Catalogs: where a table's current metadata file is recorded, and how a commit lands.
//! [`CatalogProvider`] is the whole contract, shaped as the Iceberg REST protocol is: a commit
//! is a list of *requirements* the catalog checks and *updates* it applies
//! ([`MetadataCommit`]). [`crate::MemoryCatalog`] (a map, for tests) and [`crate::SqlCatalog`]
//! (SQLite, pyiceberg's schema) apply the updates themselves and swap their pointer
//! ([`crate::pointer`]); [`crate::RestCatalog`] sends them to a REST server.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use iceberg::io::FileIO;
use iceberg::spec::TableMetadata;
use iceberg::{TableCreation, TableRequirement, TableUpdate};

use crate::error::{CatalogError, Result};

/// A table's name: a namespace (dot-separated levels) and a table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableIdent {
    /// Namespace, e.g. `"docs"` or `"prod.embeddings"`.
    pub namespace: String,
    /// Table name within the namespace.
    pub name: String,
}

impl TableIdent {
    /// A table `name` in `namespace`. Every namespace level and the name must be non-empty,
    /// free of `/`, `\` and control characters and not padded with whitespace (each becomes a
    /// directory of the table's location); the name holds no dot.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Result<Self> {
        let (namespace, name) = (namespace.into(), name.into());
        let problem = namespace
            .split('.')
            .chain([name.as_str()])
            .find_map(level_problem)
            .or_else(|| name.contains('.').then_some("the table name holds a dot"));
        if let Some(problem) = problem {
            return Err(CatalogError::InvalidInput(format!(
                "invalid table name {:?}: {problem}",
                format!("{namespace}.{name}")
            )));
        }
        Ok(Self { namespace, name })
    }

    /// Parses `"namespace.table"` (the last dot separates the table name).
    pub fn parse(full: &str) -> Result<Self> {
        let (ns, name) = full
            .rsplit_once('.')
            .ok_or_else(|| CatalogError::InvalidInput(format!("{full:?} is not namespace.table")))?;
        Self::new(ns, name)
    }

    /// The table's directory relative to the warehouse root: `namespace/levels/name`.
    pub fn relative_location(&self) -> String {
        format!("{}/{}", self.namespace.replace('.', "/"), self.name)
    }
}

/// Why `level` (one namespace level, or the table name) cannot name a directory, if it cannot.
fn level_problem(level: &str) -> Option<&'static str> {
    if level.is_empty() {
        Some("a namespace level or the name is empty")
    } else if level.contains(['/', '\\']) {
        Some("names hold no / or \\")
    } else if level.chars().any(char::is_control) {
        Some("names hold no control characters")
    } else if level.trim() != level {
        Some("names do not start or end with whitespace")
    } else {
        None
    }
}

impl fmt::Display for TableIdent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace, self.name)
    }
}

/// One table commit as the Iceberg REST protocol states it: the metadata version it was
/// computed on, the requirements the catalog checks and the updates it applies.
#[derive(Debug, Clone)]
pub struct MetadataCommit {
    /// Where the base metadata was read from.
    pub base_location: String,
    /// The metadata the updates were computed on.
    pub base: Arc<TableMetadata>,
    /// What must still hold (`assert-table-uuid`, `assert-ref-snapshot-id`, ...).
    pub requirements: Vec<TableRequirement>,
    /// What changes (`add-snapshot`, `set-snapshot-ref`, `set-properties`, ...).
    pub updates: Vec<TableUpdate>,
}

/// The catalog contract: namespaces, tables, and the commit point of every change.
#[async_trait]
pub trait CatalogProvider: fmt::Debug + Send + Sync {
    /// The catalog's name (pyiceberg's `catalog_name` column for SQL catalogs).
    fn name(&self) -> &str;

    /// Creates `namespace` if it does not exist.
    async fn create_namespace(&self, namespace: &str) -> Result<()>;

    /// All namespaces.
    async fn list_namespaces(&self) -> Result<Vec<String>>;

    /// Creates `table` from `creation` and returns its first metadata location. `io` reaches
    /// the table's files (catalogs that write metadata themselves use it; a REST server writes
    /// its own). Errors with [`CatalogError::TableExists`] when the name is taken.
    async fn create_table(&self, table: &TableIdent, creation: TableCreation, io: &FileIO) -> Result<String>;

    /// Records an existing metadata file as a new table `table` (REST `register`).
    /// Errors with [`CatalogError::TableExists`] when the name is taken.
    async fn register_table(&self, table: &TableIdent, metadata_location: &str) -> Result<()>;

    /// The current metadata location of `table`, or [`CatalogError::TableNotFound`].
    async fn metadata_location(&self, table: &TableIdent) -> Result<String>;

    /// The tables of `namespace`.
    async fn list_tables(&self, namespace: &str) -> Result<Vec<TableIdent>>;

    /// Removes `table` from the catalog (its files stay where they are).
    async fn drop_table(&self, table: &TableIdent) -> Result<()>;

    /// Applies `commit` to `table` if its requirements hold; returns the new metadata
    /// location, or `None` when a requirement failed because another commit landed first
    /// (nothing changed: rebase and retry). [`CatalogError::CommitStateUnknown`] when the
    /// outcome cannot be known (the server failed after receiving it): re-read the table.
    async fn commit_table(
        &self,
        table: &TableIdent,
        commit: MetadataCommit,
        io: &FileIO,
    ) -> Result<Option<String>>;
}

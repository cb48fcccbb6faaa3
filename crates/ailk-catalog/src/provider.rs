//! Catalogs: where a table's current metadata file is recorded, and the atomic swap that
//! makes a commit. [`CatalogProvider`] is the whole contract; [`MemoryCatalog`] keeps it in a
//! map (tests), [`crate::SqlCatalog`] in SQLite with pyiceberg's schema.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Mutex;

use ailk_format::sync::lock;
use async_trait::async_trait;

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

/// The catalog contract: namespaces, table registration, and an atomic compare-and-swap of a
/// table's metadata location (the commit point of every snapshot).
#[async_trait]
pub trait CatalogProvider: fmt::Debug + Send + Sync {
    /// The catalog's name (pyiceberg's `catalog_name` column for SQL catalogs).
    fn name(&self) -> &str;

    /// Creates `namespace` if it does not exist.
    async fn create_namespace(&self, namespace: &str) -> Result<()>;

    /// All namespaces.
    async fn list_namespaces(&self) -> Result<Vec<String>>;

    /// Records a new table whose first metadata file is `metadata_location`.
    /// Errors with [`CatalogError::TableExists`] when the name is taken.
    async fn register_table(&self, table: &TableIdent, metadata_location: &str) -> Result<()>;

    /// The current metadata location of `table`, or [`CatalogError::TableNotFound`].
    async fn metadata_location(&self, table: &TableIdent) -> Result<String>;

    /// The tables of `namespace`.
    async fn list_tables(&self, namespace: &str) -> Result<Vec<TableIdent>>;

    /// Removes `table` from the catalog (its files stay where they are).
    async fn drop_table(&self, table: &TableIdent) -> Result<()>;

    /// Sets the metadata location of `table` to `new` if and only if it is still `expected`.
    /// Returns `false` when another commit moved it first (nothing changed).
    async fn swap_metadata_location(&self, table: &TableIdent, expected: &str, new: &str) -> Result<bool>;
}

/// A catalog in process memory, for tests and throwaway tables.
#[derive(Debug, Default)]
pub struct MemoryCatalog {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    namespaces: BTreeSet<String>,
    tables: BTreeMap<TableIdent, String>,
}

impl MemoryCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        lock(&self.state)
    }
}

#[async_trait]
impl CatalogProvider for MemoryCatalog {
    fn name(&self) -> &str {
        "memory"
    }

    async fn create_namespace(&self, namespace: &str) -> Result<()> {
        self.state().namespaces.insert(namespace.to_string());
        Ok(())
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        Ok(self.state().namespaces.iter().cloned().collect())
    }

    async fn register_table(&self, table: &TableIdent, metadata_location: &str) -> Result<()> {
        let mut state = self.state();
        if !state.namespaces.contains(&table.namespace) {
            return Err(CatalogError::NamespaceNotFound(table.namespace.clone()));
        }
        if state.tables.contains_key(table) {
            return Err(CatalogError::TableExists(table.to_string()));
        }
        state.tables.insert(table.clone(), metadata_location.to_string());
        Ok(())
    }

    async fn metadata_location(&self, table: &TableIdent) -> Result<String> {
        self.state().tables.get(table).cloned().ok_or_else(|| CatalogError::TableNotFound(table.to_string()))
    }

    async fn list_tables(&self, namespace: &str) -> Result<Vec<TableIdent>> {
        Ok(self.state().tables.keys().filter(|t| t.namespace == namespace).cloned().collect())
    }

    async fn drop_table(&self, table: &TableIdent) -> Result<()> {
        self.state()
            .tables
            .remove(table)
            .map(|_| ())
            .ok_or_else(|| CatalogError::TableNotFound(table.to_string()))
    }

    async fn swap_metadata_location(&self, table: &TableIdent, expected: &str, new: &str) -> Result<bool> {
        let mut state = self.state();
        let current =
            state.tables.get_mut(table).ok_or_else(|| CatalogError::TableNotFound(table.to_string()))?;
        if current != expected {
            return Ok(false);
        }
        *current = new.to_string();
        Ok(true)
    }
}

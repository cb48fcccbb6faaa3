//! [`MemoryCatalog`]: a catalog in process memory (tests, throwaway tables), applying commits
//! as the SQLite catalog does ([`crate::pointer`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use ailk_format::sync::lock;
use async_trait::async_trait;
use iceberg::io::FileIO;
use iceberg::TableCreation;

use crate::error::{CatalogError, Result};
use crate::pointer;
use crate::provider::{CatalogProvider, MetadataCommit, TableIdent};

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

    async fn create_table(&self, table: &TableIdent, creation: TableCreation, io: &FileIO) -> Result<String> {
        pointer::create_by_register(self, table, creation, io).await
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

    async fn commit_table(
        &self,
        table: &TableIdent,
        commit: MetadataCommit,
        io: &FileIO,
    ) -> Result<Option<String>> {
        pointer::commit_by_swap(io, commit, |expected, new| async move {
            self.swap_metadata_location(table, &expected, &new)
        })
        .await
    }
}

impl MemoryCatalog {
    /// Sets the metadata location of `table` to `new` if and only if it is still `expected`
    /// (`false`: another commit moved it first).
    pub fn swap_metadata_location(&self, table: &TableIdent, expected: &str, new: &str) -> Result<bool> {
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

//! `SqlCatalog`: the embedded default catalog, one SQLite file with exactly the tables
//! pyiceberg's `SqlCatalog` uses, so `SqlCatalog("default", uri="sqlite:///…/catalog.db")`
//! in pyiceberg opens our tables (and we open theirs).
//!
//! The commit point is `UPDATE iceberg_tables SET metadata_location = new … WHERE
//! metadata_location = expected`: one row changed means the swap won. SQLite serializes
//! writers across threads and processes; each call opens its own connection on a blocking
//! thread, waiting up to [`SqlCatalog::BUSY_TIMEOUT`] for the database lock.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{CatalogError, Result};
use iceberg::io::FileIO;
use iceberg::TableCreation;

use crate::pointer;
use crate::provider::{CatalogProvider, MetadataCommit, TableIdent};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS iceberg_tables (
    catalog_name VARCHAR(255) NOT NULL,
    table_namespace VARCHAR(255) NOT NULL,
    table_name VARCHAR(255) NOT NULL,
    metadata_location VARCHAR(1000),
    previous_metadata_location VARCHAR(1000),
    iceberg_type VARCHAR(5),
    PRIMARY KEY (catalog_name, table_namespace, table_name)
);
CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
    catalog_name VARCHAR(255) NOT NULL,
    namespace VARCHAR(255) NOT NULL,
    property_key VARCHAR(255) NOT NULL,
    property_value VARCHAR(1000) NOT NULL,
    PRIMARY KEY (catalog_name, namespace, property_key)
);";

/// A catalog in a SQLite database file, compatible with pyiceberg's `SqlCatalog`.
#[derive(Debug, Clone)]
pub struct SqlCatalog {
    name: String,
    path: PathBuf,
}

impl SqlCatalog {
    /// How long a call waits for another connection's write lock before failing.
    pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

    /// Opens (creating if needed) the catalog `name` in the SQLite file at `path`.
    pub async fn open(path: impl AsRef<Path>, name: impl Into<String>) -> Result<Self> {
        let catalog = Self { name: name.into(), path: path.as_ref().to_path_buf() };
        if let Some(dir) = catalog.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| CatalogError::Io { path: dir.display().to_string(), source })?;
        }
        catalog
            .with_conn(|conn| {
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.execute_batch(SCHEMA)?;
                Ok(())
            })
            .await?;
        Ok(catalog)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let path = self.path.clone();
        let run = move || {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(Self::BUSY_TIMEOUT)?;
            f(&mut conn)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(run)
                .await
                .map_err(|e| CatalogError::Internal(format!("catalog task failed: {e}")))?,
            Err(_) => run(),
        }
    }
}

#[async_trait]
impl CatalogProvider for SqlCatalog {
    fn name(&self) -> &str {
        &self.name
    }

    async fn create_namespace(&self, namespace: &str) -> Result<()> {
        let (cat, ns) = (self.name.clone(), namespace.to_string());
        self.with_conn(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO iceberg_namespace_properties \
                 (catalog_name, namespace, property_key, property_value) VALUES (?1, ?2, 'exists', 'true')",
                params![cat, ns],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        let cat = self.name.clone();
        self.with_conn(move |c| {
            let mut stmt = c.prepare(
                "SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = ?1 \
                 UNION SELECT table_namespace FROM iceberg_tables WHERE catalog_name = ?1 ORDER BY 1",
            )?;
            let rows = stmt.query_map(params![cat], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn register_table(&self, table: &TableIdent, metadata_location: &str) -> Result<()> {
        let (cat, t, loc) = (self.name.clone(), table.clone(), metadata_location.to_string());
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let ns_known: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ?1 AND namespace = ?2)",
                params![cat, t.namespace],
                |r| r.get(0),
            )?;
            if !ns_known {
                return Err(CatalogError::NamespaceNotFound(t.namespace.clone()));
            }
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO iceberg_tables (catalog_name, table_namespace, table_name, \
                 metadata_location, previous_metadata_location, iceberg_type) VALUES (?1, ?2, ?3, ?4, NULL, 'TABLE')",
                params![cat, t.namespace, t.name, loc],
            )?;
            if inserted == 0 {
                return Err(CatalogError::TableExists(t.to_string()));
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn metadata_location(&self, table: &TableIdent) -> Result<String> {
        let (cat, t) = (self.name.clone(), table.clone());
        self.with_conn(move |c| {
            let loc: Option<Option<String>> = c
                .query_row(
                    "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ?1 \
                     AND table_namespace = ?2 AND table_name = ?3 AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)",
                    params![cat, t.namespace, t.name],
                    |r| r.get(0),
                )
                .optional()?;
            loc.flatten().ok_or_else(|| CatalogError::TableNotFound(t.to_string()))
        })
        .await
    }

    async fn list_tables(&self, namespace: &str) -> Result<Vec<TableIdent>> {
        let (cat, ns) = (self.name.clone(), namespace.to_string());
        self.with_conn(move |c| {
            let mut stmt = c.prepare(
                "SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = ?1 \
                 AND table_namespace = ?2 ORDER BY table_name",
            )?;
            let rows = stmt
                .query_map(params![cat, ns], |r| Ok(TableIdent { namespace: r.get(0)?, name: r.get(1)? }))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn drop_table(&self, table: &TableIdent) -> Result<()> {
        let (cat, t) = (self.name.clone(), table.clone());
        self.with_conn(move |c| {
            let n = c.execute(
                "DELETE FROM iceberg_tables WHERE catalog_name = ?1 AND table_namespace = ?2 AND table_name = ?3",
                params![cat, t.namespace, t.name],
            )?;
            if n == 0 {
                return Err(CatalogError::TableNotFound(t.to_string()));
            }
            Ok(())
        })
        .await
    }

    async fn create_table(&self, table: &TableIdent, creation: TableCreation, io: &FileIO) -> Result<String> {
        pointer::create_by_register(self, table, creation, io).await
    }

    async fn commit_table(
        &self,
        table: &TableIdent,
        commit: MetadataCommit,
        io: &FileIO,
    ) -> Result<Option<String>> {
        pointer::commit_by_swap(io, commit, |expected, new| self.swap_metadata_location(table, expected, new))
            .await
    }
}

impl SqlCatalog {
    /// Sets the metadata location of `table` to `new` if and only if it is still `expected`
    /// (`false`: another commit moved it first) — the commit point.
    pub async fn swap_metadata_location(
        &self,
        table: &TableIdent,
        expected: impl Into<String>,
        new: impl Into<String>,
    ) -> Result<bool> {
        let (cat, t, expected, new) = (self.name.clone(), table.clone(), expected.into(), new.into());
        self.with_conn(move |c| {
            let n = c.execute(
                "UPDATE iceberg_tables SET metadata_location = ?4, previous_metadata_location = ?5 \
                 WHERE catalog_name = ?1 AND table_namespace = ?2 AND table_name = ?3 AND metadata_location = ?5",
                params![cat, t.namespace, t.name, new, expected],
            )?;
            if n == 0 {
                // Tell a lost race from a missing table.
                let exists: bool = c.query_row(
                    "SELECT EXISTS(SELECT 1 FROM iceberg_tables WHERE catalog_name = ?1 \
                     AND table_namespace = ?2 AND table_name = ?3)",
                    params![cat, t.namespace, t.name],
                    |r| r.get(0),
                )?;
                if !exists {
                    return Err(CatalogError::TableNotFound(t.to_string()));
                }
            }
            Ok(n == 1)
        })
        .await
    }
}

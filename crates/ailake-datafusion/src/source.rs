//! Which table version a plan reads, and the [`SearchSession`] that serves it.
//!
//! A plan names its table by identifier and snapshot id, so it can be shipped to another
//! process (a Ballista executor) and opened there through that process's catalog. Sessions
//! are kept per process by (warehouse, table, snapshot) in the process-wide `SessionCache`:
//! planning, scans and every search of one snapshot share one session and its caches, and an
//! executor opens a snapshot once.

use std::sync::Arc;

use ailake::{Catalog, SearchSession, SessionCache, SessionKey, Table, TableIdent};
use datafusion::error::{DataFusionError, Result};

use crate::error::to_df;

/// One snapshot of one table, as a plan names it: the handle itself in the planning process,
/// or a catalog to load it from in a process that decoded the plan.
#[derive(Debug, Clone)]
pub(crate) struct TableSource {
    pub(crate) ident: TableIdent,
    pub(crate) snapshot: Option<i64>,
    origin: Origin,
}

#[derive(Debug, Clone)]
enum Origin {
    Table(Box<Table>),
    Catalog(Catalog),
}

impl TableSource {
    /// The snapshot `table` reads.
    pub(crate) fn of(table: &Table) -> Self {
        Self {
            ident: table.ident().clone(),
            snapshot: table.snapshot_id(),
            origin: Origin::Table(Box::new(table.clone())),
        }
    }

    /// Snapshot `snapshot` of `ident`, loaded through `catalog` when first searched.
    pub(crate) fn in_catalog(catalog: Catalog, ident: TableIdent, snapshot: Option<i64>) -> Self {
        Self { ident, snapshot, origin: Origin::Catalog(catalog) }
    }

    fn key(&self) -> SessionKey {
        let root = match &self.origin {
            Origin::Table(t) => t.warehouse().root(),
            Origin::Catalog(c) => c.warehouse().root(),
        };
        SessionKey::new(root, self.ident.to_string(), self.snapshot)
    }

    /// The session of this snapshot: the process's open one ([`SessionCache::global`]), else
    /// opened (and kept).
    pub(crate) async fn session(&self) -> Result<Arc<SearchSession>> {
        let sessions = SessionCache::global();
        let key = self.key();
        if let Some(s) = sessions.get(&key) {
            return Ok(s);
        }
        let table = match &self.origin {
            Origin::Table(t) => (**t).clone(),
            Origin::Catalog(c) => {
                let current = c.load_table(&self.ident).await.map_err(to_df)?;
                match self.snapshot {
                    Some(id) if current.snapshot_id() != Some(id) => {
                        current.at_snapshot(id).map_err(to_df)?
                    }
                    Some(_) => current,
                    None if current.snapshot_id().is_none() => current,
                    None => {
                        return Err(DataFusionError::Plan(format!(
                            "{} had no snapshot when the plan was made; it has one now",
                            self.ident
                        )))
                    }
                }
            }
        };
        let session = Arc::new(SearchSession::new(&table).await.map_err(to_df)?);
        sessions.insert(key, session.clone());
        Ok(session)
    }
}

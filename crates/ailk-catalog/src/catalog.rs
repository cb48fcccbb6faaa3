//! [`Catalog`]: a catalog provider paired with the warehouse its tables' files live in — the
//! entry point that loads and creates [`Table`] handles.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::Schema as ArrowSchema;

use crate::error::{CatalogError, Result};
use crate::layout::{encode_specs, table_schema, VectorSpec, VECTOR_COLUMNS_PROPERTY};
use crate::memory::MemoryCatalog;
use crate::provider::{CatalogProvider, TableIdent};
use crate::sql::SqlCatalog;
use crate::storage::Warehouse;
use crate::table::Table;
use crate::text_columns::{check_text_specs, encode_text_specs, TextSpec, TEXT_COLUMNS_PROPERTY};

/// Where tables are named ([`CatalogProvider`]) and where their files are stored
/// ([`Warehouse`]). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Catalog {
    provider: Arc<dyn CatalogProvider>,
    warehouse: Warehouse,
}

impl Catalog {
    /// Tables named in `provider` whose files live in `warehouse`.
    pub fn new(provider: Arc<dyn CatalogProvider>, warehouse: Warehouse) -> Self {
        Self { provider, warehouse }
    }

    /// A SQLite catalog file (pyiceberg's schema, catalog name `name`) with a local warehouse
    /// directory; both are created when missing.
    pub async fn local(
        catalog_db: impl AsRef<std::path::Path>,
        name: &str,
        warehouse_dir: impl AsRef<std::path::Path>,
    ) -> Result<Self> {
        let provider: Arc<dyn CatalogProvider> = Arc::new(SqlCatalog::open(catalog_db, name).await?);
        Ok(Self::new(provider, Warehouse::local(warehouse_dir)?))
    }

    /// A throwaway catalog in memory with an in-memory warehouse (tests).
    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryCatalog::new()), Warehouse::memory())
    }

    /// The catalog provider.
    pub fn provider(&self) -> &Arc<dyn CatalogProvider> {
        &self.provider
    }

    /// The warehouse.
    pub fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    /// Loads `ident` at its current metadata; `TableNotFound` when the catalog lacks it.
    pub async fn load_table(&self, ident: &TableIdent) -> Result<Table> {
        Table::load(self.provider.clone(), self.warehouse.clone(), ident.clone()).await
    }

    /// Creates the ailake table `ident`: `attributes` (flat columns) plus `vectors` (primary
    /// first). `TableExists` when the name is taken.
    pub async fn create_table(
        &self,
        ident: &TableIdent,
        attributes: &ArrowSchema,
        vectors: &[VectorSpec],
    ) -> Result<Table> {
        self.create_table_with_text(ident, attributes, vectors, &[]).await
    }

    /// [`Self::create_table`] with full-text indexes on the string columns `texts` (each data
    /// file then carries an inverted index of each, built with the column's analyzer).
    pub async fn create_table_with_text(
        &self,
        ident: &TableIdent,
        attributes: &ArrowSchema,
        vectors: &[VectorSpec],
        texts: &[TextSpec],
    ) -> Result<Table> {
        let (schema, mut props) = vector_table(attributes, vectors)?;
        check_text_specs(attributes, texts)?;
        if !texts.is_empty() {
            props.insert(TEXT_COLUMNS_PROPERTY.to_string(), encode_text_specs(texts));
        }
        Table::create(self.provider.clone(), self.warehouse.clone(), ident.clone(), schema, props).await
    }

    /// Loads `ident`, creating it as [`Self::create_table`] would when it does not exist (a
    /// concurrent creator that wins is loaded instead). An existing table must have exactly
    /// these vector columns (`SchemaMismatch` otherwise).
    pub async fn create_or_load_table(
        &self,
        ident: &TableIdent,
        attributes: &ArrowSchema,
        vectors: &[VectorSpec],
    ) -> Result<Table> {
        let (schema, props) = vector_table(attributes, vectors)?;
        let table = Table::create_or_load(
            self.provider.clone(),
            self.warehouse.clone(),
            ident.clone(),
            schema,
            props,
        )
        .await?;
        let existing = table.vector_columns()?;
        if existing != vectors {
            return Err(CatalogError::SchemaMismatch(format!(
                "{ident} has vector columns {existing:?}, not {vectors:?}"
            )));
        }
        Ok(table)
    }

    /// The tables of `namespace`.
    pub async fn list_tables(&self, namespace: &str) -> Result<Vec<TableIdent>> {
        self.provider.list_tables(namespace).await
    }

    /// Removes `ident` from the catalog; its files stay where they are (Iceberg's drop without
    /// `purge`): time-travel readers holding its metadata still read it. A table created again
    /// at the same location writes new metadata next to the old files; `remove_orphans` then
    /// removes what no snapshot of the new table references, and a stale shared IVF-PQ codebook
    /// of another shape is replaced by its first IVF-PQ write.
    pub async fn drop_table(&self, ident: &TableIdent) -> Result<()> {
        self.provider.drop_table(ident).await
    }
}

/// The Iceberg schema and properties of an ailake table.
fn vector_table(
    attributes: &ArrowSchema,
    vectors: &[VectorSpec],
) -> Result<(iceberg::spec::Schema, HashMap<String, String>)> {
    if vectors.is_empty() {
        return Err(CatalogError::InvalidInput("an ailake table needs at least one vector column".into()));
    }
    let schema = table_schema(attributes, vectors)?;
    let props = HashMap::from([(VECTOR_COLUMNS_PROPERTY.to_string(), encode_specs(vectors))]);
    Ok((schema, props))
}

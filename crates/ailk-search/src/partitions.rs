//! The table's coarse partitions of a vector column ([`Partitions`]), named by the table
//! property `ailake.partitions.<column>` (the URI of a table file `ailake-partitions-*`), and
//! the conformed row reader compaction uses.

use std::sync::Arc;

use ailk_catalog::Table;
use ailk_format::object_store::ObjectStoreExt;
use ailk_format::{ReadOptions, ShardReader};
use ailk_index::Partitions;
use arrow_array::RecordBatch;

use crate::error::{Result, SearchError};
use crate::rows::read_conformed;

/// The table property naming the partitions file of vector column `column`.
pub fn partitions_property(column: &str) -> String {
    format!("ailake.partitions.{column}")
}

/// The partitions of `column` the table's properties name, or `None` when it has none.
/// A file that does not match the column (dimension, metric) is `Corrupt`.
pub async fn load_partitions(table: &Table, column: &str) -> Result<Option<Arc<Partitions>>> {
    let Some(uri) = table.properties().get(&partitions_property(column)) else { return Ok(None) };
    let spec = table.vector_columns()?.into_iter().find(|s| s.name == column).ok_or_else(|| {
        SearchError::InvalidQuery(format!("{column} is not a vector column of {}", table.ident()))
    })?;
    let wh = table.warehouse();
    let bytes = wh
        .store()
        .get(&wh.path_of(uri)?)
        .await
        .map_err(ailk_format::FormatError::from)?
        .bytes()
        .await
        .map_err(ailk_format::FormatError::from)?;
    let p = Partitions::from_bytes(&bytes)?;
    if p.dim != spec.dim as usize || p.metric != spec.metric {
        return Err(SearchError::Corrupt(format!(
            "{uri}: partitions are {}-d {:?}, column {column} is {}-d {:?}",
            p.dim, p.metric, spec.dim, spec.metric
        )));
    }
    Ok(Some(Arc::new(p)))
}

/// Every row of data file `uri` as the table's current schema sees it (columns by field id,
/// cast to the table's types, vector columns as `FixedSizeList<Float32>`; null for columns the
/// file predates).
pub async fn read_table_rows(table: &Table, uri: &str) -> Result<Vec<RecordBatch>> {
    let schema = table.file_schema()?;
    let store = table.warehouse().store().clone();
    let path = table.warehouse().path_of(uri)?;
    let reader = ShardReader::open(store.clone(), path.clone(), ReadOptions::default()).await?;
    read_conformed(store, &path, &reader, schema.fields(), None).await
}

/// The columns `names` (table names) of every row of data file `uri`, conformed as
/// [`read_table_rows`] does; a name the table lacks is `InvalidQuery`.
pub async fn read_table_columns(table: &Table, uri: &str, names: &[&str]) -> Result<Vec<RecordBatch>> {
    let schema = table.file_schema()?;
    let fields = names
        .iter()
        .map(|n| {
            schema
                .field_with_name(n)
                .map(|f| Arc::new(f.clone()))
                .map_err(|_| SearchError::InvalidQuery(format!("{n} is not a column of {}", table.ident())))
        })
        .collect::<Result<Vec<_>>>()?;
    let store = table.warehouse().store().clone();
    let path = table.warehouse().path_of(uri)?;
    let reader = ShardReader::open(store.clone(), path.clone(), ReadOptions::default()).await?;
    read_conformed(store, &path, &reader, &fields, None).await
}

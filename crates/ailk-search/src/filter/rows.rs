//! A [`Filter`] evaluated against a table: checked against its schema before anything is
//! read, then per data file into the positions of the matching rows (reading only the
//! filter's columns, by field id). Shared by the search session and row deletes.

use std::sync::Arc;

use ailk_catalog::Table;
use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStore;
use ailk_format::ShardReader;
use arrow_array::RecordBatch;
use arrow_schema::{FieldRef, Schema};

use crate::error::{Result, SearchError};
use crate::filter::{selected_rows, Filter};
use crate::rows::read_conformed;

/// The table fields `filter` reads, after checking that each exists and that every
/// comparison is possible (an empty batch of the table's types is evaluated): a bad filter is
/// `InvalidQuery` before any file is opened.
pub(crate) fn filter_fields(filter: &Filter, schema: &Schema) -> Result<Vec<FieldRef>> {
    let fields: Vec<FieldRef> = filter
        .columns()
        .iter()
        .map(|c| {
            schema
                .field_with_name(c)
                .map(|f| Arc::new(f.clone()))
                .map_err(|_| SearchError::InvalidQuery(format!("filter column {c} is not in the table")))
        })
        .collect::<Result<_>>()?;
    let empty = RecordBatch::new_empty(Arc::new(Schema::new(fields.clone())));
    filter.evaluate(&empty)?;
    Ok(fields)
}

/// Positions (ascending) of the rows of the shard behind `reader` that match `filter`.
pub(crate) async fn matching_rows(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    filter: &Filter,
    fields: &[FieldRef],
) -> Result<Vec<u32>> {
    let mut rows = Vec::new();
    let mut offset = 0u32;
    for b in read_conformed(store, path, reader, fields, None).await? {
        rows.extend(selected_rows(&filter.evaluate(&b)?).into_iter().map(|r| r + offset));
        offset += b.num_rows() as u32;
    }
    Ok(rows)
}

/// Checks `filter` against `table`'s schema (see [`filter_fields`]); `InvalidQuery` names
/// the unknown column or the impossible comparison.
pub fn check_filter(table: &Table, filter: &Filter) -> Result<()> {
    let schema = table.file_schema()?;
    filter_fields(filter, &schema).map(|_| ())
}

/// Positions (ascending) of the rows of data file `uri` of `table` that match `filter`.
pub async fn rows_matching(table: &Table, uri: &str, filter: &Filter) -> Result<Vec<u32>> {
    let schema = table.file_schema()?;
    let fields = filter_fields(filter, &schema)?;
    let store = table.warehouse().store().clone();
    let path = table.warehouse().path_of(uri)?;
    let reader = ShardReader::open(store.clone(), path.clone(), ailk_format::ReadOptions::default()).await?;
    matching_rows(store, &path, &reader, filter, &fields).await
}

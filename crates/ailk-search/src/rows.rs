//! Rows of one shard as the table's current schema sees them: columns found by Parquet field
//! id (renamed since the file was written), cast to the table's types (another engine wrote
//! `LargeUtf8`, or the vector column as a `List`), and null for columns the file predates
//! (added by schema evolution).

use std::sync::Arc;

use ailk_format::object_store::path::Path;
use ailk_format::object_store::ObjectStore;
use ailk_format::{read_columns, resolve_columns, ShardReader};
use arrow_array::{new_null_array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{Field, FieldRef, Schema};
use parquet::arrow::arrow_reader::RowSelection;

use crate::error::{Result, SearchError};

/// Reads `fields` (table fields, with their field ids) of the rows in `selection` (all when
/// `None`) of the shard at `path`. Output fields keep the table's names and types; a field is
/// nullable in the output when the file lacks it.
pub(crate) async fn read_conformed(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    fields: &[FieldRef],
    selection: Option<RowSelection>,
) -> Result<Vec<RecordBatch>> {
    let wanted: Vec<&Field> = fields.iter().map(AsRef::as_ref).collect();
    let names = resolve_columns(reader, &wanted)?;
    let mut present: Vec<String> = Vec::new();
    for n in names.iter().flatten() {
        if !present.contains(n) {
            present.push(n.clone());
        }
    }
    let out_fields: Vec<FieldRef> = fields
        .iter()
        .zip(&names)
        .map(|(f, n)| if n.is_none() { Arc::new(f.as_ref().clone().with_nullable(true)) } else { f.clone() })
        .collect();
    let schema = Arc::new(Schema::new(out_fields));
    if present.is_empty() {
        let total = reader.metadata().file_metadata().num_rows().max(0) as usize;
        let rows = selection.as_ref().map_or(total, RowSelection::row_count);
        let columns = fields.iter().map(|f| new_null_array(f.data_type(), rows)).collect();
        let opts = RecordBatchOptions::new().with_row_count(Some(rows));
        return Ok(vec![RecordBatch::try_new_with_options(schema, columns, &opts)?]);
    }
    let mut out = Vec::new();
    for batch in read_columns(store, path, reader, &present, selection).await? {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.len());
        for (field, name) in fields.iter().zip(&names) {
            let Some(name) = name else {
                columns.push(new_null_array(field.data_type(), batch.num_rows()));
                continue;
            };
            let column = batch.column_by_name(name).expect("projected above");
            columns.push(if column.data_type() == field.data_type() {
                column.clone()
            } else {
                arrow_cast::cast(column, field.data_type()).map_err(|e| {
                    SearchError::Corrupt(format!(
                        "{path}: column {name} is {}, the table's {} is {}: {e}",
                        column.data_type(),
                        field.name(),
                        field.data_type()
                    ))
                })?
            });
        }
        let mut fields_now: Vec<FieldRef> = schema.fields().to_vec();
        for (f, c) in fields_now.iter_mut().zip(&columns) {
            if c.null_count() > 0 && !f.is_nullable() {
                *f = Arc::new(f.as_ref().clone().with_nullable(true));
            }
        }
        out.push(RecordBatch::try_new(Arc::new(Schema::new(fields_now)), columns)?);
    }
    Ok(out)
}

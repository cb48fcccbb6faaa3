//! The SQL view of a table's columns and batches conformed to a plan's declared schema.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::error::Result;

use crate::error::to_df;

/// The SQL schema of a table: its columns (vector columns as `FixedSizeList<Float32>`), all
/// nullable (a column added by schema evolution reads as null in older files), without the
/// Parquet field-id metadata.
pub(crate) fn sql_schema(table: &ailake::Table) -> Result<SchemaRef> {
    let schema = table.file_schema().map_err(to_df)?;
    Ok(Arc::new(Schema::new(
        schema.fields().iter().map(|f| Field::new(f.name(), f.data_type().clone(), true)).collect::<Vec<_>>(),
    )))
}

/// `batch`'s columns under `schema` (same names and types; nullability and metadata as
/// the plan declares them).
pub(crate) fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let opts = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &opts)?)
}

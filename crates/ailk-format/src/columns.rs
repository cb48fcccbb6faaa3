//! Reading row data of a shard through its [`ShardReader`]: projected columns of selected rows
//! (search results, filters) and whole vector columns (flat scans, index builds of
//! Parquet-only shards). The footer the reader already decoded is reused: no second footer read.

use std::sync::Arc;

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::ObjectStore;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, RowSelection};
use parquet::arrow::async_reader::ParquetObjectReader;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use crate::error::{FormatError, Result};
use crate::shard_reader::{ReadOptions, ShardReader};
use crate::vector_column::array_values;

/// Streams `columns` of the rows in `selection` (all rows when `None`) of the shard at `path`.
pub async fn read_columns(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    columns: &[String],
    selection: Option<RowSelection>,
) -> Result<Vec<RecordBatch>> {
    let meta = ArrowReaderMetadata::try_new(reader.metadata().clone(), ArrowReaderOptions::new())?;
    let roots: Vec<usize> = columns
        .iter()
        .map(|c| {
            meta.schema()
                .index_of(c)
                .map_err(|_| FormatError::InvalidInput(format!("{path} has no column {c}")))
        })
        .collect::<Result<_>>()?;
    let object = ParquetObjectReader::new(store, path.clone()).with_file_size(reader.file_size());
    let mask = ProjectionMask::roots(meta.parquet_schema(), roots);
    let mut builder = ParquetRecordBatchStreamBuilder::new_with_metadata(object, meta).with_projection(mask);
    if let Some(sel) = selection {
        builder = builder.with_row_selection(sel);
    }
    Ok(builder.build()?.try_collect().await?)
}

/// Vector column `name` of the shard behind `reader`, as row-major `f32` values; `Corrupt`-kind
/// error when the column does not hold `rows × dim` values.
pub async fn read_vector_column(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    name: &str,
    dim: usize,
) -> Result<Vec<f32>> {
    let batches = read_columns(store, path, reader, &[name.to_string()], None).await?;
    let mut out = Vec::new();
    for b in batches {
        let (_, values) = array_values(b.column(0).as_ref())?;
        out.extend_from_slice(values);
    }
    let rows = reader.metadata().file_metadata().num_rows().max(0) as usize;
    if out.len() != rows * dim {
        return Err(FormatError::InvalidLayout(format!(
            "{path}: vector column {name} holds {} values for {rows} rows of dimension {dim}",
            out.len()
        )));
    }
    Ok(out)
}

/// Vector column `name` (dimension `dim`) of the Parquet file at `path`: what an index build
/// of a Parquet-only shard starts from.
pub async fn read_vectors(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    name: &str,
    dim: usize,
) -> Result<Vec<f32>> {
    let reader = ShardReader::open(store.clone(), path.clone(), ReadOptions::default()).await?;
    read_vector_column(store, path, &reader, name, dim).await
}

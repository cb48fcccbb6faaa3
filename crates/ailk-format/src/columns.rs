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
use crate::vector_column::field_id;
use crate::vector_rows::{vector_rows, VectorRows};

/// Column chunks above this size (compressed) are read page by page for a row selection;
/// smaller ones are read whole, every page decompressed: 2 MiB.
pub const PAGED_CHUNK_MIN: u64 = 2 << 20;

/// Streams `columns` of the rows in `selection` (all rows when `None`) of the shard at `path`.
pub async fn read_columns(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    columns: &[String],
    selection: Option<RowSelection>,
) -> Result<Vec<RecordBatch>> {
    // A row selection from a big column chunk reads only the pages holding its rows (the
    // offset index, loaded once per reader, says where they are); small chunks are read
    // whole in one request, which costs less than the index read first.
    let big_chunk = selection.is_some() && {
        let schema = reader.metadata().file_metadata().schema_descr();
        reader.metadata().row_groups().iter().any(|rg| {
            rg.columns().iter().enumerate().any(|(i, c)| {
                c.compressed_size() as u64 > PAGED_CHUNK_MIN
                    && columns.iter().any(|name| schema.column(i).path().parts().first() == Some(name))
            })
        })
    };
    let meta = if big_chunk {
        let options = ArrowReaderOptions::new()
            .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Optional);
        ArrowReaderMetadata::try_new(reader.paged_metadata().await?, options)?
    } else {
        ArrowReaderMetadata::try_new(reader.metadata().clone(), ArrowReaderOptions::new())?
    };
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

/// Vector column `name` of the shard behind `reader` as row-major `f32` values, whatever list
/// type stores it (other engines' files included): rows without a usable vector (null, wrong
/// length, NaN) are zero-filled and listed in [`VectorRows::bad`].
pub async fn read_vector_rows(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    name: &str,
    dim: usize,
) -> Result<VectorRows> {
    let batches = read_columns(store, path, reader, &[name.to_string()], None).await?;
    let mut out = VectorRows::default();
    let mut first = 0u32;
    for b in batches {
        vector_rows(b.column(0).as_ref(), dim, first, true, &mut out)
            .map_err(|e| FormatError::InvalidLayout(format!("{path}: vector column {name}: {e}")))?;
        first += b.num_rows() as u32;
    }
    let rows = reader.metadata().file_metadata().num_rows().max(0) as usize;
    if out.values.len() != rows * dim {
        return Err(FormatError::InvalidLayout(format!(
            "{path}: vector column {name} holds {} values for {rows} rows of dimension {dim}",
            out.values.len()
        )));
    }
    Ok(out)
}

/// [`read_vector_rows`] for a column every row of which must hold a vector (an index build):
/// `Corrupt`-kind error naming the first row that does not.
pub async fn read_vector_column(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    reader: &ShardReader,
    name: &str,
    dim: usize,
) -> Result<Vec<f32>> {
    let rows = read_vector_rows(store, path, reader, name, dim).await?;
    if let Some((row, why)) = rows.bad.first() {
        return Err(FormatError::InvalidLayout(format!(
            "{path}: vector column {name}: row {row} {why} ({} such rows)",
            rows.bad.len()
        )));
    }
    Ok(rows.values)
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

/// For each wanted table field, the name of the file's column holding it: matched by Parquet
/// field id (so a column renamed since the file was written is still found), else by name;
/// `None` when the file predates the column (a column added by schema evolution).
pub fn resolve_columns(reader: &ShardReader, wanted: &[&arrow_schema::Field]) -> Result<Vec<Option<String>>> {
    let meta = ArrowReaderMetadata::try_new(reader.metadata().clone(), ArrowReaderOptions::new())?;
    let file = meta.schema();
    Ok(wanted
        .iter()
        .map(|w| {
            let by_id = field_id(w).and_then(|id| file.fields().iter().find(|f| field_id(f) == Some(id)));
            by_id.or_else(|| file.fields().iter().find(|f| f.name() == w.name())).map(|f| f.name().clone())
        })
        .collect())
}

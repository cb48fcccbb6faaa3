//! Checks a write against the table and assembles the Parquet batch: attribute columns in the
//! table's order and types, vector columns as `FixedSizeList<Float32>` with field ids.

use std::sync::Arc;

use ailk_catalog::iceberg::arrow::arrow_type_to_type;
use ailk_catalog::VectorSpec;
use ailk_format::vector_column::{field_id, vectors_to_array};
use ailk_index::{kernels, Metric};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};

use crate::error::{Result, WriterError};

/// Embeddings of one vector column for a batch, one `Vec` per row.
#[derive(Debug, Clone)]
pub struct MultiVectorBatch {
    /// Vector column name.
    pub column: String,
    /// One embedding per row of the batch.
    pub embeddings: Vec<Vec<f32>>,
}

impl MultiVectorBatch {
    /// Embeddings for `column`.
    pub fn new(column: impl Into<String>, embeddings: Vec<Vec<f32>>) -> Self {
        Self { column: column.into(), embeddings }
    }
}

/// One vector column of a prepared batch.
pub(crate) struct PreparedColumn {
    pub spec: VectorSpec,
    pub field_id: i32,
    /// Values as indexed: unit length for cosine columns.
    pub index_values: Vec<f32>,
}

/// A batch ready to be written.
pub(crate) struct PreparedBatch {
    pub batch: RecordBatch,
    pub columns: Vec<PreparedColumn>,
    pub rows: usize,
}

/// Flattens one column's embeddings, checking count, dimension and finiteness.
fn flatten(spec: &VectorSpec, rows: usize, embeddings: &[Vec<f32>]) -> Result<Vec<f32>> {
    if embeddings.len() != rows {
        return Err(WriterError::LengthMismatch {
            column: spec.name.clone(),
            rows,
            embeddings: embeddings.len(),
        });
    }
    let dim = spec.dim as usize;
    let mut values = Vec::with_capacity(rows * dim);
    for (row, e) in embeddings.iter().enumerate() {
        if e.len() != dim {
            return Err(WriterError::WrongDimension {
                column: spec.name.clone(),
                row,
                expected: spec.dim,
                got: e.len(),
            });
        }
        if e.iter().any(|v| !v.is_finite()) {
            return Err(WriterError::NonFinite { column: spec.name.clone(), row });
        }
        values.extend_from_slice(e);
    }
    Ok(values)
}

/// Validates `batch` + `vectors` against the table (`schema` is its file schema, `specs` its
/// vector columns, primary first) and builds the batch to write.
pub(crate) fn prepare(
    schema: &SchemaRef,
    specs: &[VectorSpec],
    batch: &RecordBatch,
    vectors: &[MultiVectorBatch],
) -> Result<PreparedBatch> {
    let rows = batch.num_rows();
    if rows == 0 {
        return Err(WriterError::InvalidInput("the batch has no rows".into()));
    }
    for v in vectors {
        if !specs.iter().any(|s| s.name == v.column) {
            return Err(WriterError::MissingVectorColumn(v.column.clone()));
        }
    }
    for f in batch.schema().fields() {
        if !schema.fields().iter().any(|t| t.name() == f.name()) {
            return Err(WriterError::SchemaMismatch(format!("column {} is not in the table", f.name())));
        }
        if specs.iter().any(|s| s.name == *f.name()) {
            return Err(WriterError::SchemaMismatch(format!(
                "{} is a vector column: pass it as embeddings, not in the batch",
                f.name()
            )));
        }
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    let mut prepared = Vec::new();
    for field in schema.fields() {
        if let Some(spec) = specs.iter().find(|s| &s.name == field.name()) {
            let given = vectors
                .iter()
                .find(|v| v.column == spec.name)
                .ok_or_else(|| WriterError::MissingVectorColumn(spec.name.clone()))?;
            let values = flatten(spec, rows, &given.embeddings)?;
            let DataType::FixedSizeList(element, _) = field.data_type() else {
                return Err(WriterError::SchemaMismatch(format!(
                    "{} is not a vector column in the file schema",
                    spec.name
                )));
            };
            columns.push(Arc::new(vectors_to_array(element.clone(), spec.dim, &values)?));
            let mut index_values = values;
            if spec.metric == Metric::Cosine {
                index_values.chunks_exact_mut(spec.dim as usize).for_each(kernels::normalize);
            }
            prepared.push(PreparedColumn {
                spec: spec.clone(),
                field_id: field_id(field).unwrap_or(-1),
                index_values,
            });
            continue;
        }
        let column = batch.column_by_name(field.name()).ok_or_else(|| {
            WriterError::SchemaMismatch(format!("column {} is missing from the batch", field.name()))
        })?;
        let column = if column.data_type() == field.data_type() {
            column.clone()
        } else {
            let same = matches!(
                (arrow_type_to_type(column.data_type()), arrow_type_to_type(field.data_type())),
                (Ok(a), Ok(b)) if a == b
            );
            if !same {
                return Err(WriterError::SchemaMismatch(format!(
                    "column {} is {}, the table has {}",
                    field.name(),
                    column.data_type(),
                    field.data_type()
                )));
            }
            arrow_cast::cast(column, field.data_type())?
        };
        if !field.is_nullable() && column.null_count() > 0 {
            return Err(WriterError::SchemaMismatch(format!(
                "column {} is required but has nulls",
                field.name()
            )));
        }
        columns.push(column);
    }
    // Primary column first, as in `specs`.
    prepared.sort_by_key(|c| specs.iter().position(|s| s.name == c.spec.name));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(PreparedBatch { batch, columns: prepared, rows })
}

//! Checks a write against the table and assembles the Parquet batch: attribute columns in the
//! table's order and types, vector columns as `FixedSizeList<Float32>` with field ids.

use std::borrow::Cow;
use std::sync::Arc;

use ailk_catalog::iceberg::arrow::arrow_type_to_type;
use ailk_catalog::VectorSpec;
use ailk_format::vector_column::{field_id, vectors_to_array};
use ailk_index::{kernels, Metric};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};

use crate::error::{Result, WriterError};
use crate::list_vectors::vector_values;

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

impl PreparedColumn {
    /// `values` of `spec` (checked) as indexed: normalized for cosine. `schema` is the table's
    /// file schema (for the column's field id).
    pub fn new(schema: &SchemaRef, spec: &VectorSpec, mut values: Vec<f32>) -> Self {
        if spec.metric == Metric::Cosine {
            values.chunks_exact_mut(spec.dim as usize).for_each(kernels::normalize);
        }
        let field_id = schema.field_with_name(&spec.name).ok().and_then(field_id).unwrap_or(-1);
        Self { spec: spec.clone(), field_id, index_values: values }
    }
}

/// A batch ready to be written.
pub(crate) struct PreparedBatch {
    pub batch: RecordBatch,
    pub columns: Vec<PreparedColumn>,
    pub rows: usize,
}

/// Values of one vector column of a write, row-major.
pub(crate) struct VectorInput<'a> {
    pub column: &'a str,
    pub values: Cow<'a, [f32]>,
}

/// Flattens one-`Vec`-per-row embeddings, checking count and each row's dimension.
pub(crate) fn flatten(spec: &VectorSpec, rows: usize, embeddings: &[Vec<f32>]) -> Result<Vec<f32>> {
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
        values.extend_from_slice(e);
    }
    Ok(values)
}

/// Checks flat `values` of `spec` for `rows` rows: count and finiteness.
fn check_values(spec: &VectorSpec, rows: usize, values: &[f32]) -> Result<()> {
    let dim = spec.dim as usize;
    if values.len() != rows * dim {
        if values.len().is_multiple_of(dim) {
            return Err(WriterError::LengthMismatch {
                column: spec.name.clone(),
                rows,
                embeddings: values.len() / dim,
            });
        }
        return Err(WriterError::WrongDimension {
            column: spec.name.clone(),
            row: values.len() / dim,
            expected: spec.dim,
            got: values.len() % dim,
        });
    }
    if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
        return Err(WriterError::NonFinite { column: spec.name.clone(), row: pos / dim });
    }
    if spec.metric == Metric::Cosine {
        if let Some(row) = values.chunks_exact(dim).position(|v| v.iter().all(|&x| x == 0.0)) {
            return Err(WriterError::ZeroVector { column: spec.name.clone(), row });
        }
    }
    Ok(())
}

/// Splits a batch whose vector columns are `FixedSizeList`, `List` or `LargeList` columns of
/// floats into its attribute columns and the vectors' flat `f32` values (borrowed, no copy,
/// when a column is already `FixedSizeList<Float32>`).
pub(crate) fn split_vector_columns<'a>(
    specs: &[VectorSpec],
    batch: &'a RecordBatch,
) -> Result<(RecordBatch, Vec<VectorInput<'a>>)> {
    let schema = batch.schema_ref();
    let mut keep = Vec::new();
    let mut vectors = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        let Some(spec) = specs.iter().find(|s| &s.name == field.name()) else {
            keep.push(i);
            continue;
        };
        let values = vector_values(batch.column(i).as_ref(), &spec.name, spec.dim)?;
        vectors.push(VectorInput { column: field.name().as_str(), values });
    }
    Ok((batch.project(&keep)?, vectors))
}

/// Validates `batch` + `vectors` against the table (`schema` is its file schema, `specs` its
/// vector columns, primary first) and builds the batch to write.
pub(crate) fn prepare(
    schema: &SchemaRef,
    specs: &[VectorSpec],
    batch: &RecordBatch,
    vectors: Vec<VectorInput<'_>>,
) -> Result<PreparedBatch> {
    let rows = batch.num_rows();
    if rows == 0 {
        return Err(WriterError::InvalidInput("the batch has no rows".into()));
    }
    for (i, v) in vectors.iter().enumerate() {
        if !specs.iter().any(|s| s.name == v.column) {
            return Err(WriterError::MissingVectorColumn(v.column.to_string()));
        }
        if vectors[..i].iter().any(|o| o.column == v.column) {
            return Err(WriterError::InvalidInput(format!("vector column {} is given twice", v.column)));
        }
    }
    let mut vectors: Vec<Option<VectorInput<'_>>> = vectors.into_iter().map(Some).collect();
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
                .iter_mut()
                .find(|v| v.as_ref().is_some_and(|v| v.column == spec.name))
                .and_then(Option::take)
                .ok_or_else(|| WriterError::MissingVectorColumn(spec.name.clone()))?;
            check_values(spec, rows, &given.values)?;
            let DataType::FixedSizeList(element, _) = field.data_type() else {
                return Err(WriterError::SchemaMismatch(format!(
                    "{} is not a vector column in the file schema",
                    spec.name
                )));
            };
            columns.push(Arc::new(vectors_to_array(element.clone(), spec.dim, &given.values)?));
            prepared.push(PreparedColumn::new(schema, spec, given.values.into_owned()));
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

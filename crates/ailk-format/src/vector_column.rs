//! The vector column in Arrow and Parquet: `FixedSizeList<Float32>` with Iceberg field ids.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, FixedSizeListArray, Float32Array};
use arrow_schema::{DataType, Field, FieldRef};
use parquet::arrow::PARQUET_FIELD_ID_META_KEY;

use crate::error::{FormatError, Result};

/// Name of the list element field, as Iceberg's Parquet mapping expects.
pub const ELEMENT_NAME: &str = "element";

/// Returns `field` with its Parquet field id set (Iceberg matches columns by these ids).
pub fn with_field_id(field: Field, id: i32) -> Field {
    let mut meta: HashMap<String, String> = field.metadata().clone();
    meta.insert(PARQUET_FIELD_ID_META_KEY.to_string(), id.to_string());
    field.with_metadata(meta)
}

/// The Parquet field id of an Arrow field, if it carries one.
pub fn field_id(field: &Field) -> Option<i32> {
    field.metadata().get(PARQUET_FIELD_ID_META_KEY)?.parse().ok()
}

/// The element field of a vector column: non-null `Float32` named `element`.
pub fn vector_element_field(element_field_id: i32) -> FieldRef {
    Arc::new(with_field_id(Field::new(ELEMENT_NAME, DataType::Float32, false), element_field_id))
}

/// A vector column `name` of dimension `dim` as Arrow `FixedSizeList<Float32>`, with the
/// Parquet field ids of the column (`field_id`) and of its element (`element_field_id`).
pub fn vector_field(name: &str, dim: u32, field_id: i32, element_field_id: i32, nullable: bool) -> Field {
    let ty = DataType::FixedSizeList(vector_element_field(element_field_id), dim as i32);
    with_field_id(Field::new(name, ty, nullable), field_id)
}

/// Builds the Arrow array of a vector column from row-major values.
pub fn vectors_to_array(element: FieldRef, dim: u32, values: &[f32]) -> Result<FixedSizeListArray> {
    if dim == 0 || dim > i32::MAX as u32 || !values.len().is_multiple_of(dim as usize) {
        return Err(FormatError::InvalidInput(format!(
            "{} values are not rows of dimension {dim}",
            values.len()
        )));
    }
    let child = Float32Array::from(values.to_vec());
    Ok(FixedSizeListArray::try_new(element, dim as i32, Arc::new(child), None)?)
}

/// Borrows the row-major values of a vector column, checking its type and that it has no nulls.
pub fn array_values(array: &dyn Array) -> Result<(u32, &[f32])> {
    let list = array.as_any().downcast_ref::<FixedSizeListArray>().ok_or_else(|| {
        FormatError::InvalidInput(format!(
            "vector column is {}, not FixedSizeList<Float32>",
            array.data_type()
        ))
    })?;
    if list.null_count() > 0 {
        return Err(FormatError::InvalidInput("vector column has null rows".into()));
    }
    let values = list
        .values()
        .as_any()
        .downcast_ref::<Float32Array>()
        .ok_or_else(|| FormatError::InvalidInput("vector elements are not Float32".into()))?;
    if values.null_count() > 0 {
        return Err(FormatError::InvalidInput("vector elements contain nulls".into()));
    }
    let dim = list.value_length() as usize;
    let start = list.offset() * dim;
    let all = values.values();
    let slice = all
        .get(start..start + list.len() * dim)
        .ok_or_else(|| FormatError::InvalidInput("vector column values are shorter than its rows".into()))?;
    Ok((dim as u32, slice))
}

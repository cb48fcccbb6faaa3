//! Vector columns as the other tools hand them over: `List` / `LargeList` of `Float16`,
//! `Float32` or `Float64` (pyarrow, pandas, LanceDB exports, pyiceberg), flattened to the
//! `f32` values the writer indexes, every row checked against the column's dimension.

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float16Type, Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, OffsetSizeTrait};
use arrow_schema::DataType;

use crate::error::{Result, WriterError};

fn floats(values: &ArrayRef, column: &str) -> Result<Vec<f32>> {
    if values.null_count() > 0 {
        return Err(WriterError::InvalidInput(format!("vector column {column} has null elements")));
    }
    Ok(match values.data_type() {
        DataType::Float32 => values.as_primitive::<Float32Type>().values().to_vec(),
        DataType::Float64 => {
            values.as_primitive::<Float64Type>().values().iter().map(|&v| v as f32).collect()
        }
        DataType::Float16 => {
            values.as_primitive::<Float16Type>().values().iter().map(|v| v.to_f32()).collect()
        }
        other => {
            return Err(WriterError::SchemaMismatch(format!(
                "vector column {column} holds {other}, not floats"
            )))
        }
    })
}

fn from_list<O: OffsetSizeTrait>(array: &dyn Array, column: &str, dim: u32) -> Result<Vec<f32>> {
    let list = array.as_list::<O>();
    let mut out = Vec::with_capacity(list.len() * dim as usize);
    for row in 0..list.len() {
        if list.is_null(row) {
            return Err(WriterError::InvalidInput(format!("vector column {column}: row {row} is null")));
        }
        let values = list.value(row);
        if values.len() != dim as usize {
            return Err(WriterError::WrongDimension {
                column: column.to_string(),
                row,
                expected: dim,
                got: values.len(),
            });
        }
        out.extend(floats(&values, column)?);
    }
    Ok(out)
}

/// The row-major `f32` values of a vector column given as `FixedSizeList`, `List` or
/// `LargeList` of floats; borrowed when it is already `FixedSizeList<Float32>` without nulls.
pub(crate) fn vector_values<'a>(array: &'a dyn Array, column: &str, dim: u32) -> Result<Cow<'a, [f32]>> {
    match array.data_type() {
        DataType::List(_) => Ok(Cow::Owned(from_list::<i32>(array, column, dim)?)),
        DataType::LargeList(_) => Ok(Cow::Owned(from_list::<i64>(array, column, dim)?)),
        DataType::FixedSizeList(item, len) => {
            if *len as u32 != dim {
                return Err(WriterError::WrongDimension {
                    column: column.to_string(),
                    row: 0,
                    expected: dim,
                    got: *len as usize,
                });
            }
            if item.data_type() == &DataType::Float32 && array.null_count() == 0 {
                let (_, values) = ailk_format::vector_column::array_values(array)
                    .map_err(|e| WriterError::SchemaMismatch(format!("vector column {column}: {e}")))?;
                return Ok(Cow::Borrowed(values));
            }
            if let Some(row) = (0..array.len()).find(|&r| array.is_null(r)) {
                return Err(WriterError::InvalidInput(format!("vector column {column}: row {row} is null")));
            }
            let list = array.as_fixed_size_list();
            let start = list.offset() * dim as usize;
            let values = list.values().slice(start, list.len() * dim as usize);
            Ok(Cow::Owned(floats(&values, column)?))
        }
        other => Err(WriterError::SchemaMismatch(format!(
            "vector column {column} is {other}; expected a FixedSizeList, List or LargeList of floats"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Float32Builder, Float64Builder, LargeListBuilder, ListBuilder};
    use arrow_array::{FixedSizeListArray, Float32Array};
    use arrow_schema::Field;

    use super::*;

    #[test]
    fn every_list_type_gives_the_same_values() {
        let rows = [[1.0f32, 2.0], [3.0, 4.5]];
        let mut list = ListBuilder::new(Float32Builder::new());
        let mut large = LargeListBuilder::new(Float64Builder::new());
        for r in rows {
            list.values().append_slice(&r);
            list.append(true);
            large.values().append_slice(&r.map(f64::from));
            large.append(true);
        }
        let want = vec![1.0, 2.0, 3.0, 4.5];
        assert_eq!(vector_values(&list.finish(), "v", 2).unwrap().as_ref(), &want[..]);
        assert_eq!(vector_values(&large.finish(), "v", 2).unwrap().as_ref(), &want[..]);
        let item = Arc::new(Field::new("item", DataType::Float32, false));
        let fsl =
            FixedSizeListArray::try_new(item, 2, Arc::new(Float32Array::from(want.clone())), None).unwrap();
        let got = vector_values(&fsl, "v", 2).unwrap();
        assert!(matches!(got, Cow::Borrowed(_)));
        assert_eq!(got.as_ref(), &want[..]);
        // A sliced FixedSizeList starts at its offset.
        assert_eq!(vector_values(&fsl.slice(1, 1), "v", 2).unwrap().as_ref(), &[3.0, 4.5]);
    }

    #[test]
    fn ragged_null_and_non_float_rows_are_refused() {
        let mut list = ListBuilder::new(Float32Builder::new());
        list.values().append_slice(&[1.0, 2.0]);
        list.append(true);
        list.values().append_slice(&[1.0]);
        list.append(true);
        let err = vector_values(&list.finish(), "v", 2).unwrap_err();
        assert!(matches!(err, WriterError::WrongDimension { row: 1, got: 1, .. }), "{err}");
        let mut nulls = ListBuilder::new(Float32Builder::new());
        nulls.append(false);
        assert!(matches!(vector_values(&nulls.finish(), "v", 2), Err(WriterError::InvalidInput(_))));
        let ints = arrow_array::Int32Array::from(vec![1, 2]);
        assert!(matches!(vector_values(&ints, "v", 2), Err(WriterError::SchemaMismatch(_))));
    }
}

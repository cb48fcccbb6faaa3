//! Vector columns as the other tools hand them over: `List` / `LargeList` of `Float16`,
//! `Float32` or `Float64` (pyarrow, pandas, LanceDB exports, pyiceberg), flattened to the
//! `f32` values the writer indexes (by `ailk_format::vector_rows`), every row checked against
//! the column's dimension.

use std::borrow::Cow;

use ailk_format::{vector_rows, BadVector, VectorRows};
use arrow_array::Array;
use arrow_schema::DataType;

use crate::error::{Result, WriterError};

/// The row-major `f32` values of a vector column given as `FixedSizeList`, `List` or
/// `LargeList` of floats; borrowed when it is already `FixedSizeList<Float32>` without nulls.
/// A row without a vector of `dim` values is refused, naming the row.
pub(crate) fn vector_values<'a>(array: &'a dyn Array, column: &str, dim: u32) -> Result<Cow<'a, [f32]>> {
    if let DataType::FixedSizeList(item, len) = array.data_type() {
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
    }
    let mut rows = VectorRows::default();
    // Non-finite values are refused later with the writer's own error (`NonFinite`).
    vector_rows(array, dim as usize, 0, false, &mut rows)
        .map_err(|e| WriterError::SchemaMismatch(format!("vector column {column}: {e}")))?;
    match rows.bad.first() {
        None => Ok(Cow::Owned(rows.values)),
        Some(&(row, BadVector::Length(got))) => Err(WriterError::WrongDimension {
            column: column.to_string(),
            row: row as usize,
            expected: dim,
            got,
        }),
        Some((row, why)) => {
            Err(WriterError::InvalidInput(format!("vector column {column}: row {row} {why}")))
        }
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

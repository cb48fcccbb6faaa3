//! Vector columns as any engine stores them: `FixedSizeList`, `List` or `LargeList` of
//! `Float16`/`Float32`/`Float64`, nullable or not (pyiceberg, Spark and pandas write lists).
//! [`vector_rows`] flattens one to row-major `f32` values; rows without a usable vector (null,
//! the wrong length, non-finite values when asked) are zero-filled and listed, so a reader can
//! skip them and a writer can refuse them with the row named.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float16Type, Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, OffsetSizeTrait};
use arrow_schema::DataType;

use crate::error::{FormatError, Result};

/// Why a row holds no usable vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadVector {
    /// The row's vector is null (or has null elements).
    Null,
    /// The row's vector has this many values instead of the column's dimension.
    Length(usize),
    /// The row's vector has a NaN or infinite value.
    NonFinite,
}

/// A vector column flattened to `rows × dim` values.
#[derive(Debug, Clone, Default)]
pub struct VectorRows {
    /// Row-major values; the rows listed in `bad` are zeros.
    pub values: Vec<f32>,
    /// Rows (from the `first_row` given) without a usable vector, in increasing order.
    pub bad: Vec<(u32, BadVector)>,
}

fn append_floats(values: &ArrayRef, out: &mut Vec<f32>) -> Result<()> {
    match values.data_type() {
        DataType::Float32 => out.extend_from_slice(values.as_primitive::<Float32Type>().values()),
        DataType::Float64 => {
            out.extend(values.as_primitive::<Float64Type>().values().iter().map(|&v| v as f32))
        }
        DataType::Float16 => {
            out.extend(values.as_primitive::<Float16Type>().values().iter().map(|v| v.to_f32()))
        }
        other => return Err(FormatError::InvalidInput(format!("vector elements are {other}, not floats"))),
    }
    Ok(())
}

/// Appends one row: its values, or zeros and an entry in `bad`.
fn push_row(row: Option<ArrayRef>, dim: usize, id: u32, finite: bool, out: &mut VectorRows) -> Result<()> {
    let problem = match &row {
        None => Some(BadVector::Null),
        Some(v) if v.len() != dim => Some(BadVector::Length(v.len())),
        Some(v) if v.null_count() > 0 => Some(BadVector::Null),
        Some(_) => None,
    };
    if let Some(p) = problem {
        out.values.resize(out.values.len() + dim, 0.0);
        out.bad.push((id, p));
        return Ok(());
    }
    let start = out.values.len();
    append_floats(row.as_ref().expect("checked above"), &mut out.values)?;
    if finite && out.values[start..].iter().any(|v| !v.is_finite()) {
        out.values[start..].fill(0.0);
        out.bad.push((id, BadVector::NonFinite));
    }
    Ok(())
}

fn from_list<O: OffsetSizeTrait>(
    array: &dyn Array,
    dim: usize,
    first: u32,
    finite: bool,
    out: &mut VectorRows,
) -> Result<()> {
    let list = array.as_list::<O>();
    for row in 0..list.len() {
        let value = list.is_valid(row).then(|| list.value(row));
        push_row(value, dim, first + row as u32, finite, out)?;
    }
    Ok(())
}

/// Flattens `array` (a vector column of `dim` values per row) into `out`, numbering its rows
/// from `first_row`. With `finite`, rows holding NaN or infinity are listed as bad too.
pub fn vector_rows(
    array: &dyn Array,
    dim: usize,
    first_row: u32,
    finite: bool,
    out: &mut VectorRows,
) -> Result<()> {
    out.values.reserve(array.len() * dim);
    match array.data_type() {
        DataType::List(_) => from_list::<i32>(array, dim, first_row, finite, out),
        DataType::LargeList(_) => from_list::<i64>(array, dim, first_row, finite, out),
        DataType::FixedSizeList(..) => {
            let list = array.as_fixed_size_list();
            for row in 0..list.len() {
                let value = list.is_valid(row).then(|| list.value(row));
                push_row(value, dim, first_row + row as u32, finite, out)?;
            }
            Ok(())
        }
        other => Err(FormatError::InvalidInput(format!(
            "vector column is {other}; expected a FixedSizeList, List or LargeList of floats"
        ))),
    }
}

impl std::fmt::Display for BadVector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadVector::Null => write!(f, "is null"),
            BadVector::Length(n) => write!(f, "has {n} values"),
            BadVector::NonFinite => write!(f, "has a NaN or infinite value"),
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

    fn rows(array: &dyn Array, dim: usize, finite: bool) -> VectorRows {
        let mut out = VectorRows::default();
        vector_rows(array, dim, 10, finite, &mut out).unwrap();
        out
    }

    #[test]
    fn lists_of_every_float_type_flatten_alike_and_bad_rows_are_listed() {
        let mut list = ListBuilder::new(Float32Builder::new());
        let mut large = LargeListBuilder::new(Float64Builder::new());
        for r in [[1.0f32, 2.0], [3.0, 4.5]] {
            list.values().append_slice(&r);
            list.append(true);
            large.values().append_slice(&r.map(f64::from));
            large.append(true);
        }
        list.append(false); // null row
        list.values().append_slice(&[1.0]);
        list.append(true); // short row
        list.values().append_slice(&[f32::NAN, 1.0]);
        list.append(true); // NaN row
        let got = rows(&list.finish(), 2, true);
        assert_eq!(got.values, vec![1.0, 2.0, 3.0, 4.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(
            got.bad,
            vec![(12, BadVector::Null), (13, BadVector::Length(1)), (14, BadVector::NonFinite)]
        );
        assert_eq!(rows(&large.finish(), 2, true).values, vec![1.0, 2.0, 3.0, 4.5]);
        let item = Arc::new(Field::new("item", DataType::Float32, true));
        let fsl = FixedSizeListArray::try_new(
            item,
            2,
            Arc::new(Float32Array::from(vec![1.0, 2.0, 3.0, 4.0])),
            Some(vec![true, false].into()),
        )
        .unwrap();
        let got = rows(&fsl, 2, true);
        assert_eq!((got.values, got.bad), (vec![1.0, 2.0, 0.0, 0.0], vec![(11, BadVector::Null)]));
        let mut out = VectorRows::default();
        assert!(vector_rows(&arrow_array::Int32Array::from(vec![1]), 2, 0, true, &mut out).is_err());
    }
}

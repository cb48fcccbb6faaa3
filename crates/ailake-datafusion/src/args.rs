//! Literal arguments of the table functions: strings, integers and query vectors.

use datafusion::arrow::array::{Array, Float32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

/// A string literal argument (`what` names it in the error).
pub(crate) fn string_arg(e: &Expr, what: &str) -> Result<String> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Ok(s.clone()),
        _ => Err(DataFusionError::Plan(format!("{what} must be a string literal, got {e}"))),
    }
}

/// An integer literal argument.
pub(crate) fn integer_arg(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(v, _) if v.data_type().is_integer() => {
            v.cast_to(&DataType::Int64)
                .ok()
                .and_then(|v| if let ScalarValue::Int64(i) = v { i } else { None })
        }
        _ => None,
    }
}

/// The query vector: an array literal of numbers (`[0.1, -2, 3e-1]`), as `f32`.
pub(crate) fn vector_arg(e: &Expr) -> Result<Vec<f32>> {
    let bad = || {
        DataFusionError::Plan(format!(
            "vector_search: the query must be an array literal of numbers like [0.1, 0.2], got {e}"
        ))
    };
    let values = match e {
        Expr::Literal(ScalarValue::List(a), _) => a.values().clone(),
        Expr::Literal(ScalarValue::LargeList(a), _) => a.values().clone(),
        Expr::Literal(ScalarValue::FixedSizeList(a), _) => a.values().clone(),
        _ => return Err(bad()),
    };
    if !(values.data_type().is_numeric()) {
        return Err(bad());
    }
    if values.null_count() > 0 {
        return Err(DataFusionError::Plan("vector_search: the query vector holds a null".into()));
    }
    let floats = cast(&values, &DataType::Float32)?;
    let floats = floats.as_any().downcast_ref::<Float32Array>().ok_or_else(bad)?;
    let out: Vec<f32> = floats.values().to_vec();
    if out.iter().any(|v| !v.is_finite()) {
        return Err(DataFusionError::Plan(
            "vector_search: the query vector holds NaN or infinity (or a value beyond f32)".into(),
        ));
    }
    if out.is_empty() {
        return Err(DataFusionError::Plan("vector_search: the query vector is empty".into()));
    }
    Ok(out)
}

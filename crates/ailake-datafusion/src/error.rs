//! ailake errors as DataFusion errors: bad input (an unknown column, a query vector of the
//! wrong dimension, `k` = 0, an unknown table or snapshot) is a plan error naming the
//! problem; everything else keeps its source as an external error.

use ailake::{AilakeError, ErrorKind};
use datafusion::error::DataFusionError;

/// `e` as a DataFusion error: `Plan` for invalid input and missing tables or snapshots,
/// `External` (source kept) otherwise.
pub fn to_df(e: impl Into<AilakeError>) -> DataFusionError {
    let e = e.into();
    match e.kind() {
        ErrorKind::InvalidInput | ErrorKind::NotFound => DataFusionError::Plan(e.to_string()),
        _ => DataFusionError::External(Box::new(e)),
    }
}

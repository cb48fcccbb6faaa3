//! Python values in and out: Arrow data through the C data interface, NumPy arrays for
//! vectors, and the small argument types (metrics, index kinds, vector column specs).

use std::sync::Arc;

use ailake::{IndexChoice, Metric, VectorSpec};
use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_pyarrow::{FromPyArrow, IntoPyArrow};
use arrow_schema::{DataType, Schema};
use numpy::{PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::invalid;

/// `obj` as a `pyarrow.Table` when it is a pandas DataFrame or a dict of columns; anything
/// else is returned as it is.
fn arrow_input<'py>(py: Python<'py>, obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let module: String = obj.get_type().getattr("__module__")?.extract()?;
    let pa = py.import("pyarrow")?;
    if module.starts_with("pandas") && obj.hasattr("to_numpy")? {
        let kwargs = PyDict::new(py);
        kwargs.set_item("preserve_index", false)?;
        return pa.getattr("Table")?.call_method("from_pandas", (obj,), Some(&kwargs));
    }
    if obj.is_instance_of::<PyDict>() {
        return pa.call_method1("table", (obj,));
    }
    Ok(obj.clone())
}

/// The rows of `data` — a `pyarrow.Table` or `RecordBatch`, a pandas DataFrame, a dict of
/// columns, or anything exporting an Arrow stream or array (`__arrow_c_stream__` /
/// `__arrow_c_array__`, e.g. polars) — as one record batch. Columns are not copied unless the
/// input is in several chunks.
pub fn record_batch(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    let data = arrow_input(py, data)?;
    if data.hasattr("__arrow_c_stream__")? {
        let table = arrow_pyarrow::Table::from_pyarrow_bound(&data)?;
        let (batches, schema) = table.into_inner();
        return match batches.len() {
            1 => Ok(batches.into_iter().next().expect("one batch")),
            _ => arrow_select::concat::concat_batches(&schema, &batches)
                .map_err(|e| invalid(py, format!("the data's chunks do not concatenate: {e}"))),
        };
    }
    if data.hasattr("__arrow_c_array__")? {
        return RecordBatch::from_pyarrow_bound(&data);
    }
    Err(invalid(
        py,
        format!(
            "data of type {} is not tabular: pass a pyarrow Table or RecordBatch, a pandas DataFrame or a dict of columns",
            data.get_type().name()?
        ),
    ))
}

/// `batch` as a `pyarrow.Table`.
pub fn to_pyarrow_table(py: Python<'_>, batch: RecordBatch) -> PyResult<Py<PyAny>> {
    let schema = batch.schema();
    let table = arrow_pyarrow::Table::try_new(vec![batch], schema).map_err(|e| invalid(py, e.to_string()))?;
    Ok(table.into_pyarrow(py)?.unbind())
}

/// A float32, C-contiguous, 2-D view of `obj` (a NumPy array, a list of lists, ...): no copy
/// when `obj` already is one.
pub fn matrix<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<PyReadonlyArray2<'py, f32>> {
    let np = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float32")?)?;
    let array = np
        .call_method("ascontiguousarray", (obj,), Some(&kwargs))
        .map_err(|e| invalid(py, format!("{what}: not a numeric array: {e}")))?;
    let ndim: usize = array.getattr("ndim")?.extract()?;
    let array = match ndim {
        2 => array,
        1 => array.call_method1("reshape", ((1_usize, -1_isize),))?,
        n => return Err(invalid(py, format!("{what}: expected a 1-D or 2-D array, got {n} dimensions"))),
    };
    let array = array.cast_into::<numpy::PyArray2<f32>>().map_err(|e| invalid(py, format!("{what}: {e}")))?;
    Ok(array.readonly())
}

/// One query vector (a list or a 1-D array of numbers).
pub fn query_vector(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Vec<f32>> {
    let m = matrix(py, obj, "query")?;
    let shape = m.shape();
    if shape[0] != 1 {
        return Err(invalid(
            py,
            format!("query: expected one vector, got a {}×{} matrix (use search_batch)", shape[0], shape[1]),
        ));
    }
    Ok(m.as_slice()?.to_vec())
}

/// Query vectors, one per row of a 2-D array (or list of lists).
pub fn query_rows(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<f32>>> {
    let m = matrix(py, obj, "queries")?;
    let dim = m.shape()[1].max(1);
    Ok(m.as_slice()?.chunks_exact(dim).map(<[f32]>::to_vec).collect())
}

/// `cosine`, `l2` or `ip`.
pub fn metric(py: Python<'_>, name: &str) -> PyResult<Metric> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "cosine" | "cos" => Metric::Cosine,
        "l2" | "euclidean" => Metric::L2,
        "ip" | "dot" | "inner_product" => Metric::InnerProduct,
        other => return Err(invalid(py, format!("metric {other:?}: expected 'cosine', 'l2' or 'ip'"))),
    })
}

/// `hnsw`, `ivf_pq`, `auto` or `none`.
pub fn index_choice(py: Python<'_>, name: &str) -> PyResult<IndexChoice> {
    Ok(match name.to_ascii_lowercase().replace('-', "_").as_str() {
        "hnsw" => IndexChoice::Hnsw,
        "ivf_pq" | "ivfpq" => IndexChoice::IvfPq(None),
        "auto" => IndexChoice::Auto,
        "none" | "flat" => IndexChoice::Flat,
        other => {
            return Err(invalid(py, format!("index {other:?}: expected 'hnsw', 'ivf_pq', 'auto' or 'none'")))
        }
    })
}

/// `{"embedding": (384, "cosine"), "title_vec": 128}` (metric defaults to cosine), primary
/// first in the dict's order.
pub fn vector_specs(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Vec<VectorSpec>> {
    let dict = obj
        .cast::<PyDict>()
        .map_err(|_| invalid(py, "vector_columns: expected a dict {name: (dim, metric)}"))?;
    if dict.is_empty() {
        return Err(invalid(py, "vector_columns: a table needs at least one vector column"));
    }
    let mut specs = Vec::with_capacity(dict.len());
    for (name, value) in dict.iter() {
        let name: String =
            name.extract().map_err(|_| invalid(py, "vector_columns: names must be strings"))?;
        let (dim, metric_name): (i64, String) = if let Ok(dim) = value.extract::<i64>() {
            (dim, "cosine".into())
        } else {
            value.extract().map_err(|_| {
                invalid(py, format!("vector_columns[{name:?}]: expected a dimension or a (dim, metric) pair"))
            })?
        };
        let dim = u32::try_from(dim).ok().filter(|&d| d > 0).ok_or_else(|| {
            invalid(py, format!("vector_columns[{name:?}]: dimension {dim} is not positive"))
        })?;
        specs.push(VectorSpec::new(name, dim, metric(py, &metric_name)?));
    }
    Ok(specs)
}

/// The attribute schema of a new table: `schema` (a `pyarrow.Schema`, or a table/batch whose
/// schema is taken) without the vector columns, which must be lists of floats when present.
pub fn attribute_schema(py: Python<'_>, schema: &Bound<'_, PyAny>, specs: &[VectorSpec]) -> PyResult<Schema> {
    let schema = if schema.hasattr("schema")? && !schema.is_instance_of::<PyString>() {
        schema.getattr("schema")?
    } else {
        schema.clone()
    };
    let schema = Schema::from_pyarrow_bound(&schema)
        .map_err(|e| invalid(py, format!("schema: expected a pyarrow.Schema: {e}")))?;
    let mut fields = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        if specs.iter().any(|s| &s.name == f.name()) {
            let floats = match f.data_type() {
                DataType::FixedSizeList(e, _) | DataType::List(e) | DataType::LargeList(e) => {
                    e.data_type().is_floating()
                }
                _ => false,
            };
            if !floats {
                return Err(invalid(
                    py,
                    format!(
                        "schema: vector column {} is {}, expected a list of floats",
                        f.name(),
                        f.data_type()
                    ),
                ));
            }
            continue;
        }
        fields.push(Arc::new(f.as_ref().clone().with_metadata(Default::default())));
    }
    Ok(Schema::new(fields))
}

/// Whether a column of type `from` is cast to the table's `to` on the way in: between
/// integer widths (checked: a value that does not fit is an error) and from integers or
/// doubles to floats — the types Python and pandas give numbers by default.
fn numeric_widening(from: &DataType, to: &DataType) -> bool {
    (from.is_integer() && (to.is_integer() || to.is_floating())) || (from.is_floating() && to.is_floating())
}

/// `batch` with its numeric columns cast to the table's types where they differ
/// (`numeric_widening`); other columns are left for the writer to check.
pub fn conform(py: Python<'_>, batch: RecordBatch, table: &Schema) -> PyResult<RecordBatch> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    let mut changed = false;
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let target = table.field_with_name(field.name()).ok().map(|f| f.data_type());
        match target {
            Some(to) if to != field.data_type() && numeric_widening(field.data_type(), to) => {
                let options = arrow_cast::CastOptions { safe: false, ..Default::default() };
                let cast = arrow_cast::cast_with_options(column, to, &options).map_err(|e| {
                    invalid(
                        py,
                        format!(
                            "column {}: its {} values do not fit the table's {to}: {e}",
                            field.name(),
                            field.data_type()
                        ),
                    )
                })?;
                fields.push(Arc::new(field.as_ref().clone().with_data_type(to.clone())));
                columns.push(cast);
                changed = true;
            }
            _ => {
                fields.push(field.clone());
                columns.push(column.clone());
            }
        }
    }
    if !changed {
        return Ok(batch);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), columns, &options)
        .map_err(|e| invalid(py, e.to_string()))
}

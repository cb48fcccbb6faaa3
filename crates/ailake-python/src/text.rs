//! Full-text and hybrid search from Python (issue 33): `Table.search(text=...)` alone is a
//! BM25 search of a text column; with a `query` vector too, a hybrid search fused by
//! reciprocal rank (`fusion="rrf"`, `rrf_k`) or by weighted scores (`fusion="weighted"`,
//! `weights=(vector, text)`). `create_table(text_columns=...)` names the indexed columns.

use ailake::{Fusion, HybridParams, TextAnalyzer, TextSpec};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::invalid;

/// How a hybrid search fuses its lists, from `Table.search`'s keyword arguments.
pub(crate) fn hybrid_params(
    py: Python<'_>,
    fusion: &str,
    rrf_k: f32,
    weights: Option<(f32, f32)>,
    depth: Option<usize>,
) -> PyResult<HybridParams> {
    if depth == Some(0) {
        return Err(invalid(py, "depth must be at least 1"));
    }
    let fusion = match fusion {
        "rrf" => {
            if !(rrf_k.is_finite() && rrf_k >= 0.0) {
                return Err(invalid(py, format!("rrf_k must be finite and ≥ 0, got {rrf_k}")));
            }
            Fusion::Rrf { k0: rrf_k }
        }
        "weighted" => {
            let (vector, text) = weights.unwrap_or((0.5, 0.5));
            if !(vector.is_finite() && text.is_finite()) {
                return Err(invalid(py, "weights must be finite"));
            }
            Fusion::Weighted { vector, text }
        }
        other => return Err(invalid(py, format!("fusion must be 'rrf' or 'weighted', got {other:?}"))),
    };
    Ok(HybridParams { fusion, depth })
}

/// `text_columns` of `create_table`: a list of column names (the `simple` analyzer) or a dict
/// of column name → analyzer (`simple`, `english`).
pub(crate) fn text_specs(py: Python<'_>, text_columns: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<TextSpec>> {
    let Some(columns) = text_columns else { return Ok(Vec::new()) };
    if let Ok(d) = columns.cast::<PyDict>() {
        return d
            .iter()
            .map(|(name, analyzer)| {
                Ok(TextSpec::new(name.extract::<String>()?).with_analyzer(analyzer.extract::<String>()?))
            })
            .collect();
    }
    if columns.is_instance_of::<pyo3::types::PyString>() {
        return Err(invalid(py, "text_columns is a list of column names or a dict of name → analyzer"));
    }
    columns
        .try_iter()?
        .map(|name| Ok(TextSpec::new(name?.extract::<String>()?)))
        .collect::<PyResult<Vec<_>>>()
        .map_err(|_: PyErr| {
            invalid(py, "text_columns is a list of column names or a dict of name → analyzer")
        })
}

/// The terms `analyzer` (`simple` or `english`) makes of `text`, in order: what a text index
/// holds for a document and what a query is matched by.
#[pyfunction]
#[pyo3(signature = (text, analyzer = "simple"))]
pub(crate) fn analyze(py: Python<'_>, text: &str, analyzer: &str) -> PyResult<Vec<String>> {
    let analyzer = TextAnalyzer::named(analyzer).map_err(|e| invalid(py, e.to_string()))?;
    Ok(analyzer.terms(text))
}

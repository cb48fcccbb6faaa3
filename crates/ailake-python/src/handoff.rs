//! Files written in one process and committed in another: [`PyWrittenFile`] (a staged file
//! as a picklable value), [`PyWriteLease`] (what keeps workers' files from vacuum until the
//! driver commits), and the `Table.write_files` / `Table.commit_files` bodies.

use std::sync::{Arc, Mutex};

use ailake::prelude::*;
use ailake::sync::lock;
use ailake::IndexKind;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::IntoPyResult;
use crate::runtime::block_on;

/// A data file written and not yet committed, handed over to be committed elsewhere with
/// `Table.commit_files`. Pickles (and `to_json()`s) to a few hundred bytes: the file stays in
/// the warehouse, the value only names it. Checked against the file at commit.
#[pyclass(name = "WrittenFile", module = "ailake", frozen, eq, skip_from_py_object)]
#[derive(Clone, PartialEq)]
pub struct PyWrittenFile {
    pub file: StagedFile,
}

/// `"hnsw"`, `"ivf_pq"` or `"none"`.
pub fn index_name(kind: IndexKind) -> &'static str {
    match kind {
        IndexKind::Flat => "none",
        IndexKind::Hnsw => "hnsw",
        IndexKind::IvfPq => "ivf_pq",
    }
}

#[pymethods]
impl PyWrittenFile {
    /// The file's URI.
    #[getter]
    fn path(&self) -> &str {
        self.file.path()
    }

    /// Rows in the file.
    #[getter]
    fn rows(&self) -> u64 {
        self.file.rows()
    }

    /// `"hnsw"`, `"ivf_pq"` or `"none"`.
    #[getter]
    fn index(&self) -> &'static str {
        index_name(self.file.index())
    }

    /// Whether the index is in the file (`False` only when a deferred build failed).
    #[getter]
    fn indexed(&self) -> bool {
        self.file.indexed()
    }

    /// The write's exactly-once tag, if any.
    #[getter]
    fn batch_id(&self) -> Option<&str> {
        self.file.batch_id.as_deref()
    }

    /// The value as JSON text.
    fn to_json(&self) -> String {
        self.file.to_json()
    }

    /// Parses `to_json()`'s text (`InvalidInputError` for anything else).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        Ok(Self { file: StagedFile::from_json(text).py(py)? })
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let from_json = py.import("ailake._native")?.getattr("WrittenFile")?.getattr("from_json")?;
        Ok((from_json, PyTuple::new(py, [self.file.to_json()])?))
    }

    fn __repr__(&self) -> String {
        format!(
            "ailake.WrittenFile({:?}, rows={}, index={:?}, batch_id={:?})",
            self.file.path(),
            self.file.rows(),
            self.index(),
            self.file.batch_id
        )
    }
}

/// The table's write lease: while held (and for `LEASE_TTL` after a crash), vacuum keeps every
/// uncommitted file of the table written since it was taken. Take it in the driver before
/// workers write; release it (or leave the `with` block) after `commit_files`.
#[pyclass(name = "WriteLease", module = "ailake", frozen)]
pub struct PyWriteLease {
    lease: Mutex<Option<Arc<ailake::WriteLease>>>,
}

impl PyWriteLease {
    /// Takes `table`'s lease.
    pub fn take(py: Python<'_>, table: &Table) -> PyResult<Self> {
        let table = table.clone();
        let lease = block_on(py, async move { table.lease().await }).py(py)?;
        Ok(Self { lease: Mutex::new(Some(lease)) })
    }
}

#[pymethods]
impl PyWriteLease {
    /// Ends the lease now (a second call does nothing).
    fn release(&self, py: Python<'_>) {
        if let Some(lease) = lock(&self.lease).take() {
            block_on(py, ailake::release_lease(lease));
        }
    }

    /// Whether the lease is still held.
    #[getter]
    fn held(&self) -> bool {
        lock(&self.lease).is_some()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> bool {
        self.release(py);
        false
    }
}

/// Hands over what `writer` staged, as Python values.
pub fn take_staged(py: Python<'_>, writer: TableWriter) -> PyResult<Vec<PyWrittenFile>> {
    let files = block_on(py, async move { writer.take_staged().await }).py(py)?;
    Ok(files.into_iter().map(|file| PyWrittenFile { file }).collect())
}

/// Commits `files` to `table`; the outcome as a dict.
pub fn commit_files<'py>(
    py: Python<'py>,
    table: &Table,
    files: Vec<PyRef<'py, PyWrittenFile>>,
    batch_id: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let files: Vec<StagedFile> = files.iter().map(|f| f.file.clone()).collect();
    let table = table.clone();
    let out = block_on(py, async move { table.commit_files(&files, batch_id.as_deref()).await }).py(py)?;
    let d = PyDict::new(py);
    d.set_item("snapshot_id", out.snapshot_id)?;
    d.set_item("committed", out.committed)?;
    d.set_item("files", out.files)?;
    d.set_item("rows", out.rows)?;
    d.set_item("skipped", out.skipped)?;
    Ok(d)
}

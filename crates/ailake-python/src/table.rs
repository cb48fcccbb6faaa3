//! [`PyTable`]: one ailake table — write, commit, search, delete, compact, history.

use std::sync::{Arc, Mutex, MutexGuard};

use ailake::prelude::*;
use ailake::sync::lock;
use ailake::{SessionCache, WrittenFile};
use arrow_array::{ArrayRef, Int32Array, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Field, Schema};
use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::catalog::PyCatalog;
use crate::convert::{
    conform, index_choice, matrix, query_rows, query_vector, record_batch, to_pyarrow_table,
};
use crate::errors::{invalid, IntoPyResult};
use crate::handoff::{self, PyWriteLease, PyWrittenFile};
use crate::runtime::block_on;

/// Search sessions kept per table handle (its current snapshot and time travel).
const SESSIONS_KEPT: usize = 8;

/// What a table handle holds between calls.
struct State {
    /// The table version searches read (moved forward by this handle's own commits and by
    /// `refresh()`).
    table: Table,
    /// Stages writes until `commit()`; made on first write and kept, so `wait_indexed()`
    /// waits for every background build this handle started.
    writer: Option<TableWriter>,
}

/// A table of the catalog: writes are staged until `commit()`, searches read the handle's
/// snapshot (its own commits move it forward; `refresh()` picks up other writers').
#[pyclass(name = "Table", module = "ailake", frozen)]
pub struct PyTable {
    state: Mutex<State>,
    /// The catalog and name it was loaded by (what a pickled handle reloads from).
    origin: Option<(Py<PyCatalog>, String)>,
    /// Search sessions by snapshot, made on first search of each.
    sessions: SessionCache,
}

impl PyTable {
    pub fn new(table: Table) -> Self {
        Self {
            state: Mutex::new(State { table, writer: None }),
            origin: None,
            sessions: SessionCache::new(SESSIONS_KEPT),
        }
    }

    /// The handle, pickling as `catalog.load_table(name)`.
    pub fn with_origin(self, catalog: Py<PyCatalog>, name: &str) -> Self {
        Self { origin: Some((catalog, name.to_string())), ..self }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn table(&self) -> Table {
        self.state().table.clone()
    }

    /// Moves the handle to `table` (a newer version) unless it already is newer.
    fn advance(&self, table: Table) {
        let mut state = self.state();
        if state.table.metadata_location() != table.metadata_location() {
            state.table = table;
        }
    }

    /// Re-reads the table from the catalog.
    fn reload(&self, py: Python<'_>) -> PyResult<()> {
        let table = self.table();
        let fresh = block_on(py, async move { table.refresh().await }).py(py)?;
        self.advance(fresh);
        Ok(())
    }

    /// `data` as a record batch of the table's column types.
    fn input_batch(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
        let batch = record_batch(py, data)?;
        let table = self.table();
        let schema = table.file_schema().py(py)?;
        conform(py, batch, &schema)
    }

    fn writer(&self, py: Python<'_>) -> PyResult<TableWriter> {
        let mut state = self.state();
        if let Some(w) = &state.writer {
            return Ok(w.clone());
        }
        let writer = state.table.writer(WritePolicy::default()).py(py)?;
        state.writer = Some(writer.clone());
        Ok(writer)
    }

    /// A write through `writer` (the body of `write` and `write_files`).
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    fn write_with(
        &self,
        py: Python<'_>,
        writer: TableWriter,
        data: Option<&Bound<'_, PyAny>>,
        vectors: Option<&Bound<'_, PyAny>>,
        index: &str,
        deferred: bool,
        batch_id: Option<String>,
    ) -> PyResult<Option<WrittenFile>> {
        let mut opts = WriteOptions::default().index(index_choice(py, index)?);
        opts.deferred = deferred;
        opts.batch_id = batch_id;
        let outcome = match vectors {
            None => {
                let data = data.ok_or_else(|| invalid(py, "write: give data (and optionally vectors)"))?;
                let batch = self.input_batch(py, data)?;
                block_on(py, async move { writer.write(&batch, &opts).await }).py(py)?
            }
            Some(vectors) => {
                let primary = writer.vector_columns()[0].name.clone();
                let arrays = vector_arrays(py, vectors, &primary)?;
                if arrays.is_empty() {
                    return Err(invalid(py, "vectors: an empty dict"));
                }
                let rows = arrays[0].1.shape()[0];
                let batch = match data {
                    Some(d) => self.input_batch(py, d)?,
                    None => RecordBatch::try_new_with_options(
                        Arc::new(Schema::empty()),
                        vec![],
                        &RecordBatchOptions::new().with_row_count(Some(rows)),
                    )
                    .map_err(|e| invalid(py, e.to_string()))?,
                };
                for (name, a) in &arrays {
                    if a.shape()[0] != batch.num_rows() {
                        return Err(invalid(
                            py,
                            format!(
                                "vectors[{name:?}] has {} rows, the data {}",
                                a.shape()[0],
                                batch.num_rows()
                            ),
                        ));
                    }
                }
                let slices: Vec<(&str, &[f32])> =
                    arrays.iter().map(|(n, a)| Ok((n.as_str(), a.as_slice()?))).collect::<PyResult<_>>()?;
                block_on(py, async move { writer.write_flat(&batch, &slices, &opts).await }).py(py)?
            }
        };
        Ok(outcome)
    }

    /// The search session for the handle's snapshot, or for `snapshot`.
    fn session(&self, py: Python<'_>, snapshot: Option<i64>) -> PyResult<Arc<SearchSession>> {
        let table = self.table();
        let at = match snapshot {
            None => table,
            Some(id) => table.at_snapshot(id).py(py)?,
        };
        let sessions = &self.sessions;
        block_on(py, async move { sessions.session(&at).await }).py(py)
    }
}

/// The speed/recall knobs of a search call.
struct Knobs {
    ef: Option<usize>,
    nprobe: Option<usize>,
    probes: Option<usize>,
    blocks: Option<bool>,
}

/// Search keyword arguments as [`SearchParams`].
fn params(
    py: Python<'_>,
    filter: Option<&str>,
    columns: Option<Vec<String>>,
    knobs: Knobs,
    vector_column: Option<String>,
) -> PyResult<SearchParams> {
    let defaults = SearchParams::default();
    if knobs.ef == Some(0) || knobs.nprobe == Some(0) || knobs.probes == Some(0) {
        return Err(invalid(py, "ef, nprobe and probes must be at least 1"));
    }
    Ok(SearchParams {
        column: vector_column,
        ef: knobs.ef,
        nprobe: knobs.nprobe.unwrap_or(defaults.nprobe),
        partition_probes: knobs.probes,
        partition_blocks: knobs.blocks.unwrap_or(defaults.partition_blocks),
        projection: columns,
        filter: filter.map(Filter::parse).transpose().py(py)?,
        ..defaults
    })
}

fn check_k(py: Python<'_>, k: i64) -> PyResult<usize> {
    usize::try_from(k)
        .ok()
        .filter(|&k| k > 0)
        .ok_or_else(|| invalid(py, format!("k must be at least 1, got {k}")))
}

fn written(py: Python<'_>, f: &WrittenFile) -> PyResult<Py<PyDict>> {
    let d = PyDict::new(py);
    d.set_item("path", &f.path)?;
    d.set_item("rows", f.rows)?;
    d.set_item("index", handoff::index_name(f.index))?;
    d.set_item("indexed", f.indexed)?;
    Ok(d.unbind())
}

/// The vectors given beside the data: one array (the primary column) or `{column: array}`.
fn vector_arrays<'py>(
    py: Python<'py>,
    vectors: &Bound<'py, PyAny>,
    primary: &str,
) -> PyResult<Vec<(String, PyReadonlyArray2<'py, f32>)>> {
    if let Ok(d) = vectors.cast::<PyDict>() {
        d.iter()
            .map(|(name, array)| {
                let name: String =
                    name.extract().map_err(|_| invalid(py, "vectors: column names must be strings"))?;
                let m = matrix(py, &array, &format!("vectors[{name:?}]"))?;
                Ok((name, m))
            })
            .collect()
    } else {
        Ok(vec![(primary.to_string(), matrix(py, vectors, "vectors")?)])
    }
}

#[pymethods]
impl PyTable {
    /// `namespace.name`.
    #[getter]
    fn name(&self) -> String {
        self.state().table.ident().to_string()
    }

    /// The snapshot this handle reads (`None` before the first commit).
    #[getter]
    fn snapshot_id(&self) -> Option<i64> {
        self.state().table.snapshot_id()
    }

    /// The table's location in the warehouse.
    #[getter]
    fn location(&self) -> String {
        self.state().table.location().to_string()
    }

    /// The metadata file of this version (pyiceberg's `StaticTable`, DuckDB's `iceberg_scan`).
    #[getter]
    fn metadata_location(&self) -> String {
        self.state().table.metadata_location().to_string()
    }

    /// `{name: (dim, metric)}` of the vector columns, primary first (dicts keep order).
    #[getter]
    fn vector_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let specs = self.state().table.vector_columns().py(py)?;
        let d = PyDict::new(py);
        for s in specs {
            d.set_item(s.name, (s.dim, s.metric.name()))?;
        }
        Ok(d)
    }

    /// Re-reads the table: searches then see other writers' commits. Returns the table.
    fn refresh(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().reload(slf.py())?;
        Ok(slf)
    }

    /// Writes `data` as one new data file, staged until `commit()`.
    ///
    /// `data` holds the attribute columns and the vector columns as lists of floats (a
    /// `pyarrow.Table`/`RecordBatch`, a pandas DataFrame, a dict of columns); or give the
    /// vectors apart as `vectors` (a 2-D float array for the primary column, or
    /// `{column: array}`), read without a copy when they are C-contiguous float32.
    /// `index`: `"hnsw"`, `"ivf_pq"`, `"auto"` or `"none"`. `deferred`: store the rows now and
    /// build the index in the background (searched exactly until it lands). `batch_id`:
    /// exactly-once tag; a batch id the table already holds makes this a no-op returning
    /// `None`. Returns `{"path", "rows", "index", "indexed"}`.
    #[pyo3(signature = (data = None, vectors = None, index = "hnsw", deferred = false, batch_id = None))]
    fn write(
        &self,
        py: Python<'_>,
        data: Option<&Bound<'_, PyAny>>,
        vectors: Option<&Bound<'_, PyAny>>,
        index: &str,
        deferred: bool,
        batch_id: Option<String>,
    ) -> PyResult<Option<Py<PyDict>>> {
        let writer = self.writer(py)?;
        let outcome = self.write_with(py, writer, data, vectors, index, deferred, batch_id)?;
        outcome.as_ref().map(|f| written(py, f)).transpose()
    }

    /// Writes like `write()` (one indexed file), but hands the file over instead of staging
    /// it for this handle's `commit()`: returns `[WrittenFile]` (empty when `batch_id` is
    /// already committed) to pass — pickled to another process if need be — to
    /// `commit_files`. This is what distributed writers (Ray tasks) call.
    #[pyo3(signature = (data = None, vectors = None, index = "hnsw", batch_id = None))]
    fn write_files(
        &self,
        py: Python<'_>,
        data: Option<&Bound<'_, PyAny>>,
        vectors: Option<&Bound<'_, PyAny>>,
        index: &str,
        batch_id: Option<String>,
    ) -> PyResult<Vec<PyWrittenFile>> {
        let table = self.table();
        let fresh = block_on(py, async move { table.refresh().await }).py(py)?;
        let writer = fresh.writer(WritePolicy::default()).py(py)?;
        self.write_with(py, writer.clone(), data, vectors, index, false, batch_id)?;
        handoff::take_staged(py, writer)
    }

    /// Commits `files` (from `write_files`, in any process) as one snapshot and moves the
    /// handle to it. With `batch_id`, exactly once: an id already committed makes it a no-op.
    /// Files whose own batch id is committed are skipped. Returns `{"snapshot_id",
    /// "committed", "files", "rows", "skipped"}`; refuses (`InvalidInputError`, nothing
    /// committed) files of another table, given twice, already live, missing or altered.
    #[pyo3(signature = (files, batch_id = None))]
    fn commit_files<'py>(
        &self,
        py: Python<'py>,
        files: Vec<PyRef<'py, PyWrittenFile>>,
        batch_id: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let out = handoff::commit_files(py, &self.table(), files, batch_id)?;
        self.reload(py)?;
        Ok(out)
    }

    /// The table's write lease (`with table.write_lease(): ...`): while held, vacuum keeps
    /// every uncommitted file written since — hold it in the driver from before the workers
    /// write until `commit_files`.
    fn write_lease(&self, py: Python<'_>) -> PyResult<PyWriteLease> {
        PyWriteLease::take(py, &self.table())
    }

    /// Pickles as `catalog.load_table(name)`: the unpickled handle is at the table's current
    /// snapshot then. Handles not loaded through a catalog do not pickle.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let Some((catalog, name)) = &self.origin else {
            return Err(invalid(py, "this table handle was not loaded from a catalog; it cannot be pickled"));
        };
        Ok((catalog.bind(py).getattr("load_table")?, (name.clone(),)))
    }
    /// Commits every staged write as one snapshot and moves the handle to it; returns the
    /// snapshot id (the current one when nothing was staged).
    fn commit(&self, py: Python<'_>) -> PyResult<i64> {
        let writer = self.state().writer.clone();
        let Some(writer) = writer else {
            return Ok(self.snapshot_id().unwrap_or(0));
        };
        let id = block_on(py, async move { writer.commit().await }).py(py)?;
        self.reload(py)?;
        Ok(id)
    }

    /// Waits for the background index builds of this handle's deferred writes (each lands
    /// as its own commit), then moves the handle to the newest snapshot.
    fn wait_indexed(&self, py: Python<'_>) -> PyResult<()> {
        let writer = self.state().writer.clone();
        if let Some(writer) = writer {
            block_on(py, async move { writer.wait_indexed().await }).py(py)?;
        }
        self.reload(py)
    }

    /// The `k` rows nearest to `query` as a `pyarrow.Table`: the `columns` asked for (default
    /// every attribute column) and `_distance`, nearest first (squared Euclidean for `l2`,
    /// 1 − cosine for `cosine`, −inner product for `ip`). `filter` is a SQL-like
    /// predicate (`"lang = 'en' AND year >= 2020"`); `ef` / `nprobe` / `probes` (table
    /// partitions probed) trade speed for recall; `blocks=False` searches clustered files
    /// whole instead of through their partition blocks; `snapshot` searches an older snapshot;
    /// `vector_column` a non-primary vector column.
    ///
    /// With `text` (terms, `"phrases"`, `AND` / `OR`) and no `query`: the `k` best BM25
    /// matches in `text_column` (default the first text-indexed column) with `_score`. With
    /// both: a hybrid search, each list `depth` deep (default `max(4k, 40)`), fused by
    /// reciprocal rank (`fusion="rrf"`, `rrf_k`) or weighted scores (`fusion="weighted"`,
    /// `weights=(vector, text)`), with `_score`.
    #[pyo3(signature = (query = None, k = 10, filter = None, columns = None, ef = None, nprobe = None, snapshot = None, vector_column = None, probes = None, blocks = None, *, text = None, text_column = None, fusion = "rrf", rrf_k = 60.0, weights = None, depth = None))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        query: Option<&Bound<'_, PyAny>>,
        k: i64,
        filter: Option<&str>,
        columns: Option<Vec<String>>,
        ef: Option<usize>,
        nprobe: Option<usize>,
        snapshot: Option<i64>,
        vector_column: Option<String>,
        probes: Option<usize>,
        blocks: Option<bool>,
        text: Option<String>,
        text_column: Option<String>,
        fusion: &str,
        rrf_k: f32,
        weights: Option<(f32, f32)>,
        depth: Option<usize>,
    ) -> PyResult<Py<PyAny>> {
        let k = check_k(py, k)?;
        let query = query.filter(|q| !q.is_none()).map(|q| query_vector(py, q)).transpose()?;
        let mut params = params(py, filter, columns, Knobs { ef, nprobe, probes, blocks }, vector_column)?;
        params.text_column = text_column;
        let hybrid = crate::text::hybrid_params(py, fusion, rrf_k, weights, depth)?;
        let session = self.session(py, snapshot)?;
        let hits = match (query, text) {
            (Some(query), None) => block_on(py, async move { session.search(&query, k, &params).await }),
            (None, Some(text)) => block_on(py, async move { session.text_search(&text, k, &params).await }),
            (Some(query), Some(text)) => {
                block_on(py, async move { session.hybrid_search(&query, &text, k, &params, &hybrid).await })
            }
            (None, None) => return Err(invalid(py, "search needs a query vector, a text, or both")),
        }
        .py(py)?;
        to_pyarrow_table(py, hits)
    }

    /// [`search`] for each row of `queries` (a 2-D array), run in parallel: one
    /// `pyarrow.Table` with a leading `query_index` column (the query's row).
    #[pyo3(signature = (queries, k = 10, filter = None, columns = None, ef = None, nprobe = None, snapshot = None, vector_column = None, probes = None, blocks = None))]
    #[allow(clippy::too_many_arguments)]
    fn search_batch(
        &self,
        py: Python<'_>,
        queries: &Bound<'_, PyAny>,
        k: i64,
        filter: Option<&str>,
        columns: Option<Vec<String>>,
        ef: Option<usize>,
        nprobe: Option<usize>,
        snapshot: Option<i64>,
        vector_column: Option<String>,
        probes: Option<usize>,
        blocks: Option<bool>,
    ) -> PyResult<Py<PyAny>> {
        let k = check_k(py, k)?;
        let queries = query_rows(py, queries)?;
        let params = params(py, filter, columns, Knobs { ef, nprobe, probes, blocks }, vector_column)?;
        let session = self.session(py, snapshot)?;
        let results = block_on(py, async move { session.search_batch(&queries, k, &params).await }).py(py)?;
        let batch = with_query_index(results).map_err(|e| invalid(py, e.to_string()))?;
        to_pyarrow_table(py, batch)
    }

    /// Live rows of the handle's snapshot (or of `snapshot`).
    #[pyo3(signature = (snapshot = None))]
    fn count_rows(&self, py: Python<'_>, snapshot: Option<i64>) -> PyResult<u64> {
        Ok(self.session(py, snapshot)?.row_count())
    }

    /// The table's snapshots, oldest first: `snapshot_id`, `parent_id`, `timestamp_ms`,
    /// `operation`, `summary` (Iceberg's summary properties) and `current`.
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let table = self.table();
        let mut snapshots: Vec<_> = table.metadata().snapshots().collect();
        snapshots.sort_by_key(|s| (s.timestamp_ms(), s.sequence_number()));
        snapshots
            .into_iter()
            .map(|s| {
                let d = PyDict::new(py);
                d.set_item("snapshot_id", s.snapshot_id())?;
                d.set_item("parent_id", s.parent_snapshot_id())?;
                d.set_item("timestamp_ms", s.timestamp_ms())?;
                d.set_item("operation", s.summary().operation.as_str())?;
                d.set_item("summary", s.summary().additional_properties.clone())?;
                d.set_item("current", table.snapshot_id() == Some(s.snapshot_id()))?;
                Ok(d)
            })
            .collect()
    }

    /// Deletes the rows matching `filter` in one commit (Iceberg v2 position deletes) and
    /// moves the handle to it: `{"snapshot_id", "rows_deleted", "files_removed",
    /// "delete_files"}` (`snapshot_id` is `None` when no row matched).
    fn delete<'py>(&self, py: Python<'py>, filter: &str) -> PyResult<Bound<'py, PyDict>> {
        let filter = Filter::parse(filter).py(py)?;
        let table = self.table();
        let out = block_on(py, async move { table.refresh().await?.delete(&filter).await }).py(py)?;
        self.reload(py)?;
        let d = PyDict::new(py);
        d.set_item("snapshot_id", out.snapshot_id)?;
        d.set_item("rows_deleted", out.rows_deleted)?;
        d.set_item("files_removed", out.files_removed)?;
        d.set_item("delete_files", out.delete_files)?;
        Ok(d)
    }

    /// Rewrites small, unclustered or delete-carrying files into files of about
    /// `target_rows` rows clustered by the table's partitions, in one commit, and moves the
    /// handle to it: `{"snapshot_id", "files_removed", "files_added", "rows",
    /// "deleted_rows_purged"}`. Rows beyond `memory_bytes` (default 1 GiB) are compacted in
    /// passes, spilling to `spill_dir` (default: the system's temporary directory), and a
    /// call cut off mid-way is resumed by the next; `max_rows` caps the rows of one call.
    #[pyo3(signature = (target_rows = None, index = "hnsw", cluster = true, memory_bytes = None, spill_dir = None, max_rows = None))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    fn compact<'py>(
        &self,
        py: Python<'py>,
        target_rows: Option<usize>,
        index: &str,
        cluster: bool,
        memory_bytes: Option<usize>,
        spill_dir: Option<std::path::PathBuf>,
        max_rows: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut opts = CompactOptions {
            index: index_choice(py, index)?,
            cluster,
            spill_dir,
            ..CompactOptions::default()
        };
        for (name, value, slot) in [
            ("target_rows", target_rows, &mut opts.target_rows),
            ("memory_bytes", memory_bytes, &mut opts.memory_bytes),
            ("max_rows", max_rows, &mut opts.max_rows),
        ] {
            match value {
                Some(0) => return Err(invalid(py, format!("{name} must be at least 1"))),
                Some(v) => *slot = v,
                None => {}
            }
        }
        let table = self.table();
        let out = block_on(py, async move { table.refresh().await?.compact(&opts).await }).py(py)?;
        self.reload(py)?;
        let d = PyDict::new(py);
        d.set_item("snapshot_id", out.snapshot_id)?;
        d.set_item("files_removed", out.files_removed)?;
        d.set_item("files_added", out.files_added)?;
        d.set_item("rows", out.rows)?;
        d.set_item("deleted_rows_purged", out.deleted_rows_purged)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let state = self.state();
        format!(
            "ailake.Table({}, snapshot_id={})",
            state.table.ident(),
            state.table.snapshot_id().map_or("None".into(), |s| s.to_string())
        )
    }
}

/// The results of several queries as one batch with a leading `query_index` column.
fn with_query_index(results: Vec<RecordBatch>) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let Some(first) = results.first() else {
        let schema = Schema::new(vec![Field::new("query_index", DataType::Int32, false)]);
        return Ok(RecordBatch::new_empty(Arc::new(schema)));
    };
    let mut fields = vec![Arc::new(Field::new("query_index", DataType::Int32, false))];
    fields.extend(first.schema().fields().iter().cloned());
    let schema = Arc::new(Schema::new(fields));
    let batches = results
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut columns: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(vec![i as i32; b.num_rows()]))];
            columns.extend(b.columns().iter().cloned());
            RecordBatch::try_new(schema.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()?;
    arrow_select::concat::concat_batches(&schema, &batches)
}

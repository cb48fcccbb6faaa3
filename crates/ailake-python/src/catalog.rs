//! `ailake.connect()` and the [`PyCatalog`] it returns.

use std::path::PathBuf;

use ailake::{Catalog, TableIdent};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{attribute_schema, vector_specs};
use crate::errors::{exception, invalid, IntoPyResult};
use crate::runtime::block_on;
use crate::table::PyTable;

/// Where tables are named (a SQLite catalog, pyiceberg's `SqlCatalog` schema) and where their
/// files live (a warehouse directory, or an `s3://` prefix in builds with S3).
#[pyclass(name = "Catalog", module = "ailake", frozen)]
pub struct PyCatalog {
    catalog: Catalog,
    warehouse: String,
    database: PathBuf,
    /// The arguments `connect()` was called with (a pickled catalog reconnects with them).
    args: ConnectArgs,
}

/// `connect()`'s arguments, kept so the catalog (and its tables) pickle: Ray and
/// multiprocessing workers reconnect with them. Secrets travel with the pickle.
#[derive(Clone)]
struct ConnectArgs {
    warehouse: Option<String>,
    catalog: Option<String>,
    name: String,
    storage_options: Vec<(String, String)>,
    token: Option<String>,
    credential: Option<String>,
}

/// A local path from `sqlite:///PATH` or a plain path.
fn catalog_path(py: Python<'_>, catalog: &str) -> PyResult<PathBuf> {
    match catalog.strip_prefix("sqlite://") {
        Some(path) => Ok(PathBuf::from(path)),
        None if catalog.contains("://") => {
            Err(invalid(py, format!("catalog {catalog:?}: expected 'sqlite:///PATH' or a file path")))
        }
        None => Ok(PathBuf::from(catalog)),
    }
}

/// Opens (creating when missing) the catalog and warehouse.
///
/// `warehouse` is a directory (or `file://` URI), or `s3://bucket/prefix` when the package
/// was built with S3; `catalog` is the SQLite file (`sqlite:///PATH` or a path; default
/// `catalog.db` inside a local warehouse, required for an S3 one); `name` is the catalog's
/// name inside it (pyiceberg's `SqlCatalog(name, ...)`); `storage_options` are object store
/// settings for S3 (`endpoint`, `region`, `access_key_id`, `allow_http`, ...).
///
/// `catalog="http(s)://…"` is an Iceberg REST catalog: `token` (bearer) or `credential`
/// (`client_id:secret`, OAuth2) authenticate; `warehouse` defaults to the location the server
/// names.
#[pyfunction]
#[pyo3(signature = (warehouse = None, catalog = None, name = "default", storage_options = None, token = None, credential = None))]
pub fn connect(
    py: Python<'_>,
    warehouse: Option<&str>,
    catalog: Option<&str>,
    name: &str,
    storage_options: Option<&Bound<'_, PyDict>>,
    token: Option<String>,
    credential: Option<String>,
) -> PyResult<PyCatalog> {
    let args = ConnectArgs {
        warehouse: warehouse.map(str::to_string),
        catalog: catalog.map(str::to_string),
        name: name.to_string(),
        storage_options: string_pairs(py, storage_options)?,
        token: token.clone(),
        credential: credential.clone(),
    };
    if let Some(uri) = catalog.filter(|c| c.starts_with("http://") || c.starts_with("https://")) {
        let options = ailake::ConnectOptions {
            warehouse: warehouse.map(str::to_string),
            token: token.map(ailake::Secret::new),
            credential: credential.map(ailake::Secret::new),
            s3_options: string_pairs(py, storage_options)?,
            ..Default::default()
        };
        let catalog = block_on(py, Catalog::connect(uri, options)).py(py)?;
        let warehouse = catalog.warehouse().root().to_string();
        return Ok(PyCatalog { catalog, warehouse, database: PathBuf::from(uri), args });
    }
    if token.is_some() || credential.is_some() {
        return Err(invalid(py, "token and credential apply to REST catalogs (catalog='https://…') only"));
    }
    let warehouse = warehouse.unwrap_or("warehouse");
    let options = string_pairs(py, storage_options)?;
    let local = match warehouse.strip_prefix("file://") {
        Some(rest) => Some(PathBuf::from(rest)),
        None if warehouse.contains("://") => None,
        None => Some(PathBuf::from(warehouse)),
    };
    let database = match (catalog, &local) {
        (Some(c), _) => catalog_path(py, c)?,
        (None, Some(dir)) => dir.join("catalog.db"),
        (None, None) => {
            return Err(invalid(
                py,
                format!("warehouse {warehouse}: an object store warehouse needs a SQLite catalog path (catalog='catalog.db')"),
            ))
        }
    };
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            exception(py, ailake::ErrorKind::Io, format!("creating {}: {e}", parent.display()), true)
        })?;
    }
    let catalog = match &local {
        Some(dir) => {
            if !options.is_empty() {
                return Err(invalid(py, "storage_options apply to object store warehouses only"));
            }
            block_on(py, Catalog::local(&database, name, dir)).py(py)?
        }
        None => object_store_catalog(py, warehouse, &database, name, &options)?,
    };
    Ok(PyCatalog { catalog, warehouse: warehouse.to_string(), database, args })
}

/// `storage_options` as string pairs.
fn string_pairs(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, String)>> {
    match options {
        None => Ok(Vec::new()),
        Some(d) => d
            .iter()
            .map(|(k, v)| Ok((k.extract()?, v.str()?.to_string())))
            .collect::<PyResult<_>>()
            .map_err(|_: PyErr| invalid(py, "storage_options: expected a dict of strings")),
    }
}

#[cfg(feature = "s3")]
fn object_store_catalog(
    py: Python<'_>,
    warehouse: &str,
    database: &std::path::Path,
    name: &str,
    options: &[(String, String)],
) -> PyResult<Catalog> {
    use std::sync::Arc;
    if !warehouse.starts_with("s3://") {
        return Err(invalid(
            py,
            format!("warehouse {warehouse}: expected a directory or s3://bucket/prefix"),
        ));
    }
    let options: Vec<(&str, &str)> = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let store = ailake::Warehouse::s3(warehouse, &options).py(py)?;
    let provider = block_on(py, ailake::SqlCatalog::open(database, name)).py(py)?;
    Ok(Catalog::new(Arc::new(provider), store))
}

#[cfg(not(feature = "s3"))]
fn object_store_catalog(
    py: Python<'_>,
    warehouse: &str,
    _database: &std::path::Path,
    _name: &str,
    _options: &[(String, String)],
) -> PyResult<Catalog> {
    Err(exception(
        py,
        ailake::ErrorKind::Unsupported,
        format!("warehouse {warehouse}: this build of ailake reads local directories only (object stores need the s3 feature)"),
        false,
    ))
}

/// `namespace.name`.
fn ident(py: Python<'_>, name: &str) -> PyResult<TableIdent> {
    TableIdent::parse(name).py(py)
}

#[pymethods]
impl PyCatalog {
    /// Creates table `name` (`namespace.name`) with the attribute columns of `schema` (a
    /// `pyarrow.Schema`; vector columns in it are skipped) and `vector_columns`
    /// (`{"embedding": (384, "cosine")}`, the first is the primary), and full-text indexes on
    /// `text_columns` (string columns: a list of names, or a dict of name → analyzer,
    /// `simple` or `english`). With `exist_ok`, an existing table of that name is loaded
    /// instead.
    #[pyo3(signature = (name, schema, vector_columns, exist_ok = false, text_columns = None))]
    fn create_table(
        slf: &Bound<'_, Self>,
        py: Python<'_>,
        name: &str,
        schema: &Bound<'_, PyAny>,
        vector_columns: &Bound<'_, PyAny>,
        exist_ok: bool,
        text_columns: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTable> {
        let ident = ident(py, name)?;
        let specs = vector_specs(py, vector_columns)?;
        let texts = crate::text::text_specs(py, text_columns)?;
        let schema = attribute_schema(py, schema, &specs)?;
        let catalog = slf.get().catalog.clone();
        let table = block_on(py, async move {
            match catalog.create_table_with_text(&ident, &schema, &specs, &texts).await {
                Err(e) if exist_ok && e.kind() == ailake::ErrorKind::AlreadyExists => {
                    catalog.create_or_load_table(&ident, &schema, &specs).await
                }
                other => other,
            }
        })
        .py(py)?;
        Ok(PyTable::new(table).with_origin(slf.clone().unbind(), name))
    }

    /// Loads table `name` at its current snapshot (`NotFoundError` when there is none).
    fn load_table(slf: &Bound<'_, Self>, py: Python<'_>, name: &str) -> PyResult<PyTable> {
        let ident = ident(py, name)?;
        let catalog = slf.get().catalog.clone();
        let table = block_on(py, async move { catalog.load_table(&ident).await }).py(py)?;
        Ok(PyTable::new(table).with_origin(slf.clone().unbind(), name))
    }

    /// The tables of `namespace`, as `namespace.name` strings.
    fn list_tables(&self, py: Python<'_>, namespace: &str) -> PyResult<Vec<String>> {
        let catalog = self.catalog.clone();
        let namespace = namespace.to_string();
        let tables = block_on(py, async move { catalog.list_tables(&namespace).await }).py(py)?;
        Ok(tables.iter().map(ToString::to_string).collect())
    }

    /// Removes table `name` from the catalog (its files stay in the warehouse).
    fn drop_table(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let ident = ident(py, name)?;
        let catalog = self.catalog.clone();
        block_on(py, async move { catalog.drop_table(&ident).await }).py(py)
    }

    /// The warehouse as given to `connect()`.
    #[getter]
    fn warehouse(&self) -> &str {
        &self.warehouse
    }

    /// The SQLite catalog file (pyiceberg opens it as `sqlite:///<path>`), or the REST
    /// catalog's URL.
    #[getter]
    fn catalog_path(&self) -> String {
        self.database.display().to_string()
    }

    /// Pickles as `connect(...)` with the same arguments (credentials included).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let connect = py.import("ailake._native")?.getattr("connect")?;
        let a = &self.args;
        let options = PyDict::new(py);
        for (k, v) in &a.storage_options {
            options.set_item(k, v)?;
        }
        let options = if a.storage_options.is_empty() { None } else { Some(options) };
        let args = (&a.warehouse, &a.catalog, &a.name, options, &a.token, &a.credential).into_pyobject(py)?;
        Ok((connect, args))
    }

    fn __repr__(&self) -> String {
        format!(
            "ailake.Catalog(warehouse={:?}, catalog={:?})",
            self.warehouse,
            self.database.display().to_string()
        )
    }
}

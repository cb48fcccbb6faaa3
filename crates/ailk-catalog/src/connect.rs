//! [`Catalog::connect`]: one parser for where a lake is — `sqlite:///…/catalog.db` (or a plain
//! path to one), `http(s)://…` (an Iceberg REST catalog), `memory://` — used by every front
//! end.

use std::sync::Arc;

use crate::catalog::Catalog;
use crate::error::{CatalogError, Result};
use crate::memory::MemoryCatalog;
use crate::provider::CatalogProvider;
use crate::rest::{RestCatalog, RestOptions, Secret};
use crate::sql::SqlCatalog;
use crate::storage::Warehouse;

/// What [`Catalog::connect`] needs besides the catalog's address.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Where the tables' files live: a directory, `file:///…` or (with the `s3` feature)
    /// `s3://bucket/prefix`. A SQLite catalog defaults to the database's directory; a REST
    /// catalog to the `warehouse` location its config names. Sent to a REST server as its
    /// `warehouse` parameter too.
    pub warehouse: Option<String>,
    /// The catalog's name inside a SQLite file (pyiceberg's `SqlCatalog(name, …)`); default
    /// `default`.
    pub name: Option<String>,
    /// A REST bearer token.
    pub token: Option<Secret>,
    /// REST OAuth2 client credentials, `client_id:client_secret`.
    pub credential: Option<Secret>,
    /// Where client-credential tokens come from (default `{uri}/v1/oauth/tokens`).
    pub oauth2_server_uri: Option<String>,
    /// Headers sent with every REST request.
    pub headers: Vec<(String, String)>,
    /// Options of an `s3://` warehouse (object_store's names, e.g. `aws_endpoint`).
    pub s3_options: Vec<(String, String)>,
}

impl Catalog {
    /// Opens the catalog at `uri`: `sqlite:///path/catalog.db` or a path (created when
    /// missing), `http://…`/`https://…` (REST; the server is asked for its config first), or
    /// `memory://` (a throwaway catalog and warehouse).
    pub async fn connect(uri: &str, options: ConnectOptions) -> Result<Self> {
        let name = options.name.clone().unwrap_or_else(|| "default".into());
        if uri == "memory://" || uri == "memory:///" {
            return Ok(Self::new(Arc::new(MemoryCatalog::new()), Warehouse::memory()));
        }
        if uri.starts_with("http://") || uri.starts_with("https://") {
            return connect_rest(uri, options).await;
        }
        let path = match uri.strip_prefix("sqlite://") {
            Some(p) => std::path::PathBuf::from(p),
            None if uri.contains("://") => {
                return Err(CatalogError::InvalidInput(format!(
                    "catalog {uri:?}: expected sqlite:///PATH, a path, http(s)://… or memory://"
                )))
            }
            None => std::path::PathBuf::from(uri),
        };
        let provider: Arc<dyn CatalogProvider> = Arc::new(SqlCatalog::open(&path, name).await?);
        let warehouse = match &options.warehouse {
            Some(w) => open_warehouse(w, &options.s3_options)?,
            None => {
                Warehouse::local(path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(".".as_ref()))?
            }
        };
        Ok(Self::new(provider, warehouse))
    }
}

async fn connect_rest(uri: &str, options: ConnectOptions) -> Result<Catalog> {
    let mut rest = RestOptions::new(uri);
    // A location is not a warehouse name: send only names.
    rest.warehouse = options.warehouse.clone().filter(|w| !w.contains("://") && !w.contains('/'));
    rest.token = options.token.clone();
    rest.credential = options.credential.clone();
    rest.oauth2_server_uri = options.oauth2_server_uri.clone();
    rest.headers = options.headers.clone();
    let catalog = RestCatalog::connect(rest).await?;
    let served = catalog.config().get("warehouse").filter(|w| w.contains("://")).cloned();
    let location = match (&options.warehouse, served) {
        (Some(w), served) if w.contains("://") || w.contains('/') => {
            let given = as_uri(w);
            if let Some(served) = served.filter(|s| s.trim_end_matches('/') != given.trim_end_matches('/')) {
                return Err(CatalogError::InvalidInput(format!(
                    "the REST catalog at {uri} keeps its tables in {served}, not {given}: pass its warehouse or none"
                )));
            }
            w.clone()
        }
        (_, Some(served)) => served,
        (_, None) => {
            return Err(CatalogError::InvalidInput(format!(
                "the REST catalog at {uri} names no warehouse location: pass the tables' storage as the warehouse"
            )))
        }
    };
    let mut s3_options = s3_options_from(catalog.config());
    s3_options.extend(options.s3_options.iter().cloned());
    let warehouse = open_warehouse(&location, &s3_options)?;
    Ok(Catalog::new(Arc::new(catalog), warehouse))
}

/// `location` as a URI: a local directory as `file://` with its absolute path.
fn as_uri(location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let path = std::path::Path::new(location);
    let absolute =
        path.canonicalize().unwrap_or_else(|_| std::path::absolute(path).unwrap_or(path.to_path_buf()));
    format!("file://{}", absolute.display())
}

/// A warehouse at `location`: a directory or `file://` URI, or `s3://` with the s3 feature.
fn open_warehouse(location: &str, s3_options: &[(String, String)]) -> Result<Warehouse> {
    if let Some(dir) = location.strip_prefix("file://") {
        return Warehouse::local(dir);
    }
    if location.starts_with("s3://") {
        #[cfg(feature = "s3")]
        {
            let options: Vec<(&str, &str)> =
                s3_options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            return Warehouse::s3(location, &options);
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = s3_options;
            return Err(CatalogError::Unsupported(format!(
                "warehouse {location}: s3:// needs a build with the s3 feature"
            )));
        }
    }
    if location.contains("://") {
        return Err(CatalogError::Unsupported(format!(
            "warehouse {location}: only file:// and s3:// are supported"
        )));
    }
    Warehouse::local(location)
}

/// The Iceberg storage settings a REST server hands out (`s3.endpoint`, vended
/// `s3.access-key-id` / `s3.secret-access-key` / `s3.session-token`, ...) as object_store
/// options.
fn s3_options_from(config: &std::collections::HashMap<String, String>) -> Vec<(String, String)> {
    let mapping = [
        ("s3.endpoint", "aws_endpoint"),
        ("s3.access-key-id", "aws_access_key_id"),
        ("s3.secret-access-key", "aws_secret_access_key"),
        ("s3.session-token", "aws_session_token"),
        ("s3.region", "aws_region"),
        ("client.region", "aws_region"),
    ];
    let mut out: Vec<(String, String)> = mapping
        .iter()
        .filter_map(|(from, to)| config.get(*from).map(|v| (to.to_string(), v.clone())))
        .collect();
    if config.get("s3.path-style-access").is_some_and(|v| v == "true") {
        out.push(("aws_virtual_hosted_style_request".into(), "false".into()));
    }
    if config.get("s3.endpoint").is_some_and(|e| e.starts_with("http://")) {
        out.push(("aws_allow_http".into(), "true".into()));
    }
    out
}

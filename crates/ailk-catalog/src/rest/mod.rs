//! [`RestCatalog`]: a client of the Iceberg REST catalog protocol (Polaris, Lakekeeper, Unity,
//! Glue's and S3 Tables' endpoints, Nessie, Gravitino, rustberg).
//!
//! Written on reqwest with iceberg-rust's spec types rather than `iceberg-catalog-rest`: a
//! commit here is our own requirements and updates ([`MetadataCommit`]), and that crate only
//! commits the `TableCommit`s its transactions build (their builder is crate-private).
//!
//! The server writes every metadata file itself; ailake reads them through the warehouse.
//! Reads retry 429/5xx/transport failures (bounded); a commit is never re-sent blindly: a
//! 409 is a lost race (the caller rebases), a 5xx or timeout is `CommitStateUnknown` (the
//! caller re-reads the table and finds out whether it landed).

mod http;
mod wire;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use iceberg::io::FileIO;
use iceberg::TableCreation;
use reqwest::{Method, Url};

pub use self::http::Secret;
use self::http::{Credential, Http, Refused, Repeat};
use self::wire::*;
use crate::error::{CatalogError, Result};
use crate::provider::{CatalogProvider, MetadataCommit, TableIdent};

/// How to reach and authenticate to a REST catalog.
#[derive(Debug, Clone)]
pub struct RestOptions {
    /// The server, e.g. `https://catalog.example.com/api/catalog` (`/v1/…` is appended).
    pub uri: String,
    /// The warehouse to ask for (`GET /v1/config?warehouse=…`); servers with one may omit it.
    pub warehouse: Option<String>,
    /// A bearer token sent as `Authorization: Bearer …`.
    pub token: Option<Secret>,
    /// OAuth2 client credentials `client_id:client_secret`: a token is fetched from
    /// `oauth2_server_uri` and fetched again when it expires or the server refuses it.
    pub credential: Option<Secret>,
    /// Where client-credential tokens come from; default `{uri}/v1/oauth/tokens`.
    pub oauth2_server_uri: Option<String>,
    /// The OAuth2 scope asked for.
    pub scope: String,
    /// Headers sent with every request (e.g. a tenant or an API key header).
    pub headers: Vec<(String, String)>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries of a read (or an idempotent write) after 429, 5xx or a transport failure.
    pub retries: u32,
}

impl RestOptions {
    /// Options for the server at `uri`, without credentials.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            warehouse: None,
            token: None,
            credential: None,
            oauth2_server_uri: None,
            scope: "PRINCIPAL_ROLE:ALL".into(),
            headers: Vec::new(),
            timeout: Duration::from_secs(30),
            retries: 4,
        }
    }
}

/// A catalog served over the Iceberg REST protocol.
#[derive(Debug)]
pub struct RestCatalog {
    name: String,
    http: Http,
    config: HashMap<String, String>,
}

impl RestCatalog {
    /// Connects: reads `GET /v1/config` (the server's prefix, defaults and overrides) with the
    /// given credentials, so a wrong address or token fails here.
    pub async fn connect(options: RestOptions) -> Result<Self> {
        let bad = |m: String| CatalogError::InvalidInput(format!("REST catalog {}: {m}", options.uri));
        let mut base = Url::parse(&options.uri).map_err(|e| bad(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(bad("expected an http:// or https:// URL".into()));
        }
        base.set_query(None);
        if base.scheme() == "https" && !cfg!(feature = "tls") {
            return Err(CatalogError::Unsupported(format!(
                "REST catalog {}: https needs a build with the tls feature (the CLI and the Python package have it)",
                options.uri
            )));
        }
        let credential = match (&options.token, &options.credential) {
            (Some(_), Some(_)) => return Err(bad("give a token or client credentials, not both".into())),
            (Some(t), None) => Credential::Token(t.clone()),
            (None, Some(c)) => {
                let (id, secret) = c
                    .expose()
                    .split_once(':')
                    .ok_or_else(|| bad("client credentials are client_id:client_secret".into()))?;
                let server = match &options.oauth2_server_uri {
                    Some(s) => Url::parse(s).map_err(|e| bad(format!("oauth2 server: {e}")))?,
                    None => {
                        let mut u = base.clone();
                        u.path_segments_mut()
                            .expect("checked above")
                            .pop_if_empty()
                            .extend(["v1", "oauth", "tokens"]);
                        u
                    }
                };
                Credential::Client {
                    id: id.to_string(),
                    secret: Secret::new(secret),
                    server,
                    scope: options.scope.clone(),
                }
            }
            (None, None) => Credential::None,
        };
        let mut http =
            Http::new(base, credential, options.headers.clone(), options.timeout, options.retries)?;
        let query: Vec<(&str, &str)> = options.warehouse.iter().map(|w| ("warehouse", w.as_str())).collect();
        let url = http.url(&["config"], &query);
        let answer: ConfigResponse = http
            .json(Method::GET, url, None::<&()>, Repeat::Safe)
            .await?
            .map_err(|r| remote("GET /v1/config", r))?;
        let mut config = answer.defaults;
        if let Some(w) = &options.warehouse {
            config.insert("warehouse".into(), w.clone());
        }
        config.extend(answer.overrides);
        http.prefix = config.get("prefix").cloned();
        let name = options.warehouse.clone().unwrap_or_else(|| "rest".into());
        tracing::info!(uri = %options.uri, prefix = ?http.prefix, "connected to a REST catalog");
        Ok(Self { name, http, config })
    }

    /// The settings the server returned (defaults, then the warehouse asked for, then its
    /// overrides): `warehouse`, `prefix`, storage settings such as `s3.endpoint`.
    pub fn config(&self) -> &HashMap<String, String> {
        &self.config
    }

    /// Renames `from` to `to` (same or another namespace).
    pub async fn rename_table(&self, from: &TableIdent, to: &TableIdent) -> Result<()> {
        let body = RenameTable { source: wire_ident(from), destination: wire_ident(to) };
        let url = self.http.url(&["tables", "rename"], &[]);
        match self.http.send(Method::POST, url, Some(&body), Repeat::Safe).await? {
            Ok(_) => Ok(()),
            Err(r) => Err(table_error(from, to.to_string(), r)),
        }
    }

    /// The storage settings the server hands out with `table` (vended credentials such as
    /// `s3.access-key-id`, `s3.session-token`), merged over the catalog's [`Self::config`].
    pub async fn table_config(&self, table: &TableIdent) -> Result<HashMap<String, String>> {
        let mut config = self.config.clone();
        config.extend(self.load(table).await?.config);
        Ok(config)
    }

    fn table_url(&self, table: &TableIdent) -> Url {
        self.http.url(&["namespaces", &namespace_path(&table.namespace), "tables", &table.name], &[])
    }

    async fn load(&self, table: &TableIdent) -> Result<TableResponse> {
        let answer = self.http.json(Method::GET, self.table_url(table), None::<&()>, Repeat::Safe).await?;
        answer.map_err(|r| table_error(table, table.to_string(), r))
    }
}

#[async_trait]
impl CatalogProvider for RestCatalog {
    fn name(&self) -> &str {
        &self.name
    }

    async fn create_namespace(&self, namespace: &str) -> Result<()> {
        let body = CreateNamespace { namespace: levels(namespace), properties: HashMap::new() };
        let url = self.http.url(&["namespaces"], &[]);
        match self.http.send(Method::POST, url, Some(&body), Repeat::Safe).await? {
            Ok(_) => Ok(()),
            Err(r) if r.status == 409 => Ok(()),
            Err(r) => Err(remote("POST namespaces", r)),
        }
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let query: Vec<(&str, &str)> = token.iter().map(|t| ("pageToken", t.as_str())).collect();
            let url = self.http.url(&["namespaces"], &query);
            let page: ListNamespaces = self
                .http
                .json(Method::GET, url, None::<&()>, Repeat::Safe)
                .await?
                .map_err(|r| remote("GET namespaces", r))?;
            out.extend(page.namespaces.into_iter().map(|levels| levels.join(".")));
            token = page.next_page_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn create_table(
        &self,
        table: &TableIdent,
        creation: TableCreation,
        _io: &FileIO,
    ) -> Result<String> {
        self.create_namespace(&table.namespace).await?;
        let body = CreateTable {
            name: &table.name,
            location: creation.location.as_deref(),
            schema: &creation.schema,
            stage_create: false,
            properties: &creation.properties,
        };
        let url = self.http.url(&["namespaces", &namespace_path(&table.namespace), "tables"], &[]);
        // Not repeated blindly: a lost answer to a create that landed would read as "exists".
        let answer: std::result::Result<TableResponse, Refused> =
            self.http.json(Method::POST, url, Some(&body), Repeat::Commit).await?;
        let created = answer.map_err(|r| table_error(table, table.to_string(), r))?;
        created.metadata_location.ok_or_else(|| missing_location(table))
    }

    async fn register_table(&self, table: &TableIdent, metadata_location: &str) -> Result<()> {
        let body = RegisterTable { name: &table.name, metadata_location };
        let url = self.http.url(&["namespaces", &namespace_path(&table.namespace), "register"], &[]);
        match self.http.send(Method::POST, url, Some(&body), Repeat::Commit).await? {
            Ok(_) => Ok(()),
            Err(r) => Err(table_error(table, table.to_string(), r)),
        }
    }

    async fn metadata_location(&self, table: &TableIdent) -> Result<String> {
        self.load(table).await?.metadata_location.ok_or_else(|| missing_location(table))
    }

    async fn list_tables(&self, namespace: &str) -> Result<Vec<TableIdent>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let query: Vec<(&str, &str)> = token.iter().map(|t| ("pageToken", t.as_str())).collect();
            let url = self.http.url(&["namespaces", &namespace_path(namespace), "tables"], &query);
            let page: ListTables =
                self.http.json(Method::GET, url, None::<&()>, Repeat::Safe).await?.map_err(|r| {
                    if r.status == 404 {
                        CatalogError::NamespaceNotFound(namespace.to_string())
                    } else {
                        remote("GET tables", r)
                    }
                })?;
            for id in page.identifiers {
                out.push(TableIdent { namespace: id.namespace.join("."), name: id.name });
            }
            token = page.next_page_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn drop_table(&self, table: &TableIdent) -> Result<()> {
        let mut url = self.table_url(table);
        url.query_pairs_mut().append_pair("purgeRequested", "false");
        match self.http.send(Method::DELETE, url, None::<&()>, Repeat::Safe).await? {
            Ok(_) => Ok(()),
            Err(r) => Err(table_error(table, table.to_string(), r)),
        }
    }

    async fn commit_table(
        &self,
        table: &TableIdent,
        commit: MetadataCommit,
        _io: &FileIO,
    ) -> Result<Option<String>> {
        let body = CommitTable {
            identifier: wire_ident(table),
            requirements: &commit.requirements,
            updates: &commit.updates,
        };
        let answer: std::result::Result<TableResponse, Refused> =
            self.http.json(Method::POST, self.table_url(table), Some(&body), Repeat::Commit).await?;
        match answer {
            Ok(done) => Ok(Some(done.metadata_location.ok_or_else(|| missing_location(table))?)),
            Err(r) if r.status == 409 => {
                tracing::debug!(%table, message = %r.message, "REST commit refused: a requirement failed");
                Ok(None)
            }
            Err(r) => Err(table_error(table, table.to_string(), r)),
        }
    }
}

/// Namespace levels (`a.b` → `["a", "b"]`).
fn levels(namespace: &str) -> Vec<String> {
    namespace.split('.').map(str::to_string).collect()
}

/// A namespace as one path segment: levels joined by the unit separator (0x1F).
fn namespace_path(namespace: &str) -> String {
    namespace.replace('.', "\u{1f}")
}

fn wire_ident(table: &TableIdent) -> WireIdent {
    WireIdent { namespace: levels(&table.namespace), name: table.name.clone() }
}

fn missing_location(table: &TableIdent) -> CatalogError {
    CatalogError::Http { url: table.to_string(), message: "the answer names no metadata-location".into() }
}

fn remote(request: &str, r: Refused) -> CatalogError {
    CatalogError::Remote { status: r.status, request: request.to_string(), message: r.message }
}

/// A refusal about `table`: 404 → not found (the namespace or the table, as the server says),
/// 409 → `exists` already exists.
fn table_error(table: &TableIdent, exists: String, r: Refused) -> CatalogError {
    match r.status {
        404 if r.kind.contains("Namespace") => CatalogError::NamespaceNotFound(table.namespace.clone()),
        404 => CatalogError::TableNotFound(table.to_string()),
        409 => CatalogError::TableExists(exists),
        _ => remote(&format!("on {table}"), r),
    }
}

//! The JSON bodies of the Iceberg REST catalog protocol that ailake sends and reads
//! (`open-api/rest-catalog-open-api.yaml`). Requirements and updates are iceberg-rust's own
//! spec types, which serialize as the protocol names them.

use std::collections::HashMap;

use iceberg::spec::Schema;
use iceberg::{TableRequirement, TableUpdate};
use serde::{Deserialize, Serialize};

/// `GET /v1/config`: settings the server imposes (`overrides`) or suggests (`defaults`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ConfigResponse {
    #[serde(default)]
    pub defaults: HashMap<String, String>,
    #[serde(default)]
    pub overrides: HashMap<String, String>,
}

/// A table name on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WireIdent {
    pub namespace: Vec<String>,
    pub name: String,
}

/// `GET …/namespaces`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListNamespaces {
    #[serde(default)]
    pub namespaces: Vec<Vec<String>>,
    #[serde(rename = "next-page-token", default)]
    pub next_page_token: Option<String>,
}

/// `GET …/tables`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListTables {
    #[serde(default)]
    pub identifiers: Vec<WireIdent>,
    #[serde(rename = "next-page-token", default)]
    pub next_page_token: Option<String>,
}

/// `POST …/namespaces`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateNamespace {
    pub namespace: Vec<String>,
    pub properties: HashMap<String, String>,
}

/// `POST …/tables`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct CreateTable<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a str>,
    pub schema: &'a Schema,
    pub stage_create: bool,
    pub properties: &'a HashMap<String, String>,
}

/// `POST …/register`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RegisterTable<'a> {
    pub name: &'a str,
    pub metadata_location: &'a str,
}

/// `POST …/tables/{table}`.
#[derive(Debug, Serialize)]
pub(crate) struct CommitTable<'a> {
    pub identifier: WireIdent,
    pub requirements: &'a [TableRequirement],
    pub updates: &'a [TableUpdate],
}

/// `POST …/tables/rename`.
#[derive(Debug, Serialize)]
pub(crate) struct RenameTable {
    pub source: WireIdent,
    pub destination: WireIdent,
}

/// A load, create or commit answer: where the table's metadata now is, and the storage
/// settings the server hands out for it (vended credentials).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct TableResponse {
    #[serde(default)]
    pub metadata_location: Option<String>,
    #[serde(default)]
    pub config: HashMap<String, String>,
}

/// An OAuth2 token answer (`/v1/oauth/tokens` or the configured server).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// The protocol's error body: `{"error": {"message", "type", "code"}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorModel,
}

/// What went wrong, as the server says it.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorModel {
    #[serde(default)]
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

//! One HTTP exchange with a REST catalog: the URL under the server's prefix, credentials
//! (a bearer token, or OAuth2 client credentials fetched and refreshed), custom headers,
//! bounded retries of what is safe to repeat, and the protocol's error body.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::wire::{ErrorBody, TokenResponse};
use crate::error::{CatalogError, Result};

/// A secret (token, client secret) that never prints.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// How a request is sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Reads and idempotent writes: retried on 429, 5xx and transport failures.
    Safe,
    /// A commit: a failure after it may have reached the server is `CommitStateUnknown`.
    Commit,
}

/// A non-success answer the caller maps (404, 409, ...).
#[derive(Debug)]
pub(crate) struct Refused {
    pub status: u16,
    pub kind: String,
    pub message: String,
}

/// What a request came to: the body of a success, or the server's refusal.
pub(crate) type Answer = std::result::Result<Bytes, Refused>;

/// Credentials a request carries.
#[derive(Debug, Clone, Default)]
pub(crate) enum Credential {
    #[default]
    None,
    Token(Secret),
    Client {
        id: String,
        secret: Secret,
        server: Url,
        scope: String,
    },
}

/// The HTTP side of a [`super::RestCatalog`].
pub(crate) struct Http {
    client: reqwest::Client,
    pub base: Url,
    pub prefix: Option<String>,
    credential: Credential,
    headers: Vec<(String, String)>,
    retries: u32,
    token: tokio::sync::Mutex<Option<(Secret, Instant)>>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Http")
            .field("base", &self.base.as_str())
            .field("prefix", &self.prefix)
            .field("credential", &self.credential)
            .field("headers", &header_names)
            .finish()
    }
}

impl Http {
    pub fn new(
        base: Url,
        credential: Credential,
        headers: Vec<(String, String)>,
        timeout: Duration,
        retries: u32,
    ) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| CatalogError::Http { url: base.to_string(), message: e.to_string() })?;
        Ok(Self { client, base, prefix: None, credential, headers, retries, token: Default::default() })
    }

    /// `v1/{prefix}/segments…` under the server's URL (each segment percent-encoded).
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().expect("http(s) URLs have paths");
            path.pop_if_empty().push("v1");
            if let Some(prefix) = &self.prefix {
                path.extend(prefix.split('/').filter(|s| !s.is_empty()));
            }
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// `method url` with an optional JSON body; decodes a success as `T`.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&(impl Serialize + Sync)>,
        repeat: Repeat,
    ) -> Result<std::result::Result<T, Refused>> {
        let what = format!("{method} {}", url.path());
        Ok(match self.send(method, url, body, repeat).await? {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).map_err(|e| CatalogError::Http {
                url: self.base.to_string(),
                message: format!("malformed answer to {what}: {e}"),
            })?),
            Err(refused) => Err(refused),
        })
    }

    /// Sends the request, retrying what `repeat` allows; 401/403 become `Unauthorized`.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&(impl Serialize + Sync)>,
        repeat: Repeat,
    ) -> Result<Answer> {
        let what = format!("{method} {}", url.path());
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| CatalogError::Internal(format!("encoding {what}: {e}")))?;
        let mut refreshed = false;
        let mut backoff = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let may_retry = attempt <= self.retries;
            let mut request = self.client.request(method.clone(), url.clone());
            if let Some(token) = self.bearer(refreshed).await? {
                request = request.bearer_auth(token.expose());
            }
            for (k, v) in &self.headers {
                request = request.header(k, v);
            }
            if let Some(b) = &body {
                request = request.header("content-type", "application/json").body(b.clone());
            }
            let failure = match request.send().await {
                Err(e) if e.is_connect() && may_retry => format!("{e}"),
                Err(e) if e.is_connect() => return Err(self.transport(&what, &e)),
                Err(_) if repeat == Repeat::Commit => return Err(CatalogError::CommitStateUnknown(what)),
                Err(e) if may_retry => format!("{e}"),
                Err(e) => return Err(self.transport(&what, &e)),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let bytes = match response.bytes().await {
                        Ok(b) => b,
                        Err(_) if repeat == Repeat::Commit => {
                            return Err(CatalogError::CommitStateUnknown(what))
                        }
                        Err(e) if may_retry => {
                            tracing::debug!(%what, error = %e, "REST answer cut off; retrying");
                            continue;
                        }
                        Err(e) => return Err(self.transport(&what, &e)),
                    };
                    if (200..300).contains(&status) {
                        return Ok(Ok(bytes));
                    }
                    let refused = refusal(status, &bytes);
                    if status == 401 && !refreshed && matches!(self.credential, Credential::Client { .. }) {
                        refreshed = true;
                        continue;
                    }
                    if status == 401 || status == 403 {
                        return Err(CatalogError::Unauthorized { status, message: refused.message });
                    }
                    let transient = status == 429 || status >= 500;
                    if transient && repeat == Repeat::Commit {
                        return Err(CatalogError::CommitStateUnknown(what));
                    }
                    if !(transient && may_retry) {
                        return Ok(Err(refused));
                    }
                    format!("HTTP {status}: {}", refused.message)
                }
            };
            tracing::debug!(%what, attempt, %failure, "REST request failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    fn transport(&self, what: &str, e: &reqwest::Error) -> CatalogError {
        // reqwest's message names the URL, never a header.
        CatalogError::Http { url: self.base.to_string(), message: format!("{what}: {e}") }
    }

    /// The bearer token to send: the configured one, or a client-credentials token fetched
    /// when none is cached, it expired, or `refresh` (the server refused it).
    async fn bearer(&self, refresh: bool) -> Result<Option<Secret>> {
        let (id, secret, server, scope) = match &self.credential {
            Credential::None => return Ok(None),
            Credential::Token(t) => return Ok(Some(t.clone())),
            Credential::Client { id, secret, server, scope } => (id, secret, server, scope),
        };
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if !refresh && Instant::now() < *until {
                return Ok(Some(token.clone()));
            }
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.expose()),
            ("scope", scope.as_str()),
        ];
        let response = self.client.post(server.clone()).form(&form).send().await.map_err(|e| {
            CatalogError::Http { url: server.to_string(), message: format!("token request: {e}") }
        })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| CatalogError::Http {
            url: server.to_string(),
            message: format!("token answer: {e}"),
        })?;
        if !(200..300).contains(&status) {
            let message = refusal(status, &bytes).message;
            return Err(if (400..500).contains(&status) {
                CatalogError::Unauthorized { status, message: format!("token request refused: {message}") }
            } else {
                CatalogError::Remote { status, request: "POST token".into(), message }
            });
        }
        let answer: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| CatalogError::Http {
            url: server.to_string(),
            message: format!("malformed token answer: {e}"),
        })?;
        // Renew a little early so a request never carries a token about to lapse.
        let life = Duration::from_secs(answer.expires_in.unwrap_or(3600)).mul_f64(0.9);
        let token = Secret::new(answer.access_token);
        *cached = Some((token.clone(), Instant::now() + life));
        Ok(Some(token))
    }
}

/// The server's error body, or the status and a short prefix of whatever it sent.
fn refusal(status: u16, bytes: &[u8]) -> Refused {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Refused { status, kind: body.error.kind, message: body.error.message },
        Err(_) => {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).trim().to_string();
            Refused {
                status,
                kind: String::new(),
                message: if text.is_empty() { "(no body)".into() } else { text },
            }
        }
    }
}

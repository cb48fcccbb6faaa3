//! A fault-injecting HTTP/1.1 proxy on a loopback port, in front of a REST catalog: each
//! request is forwarded, answered with an error instead, forwarded and then answered with an
//! error (the server acted, the client hears a failure), stalled, or answered with a cut-off
//! body, as the test's rule says. It can also play an OAuth2 token server: tokens it issues
//! (`/v1/oauth/tokens`, client credentials) stand for the real key upstream until revoked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Forward it and relay the answer.
    Forward,
    /// Answer with this status and an Iceberg error body, without forwarding.
    Fail(u16),
    /// Forward it (the server acts), then answer with this status instead.
    ForwardThenFail(u16),
    /// Answer 200 with a JSON body cut in the middle, without forwarding.
    Truncated,
    /// Hold the connection open without answering.
    Stall,
}

/// A rule: `(method, path, request number from 0)` → action.
pub type Rule = Box<dyn FnMut(&str, &str, usize) -> Action + Send>;

/// The OAuth2 side: client `id:secret` accepted, tokens issued and the real key upstream.
#[derive(Debug, Default)]
struct Tokens {
    client: Option<(String, String)>,
    upstream_key: String,
    valid: HashMap<String, bool>,
    issued: usize,
}

/// A running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    rule: Arc<Mutex<Rule>>,
    tokens: Arc<Mutex<Tokens>>,
    /// `METHOD path` of every request seen, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// A proxy to `upstream` that forwards everything until [`Self::set_rule`].
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let rule: Arc<Mutex<Rule>> = Arc::new(Mutex::new(Box::new(|_: &str, _: &str, _| Action::Forward)));
        let tokens = Arc::new(Mutex::new(Tokens::default()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = (rule.clone(), tokens.clone(), seen.clone(), upstream.trim_end_matches('/').to_string());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (rule, tokens, seen, upstream) = state.clone();
                let client = client.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &client, &upstream, &rule, &tokens, &seen).await;
                });
            }
        });
        Self { url, rule, tokens, seen }
    }

    /// Replaces the rule.
    pub fn set_rule(&self, rule: impl FnMut(&str, &str, usize) -> Action + Send + 'static) {
        *self.rule.lock().unwrap() = Box::new(rule);
    }

    /// Serves client credentials `id:secret`, issuing tokens that stand for `upstream_key`.
    pub fn issue_tokens(&self, id: &str, secret: &str, upstream_key: &str) {
        let mut t = self.tokens.lock().unwrap();
        t.client = Some((id.into(), secret.into()));
        t.upstream_key = upstream_key.into();
    }

    /// Revokes every token issued so far (as an expiry would): they get 401 from now on.
    pub fn revoke_tokens(&self) {
        self.tokens.lock().unwrap().valid.values_mut().for_each(|v| *v = false);
    }

    /// Tokens issued so far.
    pub fn tokens_issued(&self) -> usize {
        self.tokens.lock().unwrap().issued
    }

    /// How many requests seen match `method` and end with `path_suffix`.
    pub fn count(&self, method: &str, path_suffix: &str) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|s| s.starts_with(method) && s.ends_with(path_suffix)).count()
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request { method, target, headers, body })
}

async fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}

fn error_body(status: u16, message: &str) -> Vec<u8> {
    serde_json::json!({"error": {"code": status, "type": "InjectedFault", "message": message}})
        .to_string()
        .into_bytes()
}

async fn serve(
    mut stream: TcpStream,
    client: &reqwest::Client,
    upstream: &str,
    rule: &Mutex<Rule>,
    tokens: &Mutex<Tokens>,
    seen: &Mutex<Vec<String>>,
) -> Option<()> {
    let mut request = read_request(&mut stream).await?;
    let path = request.target.split('?').next().unwrap_or_default().to_string();
    let number = {
        let mut seen = seen.lock().unwrap();
        seen.push(format!("{} {path}", request.method));
        seen.len() - 1
    };
    if path.ends_with("/oauth/tokens") {
        let form: HashMap<String, String> = url_form(&request.body);
        let (status, body) = {
            let mut t = tokens.lock().unwrap();
            let ok = t.client.as_ref().is_some_and(|(id, secret)| {
                form.get("client_id") == Some(id) && form.get("client_secret") == Some(secret)
            });
            if ok {
                t.issued += 1;
                let token = format!("issued-{}", t.issued);
                t.valid.insert(token.clone(), true);
                let body =
                    serde_json::json!({"access_token": token, "token_type": "bearer", "expires_in": 3600});
                (200, body.to_string())
            } else {
                (401, serde_json::json!({"error": "invalid_client"}).to_string())
            }
        };
        respond(&mut stream, status, body.as_bytes()).await;
        return Some(());
    }
    // An issued token stands for the upstream key while valid.
    if let Some(auth) = request.headers.iter_mut().find(|(k, _)| k == "authorization") {
        let token = auth.1.trim_start_matches("Bearer ").to_string();
        let expired = {
            let t = tokens.lock().unwrap();
            match t.valid.get(&token) {
                Some(true) => {
                    auth.1 = format!("Bearer {}", t.upstream_key);
                    false
                }
                Some(false) => true,
                None => false,
            }
        };
        if expired {
            respond(&mut stream, 401, &error_body(401, "token expired")).await;
            return Some(());
        }
    }
    let action = (rule.lock().unwrap())(&request.method, &path, number);
    match action {
        Action::Fail(status) => respond(&mut stream, status, &error_body(status, "injected")).await,
        Action::Truncated => respond(&mut stream, 200, br#"{"metadata-location": "file:///tr"#).await,
        Action::Stall => tokio::time::sleep(Duration::from_secs(60)).await,
        Action::Forward | Action::ForwardThenFail(_) => {
            let method = reqwest::Method::from_bytes(request.method.as_bytes()).ok()?;
            let mut forward = client.request(method, format!("{upstream}{}", request.target));
            for (k, v) in &request.headers {
                if k == "authorization" || k == "content-type" || k.starts_with("x-") {
                    forward = forward.header(k, v);
                }
            }
            let answer = forward.body(request.body.clone()).send().await.ok()?;
            let status = answer.status().as_u16();
            let body = answer.bytes().await.ok()?;
            match action {
                Action::ForwardThenFail(s) => respond(&mut stream, s, &error_body(s, "injected after")).await,
                _ => respond(&mut stream, status, &body).await,
            }
        }
    }
    Some(())
}

/// `a=b&c=d` (the values the tests send need no percent-decoding beyond `+`).
fn url_form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace('+', " ")))
        .collect()
}

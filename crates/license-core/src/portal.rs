//! The portal API v1 client (`shared/spec/portal-api.md`).
//!
//! Retries are bounded and safe: only idempotent requests and audit uploads (which
//! carry an `Idempotency-Key`, so the portal returns its first answer again) are
//! retried, on connection failures, timeouts, 5xx and 429, honouring Retry-After.
//! An unreachable portal is reported within [`UNREACHABLE_WITHIN`].

use crate::environment::backups::sha256_hex;
use crate::error::Error;
use crate::payload::Consumption;
use reqwest::{header, Method, StatusCode};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const UNREACHABLE_WITHIN: Duration = Duration::from_secs(3);

#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub proxy: Option<String>,
    pub ca_bundle: Option<PathBuf>,
    pub request_timeout: Duration,
    /// Attempts after the first, for retryable failures.
    pub retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            proxy: None,
            ca_bundle: None,
            request_timeout: Duration::from_secs(30),
            retries: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

pub struct PortalClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
    opts: ClientOptions,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct UploadResult {
    pub upload_id: String,
    pub status: String,
    pub reasons: Vec<String>,
    pub received_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Slot {
    pub environment_type: String,
    pub serial_number: Option<String>,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Subscription {
    pub activation_code: String,
    pub customer: String,
    pub entitlements: crate::payload::Entitlements,
    pub expires_at: Option<String>,
    pub slots: Vec<Slot>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Registration {
    pub serial_number: String,
    pub environment_type: String,
    pub name: String,
    pub environment_key: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PortalUpload {
    pub upload_id: String,
    pub serial_number: Option<String>,
    pub status: String,
    pub reasons: Vec<String>,
    pub received_at: String,
    pub audit_id: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub consumption: Option<Consumption>,
}

#[derive(Deserialize)]
struct ProblemJson {
    #[serde(rename = "type")]
    kind: Option<String>,
    detail: Option<String>,
    title: Option<String>,
}

/// Plain HTTP only to this machine: a token must never cross a network in clear.
pub fn check_url(url: &str) -> Result<String, Error> {
    let u = url.trim().trim_end_matches('/');
    let loopback = ["http://127.", "http://localhost:", "http://localhost/", "http://[::1]"].iter().any(|p| u.starts_with(p)) || u == "http://localhost";
    if u.starts_with("https://") || loopback {
        Ok(u.to_string())
    } else {
        Err(Error::PortalProtocol { reason: format!("'{u}' is not an https:// URL (plain http is allowed only to this machine)") })
    }
}

enum Attempt {
    /// The answer's body, read in full.
    Done(Vec<u8>),
    Retry {
        after: Option<Duration>,
        error: Error,
        connect: bool,
    },
    Fail(Error),
}

impl PortalClient {
    pub fn new(base_url: &str, token: Option<String>, opts: ClientOptions) -> Result<Self, Error> {
        let base = check_url(base_url)?;
        let bad = |reason: String| Error::PortalProtocol { reason };
        let mut b = reqwest::Client::builder()
            .connect_timeout(UNREACHABLE_WITHIN - Duration::from_millis(500))
            .timeout(opts.request_timeout)
            .user_agent(concat!("license-manager/", env!("CARGO_PKG_VERSION")));
        if let Some(p) = &opts.proxy {
            b = b.proxy(reqwest::Proxy::all(p).map_err(|e| bad(format!("proxy '{p}': {e}")))?);
        }
        if let Some(ca) = &opts.ca_bundle {
            let pem = std::fs::read(ca).map_err(|e| Error::io("read the CA bundle", ca, e))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(format!("CA bundle {}: {e}", ca.display())))? {
                b = b.add_root_certificate(cert);
            }
        }
        let http = b.build().map_err(|e| bad(e.to_string()))?;
        Ok(Self { base, token, http, opts })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn token(&self) -> Result<&str, Error> {
        self.token.as_deref().ok_or_else(|| Error::NoToken { url: self.base.clone() })
    }

    async fn attempt(&self, method: &Method, path: &str, body: Option<(&'static str, &[u8])>, auth: bool) -> Attempt {
        let mut rb = self.http.request(method.clone(), format!("{}{path}", self.base));
        if auth {
            match self.token() {
                Ok(t) => rb = rb.bearer_auth(t),
                Err(e) => return Attempt::Fail(e),
            }
        }
        if let Some((ctype, bytes)) = body {
            rb = rb.header(header::CONTENT_TYPE, ctype).body(bytes.to_vec());
            if path == "/api/v1/audits" {
                rb = rb.header("Idempotency-Key", sha256_hex(bytes));
            }
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                let error = Error::PortalUnreachable { url: self.base.clone(), reason: describe(&e) };
                return Attempt::Retry { after: None, error, connect: e.is_connect() };
            }
        };
        let status = resp.status();
        if status.is_success() {
            // The body is part of the attempt: a connection that breaks while the
            // answer arrives is retried like any other reset.
            return match resp.bytes().await {
                Ok(b) => Attempt::Done(b.to_vec()),
                Err(e) => Attempt::Retry { after: None, error: Error::PortalUnreachable { url: self.base.clone(), reason: describe(&e) }, connect: false },
            };
        }
        let retry_after =
            resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<u64>().ok()).map(Duration::from_secs);
        let error = problem(status, resp.text().await.unwrap_or_default());
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT {
            Attempt::Retry { after: retry_after, error, connect: false }
        } else {
            Attempt::Fail(error)
        }
    }

    /// Sends with bounded retries.
    async fn call(&self, method: Method, path: &str, body: Option<(&'static str, &[u8])>, auth: bool) -> Result<Vec<u8>, Error> {
        let start = Instant::now();
        let mut delay = self.opts.base_delay;
        let mut tries = 0;
        loop {
            match self.attempt(&method, path, body, auth).await {
                Attempt::Done(body) => return Ok(body),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { after, error, connect } => {
                    tries += 1;
                    let wait = after.unwrap_or(delay).min(self.opts.max_delay);
                    // A portal that cannot even be connected to is reported promptly.
                    let out_of_time = connect && start.elapsed() + wait >= UNREACHABLE_WITHIN - Duration::from_millis(200);
                    if tries > self.opts.retries || out_of_time {
                        return Err(error);
                    }
                    tracing::warn!(path, attempt = tries, wait_ms = wait.as_millis() as u64, error = %error, "portal request failed; retrying");
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(self.opts.max_delay);
                }
            }
        }
    }

    fn json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::PortalProtocol { reason: e.to_string() })
    }

    fn text(bytes: Vec<u8>) -> Result<String, Error> {
        String::from_utf8(bytes).map_err(|_| Error::PortalProtocol { reason: "the license file is not text".into() })
    }

    pub async fn health(&self) -> Result<(), Error> {
        self.call(Method::GET, "/api/v1/health", None, false).await.map(drop)
    }

    pub async fn subscription(&self, code: &str) -> Result<Subscription, Error> {
        Self::json(&self.call(Method::GET, &format!("/api/v1/subscriptions/{code}"), None, true).await?)
    }

    pub async fn register(&self, code: &str, r: &Registration) -> Result<(), Error> {
        let body = serde_json::to_vec(r).expect("json");
        self.call(Method::POST, &format!("/api/v1/subscriptions/{code}/environments"), Some(("application/json", &body)), true).await.map(drop)
    }

    pub async fn unregister(&self, code: &str, serial: &str) -> Result<(), Error> {
        self.call(Method::DELETE, &format!("/api/v1/subscriptions/{code}/environments/{serial}"), None, true).await.map(drop)
    }

    pub async fn download_license(&self, serial: &str) -> Result<String, Error> {
        Self::text(self.call(Method::GET, &format!("/api/v1/environments/{serial}/license"), None, true).await?)
    }

    pub async fn send_license(&self, serial: &str) -> Result<Vec<String>, Error> {
        #[derive(Deserialize)]
        struct Sent {
            sent_to: Vec<String>,
        }
        let s: Sent = Self::json(&self.call(Method::POST, &format!("/api/v1/environments/{serial}/license/send"), None, true).await?)?;
        Ok(s.sent_to)
    }

    pub async fn license_from_request(&self, request_file: &[u8]) -> Result<String, Error> {
        Self::text(self.call(Method::POST, "/api/v1/license-requests", Some(("application/x-license-request", request_file)), true).await?)
    }

    pub async fn upload_audit(&self, audit_file: &[u8]) -> Result<UploadResult, Error> {
        Self::json(&self.call(Method::POST, "/api/v1/audits", Some(("application/x-license-audit", audit_file)), true).await?)
    }

    pub async fn audit_history(&self, code: &str) -> Result<Vec<PortalUpload>, Error> {
        Self::json(&self.call(Method::GET, &format!("/api/v1/subscriptions/{code}/audits"), None, true).await?)
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s = format!("{s}: {inner}");
        src = inner.source();
    }
    s
}

/// A non-success answer as a specific error: problem+json when the portal sends it.
fn problem(status: StatusCode, body: String) -> Error {
    let p: Option<ProblemJson> = serde_json::from_str(&body).ok();
    let kind = p.as_ref().and_then(|p| p.kind.as_deref()).map(|k| k.rsplit('/').next().unwrap_or(k).to_string()).unwrap_or_else(|| status.as_str().into());
    let detail = p.as_ref().and_then(|p| p.detail.clone().or(p.title.clone())).unwrap_or_else(|| status.canonical_reason().unwrap_or("error").into());
    let detail = match status {
        StatusCode::UNAUTHORIZED => format!("{detail}; store a valid portal token"),
        StatusCode::PAYLOAD_TOO_LARGE => format!("{detail}; the file is larger than the portal accepts"),
        _ => detail,
    };
    Error::PortalRefused { status: status.as_u16(), kind, detail }
}

//! The portal API v1 client (`shared/spec/portal-api.md`).
//!
//! Rules that hold for every request (ARCHITECTURE.md, "Security rules"):
//! - the address is a [`PortalUrl`]: https, or plain http only to loopback;
//! - a loopback portal is never reached through a proxy (configured or from the
//!   environment), so a token never crosses a proxy in clear;
//! - redirects are followed only to the same scheme, host and port;
//! - answers are read up to [`MAX_RESPONSE_BYTES`];
//! - only requests that are safe to repeat are retried ([`Repeat`]), on connection
//!   failures, timeouts, 5xx, 408 and 429 (honouring Retry-After), a bounded number
//!   of times; an unreachable portal is reported within [`UNREACHABLE_WITHIN`].

use crate::activation::ActivationCode;
use crate::digest::sha256_hex;
use crate::error::Error;
use crate::fs::Links;
use crate::payload::Consumption;
use crate::payload::UploadStatus;
use crate::portal_url::PortalUrl;
use crate::serial::SerialNumber;
use crate::timestamp::Timestamp;
use crate::trust::{Confirmed, Proposal};
use reqwest::{header, Method, StatusCode};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;

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
    base: PortalUrl,
    token: Option<String>,
    http: reqwest::Client,
    opts: ClientOptions,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct UploadResult {
    pub upload_id: Uuid,
    pub status: UploadStatus,
    pub reasons: Vec<String>,
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received_at: Timestamp,
    /// The armored upload receipt (spec v1.1), signed with the vendor key.
    #[serde(default)]
    pub receipt: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Slot {
    pub environment_type: crate::payload::EnvironmentType,
    pub serial_number: Option<SerialNumber>,
    pub name: Option<String>,
    /// Beyond the spec (the reference portal sends them): the license issued last,
    /// its expiry, and the last audit's verdict and time.
    #[serde(default)]
    pub license_id: Option<Uuid>,
    /// When the license issued last starts (a renewed term's starts later).
    #[serde(default, with = "crate::timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub license_not_before: Option<Timestamp>,
    #[serde(default, with = "crate::timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub license_expires_at: Option<Timestamp>,
    #[serde(default)]
    pub last_audit_status: Option<UploadStatus>,
    #[serde(default, with = "crate::timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub last_audit_at: Option<Timestamp>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Subscription {
    pub activation_code: ActivationCode,
    pub customer: String,
    pub entitlements: crate::payload::Entitlements,
    #[serde(default, with = "crate::timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<Timestamp>,
    pub slots: Vec<Slot>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Registration {
    pub serial_number: SerialNumber,
    pub environment_type: crate::payload::EnvironmentType,
    pub name: String,
    /// The environment's public key; a workstation registering a typed serial has
    /// none, and the portal pins the key on first sight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_key: Option<String>,
    /// Why a slot freed while its license is still valid is reused: the portal asks
    /// for one then (`reason-required`), as the vendor's procedure does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PortalUpload {
    pub upload_id: Uuid,
    #[serde(default)]
    pub serial_number: Option<SerialNumber>,
    pub status: UploadStatus,
    pub reasons: Vec<String>,
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received_at: Timestamp,
    #[serde(default)]
    pub audit_id: Option<Uuid>,
    #[serde(default, with = "crate::timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub period_start: Option<Timestamp>,
    #[serde(default, with = "crate::timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub period_end: Option<Timestamp>,
    pub consumption: Option<Consumption>,
}

#[derive(Deserialize)]
struct ProblemJson {
    #[serde(rename = "type")]
    kind: Option<String>,
    detail: Option<String>,
    title: Option<String>,
}

/// Answers larger than this are refused: the largest document is 1 MiB, and a
/// subscription's history is far smaller.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// Error answers are read only this far (their detail is shown to a person).
const MAX_PROBLEM_BYTES: usize = 64 * 1024;
/// Uploads asked for per page of the upload history (the reference portal's most).
const HISTORY_PAGE: usize = 1000;
/// Pages read at most: 100,000 uploads, centuries of one environment's audits.
const MAX_HISTORY_PAGES: usize = 100;
const MAX_REDIRECTS: usize = 5;

/// Whether a request may be sent again after a failure whose outcome is unknown
/// (`shared/spec/portal-api.md`, "Retries").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// GET and DELETE, and POSTs the portal makes idempotent by themselves
    /// (registration, license requests).
    Safe,
    /// A POST that carries an `Idempotency-Key`: the portal keeps its first answer.
    WithKey,
    /// Anything else: sent once, never repeated.
    Never,
}

struct Call<'a> {
    method: Method,
    path: String,
    body: Option<(&'static str, &'a [u8])>,
    auth: bool,
    idempotency_key: Option<String>,
    repeat: Repeat,
}

impl<'a> Call<'a> {
    fn get(path: String) -> Self {
        Call { method: Method::GET, path, body: None, auth: true, idempotency_key: None, repeat: Repeat::Safe }
    }
    fn post(path: String, body: Option<(&'static str, &'a [u8])>, repeat: Repeat) -> Self {
        Call { method: Method::POST, path, body, auth: true, idempotency_key: None, repeat }
    }
    fn with_key(mut self, key: String) -> Self {
        self.idempotency_key = Some(key);
        self.repeat = Repeat::WithKey;
        self
    }
    /// The one retry rule.
    fn may_repeat(&self) -> bool {
        match self.repeat {
            Repeat::Safe => true,
            Repeat::WithKey => self.idempotency_key.is_some(),
            Repeat::Never => false,
        }
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
    pub fn new(base: &PortalUrl, token: Option<String>, opts: ClientOptions) -> Result<Self, Error> {
        let bad = |reason: String| Error::PortalProtocol { reason };
        let origin = base.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if !origin.same_origin(attempt.url()) {
                let to = format!("{}://{}", attempt.url().scheme(), attempt.url().host_str().unwrap_or(""));
                attempt.error(format!("the portal redirected to {to}; only redirects within {origin} are followed"))
            } else {
                attempt.follow()
            }
        });
        let mut b = reqwest::Client::builder()
            .connect_timeout(UNREACHABLE_WITHIN - Duration::from_millis(500))
            .timeout(opts.request_timeout)
            .redirect(redirects)
            .user_agent(concat!("license-manager/", env!("CARGO_PKG_VERSION")));
        if base.is_loopback() {
            // Plain http is allowed only here; a proxy would see the token in clear.
            b = b.no_proxy();
        } else if let Some(p) = &opts.proxy {
            b = b.proxy(reqwest::Proxy::all(p).map_err(|e| bad(format!("proxy '{p}': {e}")))?);
        }
        if let Some(ca) = &opts.ca_bundle {
            let pem = crate::fs::read_capped(ca, crate::kind::MAX_FILE_BYTES, Links::Follow)?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| bad(format!("CA bundle {}: {e}", ca.display())))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        let http = b.build().map_err(|e| bad(e.to_string()))?;
        Ok(Self { base: base.clone(), token, http, opts })
    }

    pub fn base_url(&self) -> &PortalUrl {
        &self.base
    }

    fn token(&self) -> Result<&str, Error> {
        self.token.as_deref().ok_or_else(|| Error::NoToken { url: self.base.to_string() })
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        Error::PortalUnreachable { url: self.base.to_string(), reason: describe(e) }
    }

    async fn attempt(&self, call: &Call<'_>) -> Attempt {
        let mut rb = self.http.request(call.method.clone(), self.base.join(&call.path));
        if call.auth {
            match self.token() {
                Ok(t) => rb = rb.bearer_auth(t),
                Err(e) => return Attempt::Fail(e),
            }
        }
        if let Some(key) = &call.idempotency_key {
            rb = rb.header("Idempotency-Key", key);
        }
        if let Some((ctype, bytes)) = call.body {
            rb = rb.header(header::CONTENT_TYPE, ctype).body(bytes.to_vec());
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) if e.is_redirect() => return Attempt::Fail(Error::PortalProtocol { reason: describe(&e) }),
            Err(e) => return Attempt::Retry { after: None, error: self.unreachable(&e), connect: e.is_connect() },
        };
        let status = resp.status();
        if status.is_success() {
            // The body is part of the attempt: a connection that breaks while the
            // answer arrives is retried like any other reset.
            return match read_capped(resp, MAX_RESPONSE_BYTES).await {
                Ok(Ok(b)) => Attempt::Done(b),
                Ok(Err(too_large)) => Attempt::Fail(too_large),
                Err(e) => Attempt::Retry { after: None, error: self.unreachable(&e), connect: false },
            };
        }
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match read_capped(resp, MAX_PROBLEM_BYTES).await {
            Ok(Ok(b)) => String::from_utf8_lossy(&b).into_owned(),
            _ => String::new(),
        };
        let error = problem(status, body);
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT
        {
            Attempt::Retry { after: retry_after, error, connect: false }
        } else {
            Attempt::Fail(error)
        }
    }

    /// Sends, and repeats with bounded backoff where [`Call::may_repeat`] allows.
    async fn call(&self, call: Call<'_>) -> Result<Vec<u8>, Error> {
        let start = Instant::now();
        let mut delay = self.opts.base_delay;
        let mut tries = 0;
        loop {
            match self.attempt(&call).await {
                Attempt::Done(body) => return Ok(body),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { after, error, connect } => {
                    tries += 1;
                    let wait = after.unwrap_or(delay).min(self.opts.max_delay);
                    // A portal that cannot even be connected to is reported promptly.
                    let out_of_time =
                        connect && start.elapsed() + wait >= UNREACHABLE_WITHIN - Duration::from_millis(200);
                    if !call.may_repeat() || tries > self.opts.retries || out_of_time {
                        return Err(error);
                    }
                    tracing::warn!(path = %call.path, attempt = tries, wait_ms = wait.as_millis() as u64, error = %error, "portal request failed; retrying");
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
        let call = Call { auth: false, ..Call::get("/api/v1/health".into()) };
        self.call(call).await.map(drop)
    }

    pub async fn subscription(&self, code: &ActivationCode) -> Result<Subscription, Error> {
        Self::json(&self.call(Call::get(format!("/api/v1/subscriptions/{code}"))).await?)
    }

    /// Idempotent by itself: the same serial again answers with the slot it holds.
    pub async fn register(&self, code: &ActivationCode, r: &Registration) -> Result<(), Error> {
        let body = serde_json::to_vec(r).expect("json");
        let call = Call::post(
            format!("/api/v1/subscriptions/{code}/environments"),
            Some(("application/json", &body)),
            Repeat::Safe,
        );
        self.call(call).await.map(drop)
    }

    /// Frees a slot: a trust change (the environment's license is no longer the
    /// subscription's), so it takes a confirmed [`FreeSlot`].
    pub async fn unregister(&self, slot: Confirmed<FreeSlot>) -> Result<(), Error> {
        let FreeSlot { code, serial } = slot.into_inner();
        let call =
            Call { method: Method::DELETE, ..Call::get(format!("/api/v1/subscriptions/{code}/environments/{serial}")) };
        self.call(call).await.map(drop)
    }

    pub async fn download_license(&self, serial: &SerialNumber) -> Result<String, Error> {
        Self::text(self.call(Call::get(format!("/api/v1/environments/{serial}/license"))).await?)
    }

    /// One key per administrator action: a retry after a lost answer is recognised
    /// by the portal, so the contacts get one mail.
    pub async fn send_license(&self, serial: &SerialNumber) -> Result<Vec<String>, Error> {
        #[derive(Deserialize)]
        struct Sent {
            sent_to: Vec<String>,
        }
        let call = Call::post(format!("/api/v1/environments/{serial}/license/send"), None, Repeat::Never)
            .with_key(uuid::Uuid::new_v4().to_string());
        let s: Sent = Self::json(&self.call(call).await?)?;
        Ok(s.sent_to)
    }

    /// Idempotent by itself: the same request file yields the same license.
    pub async fn license_from_request(&self, request_file: &[u8]) -> Result<String, Error> {
        let call = Call::post(
            "/api/v1/license-requests".into(),
            Some(("application/x-license-request", request_file)),
            Repeat::Safe,
        );
        Self::text(self.call(call).await?)
    }

    pub async fn upload_audit(&self, audit_file: &[u8]) -> Result<UploadResult, Error> {
        // The portal refuses a body over this size without reading it; checked here so
        // the administrator gets the reason, not a connection closed mid-upload.
        crate::armor::within_limit(crate::kind::DocumentKind::Audit, audit_file)?;
        let call =
            Call::post("/api/v1/audits".into(), Some(("application/x-license-audit", audit_file)), Repeat::Never)
                .with_key(sha256_hex(audit_file));
        Self::json(&self.call(call).await?)
    }

    /// The subscription's upload history, newest first (only `serial`'s when given),
    /// read page by page: each page continues after the last upload of the one
    /// before. A portal that ignores the pages' parameters still gives a whole
    /// history: a page with nothing new, or larger than asked, ends it.
    pub async fn audit_history(
        &self,
        code: &ActivationCode,
        serial: Option<&SerialNumber>,
    ) -> Result<Vec<PortalUpload>, Error> {
        let only = serial.map(|s| format!("&serial_number={s}")).unwrap_or_default();
        let mut all: Vec<PortalUpload> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut before = String::new();
        for _ in 0..MAX_HISTORY_PAGES {
            let path = format!("/api/v1/subscriptions/{code}/audits?limit={HISTORY_PAGE}{only}{before}");
            let page: Vec<PortalUpload> = Self::json(&self.call(Call::get(path)).await?)?;
            let full = page.len() == HISTORY_PAGE;
            let before_len = all.len();
            all.extend(page.into_iter().filter(|u| seen.insert(u.upload_id)));
            match all.last() {
                Some(last) if full && all.len() > before_len => before = format!("&before={}", last.upload_id),
                _ => return Ok(all),
            }
        }
        Err(Error::PortalProtocol {
            reason: format!(
                "the upload history has more than {} uploads; only that many are read",
                MAX_HISTORY_PAGES * HISTORY_PAGE
            ),
        })
    }
}

/// Reads an answer's body up to `limit` bytes. The outer error is the connection's;
/// the inner one an answer that is too large.
async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Result<Vec<u8>, Error>, reqwest::Error> {
    let too_large = |size: u64| Error::PortalProtocol {
        reason: format!("the answer is larger than {limit} bytes ({size} or more)"),
    };
    if let Some(len) = resp.content_length().filter(|l| *l > limit as u64) {
        return Ok(Err(too_large(len)));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if out.len() + chunk.len() > limit {
            return Ok(Err(too_large((out.len() + chunk.len()) as u64)));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Ok(out))
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

/// The most of a portal's problem title or detail that is shown or kept.
pub const MAX_PROBLEM_CHARS: usize = 500;

/// A non-success answer as a specific error: problem+json when the portal sends it.
fn problem(status: StatusCode, body: String) -> Error {
    let p: Option<ProblemJson> = serde_json::from_str(&body).ok();
    let kind = p
        .as_ref()
        .and_then(|p| p.kind.as_deref())
        .map(|k| k.rsplit('/').next().unwrap_or(k).to_string())
        .unwrap_or_else(|| status.as_str().into());
    let detail = p
        .as_ref()
        .and_then(|p| p.detail.clone().or(p.title.clone()))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").into());
    // The portal's words reach a terminal, a log and the renewal history.
    let kind = crate::text::printable_capped(&kind, 100);
    let detail = crate::text::printable_capped(&detail, MAX_PROBLEM_CHARS);
    let detail = match status {
        StatusCode::UNAUTHORIZED => format!("{detail}; store a valid portal token"),
        StatusCode::PAYLOAD_TOO_LARGE => format!("{detail}; the file is larger than the portal accepts"),
        _ => detail,
    };
    Error::PortalRefused { status: status.as_u16(), kind, detail }
}

/// Freeing one slot of a subscription, waiting for its confirmation.
pub struct FreeSlot {
    code: ActivationCode,
    serial: SerialNumber,
}

impl FreeSlot {
    /// `name` is the environment's name as the slot table shows it, if known.
    pub fn propose(code: ActivationCode, serial: SerialNumber, name: Option<&str>) -> Proposal<FreeSlot> {
        let who = match name {
            Some(n) => format!("{} ({serial})", crate::text::printable(n)),
            None => serial.to_string(),
        };
        let line = format!(
            "Free the slot of {who} in subscription {code}: its license no longer counts for the subscription, and another environment may take the slot"
        );
        Proposal::new(FreeSlot { code, serial }, "Free this slot?", vec![line])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A portal's problem text reaches a terminal, a log and the renewal history:
    /// control characters go, and a megabyte of detail is cut to a few hundred
    /// characters.
    #[test]
    fn a_hostile_problem_is_printed_safely_and_capped() {
        let detail = format!("\u{1b}[2J\u{1b}]0;owned\u{7}{}", "A".repeat(1 << 20));
        let body = serde_json::json!({"type": "https://x/\u{1b}[31mno-free-slot", "title": "t", "detail": detail});
        let Error::PortalRefused { kind, detail, .. } = problem(StatusCode::CONFLICT, body.to_string()) else {
            panic!("a refusal")
        };
        assert!(!detail.chars().any(char::is_control), "{:?}", &detail[..40]);
        assert!(!kind.chars().any(char::is_control), "{kind:?}");
        assert_eq!(detail.chars().count(), MAX_PROBLEM_CHARS + 1, "cut, with an ellipsis");
        assert!(detail.starts_with("[2J]0;ownedAAA") && detail.ends_with('…'), "{}", &detail[..40]);
    }
}

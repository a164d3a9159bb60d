//! The portal API v1 handlers (`shared/spec/portal-api.md`).

use crate::db::{self, TokenGrant};
use crate::faults::{Applies, Fault, Faults};
use crate::permission::Permission;
use crate::problem::Problem;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Request as HttpRequest, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use license_core::payload::UploadStatus;
use license_core::payload::{Entitlements, Receipt, SelfSigned};
use license_core::portal::UploadResult;
use license_core::DocumentKind;
use license_core::{
    ActivationCode, Audit, EnvironmentType, KeyPair, License, Payload, PublicKey, Request, SerialNumber,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use uuid::Uuid;

pub const MAX_BODY: usize = 1024 * 1024;
/// `license/send` mails the contacts: at most this many sends per serial per hour.
pub const SENDS_PER_HOUR: i64 = 3;

/// The OpenAPI document of the API, also served at `/api/v1/openapi.yaml`.
pub const OPENAPI: &str = include_str!("../openapi.yaml");

pub struct Portal {
    pub db: Mutex<Connection>,
    pub vendor: KeyPair,
    pub faults: Option<Faults>,
}

impl Portal {
    /// The database. A handler that panicked while holding it must not take the
    /// portal down: SQLite rolled its transaction back, so the connection is sound.
    pub fn db(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) type Shared = Arc<Portal>;
pub(crate) type ApiResult = Result<Response, Problem>;

pub fn router(portal: Shared) -> Router {
    let mut r = Router::new()
        .route("/api/v1/subscriptions/{code}", get(subscription))
        .route("/api/v1/subscriptions/{code}/environments", post(register))
        .route("/api/v1/subscriptions/{code}/environments/{serial}", delete(unregister))
        .route("/api/v1/subscriptions/{code}/audits", get(crate::uploads::history))
        .route("/api/v1/subscriptions/{code}/history", get(history))
        .route("/api/v1/environments/{serial}/license", get(download_license))
        .route("/api/v1/environments/{serial}/license/send", post(send_license))
        .route("/api/v1/license-requests", post(license_request))
        .route("/api/v1/audits", post(upload_audit))
        // Before any path or body is looked at: without a valid token the answer is
        // 401, never a 400 that tells an anonymous caller what the API accepts.
        .route_layer(middleware::from_fn_with_state(portal.clone(), authenticate))
        .route("/api/v1/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/api/v1/openapi.yaml", get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI) }));
    if portal.faults.is_some() {
        r = r
            .route_layer(middleware::from_fn_with_state(portal.clone(), apply_faults))
            .route("/_faults", post(push_post_faults))
            .route("/_faults/get", post(push_get_faults));
    }
    r.fallback(|| async { Problem::not_found("no such API path: see /api/v1/openapi.yaml") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Refuses a declared Content-Length over the limit before reading any of it, so
        // a client learns at once instead of sending a megabyte that is thrown away.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .layer(middleware::map_response(as_problem))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            Problem::internal("a handler panicked").into_response()
        }))
        .with_state(portal)
}

/// Every error answer is problem+json, including axum's own rejections (bad JSON,
/// body too large, wrong method): clients parse one error shape.
async fn as_problem(r: Response) -> Response {
    let status = r.status();
    let is_problem =
        r.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return r;
    }
    let text = axum::body::to_bytes(r.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let (kind, title) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "Body too large"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
        s if s.is_server_error() => ("internal", "Internal error"),
        _ => ("bad-request", "Bad request"),
    };
    let detail = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text.trim().to_string()
    };
    Problem::new(status, kind, title, detail).into_response()
}

async fn push_post_faults(State(p): State<Shared>, Json(f): Json<Vec<Fault>>) -> StatusCode {
    push_faults(&p, Applies::Post, f)
}

async fn push_get_faults(State(p): State<Shared>, Json(f): Json<Vec<Fault>>) -> StatusCode {
    push_faults(&p, Applies::Get, f)
}

fn push_faults(p: &Portal, to: Applies, f: Vec<Fault>) -> StatusCode {
    if let Some(faults) = &p.faults {
        faults.push(to, f);
    }
    StatusCode::NO_CONTENT
}

/// A response whose body fails after the headers: hyper aborts the connection, so
/// the client sees it break and never gets the answer.
fn dropped_connection() -> Response {
    Response::builder().status(StatusCode::CREATED).body(Body::new(FailingBody(false))).expect("response")
}

struct FailingBody(bool);

impl http_body::Body for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        if self.0 {
            return std::task::Poll::Ready(None);
        }
        self.0 = true;
        std::task::Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fault injected"))))
    }
}

/// Applies the next scripted fault for the request's method: POSTs (whose answers
/// can be lost after the portal acted on them) and GETs have a script each.
async fn apply_faults(State(p): State<Shared>, req: HttpRequest, next: Next) -> Response {
    let to = match *req.method() {
        Method::POST => Applies::Post,
        Method::GET => Applies::Get,
        _ => return next.run(req).await,
    };
    let Some(faults) = p.faults.as_ref() else { return next.run(req).await };
    match faults.next(to) {
        None => next.run(req).await,
        Some(Fault::Delay { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(Fault::Status { status, retry_after }) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut r = Problem::new(code, "injected", "Injected fault", "a test fault").into_response();
            if let Some(s) = retry_after {
                r.headers_mut().insert(header::RETRY_AFTER, s.into());
            }
            r
        }
        Some(Fault::DropBeforeCommit) => dropped_connection(),
        Some(Fault::DropAfterCommit) => {
            next.run(req).await;
            dropped_connection()
        }
        Some(Fault::PanicHoldingDb) => {
            let _db = p.db();
            panic!("fault injected: panic while holding the database");
        }
    }
}

/// Every API route but health and the document: a known token first. Each handler
/// then checks the permissions and the subscription its request needs.
async fn authenticate(State(p): State<Shared>, request: HttpRequest, next: Next) -> Response {
    match authorize(&p, request.headers(), &[]) {
        Ok(_) => next.run(request).await,
        Err(problem) => problem.into_response(),
    }
}

/// The token's grant, which must hold every permission in `all`.
pub(crate) fn authorize(p: &Portal, headers: &HeaderMap, all: &[Permission]) -> Result<TokenGrant, Problem> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(Problem::unauthorized)?;
    let grant = db::find_token(&p.db(), token.trim())?.ok_or_else(Problem::unauthorized)?;
    if let Some(missing) = all.iter().find(|perm| !grant.permissions.contains(perm)) {
        return Err(Problem::forbidden(missing.as_str()));
    }
    Ok(grant)
}

/// A serial outside the token's subscription gets exactly the answer of a serial
/// that is registered nowhere, so a token learns nothing about other subscriptions.
fn not_registered_here(serial: &str) -> Problem {
    Problem::not_found(format!("serial {serial} is not registered in this subscription: register it in a slot first"))
}

pub(crate) fn code_param(code: &str) -> Result<String, Problem> {
    code.parse::<ActivationCode>()
        .map(|c| c.to_string())
        .map_err(|e| Problem::bad_request("invalid-activation-code", e.to_string()))
}

pub(crate) fn serial_param(serial: &str) -> Result<String, Problem> {
    serial
        .parse::<SerialNumber>()
        .map(|s| s.to_string())
        .map_err(|e| Problem::bad_request("invalid-serial-number", e.to_string()))
}

pub(crate) fn same_subscription(grant: &TokenGrant, code: &str) -> Result<(), Problem> {
    if grant.activation_code != code {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "other-subscription",
            "Other subscription",
            "this token belongs to another subscription",
        ));
    }
    Ok(())
}

struct Sub {
    customer: String,
    entitlements: Entitlements,
    contacts: Vec<String>,
    expires_at: Option<String>,
    /// When the current term starts, if a renewal set one.
    starts_at: Option<String>,
}

fn load_sub(c: &Connection, code: &str) -> Result<Sub, Problem> {
    c.query_row(
        "SELECT customer, entitlements, contacts, expires_at, starts_at FROM subscriptions WHERE activation_code = ?1",
        [code],
        |r| {
            let ent: String = r.get(1)?;
            let contacts: String = r.get(2)?;
            Ok(Sub {
                customer: r.get(0)?,
                entitlements: serde_json::from_str(&ent).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
                })?,
                contacts: serde_json::from_str(&contacts).unwrap_or_default(),
                expires_at: r.get(3)?,
                starts_at: r.get(4)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Problem::not_found(format!("no subscription {code}")))
}

async fn subscription(State(p): State<Shared>, headers: HeaderMap, Path(code): Path<String>) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, &[Permission::Read])?;
    same_subscription(&grant, &code)?;
    let c = p.db();
    let sub = load_sub(&c, &code)?;
    // Beyond the spec's type, serial and name: the license issued last (its id and
    // term) and the last audit, so a workstation sees the infrastructure at a glance.
    let latest = |column: &str| {
        format!(
            "(SELECT {column} FROM licenses l WHERE l.serial_number = s.serial_number AND l.activation_code = s.activation_code
              ORDER BY issued_at DESC, rowid DESC LIMIT 1)"
        )
    };
    let last_audit = |column: &str| {
        format!(
            "(SELECT {column} FROM audits a WHERE a.serial_number = s.serial_number AND a.uploader = s.activation_code
              ORDER BY received_at DESC, rowid DESC LIMIT 1)"
        )
    };
    let mut stmt = c.prepare(&format!(
        "SELECT s.environment_type, s.serial_number, s.name, {}, {}, {}, {}, {}
         FROM slots s WHERE s.activation_code = ?1 ORDER BY s.id",
        latest("license_id"),
        last_audit("status"),
        last_audit("received_at"),
        latest("not_before"),
        latest("expires_at"),
    ))?;
    let slots: Vec<Value> = stmt
        .query_map([&code], |r| {
            Ok(json!({
                "environment_type": r.get::<_, String>(0)?,
                "serial_number": r.get::<_, Option<String>>(1)?,
                "name": r.get::<_, Option<String>>(2)?,
                "license_id": r.get::<_, Option<String>>(3)?,
                "license_not_before": r.get::<_, Option<String>>(6)?,
                "license_expires_at": r.get::<_, Option<String>>(7)?,
                "last_audit_status": r.get::<_, Option<String>>(4)?,
                "last_audit_at": r.get::<_, Option<String>>(5)?,
            }))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Json(json!({"activation_code": code, "customer": sub.customer, "entitlements": sub.entitlements, "expires_at": sub.expires_at, "slots": slots}))
        .into_response())
}

#[derive(Deserialize)]
struct Registration {
    serial_number: String,
    environment_type: EnvironmentType,
    name: String,
    /// Optional: a workstation registering a typed serial does not have it; the key
    /// is then pinned on first sight (the first request or audit of that serial).
    #[serde(default)]
    environment_key: Option<String>,
    /// Why a slot freed while its license is still valid is registered again (the
    /// vendor's procedure asks for one); ignored otherwise.
    #[serde(default)]
    reason: Option<String>,
}

/// An environment's name as others will print it: 1 to 100 characters, trimmed, and
/// no control characters (a name is shown in terminals and tables, where escape
/// sequences would rewrite what an administrator sees).
fn valid_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("a name has 1 to 100 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("a name has no control characters (line breaks, escapes)".into());
    }
    Ok(name)
}

/// The type and pinned key of `serial`'s slot in this subscription. Only this
/// subscription's slots: a serial another subscription holds is registered here
/// like any unknown one, so its existence never shows.
fn slot_of(c: &Connection, code: &str, serial: &str) -> Result<Option<(String, Option<String>)>, Problem> {
    Ok(c.query_row(
        "SELECT environment_type, environment_key FROM slots WHERE activation_code = ?1 AND serial_number = ?2",
        [code, serial],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

/// A free slot of `env_type`, preferring one whose freed license has run out:
/// reusing a slot while its license is valid would leave two valid licenses for
/// one slot. The second value names the serial whose license is still valid there.
fn free_slot(
    c: &Connection,
    code: &str,
    serial: &str,
    env_type: EnvironmentType,
    now: &str,
) -> Result<(i64, Option<String>), Problem> {
    let free: Option<(i64, Option<String>)> = c
        .query_row(
            "SELECT s.id,
                    (SELECT l.serial_number FROM licenses l WHERE l.slot_id = s.id AND l.revoked_at IS NOT NULL
                       AND l.serial_number != ?3 AND (l.expires_at IS NULL OR l.expires_at > ?4) LIMIT 1) AS still_valid
             FROM slots s WHERE s.activation_code = ?1 AND s.environment_type = ?2 AND s.serial_number IS NULL
             ORDER BY still_valid IS NOT NULL, s.id LIMIT 1",
            params![code, env_type.as_str(), serial, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    free.ok_or_else(|| {
        Problem::conflict(
            "no-free-slot",
            format!("the subscription has no free {env_type} slot: free one, or ask your account manager for another"),
        )
    })
}

/// Puts `serial` in a free slot of `env_type`; idempotent for the same serial.
/// `key` is pinned only when it comes from a document that key signed (a license
/// request): a key merely named in a registration proves nothing. `reason` is
/// needed to reuse a slot whose freed license is still valid.
fn register_serial(
    c: &Connection,
    code: &str,
    serial: &str,
    env_type: EnvironmentType,
    name: &str,
    key: Option<&str>,
    reason: Option<&str>,
) -> Result<bool, Problem> {
    if let Some((t, pinned)) = slot_of(c, code, serial)? {
        if let (Some(pinned), Some(key)) = (&pinned, key) {
            if pinned != key {
                return Err(Problem::conflict(
                    "environment-key-mismatch",
                    format!("serial {serial} is registered with another environment key; free the slot to re-register"),
                ));
            }
        }
        if pinned.is_none() && key.is_some() {
            c.execute(
                "UPDATE slots SET environment_key = ?1 WHERE activation_code = ?2 AND serial_number = ?3",
                params![key, code, serial],
            )?;
        }
        if t != env_type.as_str() {
            return Err(Problem::conflict(
                "environment-type-mismatch",
                format!("serial {serial} is registered as {t}"),
            ));
        }
        return Ok(false);
    }
    let now = license_core::timestamp::format(&Utc::now());
    let (slot, still_valid) = free_slot(c, code, serial, env_type, &now)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let (Some(previous), None) = (&still_valid, reason) {
        return Err(Problem::conflict(
            "reason-required",
            format!("the only free {env_type} slot was freed while the license of {previous} in it is still valid: registering {serial} there needs a stated reason (for example a moved or rebuilt server); give one"),
        ));
    }
    c.execute(
        "UPDATE slots SET serial_number = ?1, name = ?2, environment_key = ?3 WHERE id = ?4",
        params![serial, name, key, slot],
    )?;
    c.execute(
        "INSERT INTO slot_events (slot_id, activation_code, serial_number, event, reason, at) VALUES (?1, ?2, ?3, 'registered', ?4, ?5)",
        params![slot, code, serial, reason, now],
    )?;
    Ok(true)
}

async fn register(
    State(p): State<Shared>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Json(body): Json<Registration>,
) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, &[Permission::Register])?;
    same_subscription(&grant, &code)?;
    let serial = serial_param(&body.serial_number)?;
    let name = valid_name(&body.name).map_err(|why| Problem::bad_request("invalid-name", why))?;
    if let Some(k) = &body.environment_key {
        PublicKey::from_base64url(k).map_err(|e| Problem::bad_request("invalid-environment-key", e.to_string()))?;
    }
    let c = p.db();
    load_sub(&c, &code)?;
    // The key named in the body is checked but not pinned: whoever registers (a
    // workstation typing a serial) need not be the environment. The key is pinned
    // from the environment's own signed request or audit.
    let created = register_serial(&c, &code, &serial, body.environment_type, name, None, body.reason.as_deref())?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"serial_number": serial, "environment_type": body.environment_type, "name": name})))
        .into_response())
}

async fn unregister(
    State(p): State<Shared>,
    headers: HeaderMap,
    Path((code, serial)): Path<(String, String)>,
) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, &[Permission::Register])?;
    same_subscription(&grant, &code)?;
    let serial = serial_param(&serial)?;
    let c = p.db();
    let slot: Option<i64> = c
        .query_row("SELECT id FROM slots WHERE activation_code = ?1 AND serial_number = ?2", [&code, &serial], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(slot) = slot else {
        return Err(Problem::not_found(format!("serial {serial} is not registered in this subscription")));
    };
    let now = license_core::timestamp::format(&Utc::now());
    // The freed serial's licenses are revoked, and the subscription's history says so.
    c.execute(
        "UPDATE licenses SET revoked_at = ?1 WHERE activation_code = ?2 AND serial_number = ?3 AND revoked_at IS NULL",
        params![now, code, serial],
    )?;
    c.execute(
        "INSERT INTO slot_events (slot_id, activation_code, serial_number, event, at) VALUES (?1, ?2, ?3, 'freed', ?4)",
        params![slot, code, serial, now],
    )?;
    c.execute("UPDATE slots SET serial_number = NULL, name = NULL, environment_key = NULL WHERE id = ?1", [slot])?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The subscription's license history: every license issued (newest first), with
/// when a freed slot revoked it, and the slot events with their reasons.
async fn history(State(p): State<Shared>, headers: HeaderMap, Path(code): Path<String>) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, &[Permission::Read])?;
    same_subscription(&grant, &code)?;
    let c = p.db();
    let mut stmt = c.prepare(
        "SELECT license_id, serial_number, issued_at, expires_at, revoked_at FROM licenses
         WHERE activation_code = ?1 ORDER BY issued_at DESC, rowid DESC",
    )?;
    let licenses: Vec<Value> = stmt
        .query_map([&code], |r| {
            Ok(json!({
                "license_id": r.get::<_, String>(0)?,
                "serial_number": r.get::<_, String>(1)?,
                "issued_at": r.get::<_, String>(2)?,
                "expires_at": r.get::<_, Option<String>>(3)?,
                "revoked_at": r.get::<_, Option<String>>(4)?,
            }))
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = c.prepare(
        "SELECT serial_number, event, reason, at FROM slot_events WHERE activation_code = ?1 ORDER BY at DESC, id DESC",
    )?;
    let events: Vec<Value> = stmt
        .query_map([&code], |r| {
            Ok(json!({
                "serial_number": r.get::<_, String>(0)?,
                "event": r.get::<_, String>(1)?,
                "reason": r.get::<_, Option<String>>(2)?,
                "at": r.get::<_, String>(3)?,
            }))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Json(json!({"licenses": licenses, "slot_events": events})).into_response())
}

/// Whether [`issue`] may hand out the license already issued on the same terms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Issue {
    /// Downloads and sends: the same serial and slot get the same license until
    /// its terms change (entitlements, expiry, type, customer) or it is revoked.
    Current,
    /// A license request asks for a license of its own.
    New,
}

/// The license already issued for `serial` in `slot` on these terms, unless revoked.
fn current_license(
    c: &Connection,
    code: &str,
    serial: &str,
    slot: i64,
    terms: &str,
) -> Result<Option<String>, Problem> {
    Ok(c.query_row(
        "SELECT file FROM licenses WHERE activation_code = ?1 AND serial_number = ?2 AND slot_id = ?3
           AND terms_sha256 = ?4 AND revoked_at IS NULL AND file IS NOT NULL
         ORDER BY issued_at DESC, rowid DESC LIMIT 1",
        params![code, serial, slot, terms],
        |r| r.get(0),
    )
    .optional()?)
}

/// Issues (or, with [`Issue::Current`], finds) and records the license for a serial
/// registered in subscription `code`.
fn issue(p: &Portal, c: &Connection, code: &str, serial: &str, how: Issue) -> Result<String, Problem> {
    let (slot, env_type): (i64, String) = c
        .query_row(
            "SELECT id, environment_type FROM slots WHERE activation_code = ?1 AND serial_number = ?2",
            [code, serial],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| Problem::not_found(format!("serial {serial} is not registered: register it in a slot first")))?;
    let sub = load_sub(c, code)?;
    let terms = license_core::sha256_hex(
        json!([code, serial, slot, env_type, sub.customer, sub.entitlements, sub.expires_at, sub.starts_at])
            .to_string()
            .as_bytes(),
    );
    if how == Issue::Current {
        if let Some(file) = current_license(c, code, serial, slot, &terms)? {
            return Ok(file);
        }
    }
    let code = code.to_string();
    let now = Utc::now();
    let term_starts =
        sub.starts_at.as_deref().map(license_core::timestamp::parse).transpose().map_err(Problem::internal)?;
    let lic = License {
        format: 1,
        license_id: Uuid::new_v4(),
        activation_code: code.parse().map_err(Problem::internal)?,
        serial_number: serial.parse().map_err(Problem::internal)?,
        environment_type: env_type.parse().map_err(Problem::internal)?,
        customer: sub.customer,
        issued_at: now,
        // A renewed term starts when the current one ends: its license is staged.
        not_before: term_starts.unwrap_or(now - chrono::Duration::minutes(5)),
        expires_at: sub
            .expires_at
            .as_deref()
            .map(license_core::timestamp::parse)
            .transpose()
            .map_err(Problem::internal)?,
        entitlements: sub.entitlements,
    };
    let file = lic.seal(&p.vendor);
    c.execute(
        "INSERT INTO licenses (license_id, serial_number, activation_code, issued_at, slot_id, terms_sha256, file, expires_at, not_before)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            lic.license_id.to_string(),
            serial,
            code,
            license_core::timestamp::format(&now),
            slot,
            terms,
            file,
            lic.expires_at.as_ref().map(license_core::timestamp::format),
            license_core::timestamp::format(&lic.not_before)
        ],
    )?;
    Ok(file)
}

fn license_response(file: String) -> Response {
    ([(header::CONTENT_TYPE, "application/x-license-file")], file).into_response()
}

/// Checks that `serial` is registered in the token's subscription.
fn serial_in_subscription(c: &Connection, grant: &TokenGrant, serial: &str) -> Result<(), Problem> {
    let found: Option<String> = c
        .query_row(
            "SELECT activation_code FROM slots WHERE serial_number = ?1 AND activation_code = ?2",
            [serial, &grant.activation_code],
            |r| r.get(0),
        )
        .optional()?;
    found.map(drop).ok_or_else(|| not_registered_here(serial))
}

async fn download_license(State(p): State<Shared>, headers: HeaderMap, Path(serial): Path<String>) -> ApiResult {
    let serial = serial_param(&serial)?;
    let grant = authorize(&p, &headers, &[Permission::DownloadLicense])?;
    let c = p.db();
    serial_in_subscription(&c, &grant, &serial)?;
    Ok(license_response(issue(&p, &c, &grant.activation_code, &serial, Issue::Current)?))
}

fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| k.trim().to_ascii_lowercase())
        .filter(|k| !k.is_empty() && k.len() <= 200)
}

/// Sends the license to the subscription's contacts. Needs `send_license` (or
/// `download_license`, which may have the file anyway), an `Idempotency-Key` (the
/// first answer is kept), and is rate limited per serial.
async fn send_license(State(p): State<Shared>, headers: HeaderMap, Path(serial): Path<String>) -> ApiResult {
    let serial = serial_param(&serial)?;
    let grant = authorize(&p, &headers, &[Permission::Read])?;
    if !grant.permissions.iter().any(|g| matches!(g, Permission::SendLicense | Permission::DownloadLicense)) {
        return Err(Problem::forbidden(Permission::SendLicense.as_str()));
    }
    let key = idempotency_key(&headers).ok_or_else(|| {
        Problem::bad_request(
            "missing-idempotency-key",
            "send an Idempotency-Key header, the same for every retry of this request",
        )
    })?;
    let c = p.db();
    serial_in_subscription(&c, &grant, &serial)?;
    let first: Option<String> = c
        .query_row(
            "SELECT response FROM license_sends WHERE activation_code = ?1 AND idempotency_key = ?2",
            [&grant.activation_code, &key],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(first) = first {
        return Ok((StatusCode::ACCEPTED, [(header::CONTENT_TYPE, "application/json")], first).into_response());
    }
    let hour_ago = license_core::timestamp::format(&(Utc::now() - chrono::Duration::hours(1)));
    let recent: i64 = c.query_row(
        "SELECT COUNT(*) FROM license_sends WHERE serial_number = ?1 AND sent_at > ?2",
        [&serial, &hour_ago],
        |r| r.get(0),
    )?;
    if recent >= SENDS_PER_HOUR {
        let mut r = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-sends",
            "Too many sends",
            format!("the license for {serial} was sent {recent} times in the last hour; the contacts have it: ask them, or try again later"),
        )
        .into_response();
        r.headers_mut().insert(header::RETRY_AFTER, 3600.into());
        return Ok(r);
    }
    let sub = load_sub(&c, &grant.activation_code)?;
    issue(&p, &c, &grant.activation_code, &serial, Issue::Current)?;
    let response = json!({"sent_to": sub.contacts}).to_string();
    c.execute(
        "INSERT INTO license_sends (serial_number, contacts, sent_at, activation_code, idempotency_key, response) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            serial,
            serde_json::to_string(&sub.contacts).expect("json"),
            license_core::timestamp::format(&Utc::now()),
            grant.activation_code,
            key,
            response
        ],
    )?;
    Ok((StatusCode::ACCEPTED, [(header::CONTENT_TYPE, "application/json")], response).into_response())
}

/// Registers the request's serial and issues its license: needs both `register`
/// and `download_license`. The same request file always yields the same license,
/// so a retry after a lost answer issues nothing new.
async fn license_request(State(p): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let grant = authorize(&p, &headers, &[Permission::Register, Permission::DownloadLicense])?;
    let (req, _key) =
        Request::open(&body).map_err(|e| Problem::bad_request("invalid-license-request", e.to_string()))?;
    let code = req.activation_code.to_string();
    same_subscription(&grant, &code)?;
    let serial = req.serial_number.to_string();
    let body_sha = license_core::sha256_hex(&body);
    let c = p.db();
    let first: Option<String> = c
        .query_row(
            "SELECT license FROM license_requests WHERE activation_code = ?1 AND request_sha256 = ?2",
            [&code, &body_sha],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(license) = first {
        return Ok(license_response(license));
    }
    load_sub(&c, &code)?;
    // The request is signed by the key it names (Request::open checked it): that key
    // may be pinned. No reason can travel in a request file: a slot whose freed
    // license is still valid is re-registered online, with one.
    let name = valid_name(&req.hostname)
        .map_err(|why| Problem::bad_request("invalid-license-request", format!("its hostname: {why}")))?;
    register_serial(&c, &code, &serial, req.environment_type, name, Some(&req.environment_key), None)?;
    let license = issue(&p, &c, &code, &serial, Issue::New)?;
    c.execute(
        "INSERT INTO license_requests (activation_code, request_sha256, request_id, license) VALUES (?1, ?2, ?3, ?4)",
        params![code, body_sha, req.request_id.to_string(), license],
    )?;
    Ok(license_response(license))
}

/// What the portal makes of one readable audit.
struct Verdict {
    /// Why it was rejected; empty when verified.
    reasons: Vec<String>,
    /// Its serial holds a slot of the uploader's subscription. Only then is a receipt
    /// signed: a receipt for a serial the uploader does not hold would let anyone
    /// with a token "prove" an upload for another customer's environment.
    registered: bool,
}

/// Verification of an audit against what the portal knows: the reasons a rejected
/// audit was rejected. A database error is an error (500, retried by the client),
/// never a rejection: a rejection is stored and answered forever.
fn verify_audit(c: &Connection, audit: &Audit, key: &PublicKey) -> Result<Verdict, Problem> {
    let mut reasons = Vec::new();
    let serial = audit.serial_number.to_string();
    let pinned: Option<Option<String>> = c
        .query_row(
            "SELECT environment_key FROM slots WHERE serial_number = ?1 AND activation_code = ?2",
            [&serial, &audit.activation_code.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    let registered = pinned.is_some();
    match pinned {
        None => reasons.push(format!("serial {serial} is not registered in this subscription")),
        // Registered from a workstation without its key: pinned on first sight.
        Some(None) => {
            c.execute(
                "UPDATE slots SET environment_key = ?1 WHERE activation_code = ?2 AND serial_number = ?3 AND environment_key IS NULL",
                params![key.to_base64url(), audit.activation_code.to_string(), serial],
            )?;
        }
        Some(pinned) if pinned.as_deref() != Some(key.to_base64url().as_str()) => {
            reasons.push("the audit is not signed by the environment key pinned for this serial".into())
        }
        Some(_) => {}
    }
    let issued_to: Option<String> = c
        .query_row(
            "SELECT serial_number FROM licenses WHERE license_id = ?1 AND activation_code = ?2",
            [audit.license_id.to_string(), audit.activation_code.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    if issued_to.as_deref() != Some(serial.as_str()) {
        reasons.push(format!("license {} was not issued to serial {serial}", audit.license_id));
    }
    if audit.period_end > Utc::now() + chrono::Duration::minutes(5) {
        reasons.push("the audit period ends in the future".into());
    }
    Ok(Verdict { reasons, registered })
}

/// Judges a first upload, signs its receipt when the audit is of a registered
/// serial, and keeps the answer under the idempotency key; returns the answer.
fn record_upload(
    p: &Portal,
    c: &Connection,
    grant: &TokenGrant,
    key: &str,
    body: &[u8],
    opened: &Result<(Audit, PublicKey), license_core::Error>,
) -> Result<String, Problem> {
    let (audit, Verdict { reasons, registered }) = match opened {
        Ok((a, k)) => (Some(a), verify_audit(c, a, k)?),
        Err(e) => (None, Verdict { reasons: vec![e.to_string()], registered: false }),
    };
    let status = if reasons.is_empty() { UploadStatus::Verified } else { UploadStatus::Rejected };
    let upload_id = Uuid::new_v4();
    let now = Utc::now();
    let received_at = license_core::timestamp::format(&now);
    // A readable audit of a serial that holds a slot of the uploader's
    // subscription gets a receipt signed with the vendor key, bound to the
    // bytes received; an unreadable body has no audit id to put in one.
    let audit_sha256 = license_core::document::signed_sha256(DocumentKind::Audit, body).ok();
    let receipt = audit.filter(|_| registered).zip(audit_sha256).map(|(a, audit_sha256)| {
        Receipt {
            format: 1,
            upload_id,
            audit_id: a.audit_id,
            activation_code: a.activation_code.clone(),
            serial_number: a.serial_number.clone(),
            audit_sha256,
            status,
            reasons: reasons.clone(),
            received_at: now,
        }
        .seal(&p.vendor)
    });
    // The answer is the client's own type: the two sides cannot drift.
    let response =
        serde_json::to_string(&UploadResult { upload_id, status, reasons: reasons.clone(), received_at: now, receipt })
            .expect("serialises");
    let summary = json!({
        "audit_id": audit.map(|a| a.audit_id.to_string()),
        "period_start": audit.map(|a| license_core::timestamp::format(&a.period_start)),
        "period_end": audit.map(|a| license_core::timestamp::format(&a.period_end)),
        "consumption": audit.map(|a| a.consumption.clone()),
    })
    .to_string();
    c.execute(
        "INSERT INTO audits (upload_id, idempotency_key, uploader, activation_code, serial_number, audit_id, status, response, summary, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            upload_id.to_string(),
            key,
            grant.activation_code,
            audit.map(|a| a.activation_code.to_string()),
            audit.map(|a| a.serial_number.to_string()),
            audit.map(|a| a.audit_id.to_string()),
            status.as_str(),
            response,
            summary,
            received_at
        ],
    )?;
    Ok(response)
}

async fn upload_audit(State(p): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let grant = authorize(&p, &headers, &[Permission::UploadAudit])?;
    let key = idempotency_key(&headers).unwrap_or_default();
    if key != license_core::sha256_hex(&body) {
        return Err(Problem::bad_request(
            "bad-idempotency-key",
            "Idempotency-Key must be the hex SHA-256 of the request body",
        ));
    }
    let opened = Audit::open(&body);
    // The subscription check comes before the idempotency lookup, and answers are
    // kept per uploading subscription: another subscription's token can neither
    // upload for this one nor read its answers by replaying a body.
    if let Ok((a, _)) = &opened {
        same_subscription(&grant, &a.activation_code.to_string())?;
    }
    let c = p.db();
    let first: Option<String> = c
        .query_row(
            "SELECT response FROM audits WHERE uploader = ?1 AND idempotency_key = ?2",
            [&grant.activation_code, &key],
            |r| r.get(0),
        )
        .optional()?;
    let stored = match first {
        Some(first) => first,
        None => record_upload(&p, &c, &grant, &key, &body, &opened)?,
    };
    Ok((StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], stored).into_response())
}

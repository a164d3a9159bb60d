//! The portal API v1 handlers (`shared/spec/portal-api.md`).

use crate::db::{self, TokenGrant};
use crate::faults::{Fault, Faults};
use crate::problem::Problem;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use license_core::payload::{Entitlements, SelfSigned};
use license_core::{ActivationCode, Audit, EnvironmentType, KeyPair, License, Payload, PublicKey, Request, SerialNumber};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

pub const MAX_BODY: usize = 1024 * 1024;

pub struct Portal {
    pub db: Mutex<Connection>,
    pub vendor: KeyPair,
    pub faults: Option<Faults>,
}

type Shared = Arc<Portal>;
type ApiResult = Result<Response, Problem>;

pub fn router(portal: Shared) -> Router {
    let mut r = Router::new()
        .route("/api/v1/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/api/v1/openapi.yaml", get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], crate::OPENAPI) }))
        .route("/api/v1/subscriptions/{code}", get(subscription))
        .route("/api/v1/subscriptions/{code}/environments", post(register))
        .route("/api/v1/subscriptions/{code}/environments/{serial}", delete(unregister))
        .route("/api/v1/subscriptions/{code}/audits", get(audit_history))
        .route("/api/v1/environments/{serial}/license", get(download_license))
        .route("/api/v1/environments/{serial}/license/send", post(send_license))
        .route("/api/v1/license-requests", post(license_request))
        .route("/api/v1/audits", post(upload_audit));
    if portal.faults.is_some() {
        r = r.route("/_faults", post(push_faults));
    }
    r.layer(DefaultBodyLimit::max(MAX_BODY)).with_state(portal)
}

async fn push_faults(State(p): State<Shared>, Json(f): Json<Vec<Fault>>) -> StatusCode {
    if let Some(faults) = &p.faults {
        faults.push(f);
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

/// Applies the next scripted fault, if any. `Some` means answer with that.
async fn fault_before(p: &Portal) -> (Option<Response>, bool) {
    let Some(faults) = &p.faults else { return (None, false) };
    match faults.next() {
        None => (None, false),
        Some(Fault::Delay { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            (None, false)
        }
        Some(Fault::Status { status, retry_after }) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut r = Problem::new(code, "injected", "Injected fault", "a test fault").into_response();
            if let Some(s) = retry_after {
                r.headers_mut().insert(header::RETRY_AFTER, s.into());
            }
            (Some(r), false)
        }
        Some(Fault::DropBeforeCommit) => (Some(dropped_connection()), false),
        Some(Fault::DropAfterCommit) => (None, true),
    }
}

fn authorize(p: &Portal, headers: &HeaderMap, permission: &str) -> Result<TokenGrant, Problem> {
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).ok_or_else(Problem::unauthorized)?;
    let grant = db::find_token(&p.db.lock().expect("db lock"), token.trim())?.ok_or_else(Problem::unauthorized)?;
    if !grant.permissions.iter().any(|g| g == permission) {
        return Err(Problem::forbidden(permission));
    }
    Ok(grant)
}

fn code_param(code: &str) -> Result<String, Problem> {
    code.parse::<ActivationCode>().map(|c| c.to_string()).map_err(|e| Problem::bad_request("invalid-activation-code", e.to_string()))
}

fn serial_param(serial: &str) -> Result<String, Problem> {
    serial.parse::<SerialNumber>().map(|s| s.to_string()).map_err(|e| Problem::bad_request("invalid-serial-number", e.to_string()))
}

fn same_subscription(grant: &TokenGrant, code: &str) -> Result<(), Problem> {
    if grant.activation_code != code {
        return Err(Problem::new(StatusCode::FORBIDDEN, "other-subscription", "Other subscription", "this token belongs to another subscription"));
    }
    Ok(())
}

struct Sub {
    customer: String,
    entitlements: Entitlements,
    contacts: Vec<String>,
    expires_at: Option<String>,
}

fn load_sub(c: &Connection, code: &str) -> Result<Sub, Problem> {
    c.query_row("SELECT customer, entitlements, contacts, expires_at FROM subscriptions WHERE activation_code = ?1", [code], |r| {
        let ent: String = r.get(1)?;
        let contacts: String = r.get(2)?;
        Ok(Sub {
            customer: r.get(0)?,
            entitlements: serde_json::from_str(&ent).expect("stored entitlements are valid"),
            contacts: serde_json::from_str(&contacts).unwrap_or_default(),
            expires_at: r.get(3)?,
        })
    })
    .optional()?
    .ok_or_else(|| Problem::not_found(format!("no subscription {code}")))
}

async fn subscription(State(p): State<Shared>, headers: HeaderMap, Path(code): Path<String>) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, "read")?;
    same_subscription(&grant, &code)?;
    let c = p.db.lock().expect("db lock");
    let sub = load_sub(&c, &code)?;
    let mut stmt = c.prepare("SELECT environment_type, serial_number, name FROM slots WHERE activation_code = ?1 ORDER BY id")?;
    let slots: Vec<Value> = stmt
        .query_map([&code], |r| {
            Ok(json!({"environment_type": r.get::<_, String>(0)?, "serial_number": r.get::<_, Option<String>>(1)?, "name": r.get::<_, Option<String>>(2)?}))
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
    environment_key: String,
}

/// Puts `serial` in a free slot of `env_type`, pinning `key`; idempotent for the
/// same serial and key.
fn register_serial(c: &Connection, code: &str, serial: &str, env_type: EnvironmentType, name: &str, key: &str) -> Result<bool, Problem> {
    let existing: Option<(String, String, Option<String>)> = c
        .query_row("SELECT activation_code, environment_type, environment_key FROM slots WHERE serial_number = ?1", [serial], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    if let Some((other_code, t, pinned)) = existing {
        if other_code != code {
            return Err(Problem::conflict(
                "serial-registered-elsewhere",
                format!("serial {serial} is registered in another subscription; free it there first"),
            ));
        }
        if pinned.as_deref() != Some(key) {
            return Err(Problem::conflict(
                "environment-key-mismatch",
                format!("serial {serial} is registered with another environment key; free the slot to re-register"),
            ));
        }
        if t != env_type.as_str() {
            return Err(Problem::conflict("environment-type-mismatch", format!("serial {serial} is registered as {t}")));
        }
        return Ok(false);
    }
    let updated = c.execute(
        "UPDATE slots SET serial_number = ?1, name = ?2, environment_key = ?3
         WHERE id = (SELECT id FROM slots WHERE activation_code = ?4 AND environment_type = ?5 AND serial_number IS NULL ORDER BY id LIMIT 1)",
        params![serial, name, key, code, env_type.as_str()],
    )?;
    if updated == 0 {
        return Err(Problem::conflict(
            "no-free-slot",
            format!("the subscription has no free {env_type} slot: free one, or ask your account manager for another"),
        ));
    }
    Ok(true)
}

async fn register(State(p): State<Shared>, headers: HeaderMap, Path(code): Path<String>, Json(body): Json<Registration>) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, "register")?;
    same_subscription(&grant, &code)?;
    let serial = serial_param(&body.serial_number)?;
    PublicKey::from_base64url(&body.environment_key).map_err(|e| Problem::bad_request("invalid-environment-key", e.to_string()))?;
    let c = p.db.lock().expect("db lock");
    load_sub(&c, &code)?;
    let created = register_serial(&c, &code, &serial, body.environment_type, body.name.trim(), body.environment_key.trim())?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"serial_number": serial, "environment_type": body.environment_type, "name": body.name}))).into_response())
}

async fn unregister(State(p): State<Shared>, headers: HeaderMap, Path((code, serial)): Path<(String, String)>) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, "register")?;
    same_subscription(&grant, &code)?;
    let serial = serial_param(&serial)?;
    let n = p.db.lock().expect("db lock").execute(
        "UPDATE slots SET serial_number = NULL, name = NULL, environment_key = NULL WHERE activation_code = ?1 AND serial_number = ?2",
        params![code, serial],
    )?;
    if n == 0 {
        return Err(Problem::not_found(format!("serial {serial} is not registered in this subscription")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Issues and records a license for a registered serial.
fn issue(p: &Portal, c: &Connection, serial: &str) -> Result<String, Problem> {
    let (code, env_type): (String, String) = c
        .query_row("SELECT activation_code, environment_type FROM slots WHERE serial_number = ?1", [serial], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| Problem::not_found(format!("serial {serial} is not registered: register it in a slot first")))?;
    let sub = load_sub(c, &code)?;
    let now = Utc::now();
    let lic = License {
        format: 1,
        license_id: Uuid::new_v4(),
        activation_code: code.parse().map_err(Problem::internal)?,
        serial_number: serial.parse().map_err(Problem::internal)?,
        environment_type: env_type.parse().map_err(Problem::internal)?,
        customer: sub.customer,
        issued_at: now,
        not_before: now - chrono::Duration::minutes(5),
        expires_at: sub.expires_at.as_deref().map(license_core::timestamp::parse).transpose().map_err(Problem::internal)?,
        entitlements: sub.entitlements,
    };
    c.execute(
        "INSERT INTO licenses (license_id, serial_number, activation_code, issued_at) VALUES (?1, ?2, ?3, ?4)",
        params![lic.license_id.to_string(), serial, code, license_core::timestamp::format(&now)],
    )?;
    Ok(lic.seal(&p.vendor))
}

fn license_response(file: String) -> Response {
    ([(header::CONTENT_TYPE, "application/x-license-file")], file).into_response()
}

fn subscription_of_serial(c: &Connection, serial: &str) -> Result<String, Problem> {
    c.query_row("SELECT activation_code FROM slots WHERE serial_number = ?1", [serial], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Problem::not_found(format!("serial {serial} is not registered: register it in a slot first")))
}

async fn download_license(State(p): State<Shared>, headers: HeaderMap, Path(serial): Path<String>) -> ApiResult {
    let serial = serial_param(&serial)?;
    let grant = authorize(&p, &headers, "download_license")?;
    let c = p.db.lock().expect("db lock");
    same_subscription(&grant, &subscription_of_serial(&c, &serial)?)?;
    Ok(license_response(issue(&p, &c, &serial)?))
}

async fn send_license(State(p): State<Shared>, headers: HeaderMap, Path(serial): Path<String>) -> ApiResult {
    let serial = serial_param(&serial)?;
    let grant = authorize(&p, &headers, "read")?;
    let c = p.db.lock().expect("db lock");
    let code = subscription_of_serial(&c, &serial)?;
    same_subscription(&grant, &code)?;
    let sub = load_sub(&c, &code)?;
    issue(&p, &c, &serial)?;
    let contacts = serde_json::to_string(&sub.contacts).expect("json");
    c.execute(
        "INSERT INTO license_sends (serial_number, contacts, sent_at) VALUES (?1, ?2, ?3)",
        params![serial, contacts, license_core::timestamp::format(&Utc::now())],
    )?;
    Ok((StatusCode::ACCEPTED, Json(json!({"sent_to": sub.contacts}))).into_response())
}

async fn license_request(State(p): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let grant = authorize(&p, &headers, "download_license")?;
    let (req, _key) = Request::open(&body).map_err(|e| Problem::bad_request("invalid-license-request", e.to_string()))?;
    let code = req.activation_code.to_string();
    same_subscription(&grant, &code)?;
    let serial = req.serial_number.to_string();
    let c = p.db.lock().expect("db lock");
    load_sub(&c, &code)?;
    register_serial(&c, &code, &serial, req.environment_type, &req.hostname, &req.environment_key)?;
    Ok(license_response(issue(&p, &c, &serial)?))
}

/// Verification of an audit against what the portal knows; the reasons a rejected
/// audit was rejected.
fn verify_audit(c: &Connection, file: &[u8]) -> (Option<Audit>, Vec<String>) {
    let (audit, key) = match Audit::open(file) {
        Ok(a) => a,
        Err(e) => return (None, vec![e.to_string()]),
    };
    let mut reasons = Vec::new();
    let serial = audit.serial_number.to_string();
    let slot: Option<(String, Option<String>)> = c
        .query_row("SELECT activation_code, environment_key FROM slots WHERE serial_number = ?1", [&serial], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .unwrap_or(None);
    match slot {
        None => reasons.push(format!("serial {serial} is not registered")),
        Some((code, pinned)) => {
            if code != audit.activation_code.to_string() {
                reasons.push(format!("serial {serial} is not registered with activation code {}", audit.activation_code));
            }
            if pinned.as_deref() != Some(key.to_base64url().as_str()) {
                reasons.push("the audit is not signed by the environment key pinned for this serial".into());
            }
        }
    }
    let issued_to: Option<String> =
        c.query_row("SELECT serial_number FROM licenses WHERE license_id = ?1", [audit.license_id.to_string()], |r| r.get(0)).optional().unwrap_or(None);
    if issued_to.as_deref() != Some(serial.as_str()) {
        reasons.push(format!("license {} was not issued to serial {serial}", audit.license_id));
    }
    if audit.period_end > Utc::now() + chrono::Duration::minutes(5) {
        reasons.push("the audit period ends in the future".into());
    }
    (Some(audit), reasons)
}

async fn upload_audit(State(p): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let grant = authorize(&p, &headers, "upload_audit")?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    if key != license_core::environment::backups::sha256_hex(&body) {
        return Err(Problem::bad_request("bad-idempotency-key", "Idempotency-Key must be the hex SHA-256 of the request body"));
    }
    let (early, drop_after) = fault_before(&p).await;
    if let Some(r) = early {
        return Ok(r);
    }
    let stored = {
        let c = p.db.lock().expect("db lock");
        // The same key again returns the first answer, never a second record.
        if let Some(first) = c.query_row("SELECT response FROM audits WHERE idempotency_key = ?1", [&key], |r| r.get::<_, String>(0)).optional()? {
            first
        } else {
            let (audit, reasons) = verify_audit(&c, &body);
            if let Some(a) = &audit {
                same_subscription(&grant, &a.activation_code.to_string())?;
            }
            let status = if reasons.is_empty() { "verified" } else { "rejected" };
            let upload_id = Uuid::new_v4().to_string();
            let received_at = license_core::timestamp::format(&Utc::now());
            let response = json!({"upload_id": upload_id, "status": status, "reasons": reasons, "received_at": received_at}).to_string();
            let summary = json!({
                "audit_id": audit.as_ref().map(|a| a.audit_id.to_string()),
                "period_start": audit.as_ref().map(|a| license_core::timestamp::format(&a.period_start)),
                "period_end": audit.as_ref().map(|a| license_core::timestamp::format(&a.period_end)),
                "consumption": audit.as_ref().map(|a| a.consumption.clone()),
            })
            .to_string();
            c.execute(
                "INSERT INTO audits (upload_id, idempotency_key, activation_code, serial_number, audit_id, status, response, summary, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    upload_id,
                    key,
                    audit.as_ref().map(|a| a.activation_code.to_string()),
                    audit.as_ref().map(|a| a.serial_number.to_string()),
                    audit.as_ref().map(|a| a.audit_id.to_string()),
                    status,
                    response,
                    summary,
                    received_at
                ],
            )?;
            response
        }
    };
    if drop_after {
        return Ok(dropped_connection());
    }
    Ok((StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], stored).into_response())
}

async fn audit_history(State(p): State<Shared>, headers: HeaderMap, Path(code): Path<String>) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, "read")?;
    same_subscription(&grant, &code)?;
    let c = p.db.lock().expect("db lock");
    let mut stmt = c.prepare(
        "SELECT upload_id, serial_number, status, response, summary, received_at FROM audits WHERE activation_code = ?1 ORDER BY received_at DESC, rowid DESC",
    )?;
    let rows: Vec<Value> = stmt
        .query_map([&code], |r| {
            let response: Value = serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default();
            let summary: Value = serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default();
            Ok(json!({
                "upload_id": r.get::<_, String>(0)?,
                "serial_number": r.get::<_, Option<String>>(1)?,
                "status": r.get::<_, String>(2)?,
                "reasons": response["reasons"],
                "received_at": r.get::<_, String>(5)?,
                "audit_id": summary["audit_id"],
                "period_start": summary["period_start"],
                "period_end": summary["period_end"],
                "consumption": summary["consumption"],
            }))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Json(rows).into_response())
}

//! License verification (audits) and license requests: online through the portal,
//! or as files carried to and from a connected machine.

use super::install::{from_bytes, save_bytes, CandidateView};
use super::{blocking, cancellable, with_env, with_state, OnBlockingPool};
use crate::dialogs;
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use license_core::environment::audit_view::{self, AuditView};
use license_core::environment::audits::{self, GeneratedAudit};
use license_core::environment::forecast::Forecast;
use license_core::environment::request_view::{self, RequestView};
use license_core::environment::usage::{self, UsageLine};
use license_core::portal::{PortalClient, UploadResult};
use license_core::{Environment, SerialNumber};
use serde::Serialize;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

#[derive(Serialize, Clone, ts_rs::TS)]
pub struct UploadProgress {
    done: usize,
    total: usize,
}

#[derive(Serialize, ts_rs::TS)]
pub struct UploadSummary {
    uploaded: Vec<UploadResult>,
    remaining: usize,
    error: Option<CommandError>,
}

/// Consumption next to entitlements, before anything is signed.
#[tauri::command]
pub async fn usage_preview(state: State<'_, AppState>) -> CommandResult<Vec<UsageLine>> {
    let env = state.env()?;
    blocking(move || {
        let lic = env.installed()?;
        Ok(usage::compare(&usage::read(env.config.usage.as_ref(), &env.config_path)?, &lic.entitlements))
    })
    .await
}

/// Consumption over time (every audit's, and now's) against the entitlements, with
/// the trend's projection to the limit: the License verification page's chart.
#[tauri::command]
pub async fn consumption_forecast(state: State<'_, AppState>) -> CommandResult<Forecast> {
    let env = state.env()?;
    blocking(move || Ok(env.forecast()?)).await
}

#[tauri::command]
pub async fn generate_audit(state: State<'_, AppState>) -> CommandResult<GeneratedAudit> {
    let env = state.env()?;
    blocking(move || Ok(env.generate_audit()?)).await
}

/// Saves the newest audit in the outbox where the administrator chooses, to carry
/// it to a connected machine.
#[tauri::command]
pub async fn save_audit_copy(app: AppHandle, state: State<'_, AppState>) -> CommandResult<Option<String>> {
    let env = state.env()?;
    let (name, bytes) = with_env(&env, |env| {
        let newest = env
            .outbox()?
            .pop()
            .ok_or_else(|| CommandError::Invalid("no audit is waiting: generate one first".into()))?;
        let name =
            newest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "license.audit".into());
        Ok((name, license_core::fs::read_document(&newest)?))
    })
    .await?;
    save_bytes(&app, "Save the audit file", &name, bytes).await
}

#[tauri::command]
pub async fn upload_outbox(
    on_progress: Channel<UploadProgress>,
    state: State<'_, AppState>,
) -> CommandResult<UploadSummary> {
    let env = state.env()?;
    // Cancelling stops between uploads: an audit leaves the outbox only once the
    // portal answered, so what was not answered is sent again next time.
    let flushed = cancellable(&state, async {
        let client = with_env(&env, |env| Ok(env.portal_client(None)?)).await?;
        let progress = &mut |done, total| drop(on_progress.send(UploadProgress { done, total }));
        Ok(audits::flush_outbox(&env, &client, &OnBlockingPool, progress).await)
    });
    let (uploaded, error) = match flushed.await {
        Ok((uploaded, error)) => (uploaded, error.map(CommandError::from)),
        Err(e) => (Vec::new(), Some(e)),
    };
    let remaining = with_env(&env, |env| Ok(env.outbox()?.len())).await?;
    Ok(UploadSummary { uploaded, remaining, error })
}

/// Uploads an audit file produced on another machine.
#[tauri::command]
pub async fn upload_audit_file(app: AppHandle, state: State<'_, AppState>) -> CommandResult<Option<UploadResult>> {
    let env = state.env()?;
    let Some(path) = dialogs::pick_file(&app, "Choose the audit file", &dialogs::AUDIT_FILES).await else {
        return Ok(None);
    };
    cancellable(&state, async {
        let client = with_env(&env, |env| Ok(env.portal_client(None)?)).await?;
        Ok(Some(audits::upload_file(&env, &client, &path, &OnBlockingPool).await?))
    })
    .await
}

/// The outbox and the upload history, merged with the portal's when it answers
/// (the core's view, as `licensectl audit history` reads it).
#[tauri::command]
pub async fn audit_state(state: State<'_, AppState>) -> CommandResult<AuditView> {
    let env = state.env()?;
    Ok(audit_view::audit_view(&env, None, &OnBlockingPool).await?)
}

/// Registers this environment's serial in a free slot of its type. `reason`: why a
/// slot freed while its license is still valid is reused (the portal asks for one).
#[tauri::command]
pub async fn register_environment(
    activation_code: Option<String>,
    reason: Option<String>,
    state: State<'_, AppState>,
) -> CommandResult<String> {
    let env = state.env()?;
    cancellable(&state, async {
        let (code, reg, client) = with_env(&env, move |env| {
            let code = env.subscription_code(activation_code.as_deref())?;
            let reg = env.registration(None, reason)?;
            Ok((code, reg, env.portal_client(None)?))
        })
        .await?;
        client.register(&code, &reg).await?;
        Ok(code.to_string())
    })
    .await
}

/// Downloads this environment's license and makes it the install candidate.
#[tauri::command]
pub async fn fetch_license(app: AppHandle, state: State<'_, AppState>) -> CommandResult<CandidateView> {
    let env = state.env()?;
    let text = cancellable(&state, async {
        let (serial, client) = serial_and_client(&env).await?;
        Ok(client.download_license(&serial).await?)
    })
    .await?;
    with_state(&app, move |state| from_bytes(state, "the portal".into(), text.into_bytes())).await
}

#[tauri::command]
pub async fn send_license(state: State<'_, AppState>) -> CommandResult<Vec<String>> {
    let env = state.env()?;
    cancellable(&state, async {
        let (serial, client) = serial_and_client(&env).await?;
        Ok(client.send_license(&serial).await?)
    })
    .await
}

async fn serial_and_client(env: &Arc<Environment>) -> CommandResult<(SerialNumber, PortalClient)> {
    with_env(env, |env| Ok((env.serial()?.serial_number, env.portal_client(None)?))).await
}

#[derive(Serialize, ts_rs::TS)]
pub struct SavedRequest {
    path: Option<String>,
    qr_svg: String,
    request_id: uuid::Uuid,
}

/// Writes a signed license request where the administrator chooses, with its QR code.
#[tauri::command]
pub async fn save_license_request(
    activation_code: Option<String>,
    app: AppHandle,
    state: State<'_, AppState>,
) -> CommandResult<SavedRequest> {
    let env = state.env()?;
    let code = activation_code.filter(|c| !c.trim().is_empty()).map(|c| c.parse()).transpose()?;
    let r = blocking(move || Ok(env.license_request(code)?)).await?;
    let name = format!("license-request-{}.lreq", r.request.serial_number.compact());
    let path = save_bytes(&app, "Save the license request", &name, r.text.clone().into_bytes()).await?;
    Ok(SavedRequest { path, qr_svg: license_core::qr::svg(&r.text), request_id: r.request.request_id })
}

/// On a connected machine: a request file from an air-gapped environment becomes a
/// license file through the portal, saved where the administrator chooses.
#[tauri::command]
pub async fn fulfil_request(app: AppHandle, state: State<'_, AppState>) -> CommandResult<Option<String>> {
    let Some(path) = dialogs::pick_file(&app, "Choose the license request file", &dialogs::REQUEST_FILES).await else {
        return Ok(None);
    };
    // Either role: an environment's portal, or the connected workstation's (which
    // has no environment at all).
    let env = state.env().ok();
    let text = cancellable(&state, async {
        let (bytes, client) = blocking(move || {
            let bytes = license_core::fs::read_document(&path)?;
            <license_core::Request as license_core::SelfSigned>::open(&bytes)?;
            let client = match &env {
                Some(env) => env.portal_client(None)?,
                None => super::workstation::load()?.client()?,
            };
            Ok((bytes, client))
        })
        .await?;
        Ok(client.license_from_request(&bytes).await?)
    })
    .await?;
    save_bytes(&app, "Save the license file", "license.lic", text.into_bytes()).await
}

/// What the Request page shows before anything is sent (the core's view).
#[tauri::command]
pub async fn request_view(activation_code: Option<String>, state: State<'_, AppState>) -> CommandResult<RequestView> {
    let env = state.env()?;
    cancellable(&state, async { Ok(request_view::request_view(&env, activation_code, &OnBlockingPool).await?) }).await
}

/// Stops every portal call under way (their commands answer `cancelled`).
#[tauri::command]
pub fn cancel_portal_call(state: State<'_, AppState>) {
    state.cancel.notify_waiters();
}

// The TypeScript signatures of the commands above (build.rs).
include!(concat!(env!("OUT_DIR"), "/commands/portal.rs"));

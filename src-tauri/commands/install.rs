//! The install wizard: choose a file (dialog, drop or paste), see every check and
//! the old→new differences, install with progress.

use super::{blocking, with_env, with_state};
use crate::dialogs;
use crate::error::{CommandError, CommandResult};
use crate::state::{AppState, Candidate};
use license_core::environment::report::InstallRecord;
use license_core::environment::{InstallOptions, InstallOutcome, Step};
use license_core::fs;
use license_core::Environment;
use license_core::Report;
use serde::Serialize;
use std::path::Path;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

#[derive(Serialize, Clone, ts_rs::TS)]
pub struct CandidateView {
    pub name: String,
    pub report: Report,
}

/// The event the window sends when a file was dropped on it.
pub const CANDIDATE_DROPPED: &str = "candidate-dropped";

/// The payload of [`CANDIDATE_DROPPED`]: the new candidate, or why the file was refused.
#[derive(Serialize, Clone, ts_rs::TS)]
pub struct CandidateDropped {
    candidate: Option<CandidateView>,
    error: Option<license_core::ErrorView>,
}

impl From<CommandResult<CandidateView>> for CandidateDropped {
    fn from(r: CommandResult<CandidateView>) -> Self {
        match r {
            Ok(c) => CandidateDropped { candidate: Some(c), error: None },
            Err(e) => CandidateDropped { candidate: None, error: Some(license_core::ErrorView::from(&e)) },
        }
    }
}

/// Makes `bytes` the install candidate and returns its checks.
pub fn from_bytes(state: &AppState, name: String, bytes: Vec<u8>) -> CommandResult<CandidateView> {
    let report = state.env()?.check(&bytes)?;
    *state.candidate.lock().expect("state lock") = Some(Candidate { name: name.clone(), bytes });
    Ok(CandidateView { name, report })
}

/// Reads a file the administrator chose or dropped: the size limit applies before
/// reading, and only a regular file is accepted.
pub fn from_path(state: &AppState, path: &Path) -> CommandResult<CandidateView> {
    let bytes = fs::read_document(path)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    from_bytes(state, name, bytes)
}

#[tauri::command]
pub async fn choose_license_file(app: AppHandle) -> CommandResult<Option<CandidateView>> {
    match dialogs::pick_file(&app, "Choose the new license file", &dialogs::LICENSE_FILES).await {
        None => Ok(None),
        Some(path) => with_state(&app, move |state| from_path(state, &path)).await.map(Some),
    }
}

#[tauri::command]
pub async fn paste_license(text: String, app: AppHandle) -> CommandResult<CandidateView> {
    if text.len() as u64 > license_core::MAX_FILE_BYTES {
        return Err(license_core::Error::TooLarge {
            what: "pasted text".into(),
            size: text.len() as u64,
            limit: license_core::MAX_FILE_BYTES,
        }
        .into());
    }
    with_state(&app, move |state| from_bytes(state, "pasted text".into(), text.into_bytes())).await
}

/// The chosen file re-checked now (the installed license may have changed).
#[tauri::command]
pub async fn current_candidate(app: AppHandle) -> CommandResult<Option<CandidateView>> {
    with_state(&app, |state| {
        let c = state.candidate.lock().expect("state lock").as_ref().map(|c| (c.name.clone(), c.bytes.clone()));
        c.map(|(name, bytes)| from_bytes(state, name, bytes)).transpose()
    })
    .await
}

#[tauri::command]
pub async fn install_candidate(
    confirmed: bool,
    on_progress: Channel<Step>,
    state: State<'_, AppState>,
) -> CommandResult<InstallOutcome> {
    let env = state.env()?;
    let bytes = state
        .candidate
        .lock()
        .expect("state lock")
        .as_ref()
        .map(|c| c.bytes.clone())
        .ok_or(CommandError::NoCandidate)?;
    let mut outcome = blocking(move || {
        changed_and_recorded(&env, "Install of a new license".into(), |env| {
            env.install(&bytes, InstallOptions { confirmed }, &mut |s| drop(on_progress.send(s)))
        })
    })
    .await?;
    if let Some(t) = outcome.0.takes_effect {
        outcome.1.action = format!("Staging of a renewal that takes effect {}", license_core::timestamp::format(&t));
    }
    *state.last_install.lock().expect("state lock") = Some(outcome.1);
    *state.candidate.lock().expect("state lock") = None;
    Ok(outcome.0)
}

/// Runs an install or restore and keeps its record for "Save report…": the license
/// it replaced (read before), what the install did, and who ran it.
pub fn changed_and_recorded(
    env: &Environment,
    action: String,
    change: impl FnOnce(&Environment) -> Result<InstallOutcome, license_core::Error>,
) -> CommandResult<(InstallOutcome, InstallRecord)> {
    let previous = env.installed().ok();
    let outcome = change(env)?;
    let record = InstallRecord {
        action,
        environment_name: env.config.name.clone(),
        environment_type: env.config.environment_type,
        serial_number: env.serial().ok().map(|s| s.serial_number),
        previous,
        installed: outcome.license.clone(),
        report: outcome.report.clone(),
        backup: outcome.backup.clone(),
        at: chrono::Utc::now(),
        by: whoami::fallible::username().unwrap_or_else(|_| "unknown".into()),
    };
    Ok((outcome, record))
}

/// "Save report…": the record of the last install or restore, as one HTML page.
#[tauri::command]
pub async fn save_install_report(app: AppHandle, state: State<'_, AppState>) -> CommandResult<Option<String>> {
    let record = state
        .last_install
        .lock()
        .expect("state lock")
        .clone()
        .ok_or_else(|| CommandError::Invalid("Nothing was installed or restored since the app started.".into()))?;
    let name = format!("license-change-{}.html", record.at.with_timezone(&chrono::Local).format("%Y%m%d-%H%M"));
    save_bytes(&app, "Save the install report", &name, record.to_html().into_bytes()).await
}

/// "Save a copy as…": the installed license to a place the administrator chooses.
#[tauri::command]
pub async fn save_license_copy(app: AppHandle, state: State<'_, AppState>) -> CommandResult<Option<String>> {
    let env = state.env()?;
    let bytes = with_env(&env, |env| Ok(env.installed_bytes()?.ok_or(license_core::Error::NothingInstalled)?)).await?;
    let name = format!("license-{}.lic", chrono::Utc::now().format("%Y%m%d"));
    save_bytes(&app, "Save a copy of the installed license", &name, bytes).await
}

pub async fn save_bytes(app: &AppHandle, title: &str, name: &str, bytes: Vec<u8>) -> CommandResult<Option<String>> {
    let Some(path) = dialogs::save_file(app, title, name).await else { return Ok(None) };
    let shown = path.display().to_string();
    blocking(move || Ok(fs::replace(&path, &bytes, "export")?)).await?;
    Ok(Some(shown))
}

// The TypeScript signatures of the commands above (build.rs).
include!(concat!(env!("OUT_DIR"), "/commands/install.rs"));

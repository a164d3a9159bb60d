//! Backups page: list, back up now, check and restore, export a copy.

use super::install::{changed_and_recorded, save_bytes};
use super::{blocking, with_env};
use crate::error::CommandResult;
use crate::state::AppState;
use license_core::environment::backups::BackupEntry;
use license_core::environment::{InstallOptions, InstallOutcome, Step};
use license_core::Report;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

#[tauri::command]
pub async fn list_backups(state: State<'_, AppState>) -> CommandResult<Vec<BackupEntry>> {
    let env = state.env()?;
    blocking(move || Ok(env.backups().list()?)).await
}

#[tauri::command]
pub async fn backup_now(state: State<'_, AppState>) -> CommandResult<BackupEntry> {
    let env = state.env()?;
    blocking(move || {
        env.backup_now(&license_core::environment::BackupReason::OnDemand)?
            .ok_or_else(|| license_core::Error::NothingInstalled.into())
    })
    .await
}

/// The checks a restore would run, before the administrator confirms.
#[tauri::command]
pub async fn check_backup(id: String, state: State<'_, AppState>) -> CommandResult<Report> {
    let env = state.env()?;
    blocking(move || {
        let bytes = env.backups().read(&id)?;
        Ok(env.check(&bytes)?)
    })
    .await
}

#[tauri::command]
pub async fn restore_backup(
    id: String,
    confirmed: bool,
    on_progress: Channel<Step>,
    state: State<'_, AppState>,
) -> CommandResult<InstallOutcome> {
    let env = state.env()?;
    let (outcome, record) = blocking(move || {
        let action = match env.backups().get(&id).ok() {
            Some(b) => format!("Restore of the backup taken {}", b.taken_at.format("%-d %b %Y, %H:%M UTC")),
            None => "Restore of a backup".into(),
        };
        changed_and_recorded(&env, action, |env| {
            env.restore(&id, InstallOptions { confirmed }, &mut |s| drop(on_progress.send(s)))
        })
    })
    .await?;
    *state.last_install.lock().expect("state lock") = Some(record);
    Ok(outcome)
}

#[tauri::command]
pub async fn export_backup(id: String, app: AppHandle, state: State<'_, AppState>) -> CommandResult<Option<String>> {
    let env = state.env()?;
    let name = format!("{id}.lic");
    let bytes = with_env(&env, move |env| Ok(env.backups().read(&id)?)).await?;
    save_bytes(&app, "Export backup", &name, bytes).await
}

// The TypeScript signatures of the commands above (build.rs).
include!(concat!(env!("OUT_DIR"), "/commands/backups.rs"));

//! This environment's side of a transfer file: add its papers, and take back its
//! license (through the install wizard) and the portal's receipts.

use super::{with_env, with_state};
use crate::dialogs;
use crate::error::{CommandError, CommandResult};
use crate::state::{AppState, Candidate};
use license_core::environment::transfer_here::{ExportSummary, ImportPlan};
use tauri::{AppHandle, State};

/// Adds this environment's audits (and a license request when asked) to a transfer
/// file the administrator chooses: a new one (a save dialog, named for this
/// environment and today), or an existing one (an open dialog: the file is merged
/// into, never replaced, so no "replace the file?" question is asked).
#[tauri::command]
pub async fn add_to_transfer_file(
    request: bool,
    existing: bool,
    app: AppHandle,
    state: State<'_, AppState>,
) -> CommandResult<Option<ExportSummary>> {
    let env = state.env()?;
    let chosen = if existing {
        dialogs::pick_file(&app, "Add to an existing transfer file", &dialogs::TRANSFER_FILES).await
    } else {
        let name = suggested_name(&env.config.name);
        dialogs::save_file(&app, "Add to a new transfer file", &name).await
    };
    let Some(path) = chosen else {
        return Ok(None);
    };
    with_env(&env, move |env| Ok(Some(env.export_transfer(&path, request, None)?))).await
}

/// Opens a transfer file for this environment: what importing would do. Its license
/// becomes the install candidate, for the wizard's checks and backup-first install.
#[tauri::command]
pub async fn open_transfer_here(app: AppHandle) -> CommandResult<Option<ImportPlan>> {
    let Some(path) = dialogs::pick_file(&app, "Open the transfer file", &dialogs::TRANSFER_FILES).await else {
        return Ok(None);
    };
    with_state(&app, move |state| {
        let plan = state.env()?.plan_import(&path)?;
        if let Some(bytes) = plan.license_file() {
            *state.candidate.lock().expect("state lock") =
                Some(Candidate { name: "the transfer file".into(), bytes: bytes.to_vec() });
        }
        *state.import_plan.lock().expect("state lock") = Some(plan.clone());
        Ok(Some(plan))
    })
    .await
}

#[derive(serde::Serialize, ts_rs::TS)]
pub struct ReceiptsRecorded {
    /// Audits moved from the outbox to the history.
    moved: usize,
    /// The open file read again: what it means now.
    plan: ImportPlan,
}

/// Moves every audit that a receipt in the open transfer file answers from the
/// outbox into the history.
#[tauri::command]
pub async fn record_receipts(app: AppHandle) -> CommandResult<ReceiptsRecorded> {
    with_state(&app, |state| {
        let plan = state
            .import_plan
            .lock()
            .expect("state lock")
            .clone()
            .ok_or_else(|| CommandError::Invalid("open a transfer file first".into()))?;
        let env = state.env()?;
        let moved = env.apply_receipts(&plan)?;
        let plan = env.plan_import(&plan.path)?;
        *state.import_plan.lock().expect("state lock") = Some(plan.clone());
        Ok(ReceiptsRecorded { moved, plan })
    })
    .await
}

/// "production-eu-2026-12-02.transfer.zip": the environment and the day, readable.
fn suggested_name(environment: &str) -> String {
    let slug: String = environment
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("{}-{}.transfer.zip", if slug.is_empty() { "site" } else { &slug }, chrono::Local::now().format("%Y-%m-%d"))
}

// The TypeScript signatures of the commands above (build.rs).
include!(concat!(env!("OUT_DIR"), "/commands/transfer_here.rs"));

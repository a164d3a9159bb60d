//! The commands the webview may call, grouped by what they serve (ARCHITECTURE.md).
//! Each is a thin layer over `license-core`; slow work runs on a blocking thread so
//! the window stays responsive. Each `#[tauri::command]` function is the one home of
//! its command: build.rs generates the rest from it.

pub mod backups;
pub mod environment;
pub mod install;
pub mod portal;
pub mod role;
pub mod settings;
pub mod transfer_here;
pub mod workstation;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use license_core::trust::{Confirmed, Proposal};
use license_core::Environment;
use std::sync::Arc;
use tauri::{AppHandle, Manager};

/// Runs blocking core work (files, signatures, the keyring) off the async runtime's
/// threads: every command's file or crypto work goes through here.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> CommandResult<T> + Send + 'static) -> CommandResult<T> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| CommandError::Internal(e.to_string()))?
}

/// The core's flows run their blocking steps (reading, verifying, recording)
/// through this: on the blocking pool, never on the async runtime's threads.
pub struct OnBlockingPool;

impl license_core::run::Blocking for OnBlockingPool {
    async fn run<T, F>(&self, step: F) -> Result<T, license_core::Error>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, license_core::Error> + Send + 'static,
    {
        tauri::async_runtime::spawn_blocking(step)
            .await
            .map_err(|e| license_core::Error::Interrupted { reason: e.to_string() })?
    }
}

/// The one way a command gets a confirmed trust change: the native dialog asks,
/// outside the webview, on a blocking thread (license_core::trust).
pub async fn confirm<T: Send + 'static>(app: &AppHandle, proposal: Proposal<T>) -> CommandResult<Confirmed<T>> {
    let app = app.clone();
    blocking(move || Ok(proposal.confirm(&crate::dialogs::Native(app))?)).await
}

/// [`blocking`] with the open environment.
pub async fn with_env<T: Send + 'static>(
    env: &Arc<Environment>,
    f: impl FnOnce(&Environment) -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    let env = env.clone();
    blocking(move || f(&env)).await
}

/// [`blocking`] with the app's state (the candidate lives there).
pub async fn with_state<T: Send + 'static>(
    app: &AppHandle,
    f: impl FnOnce(&AppState) -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    let app = app.clone();
    blocking(move || f(&app.state::<AppState>())).await
}

/// Runs a portal command's work (its preparation included: the keyring can be slow)
/// until it is done or the administrator cancels it. Dropping the work closes its
/// connection; every portal request is safe to repeat (the client's repeat rule and
/// idempotency keys), so a cancelled call can simply be tried again.
pub async fn cancellable<T>(
    state: &AppState,
    call: impl std::future::Future<Output = CommandResult<T>>,
) -> CommandResult<T> {
    tokio::select! {
        r = call => r,
        _ = state.cancel.notified() => Err(CommandError::Cancelled),
    }
}

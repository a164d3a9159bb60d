//! Overview page: the environment, its serial number, the installed license; and
//! what to do when no configuration exists yet.

use super::{blocking, confirm, with_env};
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use license_core::environment::overview::Overview;
use license_core::environment::{config, Config};
use license_core::EnvironmentType;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{AppHandle, Manager, State};

#[tauri::command]
pub async fn overview(state: State<'_, AppState>) -> CommandResult<Overview> {
    let env = state.env()?;
    let o = blocking(move || Ok(env.overview()?)).await?;
    // bench/startup measures start-up to this line.
    tracing::info!("overview served");
    Ok(o)
}

/// Creates the demo environment (its own vendor key, an installed license and
/// sample files) and opens it.
#[tauri::command]
pub async fn open_demo(app: AppHandle, state: State<'_, AppState>) -> CommandResult<Overview> {
    let dir = match state.demo_dir.lock().expect("state lock").clone() {
        Some(d) => d,
        None => app.path().app_data_dir().map_err(|e| CommandError::Internal(e.to_string()))?.join("demo"),
    };
    let path = blocking(move || Ok(license_core::demo::create(&dir)?)).await?;
    let env = state.open(&path)?;
    blocking(move || Ok(env.overview()?)).await
}

#[derive(Deserialize, ts_rs::TS)]
pub struct NewConfig {
    name: String,
    environment_type: EnvironmentType,
    license_file: String,
    backup_dir: String,
    vendor_key: String,
}

/// Writes a first configuration in the user's configuration folder, after the
/// native dialog confirmed what it will trust, and opens it. It never writes over
/// an existing configuration (Settings changes one).
#[tauri::command]
pub async fn create_config(input: NewConfig, app: AppHandle, state: State<'_, AppState>) -> CommandResult<Overview> {
    let path = config::candidates(None)
        .into_iter()
        .next()
        .ok_or_else(|| CommandError::Invalid("no configuration folder is known for this user".into()))?;
    let p = path.clone();
    let proposal = blocking(move || {
        if p.exists() {
            return Err(CommandError::Invalid(format!(
                "{} already exists: open it, or change it in Settings; nothing was written",
                p.display()
            )));
        }
        license_core::fs::ensure_dir(p.parent().expect("a configuration file has a folder"))?;
        let builder = Config::new(
            input.name.trim(),
            input.environment_type,
            typed_path(&input.license_file),
            typed_path(&input.backup_dir),
        )
        .vendor_keys(vec![input.vendor_key]);
        Ok(builder.propose(&p)?)
    })
    .await?;
    let confirmed = confirm(&app, proposal).await?;
    blocking(move || Ok(confirmed.apply().map(drop)?)).await?;
    let env = state.open(&path)?;
    blocking(move || Ok(env.overview()?)).await
}

/// A path typed in the UI; `ConfigBuilder::check` judges it (a relative path means
/// "beside the configuration file", as in the file itself).
pub fn typed_path(text: &str) -> PathBuf {
    PathBuf::from(text.trim())
}

/// The administrator says the system clock is right (a time seen far ahead was a
/// clock error): the remembered time becomes now, once the native dialog confirmed it.
#[tauri::command]
pub async fn accept_clock(app: AppHandle, state: State<'_, AppState>) -> CommandResult<()> {
    let env: Arc<_> = state.env()?;
    let proposal = with_env(&env, |env| Ok(env.propose_accept_clock()?)).await?;
    let confirmed = confirm(&app, proposal).await?;
    with_env(&env, move |env| Ok(env.accept_clock(confirmed).map(drop)?)).await
}

/// Removes the staged renewal (sound or damaged), once the native dialog confirmed
/// it: it will not be installed at its start. `false` when none was staged.
#[tauri::command]
pub async fn remove_staged(app: AppHandle, state: State<'_, AppState>) -> CommandResult<bool> {
    let env: Arc<_> = state.env()?;
    let Some(proposal) = with_env(&env, |env| Ok(env.propose_remove_staged()?)).await? else { return Ok(false) };
    let confirmed = confirm(&app, proposal).await?;
    with_env(&env, move |env| Ok(env.remove_staged(confirmed)?)).await
}

/// The serial number as a QR code (SVG), so it can be carried off an air-gapped machine.
#[tauri::command]
pub async fn serial_qr(state: State<'_, AppState>) -> CommandResult<String> {
    let env: Arc<_> = state.env()?;
    blocking(move || Ok(license_core::qr::svg(&env.serial()?.serial_number.to_string()))).await
}

// The TypeScript signatures of the commands above (build.rs).
include!(concat!(env!("OUT_DIR"), "/commands/environment.rs"));

//! Overview page: the environment, its serial number, the installed license; and
//! what to do when no configuration exists yet.

use super::blocking;
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use license_core::environment::{config, Config, Overview};
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

/// Writes a first configuration in the user's configuration folder and opens it.
#[tauri::command]
pub async fn create_config(input: NewConfig, state: State<'_, AppState>) -> CommandResult<Overview> {
    let path = config::candidates(None).into_iter().next().ok_or_else(|| CommandError::Invalid("no configuration folder is known for this user".into()))?;
    let c = Config {
        name: input.name.trim().to_string(),
        environment_type: input.environment_type,
        license_file: absolute(&input.license_file, "license file")?,
        backup_dir: absolute(&input.backup_dir, "backup folder")?,
        state_dir: None,
        facts_file: None,
        portal_url: None,
        vendor_keys: [input.vendor_key.trim()].into_iter().filter(|k| !k.is_empty()).map(str::to_string).collect(),
        usage: None,
        proxy: None,
        ca_bundle: None,
    };
    let text = c.to_toml();
    Config::parse(&text, &path)?;
    let p = path.clone();
    blocking(move || Ok(license_core::environment::durable::replace(&p, text.as_bytes(), "config")?)).await?;
    let env = state.open(&path)?;
    blocking(move || Ok(env.overview()?)).await
}

/// Paths typed in the UI: absolute, and in a folder that exists.
pub fn absolute(text: &str, what: &str) -> CommandResult<PathBuf> {
    let p = PathBuf::from(text.trim());
    if !p.is_absolute() {
        return Err(CommandError::Invalid(format!("the {what} path must be absolute, e.g. /var/lib/license-manager/…")));
    }
    if p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(CommandError::Invalid(format!("the {what} path must not contain '..'")));
    }
    match p.parent() {
        Some(dir) if dir.is_dir() => Ok(p),
        _ => Err(CommandError::Invalid(format!("the folder for the {what} does not exist: create it first"))),
    }
}

/// The serial number as a QR code (SVG), so it can be carried off an air-gapped machine.
#[tauri::command]
pub async fn serial_qr(state: State<'_, AppState>) -> CommandResult<String> {
    let env: Arc<_> = state.env()?;
    blocking(move || Ok(license_core::qr::svg(&env.serial()?.serial_number.to_string()))).await
}

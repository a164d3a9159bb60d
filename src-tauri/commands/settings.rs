//! Settings page: the environment configuration and the portal token.

use super::environment::typed_path;
use super::{blocking, confirm, with_state};
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

use license_core::environment::renewal::Renewal;
use license_core::secrets::TokenSource;
use license_core::{secrets, EnvironmentType, PortalUrl};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};

#[derive(Serialize, Deserialize, ts_rs::TS)]
pub struct Settings {
    name: String,
    environment_type: EnvironmentType,
    license_file: String,
    backup_dir: String,
    portal_url: String,
    proxy: String,
    ca_bundle: String,
    vendor_keys: Vec<String>,
    /// Ask the portal for a renewal at start and daily, and install or stage it.
    #[serde(default)]
    auto_renew: bool,
    /// Read-only: where the token for this portal comes from, if there is one.
    #[serde(default)]
    token_source: Option<TokenSource>,
    #[serde(default)]
    config_path: String,
}

fn text(p: &Option<impl ToString>) -> String {
    p.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<Settings> {
    let env = state.env()?;
    let c = &env.config;
    let token_source = match &c.portal_url {
        Some(url) => secrets::source(url, Some(url)).unwrap_or(None),
        None => None,
    };
    let portal_url = text(&c.portal_url);
    Ok(Settings {
        name: c.name.clone(),
        environment_type: c.environment_type,
        license_file: c.license_file.display().to_string(),
        backup_dir: c.backup_dir.display().to_string(),
        portal_url,
        proxy: text(&c.proxy),
        ca_bundle: c.ca_bundle.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        vendor_keys: c.vendor_keys.clone(),
        auto_renew: c.auto_renew,
        token_source,
        config_path: env.config_path.display().to_string(),
    })
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Validates everything first; writes the file atomically only when all is well.
/// Every change to what the environment trusts, where it writes or what it runs
/// (vendor keys, portal, proxy, CA bundle, license file, folders) is the core's
/// trust proposal, applied only after the native dialog confirmed it: the webview
/// alone cannot change it. Nothing invalid is ever put to the administrator.
#[tauri::command]
pub async fn save_settings(settings: Settings, app: AppHandle, state: State<'_, AppState>) -> CommandResult<Settings> {
    let env = state.env()?;
    // Every rule (the one URL check included) is core's: ConfigBuilder::check.
    let portal_url = optional(&settings.portal_url).map(|u| u.parse::<PortalUrl>()).transpose()?;
    let config_path = env.config_path.clone();
    let edited = env
        .config
        .clone()
        .edit()
        .name(settings.name.trim())
        .environment_type(settings.environment_type)
        .license_file(typed_path(&settings.license_file))
        .backup_dir(typed_path(&settings.backup_dir))
        .portal_url(portal_url)
        .proxy(optional(&settings.proxy))
        .ca_bundle(optional(&settings.ca_bundle).map(|c| typed_path(&c)))
        .vendor_keys(settings.vendor_keys.clone())
        .auto_renew(settings.auto_renew);
    let p = config_path.clone();
    let proposal = blocking(move || Ok(edited.propose(&p)?)).await?;
    let confirmed = confirm(&app, proposal).await?;
    blocking(move || Ok(confirmed.apply().map(drop)?)).await?;
    state.open(&config_path)?;
    get_settings(state).await
}

#[tauri::command]
pub async fn set_portal_token(token: String, state: State<'_, AppState>) -> CommandResult<()> {
    let env = state.env()?;
    let url = env
        .config
        .portal_url
        .clone()
        .ok_or_else(|| CommandError::Invalid("set the portal URL first, then store its token".into()))?;
    // Stored under the parsed, normalised URL: the same key every lookup uses.
    blocking(move || Ok(secrets::store(&url, &token)?)).await
}

#[tauri::command]
pub async fn clear_portal_token(state: State<'_, AppState>) -> CommandResult<()> {
    let env = state.env()?;
    match env.config.portal_url.clone() {
        Some(url) => blocking(move || Ok(secrets::clear(&url)?)).await,
        None => Ok(()),
    }
}

/// "Check for a renewal now": asks the portal as a renewal run would, whether or
/// not automatic renewal is on, but installs nothing. A newer license, or one that
/// waits for a person, becomes the install candidate: the wizard shows its checks
/// and the old→new differences, and the administrator installs it. Only the
/// unattended run installs without asking.
#[tauri::command]
pub async fn renew_now(app: AppHandle, state: State<'_, AppState>) -> CommandResult<Renewal> {
    let env = state.env()?;
    let r = blocking(move || Ok(crate::renew::check(&env)?)).await?;
    if let Some(text) = r.offered() {
        let bytes = text.as_bytes().to_vec();
        with_state(&app, move |state| super::install::from_bytes(state, "the portal".into(), bytes).map(drop)).await?;
    }
    Ok(r)
}

// The TypeScript signatures of the commands above (build.rs).
include!(concat!(env!("OUT_DIR"), "/commands/settings.rs"));

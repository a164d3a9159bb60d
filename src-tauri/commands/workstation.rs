//! The connected workstation: no environment of its own; the subscription's slots
//! (Infrastructure) and transfer files (Transfer) through the portal.

use super::{blocking, cancellable, confirm, with_state};
use crate::dialogs;
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use license_core::portal::{FreeSlot, PortalClient, Subscription};
use license_core::transfer::Transfer;
use license_core::workstation::file_view::{self, FileView};
use license_core::workstation::process::{self, ItemOutcome, ProcessReport};
use license_core::workstation::renewals::{self, PreparedRenewal, TimelineRow};
use license_core::workstation::WorkstationConfig;
use license_core::{secrets, ActivationCode, EnvironmentType, PortalUrl, SerialNumber};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

#[derive(Serialize, ts_rs::TS)]
pub struct WorkstationView {
    config: WorkstationConfig,
    /// The keyring holds a token for the portal (the token itself is never shown).
    token_stored: bool,
    path: String,
}

/// The settings as typed; every rule is core's.
#[derive(Deserialize, ts_rs::TS)]
pub struct WorkstationInput {
    portal_url: String,
    proxy: String,
    ca_bundle: String,
    activation_code: String,
}

fn config_path() -> CommandResult<PathBuf> {
    WorkstationConfig::path()
        .ok_or_else(|| crate::error::CommandError::Invalid("no configuration folder is known for this user".into()))
}

fn view(config: WorkstationConfig) -> CommandResult<WorkstationView> {
    let token_stored = match &config.portal_url {
        Some(url) => secrets::is_stored(url, Some(url)).unwrap_or(false),
        None => false,
    };
    Ok(WorkstationView { config, token_stored, path: config_path()?.display().to_string() })
}

pub(crate) fn load() -> CommandResult<WorkstationConfig> {
    Ok(WorkstationConfig::load(&config_path()?)?)
}

/// The configuration (read once) and a client for its portal, off the async thread.
async fn config_and_client() -> CommandResult<(WorkstationConfig, PortalClient)> {
    blocking(|| {
        let config = load()?;
        let client = config.client()?;
        Ok((config, client))
    })
    .await
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

#[tauri::command]
pub async fn get_workstation() -> CommandResult<WorkstationView> {
    blocking(|| view(load()?)).await
}

/// Saves the workstation's settings once the native dialog confirmed what changes
/// in the portal, proxy and CA bundle it trusts (the core's trust proposal).
#[tauri::command]
pub async fn save_workstation(input: WorkstationInput, app: AppHandle) -> CommandResult<WorkstationView> {
    let proposal = blocking(move || {
        let config = WorkstationConfig {
            portal_url: optional(&input.portal_url).map(|u| u.parse::<PortalUrl>()).transpose()?,
            proxy: optional(&input.proxy),
            ca_bundle: optional(&input.ca_bundle).map(PathBuf::from),
            activation_code: optional(&input.activation_code).map(|c| c.parse::<ActivationCode>()).transpose()?,
        };
        Ok(config.propose(&config_path()?)?)
    })
    .await?;
    let confirmed = confirm(&app, proposal).await?;
    blocking(move || view(confirmed.apply()?)).await
}

#[tauri::command]
pub async fn set_workstation_token(token: String) -> CommandResult<()> {
    blocking(move || Ok(secrets::store(load()?.portal_url()?, &token)?)).await
}

/// The subscription's slots, with each one's license and last audit.
#[tauri::command]
pub async fn infrastructure(state: State<'_, AppState>) -> CommandResult<Subscription> {
    cancellable(&state, async {
        let (config, client) = config_and_client().await?;
        Ok(client.subscription(config.activation_code()?).await?)
    })
    .await
}

/// Registers a typed or pasted serial in a free slot of `environment_type`.
#[tauri::command]
pub async fn register_slot(
    serial: String,
    environment_type: EnvironmentType,
    name: String,
    reason: Option<String>,
    state: State<'_, AppState>,
) -> CommandResult<Subscription> {
    let serial: SerialNumber = serial.parse()?;
    cancellable(&state, async {
        let (config, client) = config_and_client().await?;
        let code = config.activation_code()?;
        let name = optional(&name).unwrap_or_else(|| format!("{} environment", environment_type.as_str()));
        let reg = license_core::portal::Registration {
            serial_number: serial,
            environment_type,
            name,
            environment_key: None,
            reason: reason.filter(|r| !r.trim().is_empty()),
        };
        client.register(code, &reg).await?;
        Ok(client.subscription(code).await?)
    })
    .await
}

/// Frees a slot, once the native dialog confirmed it (a trust change: the
/// environment's license stops counting for the subscription).
#[tauri::command]
pub async fn free_slot(serial: String, app: AppHandle, state: State<'_, AppState>) -> CommandResult<Subscription> {
    let serial: SerialNumber = serial.parse()?;
    cancellable(&state, async {
        let (config, client) = config_and_client().await?;
        let code = config.activation_code()?.clone();
        let slots = client.subscription(&code).await?;
        let slot = slots.slots.iter().find(|s| s.serial_number.as_ref() == Some(&serial));
        let Some(slot) = slot else {
            return Err(CommandError::Invalid(format!(
                "no slot of subscription {code} holds {serial}; nothing was changed"
            )));
        };
        let confirmed = confirm(&app, FreeSlot::propose(code.clone(), serial, slot.name.as_deref())).await?;
        client.unregister(confirmed).await?;
        Ok(client.subscription(&code).await?)
    })
    .await
}

/// The file's environments, each with its renewal's state (the core's view).
fn transfer_view(path: PathBuf, t: &Transfer) -> CommandResult<FileView> {
    Ok(file_view::view(&renewals::record_path(&config_path()?), &path, t)?)
}

/// Opens a transfer file: every environment in it and what it carries.
#[tauri::command]
pub async fn open_transfer_file(app: AppHandle) -> CommandResult<Option<FileView>> {
    let Some(path) = dialogs::pick_file(&app, "Open the transfer file", &dialogs::TRANSFER_FILES).await else {
        return Ok(None);
    };
    with_state(&app, move |state| {
        let t = Transfer::read(&path, None)?;
        *state.transfer_file.lock().expect("state lock") = Some(path.clone());
        Ok(Some(transfer_view(path, &t)?))
    })
    .await
}

/// The processing's outcome, and the file as it is now (its "Carries" column).
#[derive(Serialize, ts_rs::TS)]
pub struct Processed {
    report: ProcessReport,
    file: FileView,
}

/// Does all the portal work for the open transfer file, reporting each item. It can
/// be cancelled: every portal call may be repeated, and a receipt or license that
/// came back before the cancel is asked for again (and answered the same) next time.
#[tauri::command]
pub async fn process_transfer(
    reasons: std::collections::BTreeMap<license_core::SerialNumber, String>,
    on_progress: Channel<ItemOutcome>,
    state: State<'_, AppState>,
) -> CommandResult<Processed> {
    let path = state
        .transfer_file
        .lock()
        .expect("state lock")
        .clone()
        .ok_or_else(|| crate::error::CommandError::Invalid("open a transfer file first".into()))?;
    cancellable(&state, async {
        let client = blocking(|| Ok(load()?.client()?)).await?;
        let report = process::process(&path, &client, &reasons, &super::OnBlockingPool, &|item, _, _| {
            drop(on_progress.send(item.clone()))
        })
        .await?;
        let p = path.clone();
        let file = blocking(move || transfer_view(p.clone(), &Transfer::read(&p, None)?)).await?;
        Ok(Processed { report, file })
    })
    .await
}

/// The infrastructure on a timeline: each registered environment's license term, a
/// renewal that starts later and what became of it, and its last audit.
#[derive(Serialize, ts_rs::TS)]
pub struct Timeline {
    #[ts(type = "string")]
    now: license_core::timestamp::Timestamp,
    rows: Vec<TimelineRow>,
}

#[tauri::command]
pub async fn infrastructure_timeline(state: State<'_, AppState>) -> CommandResult<Timeline> {
    cancellable(&state, async {
        let (config, client) = config_and_client().await?;
        let sub = client.subscription(config.activation_code()?).await?;
        blocking(move || {
            let now = chrono::Utc::now();
            Ok(Timeline { now, rows: renewals::timeline(&sub, &renewals::record_path(&config_path()?), now) })
        })
        .await
    })
    .await
}

/// "Prepare renewals": the license of every environment expiring within `days`, in
/// one transfer file the administrator chooses (new, or one to add to).
#[derive(Serialize, ts_rs::TS)]
pub struct PreparedRenewals {
    path: String,
    items: Vec<PreparedRenewal>,
}

#[tauri::command]
pub async fn prepare_renewals(
    days: i64,
    app: AppHandle,
    state: State<'_, AppState>,
) -> CommandResult<Option<PreparedRenewals>> {
    // Checked before the dialog asks where to save: the core's own limits.
    license_core::error::Range::check(license_core::error::Quantity::RenewalDays, renewals::PREPARE_DAYS, days)?;
    let name = format!("renewals-{}.transfer.zip", chrono::Local::now().format("%Y%m%d"));
    let Some(path) = dialogs::save_file(&app, "Save the renewals in a transfer file", &name).await else {
        return Ok(None);
    };
    cancellable(&state, async {
        let (config, client) = config_and_client().await?;
        let sub = client.subscription(config.activation_code()?).await?;
        let record = renewals::record_path(&config_path()?);
        let items = renewals::prepare(&client, &sub, &path, &record, days, chrono::Utc::now()).await?;
        Ok(Some(PreparedRenewals { path: path.display().to_string(), items }))
    })
    .await
}

// The TypeScript signatures of the commands above (build.rs).
include!(concat!(env!("OUT_DIR"), "/commands/workstation.rs"));

//! Automatic renewal in the desktop app (opt-in, `auto_renew` in the environment's
//! configuration): at start and once a day while the app runs (`daily.rs`), the
//! core's `renewal::renew` asks the portal for this serial's license and installs or
//! stages it when it is newer and passes every check. What it did is returned for a
//! desktop notification, and the window is told to read the environment again.

use license_core::environment::renewal::{self, RenewOptions, Renewal};
use license_core::Environment;
use tauri::{AppHandle, Emitter};

/// The event the window hears when a renewal changed the environment.
pub const ENVIRONMENT_CHANGED: &str = "environment-changed";

/// One renewal run, blocking (call it off the async runtime's threads). The portal,
/// its token and proxy are the environment's own.
pub fn run(env: &Environment) -> Result<Renewal, license_core::Error> {
    let client = env.portal_client(None)?;
    tauri::async_runtime::block_on(renewal::renew(env, &client, RenewOptions::default(), &mut |_| {}))
}

/// A check that installs nothing ("Check for a renewal now"): what a run would do,
/// with the portal's license when there is one for a person to look at.
pub fn check(env: &Environment) -> Result<Renewal, license_core::Error> {
    let client = env.portal_client(None)?;
    let opts = RenewOptions { dry_run: true, ..RenewOptions::default() };
    tauri::async_runtime::block_on(renewal::renew(env, &client, opts, &mut |_| {}))
}

/// What the administrator hears of a run: a title and a body, or nothing (not due,
/// up to date). A portal fault is not said: the license is untouched, the next run
/// tries again, and the expiry warnings go on.
pub fn words(env_name: &str, r: &Renewal) -> Option<(String, String)> {
    let day = |t: &license_core::timestamp::Timestamp| t.format("%-d %b %Y").to_string();
    match r {
        Renewal::Installed { outcome } => Some((
            "License renewed".into(),
            format!(
                "{env_name}: the renewed license from the portal is installed{}. The previous license was backed up first.",
                outcome.license.expires_at.as_ref().map(|e| format!(", valid until {}", day(e))).unwrap_or_default()
            ),
        )),
        Renewal::Staged { outcome } => Some((
            "Renewal staged".into(),
            format!(
                "{env_name}: the renewed license from the portal takes effect on {}; it is installed then, with a backup first.",
                outcome.takes_effect.as_ref().map(day).unwrap_or_default()
            ),
        )),
        Renewal::WaitsForPerson { reason, .. } => {
            Some(("A renewal waits for you".into(), format!("{env_name}: the portal's license was not installed: {reason}.")))
        }
        Renewal::NotDue { .. } | Renewal::UpToDate { .. } | Renewal::WouldInstall { .. } => None,
    }
}

/// The daily run, when the administrator turned it on: renew, have the window read
/// the environment again if it changed, and return what to tell the administrator.
pub fn scheduled(app: &AppHandle, env: &Environment) -> Option<(String, String)> {
    if !env.config.auto_renew {
        return None;
    }
    match run(env) {
        Ok(r) => {
            tracing::info!(outcome = r.name(), "automatic renewal");
            if matches!(r, Renewal::Installed { .. } | Renewal::Staged { .. }) {
                let _ = app.emit(ENVIRONMENT_CHANGED, ());
            }
            words(&env.config.name, &r)
        }
        // Recorded in the renewal history by the core; the next run tries again.
        Err(e) => {
            tracing::warn!(error = %e, "automatic renewal did not complete; the next run tries again");
            None
        }
    }
}

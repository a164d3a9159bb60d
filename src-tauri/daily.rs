//! The app's daily round, at start and once a day while it runs: an automatic
//! renewal first (`renew.rs`, when turned on), then a desktop notification
//! (`notify.rs`) if the license is in the warning window, expired, or no longer
//! matches this environment's serial. The only module that uses both.

use crate::state::AppState;
use std::time::Duration;
use tauri::{AppHandle, Manager};

const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

pub fn start(app: &AppHandle) {
    let app = app.clone();
    std::thread::Builder::new()
        .name("license-notifications".into())
        .spawn(move || loop {
            once(&app);
            std::thread::sleep(EVERY);
        })
        .expect("spawn the notification thread");
}

fn once(app: &AppHandle) {
    // A connected workstation has no license of its own to watch.
    let Ok(env) = app.state::<AppState>().env() else { return };
    // A renewal first: when it installs one, the alert below has nothing to say.
    if let Some((title, body)) = crate::renew::scheduled(app, &env) {
        crate::notify::show(&title, &body);
    }
    match env.desktop_alert() {
        Ok(Some(alert)) => crate::notify::show(&alert.title, &alert.body),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not check the license for notifications"),
    }
}

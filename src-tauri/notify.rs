//! Native desktop notifications, sent from Rust (the webview has no notification
//! permission): when the app starts and once a day while it runs, if the license is
//! in the warning window, expired, or no longer matches this environment's serial;
//! and what an automatic renewal did (`renew.rs`), which runs on the same schedule.

use crate::state::AppState;
use std::time::Duration;
use tauri::{AppHandle, Manager};

const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

pub fn start(app: &AppHandle) {
    let app = app.clone();
    std::thread::Builder::new()
        .name("license-notifications".into())
        .spawn(move || loop {
            notify_once(&app);
            std::thread::sleep(EVERY);
        })
        .expect("spawn the notification thread");
}

fn notify_once(app: &AppHandle) {
    // A connected workstation has no license of its own to watch.
    let Ok(env) = app.state::<AppState>().env() else { return };
    // A renewal first: when it installs one, the alert below has nothing to say.
    crate::renew::scheduled(app, &env);
    match env.desktop_alert() {
        Ok(Some(alert)) => show(&alert.title, &alert.body),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not check the license for notifications"),
    }
}

/// One native notification. Without a notification service (a server console, a
/// locked-down desktop) the overview still shows the same.
pub fn show(title: &str, body: &str) {
    let shown = notify_rust::Notification::new()
        .appname("License Manager")
        .summary(title)
        .body(body)
        .icon("license-manager")
        .show();
    match shown {
        Ok(_) => tracing::info!(%title, "desktop notification sent"),
        Err(e) => tracing::warn!(error = %e, %title, "desktop notification not shown"),
    }
}

//! Native desktop notifications, sent from Rust (the webview has no notification
//! permission). What is said, and when, is `daily.rs`'s.

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

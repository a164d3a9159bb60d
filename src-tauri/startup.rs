//! What the app says when it cannot open its window at all.
//!
//! A release build on Windows has no console (`windows_subsystem = "windows"`), so
//! an error printed to stderr is seen by nobody: the administrator double-clicks and
//! nothing happens. So a start that fails says why in a message box there, and on
//! stderr everywhere (the journal, a terminal).

/// Why the window cannot open before we try: on Windows, a missing WebView2 runtime,
/// which Windows Server does not have by default and an air-gapped server cannot
/// download. Elsewhere the webview is a package dependency, so there is nothing to check.
pub fn missing_webview() -> Option<&'static str> {
    if !cfg!(windows) {
        return None;
    }
    match tauri::webview_version() {
        Ok(version) => {
            tracing::info!(%version, "WebView2 runtime");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "no WebView2 runtime");
            Some(WEBVIEW2_MISSING)
        }
    }
}

const WEBVIEW2_MISSING: &str = "License Manager cannot open its window: the Microsoft Edge WebView2 Runtime \
is not installed on this computer (Windows Server does not include it).\n\n\
Install Microsoft's WebView2 Runtime. On a server without internet access, copy the \
\"Evergreen Standalone Installer\" (x64) onto it and run it, then start License Manager again.\n\n\
Everything the app does can also be done without it: run licensectl in a command prompt \
(licensectl --help).";

/// Says `message` where the administrator will see it, then ends the process with
/// exit code 1.
pub fn fail(message: &str) -> ! {
    eprintln!("license-manager: {message}");
    #[cfg(windows)]
    message_box(message);
    std::process::exit(1)
}

#[cfg(windows)]
fn message_box(message: &str) {
    use windows_sys::Win32::UI::WindowsAndMessaging::{MessageBoxW, MB_ICONERROR, MB_OK};
    let wide = |s: &str| s.encode_utf16().chain(Some(0)).collect::<Vec<u16>>();
    let (text, caption) = (wide(message), wide("License Manager"));
    // SAFETY: both strings are NUL-terminated UTF-16 that outlive the call; no owner window.
    unsafe { MessageBoxW(std::ptr::null_mut(), text.as_ptr(), caption.as_ptr(), MB_OK | MB_ICONERROR) };
}

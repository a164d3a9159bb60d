//! Native file dialogs (rfd). On Linux a GTK dialog must be created on the main
//! thread; the command awaits its answer without blocking that thread.
//!
//! With the `test-dialogs` feature (E2E builds only) a dialog does not open: it
//! answers with the path written in the file named by `LICENSE_MANAGER_TEST_DIALOG`
//! (empty = cancelled). Release builds never contain this.

use std::path::PathBuf;
use tauri::AppHandle;
#[cfg(not(feature = "test-dialogs"))]
use tauri::Manager;

pub struct Filter {
    pub name: &'static str,
    pub extensions: &'static [&'static str],
}

pub const LICENSE_FILES: Filter = Filter { name: "License files", extensions: &["lic", "txt", "license"] };
pub const AUDIT_FILES: Filter = Filter { name: "Audit files", extensions: &["audit", "txt"] };
pub const TRANSFER_FILES: Filter = Filter { name: "Transfer files", extensions: &["zip"] };
pub const REQUEST_FILES: Filter = Filter { name: "License request files", extensions: &["lreq", "txt"] };

#[cfg(feature = "test-dialogs")]
fn injected() -> Option<PathBuf> {
    let f = std::env::var_os("LICENSE_MANAGER_TEST_DIALOG")?;
    let answer = std::fs::read_to_string(f).ok()?;
    let answer = answer.trim();
    (!answer.is_empty()).then(|| PathBuf::from(answer))
}

// `return` leaves the test branch; the native one is compiled out with it.
#[allow(clippy::needless_return)]
pub async fn pick_file(app: &AppHandle, title: &str, filter: &Filter) -> Option<PathBuf> {
    #[cfg(feature = "test-dialogs")]
    {
        let _ = (app, title, filter.name, filter.extensions);
        return injected();
    }
    #[cfg(not(feature = "test-dialogs"))]
    {
        let dialog = rfd::AsyncFileDialog::new().set_title(title).add_filter(filter.name, filter.extensions);
        run(app, move |d| Box::pin(async move { d.pick_file().await.map(|h| h.path().to_path_buf()) }), dialog).await
    }
}

// `return` leaves the test branch; the native one is compiled out with it.
#[allow(clippy::needless_return)]
pub async fn save_file(app: &AppHandle, title: &str, default_name: &str) -> Option<PathBuf> {
    #[cfg(feature = "test-dialogs")]
    {
        let _ = (app, title, default_name);
        return injected();
    }
    #[cfg(not(feature = "test-dialogs"))]
    {
        let dialog = rfd::AsyncFileDialog::new().set_title(title).set_file_name(default_name);
        run(app, move |d| Box::pin(async move { d.save_file().await.map(|h| h.path().to_path_buf()) }), dialog).await
    }
}

/// Asks the administrator to confirm `changes` in a native dialog: drawn and
/// answered outside the webview, so a script in the page can neither skip it nor
/// click it. With `test-dialogs`, the dialog file answers: `confirm` is yes, and the
/// text shown is written beside it (`<file>.shown`) for the test to read.
// `return` leaves the test branch; the native one is compiled out with it.
#[allow(clippy::needless_return)]
pub async fn confirm(app: &AppHandle, title: &str, changes: &[String]) -> bool {
    let description = format!("{}\n\nMake these changes?", changes.join("\n"));
    #[cfg(feature = "test-dialogs")]
    {
        let _ = app;
        let Some(f) = std::env::var_os("LICENSE_MANAGER_TEST_DIALOG").map(PathBuf::from) else { return false };
        let mut shown = f.clone().into_os_string();
        shown.push(".shown");
        let _ = std::fs::write(shown, format!("{title}\n{description}"));
        return std::fs::read_to_string(f).is_ok_and(|a| a.trim() == "confirm");
    }
    #[cfg(not(feature = "test-dialogs"))]
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let window = app.get_webview_window("main");
        let title = title.to_string();
        app.run_on_main_thread(move || {
            let mut dialog = rfd::AsyncMessageDialog::new()
                .set_level(rfd::MessageLevel::Warning)
                .set_title(title)
                .set_description(description)
                .set_buttons(rfd::MessageButtons::OkCancel);
            if let Some(w) = &window {
                dialog = dialog.set_parent(w);
            }
            let answer = dialog.show();
            tauri::async_runtime::spawn(async move {
                let _ = tx.send(answer.await == rfd::MessageDialogResult::Ok);
            });
        })
        .is_ok()
            && tauri::async_runtime::spawn_blocking(move || rx.recv().unwrap_or(false)).await.unwrap_or(false)
    }
}

/// The app's [`Confirmer`](license_core::trust::Confirmer): the native dialog of
/// [`confirm`], waited for on the blocking thread the change runs on.
pub struct Native(pub AppHandle);

impl license_core::trust::Confirmer for Native {
    fn confirm(&self, title: &str, changes: &[String]) -> bool {
        tauri::async_runtime::block_on(confirm(&self.0, title, changes))
    }
}

#[cfg(not(feature = "test-dialogs"))]
type DialogFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Option<PathBuf>> + Send>>;

#[cfg(not(feature = "test-dialogs"))]
async fn run(
    app: &AppHandle,
    show: impl FnOnce(rfd::AsyncFileDialog) -> DialogFuture + Send + 'static,
    dialog: rfd::AsyncFileDialog,
) -> Option<PathBuf> {
    let (tx, rx) = std::sync::mpsc::channel();
    let window = app.get_webview_window("main");
    app.run_on_main_thread(move || {
        let dialog = match &window {
            Some(w) => dialog.set_parent(w),
            None => dialog,
        };
        let fut = show(dialog);
        tauri::async_runtime::spawn(async move {
            let _ = tx.send(fut.await);
        });
    })
    .ok()?;
    tauri::async_runtime::spawn_blocking(move || rx.recv().ok().flatten()).await.ok().flatten()
}

//! The commands the webview may call, one module per page. Each is a thin layer
//! over `license-core`; slow work runs on a blocking thread so the window stays
//! responsive.

pub mod backups;
pub mod environment;
pub mod install;
pub mod portal;
pub mod settings;

use crate::error::{CommandError, CommandResult};

/// Runs blocking core work off the async runtime's threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> CommandResult<T> + Send + 'static) -> CommandResult<T> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| CommandError::Internal(e.to_string()))?
}

//! The portal token lives in the OS keyring (Secret Service, Keychain, Credential
//! Manager) and nowhere else: never in the configuration, a log, or the webview.

use crate::error::{CommandError, CommandResult};

const SERVICE: &str = "license-manager";

fn entry(portal_url: &str) -> CommandResult<keyring::Entry> {
    keyring::Entry::new(SERVICE, portal_url).map_err(|e| CommandError::Keyring(e.to_string()))
}

pub fn store(portal_url: &str, token: &str) -> CommandResult<()> {
    entry(portal_url)?.set_password(token).map_err(|e| CommandError::Keyring(e.to_string()))
}

pub fn clear(portal_url: &str) -> CommandResult<()> {
    match entry(portal_url)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(CommandError::Keyring(e.to_string())),
    }
}

/// Whether a token is stored; the token itself is never returned to the UI.
pub fn is_stored(portal_url: &str) -> CommandResult<bool> {
    match entry(portal_url)?.get_password() {
        Ok(_) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(CommandError::Keyring(e.to_string())),
    }
}

//! The portal token lives in the OS keyring (Secret Service, Keychain, Credential
//! Manager) and nowhere else: never in the configuration, a log, or the webview.
//! Headless machines without a keyring can pass it in `LICENSE_MANAGER_TOKEN`.

use crate::error::Error;

const SERVICE: &str = "license-manager";
pub const TOKEN_ENV: &str = "LICENSE_MANAGER_TOKEN";

fn entry(portal_url: &str) -> Result<keyring::Entry, Error> {
    keyring::Entry::new(SERVICE, portal_url).map_err(|e| Error::Keyring { reason: e.to_string() })
}

pub fn store(portal_url: &str, token: &str) -> Result<(), Error> {
    entry(portal_url)?.set_password(token).map_err(|e| Error::Keyring { reason: e.to_string() })
}

pub fn clear(portal_url: &str) -> Result<(), Error> {
    match entry(portal_url)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(Error::Keyring { reason: e.to_string() }),
    }
}

/// Whether a token is stored; the token itself is never returned to the UI.
pub fn is_stored(portal_url: &str) -> Result<bool, Error> {
    load(portal_url).map(|t| t.is_some())
}

/// The token for `portal_url`: the environment variable first, then the keyring.
pub fn load(portal_url: &str) -> Result<Option<String>, Error> {
    if let Some(t) = std::env::var(TOKEN_ENV).ok().filter(|t| !t.trim().is_empty()) {
        return Ok(Some(t.trim().to_string()));
    }
    match entry(portal_url)?.get_password() {
        Ok(t) => Ok(Some(t)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(Error::Keyring { reason: e.to_string() }),
    }
}

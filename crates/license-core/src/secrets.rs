//! The portal token lives in the OS keyring (Secret Service, Keychain, Credential
//! Manager) and nowhere else: never in the configuration, a log, the webview or a
//! child process. Entries are keyed by the normalised [`PortalUrl`], so a token is
//! found under exactly the address it was stored for.
//!
//! Headless machines without a keyring can pass the token in `LICENSE_MANAGER_TOKEN`,
//! or (scheduled jobs) as the systemd credential `portal-token`.
//! That token belongs to one portal: `LICENSE_MANAGER_PORTAL` when set, else the
//! configured `portal_url`. It is never sent anywhere else, so a `--portal` override
//! pointing at another host gets no token from the environment.

use crate::error::Error;
use crate::portal_url::PortalUrl;

const SERVICE: &str = "license-manager";
pub const TOKEN_ENV: &str = "LICENSE_MANAGER_TOKEN";
/// The portal that `LICENSE_MANAGER_TOKEN` belongs to (and the CLI's default portal).
pub const PORTAL_ENV: &str = "LICENSE_MANAGER_PORTAL";
const MAX_TOKEN_CHARS: usize = 4096;

/// Tokens this process stored, by portal. The Secret Service can show a new item to
/// a fresh connection a moment late, so "stored" then "no token" would follow; the
/// copy lives in this process's memory only, like any token in use.
static STORED_HERE: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

fn remember(url: &PortalUrl, token: Option<&str>) {
    let mut m = STORED_HERE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    m.retain(|(u, _)| u != url.as_str());
    if let Some(t) = token {
        m.push((url.as_str().to_string(), t.to_string()));
    }
}

fn stored_here(url: &PortalUrl) -> Option<String> {
    let m = STORED_HERE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    m.iter().find(|(u, _)| u == url.as_str()).map(|(_, t)| t.clone())
}

fn entry(url: &PortalUrl) -> Result<keyring::Entry, Error> {
    keyring::Entry::new(SERVICE, url.as_str()).map_err(|e| Error::Keyring { reason: e.to_string() })
}

/// What a token may look like, for the CLI and the app alike: one line of visible
/// text, without spaces (it travels in an HTTP header).
pub fn validate_token(input: &str) -> Result<String, Error> {
    let t = input.trim();
    let reason = if t.is_empty() {
        "it is empty"
    } else if t.chars().count() > MAX_TOKEN_CHARS {
        "it is longer than any portal token"
    } else if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "it contains spaces, line breaks or control characters"
    } else {
        return Ok(t.to_string());
    };
    Err(Error::BadToken { reason: reason.into() })
}

pub fn store(url: &PortalUrl, token: &str) -> Result<(), Error> {
    let token = validate_token(token)?;
    entry(url)?.set_password(&token).map_err(|e| Error::Keyring { reason: e.to_string() })?;
    remember(url, Some(&token));
    Ok(())
}

pub fn clear(url: &PortalUrl) -> Result<(), Error> {
    remember(url, None);
    match entry(url)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(Error::Keyring { reason: e.to_string() }),
    }
}

/// Where the token in use comes from: what Settings says, so it never claims a
/// keyring token when the token is the environment's, or the other way round.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// The OS keyring (Secret Service, Keychain, Credential Manager).
    Keyring,
    /// `LICENSE_MANAGER_TOKEN`, given when the program started.
    Environment,
    /// The systemd credential `portal-token` of a scheduled job.
    Credential,
}

/// Where a token for `url` comes from, if there is one; the token itself is never
/// returned to the UI.
pub fn source(url: &PortalUrl, configured: Option<&PortalUrl>) -> Result<Option<TokenSource>, Error> {
    find(url, configured).map(|t| t.map(|(_, from)| from))
}

/// Whether a token is available for `url`.
pub fn is_stored(url: &PortalUrl, configured: Option<&PortalUrl>) -> Result<bool, Error> {
    source(url, configured).map(|s| s.is_some())
}

/// What the process was given in its environment, once taken out of it.
struct Given {
    token: Option<String>,
    credentials_dir: Option<std::ffi::OsString>,
}

static GIVEN: std::sync::OnceLock<Given> = std::sync::OnceLock::new();

/// Moves `LICENSE_MANAGER_TOKEN` and `CREDENTIALS_DIRECTORY` from the process
/// environment into this process's memory. The desktop app calls it first thing,
/// before any thread starts: the webview's processes (WebKit's web and network
/// processes are children of the app) then never inherit the token. Later calls
/// change nothing.
pub fn take_from_environment() {
    GIVEN.get_or_init(|| {
        let given =
            Given { token: std::env::var(TOKEN_ENV).ok(), credentials_dir: std::env::var_os("CREDENTIALS_DIRECTORY") };
        // Safe to call here: the app has not started another thread yet.
        std::env::remove_var(TOKEN_ENV);
        std::env::remove_var("CREDENTIALS_DIRECTORY");
        given
    });
}

/// `LICENSE_MANAGER_TOKEN`, from memory once taken, else from the environment.
fn given_token() -> Option<String> {
    match GIVEN.get() {
        Some(g) => g.token.clone(),
        None => std::env::var(TOKEN_ENV).ok(),
    }
}

/// The name of the token in a systemd unit's credentials (`LoadCredentialEncrypted=`).
pub const CREDENTIAL: &str = "portal-token";

/// A scheduled job's token: systemd decrypts it into the unit's own credentials
/// folder (memory only, readable by that unit alone); it is bound to a portal like
/// `LICENSE_MANAGER_TOKEN`.
fn credential_token() -> Option<String> {
    let dir = match GIVEN.get() {
        Some(g) => g.credentials_dir.clone()?,
        None => std::env::var_os("CREDENTIALS_DIRECTORY")?,
    };
    let path = std::path::Path::new(&dir).join(CREDENTIAL);
    let bytes = crate::fs::read_capped(&path, MAX_TOKEN_CHARS as u64, crate::fs::Links::Refuse).ok()?;
    // A pasted token keeps its line's end; validate_token trims it.
    String::from_utf8(bytes).ok()
}

/// The portal a token given at start (`LICENSE_MANAGER_TOKEN`, the credential)
/// belongs to, fixed once by [`bind_given_token`].
static BOUND: std::sync::OnceLock<Option<PortalUrl>> = std::sync::OnceLock::new();

/// Binds the token given at start to the portal declared at start:
/// `LICENSE_MANAGER_PORTAL`, else `declared` (the configuration's portal as the
/// process opened it). The desktop app calls it once it has read its
/// configuration; from then on a portal changed in Settings never receives that
/// token. Later calls change nothing.
pub fn bind_given_token(declared: Option<&PortalUrl>) -> Result<(), Error> {
    let owner = declared_owner(declared)?;
    if let Some(o) = &owner {
        tracing::info!(portal = %o, "a token given at start belongs to this portal");
    }
    let _ = BOUND.set(owner);
    Ok(())
}

/// The portal `LICENSE_MANAGER_TOKEN` belongs to: the one it was bound to at start
/// ([`bind_given_token`]), else `LICENSE_MANAGER_PORTAL`, else `configured`. A
/// process that took the token into memory ([`take_from_environment`]) but never
/// bound it sends it nowhere.
pub fn env_token_owner(configured: Option<&PortalUrl>) -> Result<Option<PortalUrl>, Error> {
    if let Some(bound) = BOUND.get() {
        return Ok(bound.clone());
    }
    if GIVEN.get().is_some() {
        return Ok(None);
    }
    declared_owner(configured)
}

fn declared_owner(configured: Option<&PortalUrl>) -> Result<Option<PortalUrl>, Error> {
    match std::env::var(PORTAL_ENV).ok().filter(|v| !v.trim().is_empty()) {
        Some(v) => PortalUrl::parse(&v).map(Some),
        None => Ok(configured.cloned()),
    }
}

/// The token for `url`: `LICENSE_MANAGER_TOKEN` if it belongs to `url`, else the keyring's.
/// `configured` is the environment's configured portal, if any.
pub fn load(url: &PortalUrl, configured: Option<&PortalUrl>) -> Result<Option<String>, Error> {
    find(url, configured).map(|t| t.map(|(token, _)| token))
}

fn find(url: &PortalUrl, configured: Option<&PortalUrl>) -> Result<Option<(String, TokenSource)>, Error> {
    let given = [
        (TOKEN_ENV, TokenSource::Environment, given_token()),
        ("the systemd credential portal-token", TokenSource::Credential, credential_token()),
    ];
    // A token given for another portal (or for none) is never sent here; if the
    // keyring has none either, the error says how to bind it, not to set it again.
    let mut unbound = None;
    for (from, kind, token) in given {
        let Some(t) = token.filter(|t| !t.trim().is_empty()) else { continue };
        match env_token_owner(configured)? {
            Some(owner) if &owner == url => return validate_token(&t).map(|t| Some((t, kind))),
            Some(owner) => {
                tracing::warn!(portal = %url, token_portal = %owner, "{from} belongs to another portal; not using it here")
            }
            None => tracing::warn!(
                portal = %url,
                "{from} is bound to no portal ({PORTAL_ENV} is not set and no portal_url is configured); not using it"
            ),
        }
        unbound.get_or_insert(from);
    }
    let stored = match keyring::Entry::new(SERVICE, url.as_str()).and_then(|e| e.get_password()) {
        Ok(t) => Some(t),
        Err(keyring::Error::NoEntry) => stored_here(url),
        Err(e) if unbound.is_none() => return Err(Error::Keyring { reason: e.to_string() }),
        Err(e) => {
            tracing::warn!(error = %e, "the OS keyring could not be used");
            None
        }
    };
    match (stored, unbound) {
        (None, Some(from)) => Err(Error::TokenNotBound { from, url: url.to_string() }),
        (t, _) => Ok(t.map(|t| (t, TokenSource::Keyring))),
    }
}

/// Under Wine too: on Windows the token is a generic credential of the Windows
/// Credential Manager (keyring's Windows store), read back through the Credential
/// Manager's own API, and clearing it removes it.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;
    use windows_sys::Win32::Security::Credentials::{CredFree, CredReadW, CREDENTIALW, CRED_TYPE_GENERIC};

    /// The credential's secret as the Credential Manager holds it, if there is one.
    fn credential_manager(target: &str) -> Option<String> {
        let name = crate::winpath::wide_text(target);
        let mut cred: *mut CREDENTIALW = std::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated; `cred` is freed with CredFree below.
        if unsafe { CredReadW(name.as_ptr(), CRED_TYPE_GENERIC, 0, &mut cred) } == 0 {
            return None;
        }
        // SAFETY: CredReadW succeeded, so `cred` points at a credential whose blob is
        // CredentialBlobSize bytes long.
        let blob =
            unsafe { std::slice::from_raw_parts((*cred).CredentialBlob, (*cred).CredentialBlobSize as usize).to_vec() };
        // SAFETY: `cred` came from CredReadW and is freed once.
        unsafe { CredFree(cred.cast()) };
        let wide: Vec<u16> = blob.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        Some(String::from_utf16_lossy(&wide))
    }

    #[test]
    fn on_windows_the_token_lives_in_the_credential_manager() {
        let url = PortalUrl::parse("https://portal.example.com").unwrap();
        let target = format!("{}.{SERVICE}", url.as_str());
        store(&url, "lm_test_token_4711").unwrap();
        assert_eq!(credential_manager(&target).as_deref(), Some("lm_test_token_4711"));
        assert_eq!(load(&url, Some(&url)).unwrap().as_deref(), Some("lm_test_token_4711"));
        assert_eq!(source(&url, Some(&url)).unwrap(), Some(TokenSource::Keyring));
        clear(&url).unwrap();
        assert_eq!(credential_manager(&target), None, "cleared from the Credential Manager");
        assert_eq!(load(&url, Some(&url)).unwrap(), None);
    }
}

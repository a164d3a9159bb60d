//! The environment's own Ed25519 key pair, which signs audits and license requests.
//! Created on first use in the state folder, readable by its owner (the
//! administrator) only; the portal pins its public key on first sight of the serial.

use crate::error::Error;
use crate::fs;
use crate::keys::KeyPair;
use std::path::Path;

pub(crate) const FILE: &str = "environment.key";

/// Whether this environment already has its key (it is made on first use). A link
/// or anything else at that name counts as there, so it is refused when read rather
/// than replaced.
pub fn exists(state_dir: &Path) -> bool {
    std::fs::symlink_metadata(state_dir.join(FILE)).is_ok()
}

/// A PEM key is a few hundred bytes.
const MAX_KEY_BYTES: u64 = 16 * 1024;

pub fn load_or_create(state_dir: &Path) -> Result<KeyPair, Error> {
    let path = state_dir.join(FILE);
    fs::ensure_private_dir(state_dir)?;
    if exists(state_dir) {
        return read_private(&path);
    }
    // Creation is serialised by its own lock (not the environment lock, which a
    // check during an install already holds); whoever comes second reads the first's key.
    let _lock = fs::lock_file(&state_dir.join("environment.key.lock"), true)?;
    if exists(state_dir) {
        return read_private(&path);
    }
    let key = KeyPair::generate();
    fs::create_private(&path, key.to_pem().as_bytes())?;
    tracing::info!(kid = key.public().kid(), "created the environment key");
    Ok(key)
}

/// Reads the key without following a link or blocking on a pipe, and refuses a key
/// file that others can read: a leaked key lets anyone sign audits for this
/// environment.
fn read_private(path: &Path) -> Result<KeyPair, Error> {
    let pem = fs::read_capped(path, MAX_KEY_BYTES, fs::Links::Refuse)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::symlink_metadata(path).map_err(|e| Error::io("inspect", path, e))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::BadKey {
                reason: format!(
                    "{} is readable by other users (mode {:o}): run `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                ),
            });
        }
    }
    // A key another user owns is one they can swap: refused like a shared folder
    // (its mode bits were checked just above, with the chmod that mends them).
    fs::check_owned(path, 0)?;
    let text =
        String::from_utf8(pem).map_err(|_| Error::BadKey { reason: format!("{} is not text", path.display()) })?;
    KeyPair::from_pem(&text)
        .map_err(|_| Error::BadKey { reason: format!("{} is not a PKCS#8 PEM Ed25519 private key", path.display()) })
}

#[cfg(test)]
mod tests {
    #[test]
    fn racing_creators_end_with_one_key() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_path_buf();
        let keys: Vec<_> = (0..8)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || super::load_or_create(&dir).unwrap().public())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "every caller got the same key");
        assert_eq!(super::load_or_create(&dir).unwrap().public(), keys[0]);
    }

    #[test]
    fn created_once_private_and_reused() {
        let d = tempfile::tempdir().unwrap();
        let a = super::load_or_create(d.path()).unwrap();
        let b = super::load_or_create(d.path()).unwrap();
        assert_eq!(a.public(), b.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = d.path().join("environment.key");
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(super::load_or_create(d.path()).unwrap_err().to_string().contains("chmod 600"));
        }
    }
}

//! The environment's own Ed25519 key pair, which signs audits and license requests.
//! Created on first use in the state folder, readable by its owner (the
//! administrator) only; the portal pins its public key on first sight of the serial.

use super::durable;
use crate::error::Error;
use crate::keys::KeyPair;
use std::path::Path;

const FILE: &str = "environment.key";

pub fn load_or_create(state_dir: &Path) -> Result<KeyPair, Error> {
    let path = state_dir.join(FILE);
    if path.exists() {
        check_private(&path)?;
        return KeyPair::read(&path);
    }
    durable::ensure_dir(state_dir)?;
    let key = KeyPair::generate();
    write_private(&path, key.to_pem().as_bytes())?;
    tracing::info!(kid = key.public().kid(), "created the environment key");
    Ok(key)
}

/// Writes a private file: created with mode 0600 before any byte is written.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = path.with_extension("key.new");
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| Error::io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("create", path, e))?;
        durable::sync_dir(path.parent().unwrap_or(Path::new(".")))
    }
    #[cfg(not(unix))]
    durable::replace(path, bytes, "key")
}

/// Refuses a key file that others can read: a leaked key lets anyone sign audits
/// for this environment.
fn check_private(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(|e| Error::io("inspect", path, e))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::BadKey {
                reason: format!("{} is readable by other users (mode {:o}): run `chmod 600 {}`", path.display(), mode & 0o777, path.display()),
            });
        }
    }
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
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

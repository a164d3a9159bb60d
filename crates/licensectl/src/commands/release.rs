//! `verify-release`: check a release's files before installing them.

use crate::exit::{EXIT_OK, EXIT_REFUSED};
use crate::output::Out;
use anyhow::Result;
use license_core::fs::{read_capped, Links};
use license_core::release::{self, FileVerdict};
use std::path::Path;

/// `key` is a key file (regular files only, capped), else the key itself.
pub fn verify(dir: &Path, key: String, out: &Out) -> Result<u8> {
    let text = match read_capped(Path::new(&key), 64 * 1024, Links::Follow) {
        Ok(pem) => String::from_utf8(pem).map_err(|_| anyhow::anyhow!("{key} is not a PEM text file"))?,
        Err(_) => key,
    };
    let checks = release::verify(dir, &license_core::PublicKey::parse_any(&text)?)?;
    out.release(&checks);
    Ok(if checks.iter().all(|c| c.verdict == FileVerdict::Ok) { EXIT_OK } else { EXIT_REFUSED })
}

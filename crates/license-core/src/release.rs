//! Releases an air-gapped site can check before installing: every artefact listed
//! in `SHA256SUMS` (the `sha256sum` format), and that file signed with the vendor's
//! Ed25519 release key in `SHA256SUMS.sig` (the raw 64-byte signature of the file's
//! bytes, so `openssl pkeyutl -verify -rawin` checks it too; see the README).

use crate::error::Error;
use crate::keys::{KeyPair, PublicKey};
use ed25519_dalek::Signature;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

pub const SUMS: &str = "SHA256SUMS";
pub const SIGNATURE: &str = "SHA256SUMS.sig";

fn bad(reason: impl Into<String>) -> Error {
    Error::BadRelease { reason: reason.into() }
}

/// The SHA-256 of a regular file, opened without following a link or waiting on a
/// pipe: `None` for anything that is not a plain file of the folder.
fn file_sha256(path: &Path) -> Result<Option<String>, Error> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let mut f = match o.open(path) {
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
        r => r.map_err(|e| Error::io("read", path, e))?,
    };
    if !f.metadata().map_err(|e| Error::io("inspect", path, e))?.is_file()
        || std::fs::symlink_metadata(path).map_err(|e| Error::io("inspect", path, e))?.file_type().is_symlink()
    {
        return Ok(None);
    }
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io("read", path, e))?;
    Ok(Some(crate::digest::hex_lower(&h.finalize())))
}

/// Writes `SHA256SUMS` for every regular file in `dir` (sorted by name) and its
/// signature. Returns the names listed.
pub fn sign(dir: &Path, key: &KeyPair) -> Result<Vec<String>, Error> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io("list", dir, e))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != SUMS && n != SIGNATURE)
        .collect();
    names.sort();
    let mut sums = String::new();
    for n in &names {
        let sum = file_sha256(&dir.join(n))?.ok_or_else(|| bad(format!("{n} is not a regular file")))?;
        sums += &format!("{sum}  {n}\n");
    }
    crate::fs::replace(&dir.join(SUMS), sums.as_bytes(), "release sums")?;
    crate::fs::replace(&dir.join(SIGNATURE), &key.sign(sums.as_bytes()).to_bytes(), "release signature")?;
    Ok(names)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileVerdict {
    Ok,
    Mismatch,
    Missing,
    /// Listed, but a link, folder or pipe: only a plain file of the folder is checked.
    NotAFile,
    /// In the folder but not in the signed list: not part of the release (it may
    /// have been put there), so the folder does not verify.
    Unlisted,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileCheck {
    pub name: String,
    pub verdict: FileVerdict,
}

/// Checks the signature of `SHA256SUMS` with `key`, then every file it lists. The
/// list is trusted only once its signature verifies; a name that is not a plain file
/// name in `dir` is refused, so a list cannot point outside the release folder.
pub fn verify(dir: &Path, key: &PublicKey) -> Result<Vec<FileCheck>, Error> {
    use crate::fs::{read_capped, Links};
    let sums = read_capped(&dir.join(SUMS), crate::kind::MAX_FILE_BYTES, Links::Refuse)?;
    let sig = read_capped(&dir.join(SIGNATURE), 1024, Links::Refuse)?;
    let sig: [u8; 64] = sig
        .try_into()
        .map_err(|v: Vec<u8>| bad(format!("{SIGNATURE} is {} bytes; an Ed25519 signature is 64", v.len())))?;
    if !key.verify_strict(&sums, &Signature::from_bytes(&sig)) {
        return Err(bad(format!("{SUMS} is not signed by the release key {} (altered, or another key)", key.kid())));
    }
    let text = std::str::from_utf8(&sums).map_err(|_| bad(format!("{SUMS} is not text")))?;
    let mut checks = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (hash, name) = line
            .split_once("  ")
            .or_else(|| line.split_once(" *"))
            .ok_or_else(|| bad(format!("line {} of {SUMS} is not '<sha256>  <file>'", i + 1)))?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!("line {} of {SUMS} has no SHA-256", i + 1)));
        }
        if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
            return Err(bad(format!("line {} of {SUMS} names '{name}', which is not a file of this folder", i + 1)));
        }
        let path = dir.join(name);
        let verdict = if std::fs::symlink_metadata(&path).is_err() {
            FileVerdict::Missing
        } else {
            match file_sha256(&path)? {
                None => FileVerdict::NotAFile,
                Some(sum) if sum.eq_ignore_ascii_case(hash) => FileVerdict::Ok,
                Some(_) => FileVerdict::Mismatch,
            }
        };
        checks.push(FileCheck { name: name.to_string(), verdict });
    }
    if checks.is_empty() {
        return Err(bad(format!("{SUMS} lists no file")));
    }
    let mut unlisted: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io("list", dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != SUMS && n != SIGNATURE && !checks.iter().any(|c| &c.name == n))
        .collect();
    unlisted.sort();
    checks.extend(unlisted.into_iter().map(|name| FileCheck { name, verdict: FileVerdict::Unlisted }));
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> (tempfile::TempDir, KeyPair) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.deb"), b"package a").unwrap();
        std::fs::write(d.path().join("b.rpm"), b"package b").unwrap();
        let k = KeyPair::generate();
        assert_eq!(sign(d.path(), &k).unwrap(), vec!["a.deb", "b.rpm"]);
        (d, k)
    }

    #[test]
    fn a_signed_release_verifies_and_an_altered_file_is_named() {
        let (d, k) = release();
        let all = verify(d.path(), &k.public()).unwrap();
        assert!(all.iter().all(|c| c.verdict == FileVerdict::Ok), "{all:?}");
        std::fs::write(d.path().join("b.rpm"), b"package B").unwrap();
        std::fs::remove_file(d.path().join("a.deb")).unwrap();
        let v: Vec<_> = verify(d.path(), &k.public()).unwrap().into_iter().map(|c| (c.name, c.verdict)).collect();
        assert_eq!(v, vec![("a.deb".into(), FileVerdict::Missing), ("b.rpm".into(), FileVerdict::Mismatch)]);
    }

    #[cfg(unix)]
    #[test]
    fn unlisted_files_and_linked_members_do_not_verify() {
        let (d, k) = release();
        std::fs::write(d.path().join("extra.msi"), b"planted").unwrap();
        std::fs::remove_file(d.path().join("b.rpm")).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("b.rpm"), b"package b").unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("b.rpm"), d.path().join("b.rpm")).unwrap();
        let v: Vec<_> = verify(d.path(), &k.public()).unwrap().into_iter().map(|c| (c.name, c.verdict)).collect();
        assert_eq!(
            v,
            vec![
                ("a.deb".into(), FileVerdict::Ok),
                ("b.rpm".into(), FileVerdict::NotAFile),
                ("extra.msi".into(), FileVerdict::Unlisted)
            ]
        );
    }

    #[test]
    fn an_altered_list_or_another_key_is_refused() {
        let (d, k) = release();
        let other = KeyPair::generate();
        assert!(matches!(verify(d.path(), &other.public()), Err(Error::BadRelease { .. })));
        let sums = std::fs::read_to_string(d.path().join(SUMS)).unwrap();
        std::fs::write(d.path().join(SUMS), sums.replace("a.deb", "../a.deb")).unwrap();
        let e = verify(d.path(), &k.public()).unwrap_err().to_string();
        assert!(e.contains("not signed by the release key"), "{e}");
    }

    #[test]
    fn a_signed_list_cannot_point_outside_the_folder() {
        let d = tempfile::tempdir().unwrap();
        let k = KeyPair::generate();
        let sums = format!("{}  ../etc/passwd\n", "0".repeat(64));
        std::fs::write(d.path().join(SUMS), &sums).unwrap();
        std::fs::write(d.path().join(SIGNATURE), k.sign(sums.as_bytes()).to_bytes()).unwrap();
        let e = verify(d.path(), &k.public()).unwrap_err().to_string();
        assert!(e.contains("not a file of this folder"), "{e}");
    }

    #[test]
    fn public_keys_read_as_pem_or_base64url() {
        let k = KeyPair::generate().public();
        assert_eq!(PublicKey::parse_any(&k.to_spki_pem()).unwrap(), k);
        assert_eq!(PublicKey::parse_any(&k.to_base64url()).unwrap(), k);
    }
}

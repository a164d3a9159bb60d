//! Durable file replacement: write a temporary file in the same folder, fsync it,
//! rename it over the target, fsync the folder. A reader (or a crash) sees the old
//! file or the new one, never a mix.

use crate::error::Error;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Test builds can stop the process at named steps to prove crash safety; see
/// `crates/licensectl/tests/crash.rs`. Compiled out unless `crash-points` is on.
#[inline]
pub fn crash_point(_step: &str) {
    #[cfg(feature = "crash-points")]
    if std::env::var("LICENSE_MANAGER_CRASH_AT").is_ok_and(|s| s == _step) {
        std::process::abort();
    }
}

const TEMP_MARK: &str = ".tmp-";

fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().expect("target names a file").to_string_lossy();
    let nonce: u64 = rand_core::RngCore::next_u64(&mut rand_core::OsRng);
    target.with_file_name(format!(".{name}{TEMP_MARK}{}-{nonce:016x}", std::process::id()))
}

pub fn ensure_dir(dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))
}

/// Replaces `target` with `bytes` atomically and durably. `step` names the crash
/// points (`<step>:temp-synced`, `<step>:renamed`).
pub fn replace(target: &Path, bytes: &[u8], step: &str) -> Result<(), Error> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let tmp = temp_path(target);
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| Error::io("create a temporary file in", dir, e))?;
        f.write_all(bytes).map_err(|e| Error::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| Error::io("flush to disk", &tmp, e))?;
        drop(f);
        crash_point(&format!("{step}:temp-synced"));
        fs::rename(&tmp, target).map_err(|e| Error::io("replace", target, e))?;
        crash_point(&format!("{step}:renamed"));
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Makes a rename in `dir` durable (on Unix the folder entry must be flushed too).
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("flush the folder", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes temporary files left by an interrupted [`replace`] in `dir`.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') && name.contains(TEMP_MARK) {
            tracing::info!(file = %e.path().display(), "removing a temporary file left by an interrupted write");
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Reads a file that may not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Reads a document file, refusing anything over the 1 MiB limit before reading it.
pub fn read_document(path: &Path) -> Result<Vec<u8>, Error> {
    let meta = fs::metadata(path).map_err(|e| Error::io("open", path, e))?;
    if !meta.is_file() {
        return Err(Error::io("read", path, std::io::Error::other("not a regular file")));
    }
    if meta.len() > crate::MAX_FILE_BYTES {
        return Err(Error::TooLarge { what: "file".into(), size: meta.len(), limit: crate::MAX_FILE_BYTES });
    }
    fs::read(path).map_err(|e| Error::io("read", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_writes_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("license.lic");
        replace(&t, b"one", "t").unwrap();
        replace(&t, b"two", "t").unwrap();
        assert_eq!(fs::read(&t).unwrap(), b"two");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_temps_are_removed_and_others_kept() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join(".license.lic.tmp-12-abc"), b"x").unwrap();
        fs::write(d.path().join("license.lic"), b"y").unwrap();
        remove_stale_temps(d.path());
        let names: Vec<_> = fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("license.lic")]);
    }
}

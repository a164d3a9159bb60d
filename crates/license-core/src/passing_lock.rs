//! A lock file that goes when it is released, for a folder that should not keep
//! one: the USB stick beside a transfer file.
//!
//! Unix: the holder removes the file while it still holds the lock. A writer that
//! was waiting then gets the lock on a file that is no longer at the path (its
//! device and inode differ from the path's, or the path is gone), so it lets go and
//! locks the path again: two writers never hold locks on two different files.
//!
//! Windows: removing a file that another process has open leaves it "delete
//! pending", and opening it then fails instead of waiting, so the file stays there,
//! hidden. This is the one place where it does (docs/spec-choices.md).

use crate::error::Error;
use crate::fs;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Held until dropped; dropping it removes the lock file, then releases the lock.
#[derive(Debug)]
pub struct PassingLock {
    // Read only where the file is removed (see the module's comment).
    #[cfg_attr(not(unix), allow(dead_code))]
    path: PathBuf,
    // Declared after `path` and dropped after `drop` below ran: the file goes
    // while the lock is still held.
    _file: File,
}

impl Drop for PassingLock {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::debug!(path = %self.path.display(), error = %e, "lock file not removed");
        }
    }
}

/// Takes the lock at `path` as [`fs::lock_file_within`] does, on the file that is
/// at the path when the lock is granted.
pub fn lock_within(path: &Path, wait: std::time::Duration, waiting: impl FnOnce()) -> Result<PassingLock, Error> {
    let deadline = std::time::Instant::now() + wait;
    let mut waiting = Some(waiting);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let file = fs::lock_file_within(path, left, || {
            if let Some(say) = waiting.take() {
                say();
            }
        })?;
        if still_at(&file, path) {
            hide(path);
            return Ok(PassingLock { path: path.to_path_buf(), _file: file });
        }
    }
}

#[cfg(unix)]
fn still_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(held), Ok(there)) => held.dev() == there.dev() && held.ino() == there.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_: &File, _: &Path) -> bool {
    true
}

#[cfg(windows)]
fn hide(path: &Path) {
    use windows_sys::Win32::Storage::FileSystem::{SetFileAttributesW, FILE_ATTRIBUTE_HIDDEN};
    let wide = crate::winpath::wide(path);
    // SAFETY: a NUL-terminated wide path that lives across the call.
    if unsafe { SetFileAttributesW(wide.as_ptr(), FILE_ATTRIBUTE_HIDDEN) } == 0 {
        tracing::debug!(path = %path.display(), "lock file not hidden");
    }
}

#[cfg(not(windows))]
fn hide(_: &Path) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Released, the lock leaves nothing behind; a writer that waited on the file
    /// its holder removed takes the lock on the path's new file, not the old one.
    #[test]
    fn a_released_lock_leaves_no_file_and_a_waiter_locks_the_new_one() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join(".site.transfer.zip.lock");
        let first = lock_within(&path, Duration::from_secs(5), || {}).unwrap();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                let held = lock_within(&path, Duration::from_secs(10), || {}).unwrap();
                let there = std::fs::metadata(&path).expect("the waiter's lock file is at the path");
                (held, there)
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        drop(first);
        let (held, there) = waiter.join().unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(held._file.metadata().unwrap().ino(), there.ino(), "the lock is on the file at the path");
        drop(held);
        assert!(!path.exists(), "no lock file stays");
    }
}

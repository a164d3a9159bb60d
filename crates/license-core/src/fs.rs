//! The file system, as every part of the core uses it. Durable replacement: write a
//! temporary file in the same folder, fsync it, rename it over the target, fsync
//! the folder, so a reader (or a crash) sees the old file or the new one, never a
//! mix. Also: capped reads that refuse links, private folders, OS file locks with a
//! bounded wait, free space, and stale temporary files.

use crate::error::Error;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How long a writer waits for another process's lock (an environment's, a
/// transfer file's).
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

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
    fs::create_dir_all(dir).map_err(|e| folder_error(dir, e))
}

/// Why a folder could not be made, in words: "File exists" for a link to a folder
/// that is gone says nothing useful.
fn folder_error(dir: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        if let Ok(m) = fs::symlink_metadata(dir) {
            if m.file_type().is_symlink() {
                let target = fs::read_link(dir).unwrap_or_default();
                return Error::DanglingLink { path: dir.to_path_buf(), target };
            }
            if !m.is_dir() {
                return Error::NotAFile { path: dir.to_path_buf() };
            }
        }
    }
    Error::io("create the folder", dir, e)
}

/// Makes sure `dir` (the state folder) exists and is safe to keep secrets and
/// records in: created private (0700, whatever the umask; on Windows a DACL for
/// Administrators and SYSTEM only, see `acl.rs`), and refused when it is a link, is
/// owned by another user, or others can write to it (they could plant or swap
/// files: a key, a lock, a receipt).
pub fn ensure_private_dir(dir: &Path) -> Result<(), Error> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    #[cfg(windows)]
    let new = !dir.exists();
    b.create(dir).map_err(|e| folder_error(dir, e))?;
    // Like the Unix mode, the DACL is given at creation; an existing folder is
    // only checked (an administrator's own grants stay).
    #[cfg(windows)]
    if new {
        crate::acl::set_dacl(dir, crate::acl::PRIVATE_FOLDER).map_err(|e| Error::io("make private", dir, e))?;
    }
    check_owned(dir, 0o022)
}

/// Refuses to write `path` when it is no longer what it was (`before`; `None`: it
/// did not exist) when a person was shown the change: they confirmed that file.
pub fn unchanged_since(path: &Path, before: &Option<Vec<u8>>) -> Result<(), Error> {
    if &read_optional(path, Links::Follow)? != before {
        return Err(Error::BadConfig {
            path: path.to_path_buf(),
            reason: "it changed while the change was being confirmed, so nothing was written: look at it again".into(),
        });
    }
    Ok(())
}

/// A configuration says what is trusted, where to write and what to run, so nobody
/// but its owner may change it. Unix: the file and its folder belong to this user
/// or root, and others may not write them. Windows: a machine-wide one (in
/// `%ProgramData%\License Manager`, what the scheduled tasks run as SYSTEM), its
/// folder and its state folder belong to Administrators or SYSTEM, and nobody else
/// may change them, so a standard user cannot plant one. Each refusal names the
/// place and the fix.
pub fn check_configuration(path: &Path, state_dir: &Path, machine_wide: bool) -> Result<(), Error> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    #[cfg(windows)]
    if machine_wide {
        // The state folder too: the task that runs as SYSTEM keeps its key there.
        check_machine_wide(state_dir)?;
    }
    #[cfg(not(windows))]
    let _ = state_dir;
    for p in [folder, path] {
        #[cfg(unix)]
        {
            let _ = machine_wide;
            check_not_others(p)?;
        }
        #[cfg(windows)]
        if machine_wide {
            check_machine_wide(p)?;
        }
        #[cfg(not(any(unix, windows)))]
        let _ = (p, machine_wide);
    }
    Ok(())
}

#[cfg(unix)]
fn check_not_others(p: &Path) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let m = match fs::metadata(p) {
        Ok(m) => m,
        // Reading it says what is missing.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("inspect", p, e)),
    };
    let refuse = |reason: String| Error::NotPrivate { path: p.to_path_buf(), reason };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if m.uid() != me && m.uid() != 0 {
        return Err(refuse(format!(
            "it belongs to user {}, neither this user ({me}) nor root, so that user decides what this environment trusts: `chown` it to the administrator",
            m.uid()
        )));
    }
    if m.mode() & 0o002 != 0 {
        return Err(refuse(format!(
            "its mode is {:o}, so any user may change it: run `chmod o-w {}`",
            m.mode() & 0o7777,
            p.display()
        )));
    }
    Ok(())
}

#[cfg(windows)]
fn check_machine_wide(p: &Path) -> Result<(), Error> {
    if !p.exists() {
        return Ok(());
    }
    let sddl = crate::acl::owner_and_dacl(p).map_err(|e| Error::io("read the permissions of", p, e))?;
    match crate::sddl::machine_wide_problem(&sddl) {
        None => Ok(()),
        Some(why) => Err(Error::NotPrivate {
            path: p.to_path_buf(),
            reason: format!(
                "{why}, so a standard user could change what the scheduled tasks run as SYSTEM: run the License Manager installer again, or give it to the administrators (icacls \"{}\" /setowner *S-1-5-32-544 /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX)",
                p.display()
            ),
        }),
    }
}

/// Refuses `path` when it is a link, is not owned by this process's user, or has
/// any of the permission bits in `forbidden` (others may write, or read).
pub fn check_owned(path: &Path, forbidden: u32) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = fs::symlink_metadata(path).map_err(|e| Error::io("inspect", path, e))?;
        let unsafe_because = |reason: String| Error::NotPrivate { path: path.to_path_buf(), reason };
        if m.file_type().is_symlink() {
            return Err(unsafe_because("it is a link: name the real folder".into()));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if m.uid() != me {
            return Err(unsafe_because(format!(
                "it belongs to user {} and this runs as user {me}: run as its owner, or `chown` it",
                m.uid()
            )));
        }
        let mode = m.mode() & 0o7777;
        if mode & forbidden != 0 {
            return Err(unsafe_because(format!(
                "its mode is {mode:o}, so other users may change it: run `chmod go-w {}`",
                path.display()
            )));
        }
    }
    #[cfg(windows)]
    {
        let _ = forbidden;
        let m = fs::symlink_metadata(path).map_err(|e| Error::io("inspect", path, e))?;
        if is_reparse_point(&m) {
            return Err(Error::NotPrivate {
                path: path.to_path_buf(),
                reason: "it is a link or junction: name the real folder".into(),
            });
        }
        let dacl = crate::acl::dacl(path).map_err(|e| Error::io("read the permissions of", path, e))?;
        if let Some((trustee, rights)) = crate::acl::others_may_change(&dacl) {
            return Err(Error::NotPrivate {
                path: path.to_path_buf(),
                reason: format!(
                    "its ACL lets {trustee} change it ({rights}), so other users may plant or swap files: remove that entry (icacls \"{}\" /remove {trustee})",
                    path.display()
                ),
            });
        }
    }
    #[cfg(not(any(unix, windows)))]
    let _ = (path, forbidden);
    Ok(())
}

/// Replaces `target` with `bytes` atomically and durably. `step` names the crash
/// points (`<step>:temp-synced`, `<step>:renamed`). An existing target keeps its
/// permission bits, and its owner where the process may set it (root); a link at
/// `target` itself is replaced, so callers that must write *through* a link resolve
/// it first ([`resolve_link`]).
pub fn replace(target: &Path, bytes: &[u8], step: &str) -> Result<(), Error> {
    replace_as(target, bytes, step, None)
}

/// [`replace`], and a new file gets permission bits `mode` (Unix) from its first
/// byte instead of the default: a copy of a private file stays private.
pub fn replace_as(target: &Path, bytes: &[u8], step: &str, mode: Option<u32>) -> Result<(), Error> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let existing = fs::symlink_metadata(target).ok().filter(|m| m.is_file());
    // Windows: a file marked read-only was marked so on purpose; it is not
    // replaced behind that mark (Windows itself refuses; Wine would not).
    #[cfg(windows)]
    if existing.as_ref().is_some_and(|m| m.permissions().readonly()) {
        return Err(Error::io(
            "replace (it is marked read-only: clear that with attrib -r, then try again)",
            target,
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        ));
    }
    let tmp = temp_path(target);
    let result = (|| {
        let mut f = create_new(&tmp, existing.as_ref().map(mode_of).or(mode))
            .map_err(|e| Error::io("create a temporary file in", dir, e))?;
        if let Some(m) = &existing {
            keep_attributes(&f, m, target, &tmp).map_err(|e| Error::io("keep the permissions of", target, e))?;
        }
        f.write_all(bytes).map_err(|e| Error::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| Error::io("flush to disk", &tmp, e))?;
        drop(f);
        crash_point(&format!("{step}:temp-synced"));
        rename_over(&tmp, target)?;
        crash_point(&format!("{step}:renamed"));
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Renames `from` over `to` in one step.
#[cfg(not(windows))]
fn rename_over(from: &Path, to: &Path) -> Result<(), Error> {
    fs::rename(from, to).map_err(|e| Error::io("replace", to, e))
}

/// Windows: `MoveFileExW` with `REPLACE_EXISTING | WRITE_THROUGH`, so the rename is
/// on disk when it returns. A program that holds the target open without sharing
/// delete (the platform reading its license) makes it fail with a sharing
/// violation: that is retried for up to 2 s, then refused with the reason; the
/// target is never touched in between.
#[cfg(windows)]
fn rename_over(from: &Path, to: &Path) -> Result<(), Error> {
    use windows_sys::Win32::Storage::FileSystem::{MoveFileExW, MOVEFILE_REPLACE_EXISTING, MOVEFILE_WRITE_THROUGH};
    let (f, t) = (crate::winpath::wide(from), crate::winpath::wide(to));
    const SHARING_VIOLATION: i32 = 32;
    const LOCK_VIOLATION: i32 = 33;
    let mut waited = std::time::Duration::ZERO;
    loop {
        // SAFETY: both paths are NUL-terminated wide strings that outlive the call.
        if unsafe { MoveFileExW(f.as_ptr(), t.as_ptr(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) } != 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        let busy = matches!(e.raw_os_error(), Some(SHARING_VIOLATION | LOCK_VIOLATION));
        if !busy || waited >= std::time::Duration::from_secs(2) {
            return Err(Error::io("replace (another program may hold it open)", to, e));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += std::time::Duration::from_millis(100);
    }
}

/// Creates `path` for writing, failing if it exists, with `mode` from the start
/// (Unix), so no other user can open it in between.
fn create_new(path: &Path, mode: Option<u32>) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode.unwrap_or(0o666));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let f = o.open(path)?;
    // Windows: every file the core makes is for Administrators and SYSTEM (a file
    // it replaces gets the old one's DACL afterwards, in `keep_attributes`).
    #[cfg(windows)]
    crate::acl::set_dacl(path, crate::acl::PRIVATE_FILE)?;
    Ok(f)
}

/// The permission bits of the file at `path` (following links), where it has them.
pub fn mode_of_path(path: &Path) -> Option<u32> {
    fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| mode_of(&m)).filter(|_| cfg!(unix))
}

#[cfg(unix)]
fn mode_of(m: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}
#[cfg(not(unix))]
fn mode_of(_: &fs::Metadata) -> u32 {
    0
}

/// Gives the new file `tmp` (open as `f`) the old one's exact mode (the umask may
/// have narrowed it) and, when the process may (root), its owner and group. On
/// Windows: the old file `target`'s DACL.
fn keep_attributes(f: &File, old: &fs::Metadata, target: &Path, tmp: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let _ = (target, tmp);
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        f.set_permissions(fs::Permissions::from_mode(mode_of(old)))?;
        let mine = f.metadata()?;
        if mine.uid() != old.uid() || mine.gid() != old.gid() {
            match std::os::unix::fs::fchown(f, Some(old.uid()), Some(old.gid())) {
                Ok(()) => {}
                // Not root: the file stays ours, which is what a non-root install can do.
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    tracing::warn!(
                        uid = old.uid(),
                        gid = old.gid(),
                        "could not keep the file's owner (not running as root)"
                    )
                }
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(windows)]
    {
        let _ = (f, old);
        crate::acl::set_dacl(tmp, &crate::acl::dacl(target)?)?;
    }
    #[cfg(not(any(unix, windows)))]
    let _ = (f, old, target, tmp);
    Ok(())
}

/// Where writing `path` must really happen: the final target when `path` is a link
/// (platforms often link their license file), else `path` itself. Replacing the
/// link instead would leave the platform reading the old target.
pub fn resolve_link(path: &Path) -> Result<PathBuf, Error> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(|e| Error::io("follow the link", path, e))
        }
        _ => Ok(path.to_path_buf()),
    }
}

/// Creates a private file (a signing key): mode 0600 from its first byte, durable,
/// and never over an existing file (the final link fails if `path` exists, so two
/// processes racing to create a key cannot replace each other's).
pub fn create_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = create_new(&tmp, Some(0o600)).map_err(|e| Error::io("create a temporary file in", dir, e))?;
        f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| Error::io("write", &tmp, e))?;
        drop(f);
        fs::hard_link(&tmp, path).map_err(|e| Error::io("create", path, e))?;
        sync_dir(dir)
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Takes the OS file lock `path` (created if missing). The OS releases it when the
/// process dies, so a killed writer never blocks the next one. `wait`: block until
/// it is free; otherwise a held lock is [`Error::Busy`].
pub fn lock_file(path: &Path, wait: bool) -> Result<File, Error> {
    let mut o = File::options();
    o.create(true).truncate(false).write(true);
    // Never through a link (a planted `lock -> /etc/nologin` would create that file
    // as root), and never waiting on a pipe.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).mode(0o600);
    }
    let f = match o.open(path) {
        #[cfg(unix)]
        Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::ENXIO)) => {
            return Err(Error::NotAFile { path: path.to_path_buf() })
        }
        r => r.map_err(|e| Error::io("open the lock file", path, e))?,
    };
    if !f.metadata().map_err(|e| Error::io("inspect", path, e))?.is_file() {
        return Err(Error::NotAFile { path: path.to_path_buf() });
    }
    if wait {
        return f.lock().map(|()| f).map_err(|e| Error::io("lock", path, e));
    }
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Busy { path: path.to_path_buf() }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", path, e)),
    }
}

/// Takes the OS file lock `path`, waiting at most `wait` for another process to
/// release it; `waiting` is called once, when the wait begins, so the caller can say
/// why nothing happens yet. Still held after `wait`: [`Error::Busy`].
pub fn lock_file_within(path: &Path, wait: std::time::Duration, waiting: impl FnOnce()) -> Result<File, Error> {
    let deadline = std::time::Instant::now() + wait;
    let mut waiting = Some(waiting);
    loop {
        match lock_file(path, false) {
            Err(Error::Busy { .. }) if std::time::Instant::now() < deadline => {
                if let Some(say) = waiting.take() {
                    say();
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Free bytes for this user on the file system that holds `dir`, where the platform
/// says (`None` elsewhere: the write itself then tells).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: a valid C string and a zeroed out-parameter that statvfs fills.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
            return None;
        }
        #[allow(clippy::unnecessary_cast)]
        Some(s.f_bavail as u64 * s.f_frsize as u64)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Makes a rename in `dir` durable (on Unix the folder entry must be flushed too).
/// Takes `path` out of its folder, durably. `false` when it was already gone: a
/// writer that met another doing the same work (two uploads, an upload and an
/// import) counts the other's move as done instead of failing.
pub fn remove_if_present(path: &Path, action: &'static str) -> Result<bool, Error> {
    match fs::remove_file(path) {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(action, path, e)),
    }
}

pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("flush the folder", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes temporary files left by an interrupted [`replace`] in `dir`: those of
/// our own naming whose writing process is gone (a live writer's are its own).
pub fn remove_stale_temps(dir: &Path) {
    remove_stale(dir, |_| true)
}

/// The same, for `target`'s temporary files only (a shared folder, such as the one
/// a transfer file sits in, holds other programs' files too).
pub fn remove_stale_temps_of(target: &Path) {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().to_string()) else { return };
    let prefix = format!(".{name}{TEMP_MARK}");
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    remove_stale(dir, |n| n.starts_with(&prefix))
}

fn remove_stale(dir: &Path, ours: impl Fn(&str) -> bool) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some((_, rest)) = name.split_once(TEMP_MARK) else { continue };
        if !name.starts_with('.') || !ours(&name) {
            continue;
        }
        let writer = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if writer.is_some_and(process_alive) {
            continue;
        }
        tracing::info!(file = %e.path().display(), "removing a temporary file left by an interrupted write");
        let _ = fs::remove_file(e.path());
    }
}

/// Whether process `pid` still runs (so its temporary file may be in use).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        // Our own: written by another thread of this process, or left by a write that
        // failed and already cleaned up; either way not stale yet.
        return true;
    }
    #[cfg(unix)]
    {
        // SAFETY: signal 0 only asks whether the process exists.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    false
}

/// Whether a read may follow a link at the path itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    Follow,
    /// Refuse a link: files in folders we own (backups, outbox) are never links.
    Refuse,
}

/// Reads a regular file of at most `limit` bytes. A folder, device, pipe or socket
/// (or a link, with [`Links::Refuse`]) is refused without blocking on it, and a file
/// that grows past the limit while being read is refused too.
pub fn read_capped(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, Error> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO must not wait for a writer.
        let nofollow = if links == Links::Refuse { libc::O_NOFOLLOW } else { 0 };
        o.custom_flags(libc::O_NONBLOCK | nofollow);
    }
    #[cfg(windows)]
    if links == Links::Refuse {
        // Open the reparse point itself (a symlink or junction), not its target,
        // so that the check below sees what is really at the path.
        use std::os::windows::fs::OpenOptionsExt;
        o.custom_flags(windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT);
    }
    let f = match o.open(path) {
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(Error::NotAFile { path: path.to_path_buf() }),
        // Windows refuses to open a folder as a file ("access denied"), and may refuse
        // to open a link itself: say what is at the path.
        #[cfg(windows)]
        Err(_)
            if std::fs::symlink_metadata(path)
                .is_ok_and(|m| m.is_dir() || (links == Links::Refuse && is_reparse_point(&m))) =>
        {
            return Err(Error::NotAFile { path: path.to_path_buf() })
        }
        r => r.map_err(|e| Error::io("open", path, e))?,
    };
    let meta = f.metadata().map_err(|e| Error::io("inspect", path, e))?;
    if !meta.is_file() {
        return Err(Error::NotAFile { path: path.to_path_buf() });
    }
    #[cfg(windows)]
    if links == Links::Refuse && is_reparse_point(&meta) {
        return Err(Error::NotAFile { path: path.to_path_buf() });
    }
    #[cfg(not(any(unix, windows)))]
    let _ = links;
    if meta.len() > limit {
        return Err(Error::TooLarge { what: "file".into(), size: meta.len(), limit });
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(&f, limit + 1), &mut out)
        .map_err(|e| Error::io("read", path, e))?;
    if out.len() as u64 > limit {
        return Err(Error::TooLarge { what: "file".into(), size: out.len() as u64, limit });
    }
    Ok(out)
}

/// A symbolic link or a junction (what Unix calls a link).
#[cfg(windows)]
fn is_reparse_point(m: &std::fs::Metadata) -> bool {
    use std::os::windows::fs::MetadataExt;
    m.file_type().is_symlink()
        || m.file_attributes() & windows_sys::Win32::Storage::FileSystem::FILE_ATTRIBUTE_REPARSE_POINT != 0
}

/// Reads a document that may not exist (following links), within the 1 MiB limit.
pub fn read_optional(path: &Path, links: Links) -> Result<Option<Vec<u8>>, Error> {
    match read_capped(path, crate::kind::MAX_FILE_BYTES, links) {
        Ok(b) => Ok(Some(b)),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads a JSON record (a history, a forecast's readings) capped at `limit` bytes.
/// Missing, it reads as empty. Damaged, unreadable or over its cap, it is never
/// overwritten: it is moved aside into the state folder's `quarantine/` under a
/// dated name, named in a warning (and by `check`, which lists the quarantine),
/// and reads as empty, so everything else keeps working. Never a link.
pub fn read_record<T: serde::de::DeserializeOwned + Default>(path: &Path, limit: u64, what: &str) -> T {
    read_record_in(path, limit, what, &path.parent().unwrap_or(Path::new(".")).join(QUARANTINE))
}

/// [`read_record`] for a record below the state folder (a rotated part in
/// `history/`): a damaged one goes to the quarantine folder `quarantine`, the one
/// `check` lists.
pub fn read_record_in<T: serde::de::DeserializeOwned + Default>(
    path: &Path,
    limit: u64,
    what: &str,
    quarantine: &Path,
) -> T {
    let damage = match read_capped(path, limit, Links::Refuse) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(v) => return v,
            Err(e) => e.to_string(),
        },
        Err(e) if e.is_gone() => return T::default(),
        Err(e) => e.to_string(),
    };
    match quarantine_in(path, quarantine) {
        Ok(to) => tracing::warn!(path = %path.display(), set_aside = %to.display(), error = %damage,
            "the {what} is damaged: it was set aside, and a new one starts"),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "the {what} is damaged and could not be set aside")
        }
    }
    T::default()
}

/// [`read_record`] with the 1 MiB cap of every document.
pub fn read_derived<T: serde::de::DeserializeOwned + Default>(path: &Path, what: &str) -> T {
    read_record(path, crate::kind::MAX_FILE_BYTES, what)
}

/// The folder damaged records are set aside in: `quarantine/` beside the record.
pub const QUARANTINE: &str = "quarantine";

/// Moves `path` into `quarantine/` beside it, as `<name>.<UTC time>`: never over
/// another file. Returns where it went.
pub fn quarantine(path: &Path) -> Result<PathBuf, Error> {
    quarantine_in(path, &path.parent().unwrap_or(Path::new(".")).join(QUARANTINE))
}

/// Moves `path` into the quarantine folder `dir` (see [`quarantine`]).
pub fn quarantine_in(path: &Path, dir: &Path) -> Result<PathBuf, Error> {
    ensure_private_dir(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let to = unused_path(dir, 100, |suffix| format!("{name}.{stamp}{suffix}"))
        .ok_or_else(|| Error::io("set aside", path, std::io::Error::other("too many damaged copies of it")))?;
    fs::rename(path, &to).map_err(|e| Error::io("set aside", path, e))?;
    sync_dir(dir)?;
    Ok(to)
}

/// The first of `name("")`, `name("-1")`, `name("-2")`… in `dir` that names nothing
/// (not even a dangling link), trying at most `tries`: a file we write once is never
/// written over another.
pub fn unused_path(dir: &Path, tries: usize, name: impl Fn(&str) -> String) -> Option<PathBuf> {
    (0..tries)
        .map(|i| dir.join(name(&if i == 0 { String::new() } else { format!("-{i}") })))
        .find(|p| fs::symlink_metadata(p).is_err())
}

/// The records set aside in `state_dir`'s quarantine, oldest name first.
pub fn quarantined(state_dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(state_dir.join(QUARANTINE)) else { return Vec::new() };
    let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    files.sort();
    files
}

/// Reads a document file, refusing anything over the 1 MiB limit before reading it.
pub fn read_document(path: &Path) -> Result<Vec<u8>, Error> {
    read_capped(path, crate::kind::MAX_FILE_BYTES, Links::Follow)
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

    #[cfg(unix)]
    #[test]
    fn replace_keeps_the_mode_and_a_link_can_be_resolved_first() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.lic");
        fs::write(&real, b"old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        let link = d.path().join("license.lic");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let target = resolve_link(&link).unwrap();
        assert_eq!(target, fs::canonicalize(&real).unwrap());
        replace(&target, b"new", "t").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read(&link).unwrap(), b"new");
        assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn capped_reads_refuse_pipes_links_and_oversized_files_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert_eq!(read_capped(&fifo, 10, Links::Follow).unwrap_err().code(), "not_a_file");
        let zero = d.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_eq!(read_capped(&zero, 10, Links::Refuse).unwrap_err().code(), "not_a_file");
        assert_eq!(read_capped(&zero, 10, Links::Follow).unwrap_err().code(), "not_a_file");
        let big = d.path().join("big");
        fs::write(&big, [b'x'; 11]).unwrap();
        assert_eq!(read_capped(&big, 10, Links::Follow).unwrap_err().code(), "too_large");
        assert_eq!(read_capped(&big, 11, Links::Refuse).unwrap(), [b'x'; 11]);
    }

    /// Windows: a license file held open without delete sharing (the platform
    /// reading it) is not replaced: the write waits, then says why, and the file
    /// keeps its bytes; once it is closed, the replacement goes through.
    #[cfg(windows)]
    #[test]
    fn on_windows_a_target_held_open_is_refused_then_replaced() {
        use std::os::windows::fs::OpenOptionsExt;
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("license.lic");
        fs::write(&t, b"old").unwrap();
        let held = OpenOptions::new().read(true).share_mode(1 /* FILE_SHARE_READ only */).open(&t).unwrap();
        let e = replace(&t, b"new", "t").unwrap_err();
        assert!(e.to_string().contains("another program may hold it open"), "{e}");
        assert_eq!(fs::read(&t).unwrap(), b"old");
        drop(held);
        replace(&t, b"new", "t").unwrap();
        assert_eq!(fs::read(&t).unwrap(), b"new");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "no temporary file is left");
    }

    /// Windows, read back through the system's own API: a private folder and every
    /// new file give nobody but the administrators and SYSTEM any access, and a
    /// replaced file keeps the DACL it had (the platform's grants on its license).
    /// Wine 8 keeps a DACL only as Unix mode bits, so what is compared is what
    /// survives that: whether anyone else (Everyone, Users, …) has an entry.
    #[cfg(windows)]
    #[test]
    fn on_windows_private_files_are_for_administrators_and_system_only() {
        use crate::acl::{dacl, others_may_open, set_dacl};
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("state");
        ensure_private_dir(&state).unwrap();
        let folder = dacl(&state).unwrap();
        assert_eq!(others_may_open(&folder), None, "{folder}");
        let record = state.join("history.json");
        replace(&record, b"[]", "t").unwrap();
        let file = dacl(&record).unwrap();
        assert_eq!(others_may_open(&file), None, "a new file: {file}");
        let key = state.join("environment.key");
        create_private(&key, b"secret").unwrap();
        let key_dacl = dacl(&key).unwrap();
        assert_eq!(others_may_open(&key_dacl), None, "a key: {key_dacl}");
        let license = d.path().join("license.lic");
        fs::write(&license, b"old").unwrap();
        set_dacl(&license, "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;WD)").unwrap();
        replace(&license, b"new", "t").unwrap();
        let kept = dacl(&license).unwrap();
        assert_eq!(
            others_may_open(&kept).map(|(who, _)| who).as_deref(),
            Some("WD"),
            "the platform's grant is kept: {kept}"
        );
    }

    /// Windows: a license file marked read-only is not replaced; the error says
    /// how to clear the mark, and the old license stays.
    #[cfg(windows)]
    #[test]
    fn on_windows_a_read_only_license_is_refused_and_kept() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("license.lic");
        fs::write(&t, b"old").unwrap();
        let mut p = fs::metadata(&t).unwrap().permissions();
        p.set_readonly(true);
        fs::set_permissions(&t, p).unwrap();
        let e = replace(&t, b"new", "t").unwrap_err();
        assert!(e.to_string().contains("read-only") && e.to_string().contains("attrib -r"), "{e}");
        assert_eq!(fs::read(&t).unwrap(), b"old");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "no temporary file is left");
    }

    /// Windows: paths longer than MAX_PATH (260) work in our own Win32 calls too:
    /// a private folder, a replaced file, its DACL, and a capped read.
    #[cfg(windows)]
    #[test]
    fn on_windows_paths_longer_than_max_path_work() {
        let d = tempfile::tempdir().unwrap();
        let deep =
            (0..6).fold(d.path().to_path_buf(), |p, i| p.join(format!("{i}-{}", "platform-license-folder".repeat(2))));
        let target = deep.join("state").join("license.lic");
        assert!(target.as_os_str().len() > 300, "{}", target.display());
        ensure_private_dir(&deep.join("state")).unwrap();
        replace(&target, b"old", "t").unwrap();
        replace(&target, b"new", "t").unwrap();
        assert_eq!(read_capped(&target, 100, Links::Refuse).unwrap(), b"new");
        assert_eq!(crate::acl::others_may_open(&crate::acl::dacl(&target).unwrap()), None);
    }

    /// Windows: a state folder whose ACL lets other users change it is refused,
    /// with the entry to remove.
    #[cfg(windows)]
    #[test]
    fn on_windows_a_folder_others_may_change_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("state");
        fs::create_dir(&state).unwrap();
        crate::acl::set_dacl(&state, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;WD)").unwrap();
        let e = ensure_private_dir(&state).unwrap_err();
        assert_eq!(e.code(), "not_private");
        assert!(e.to_string().contains("WD") && e.to_string().contains("icacls"), "{e}");
        crate::acl::set_dacl(&state, crate::acl::PRIVATE_FOLDER).unwrap();
        ensure_private_dir(&state).unwrap();
    }

    /// Windows: a folder is never read as a file, and the size cap holds. (A link
    /// refused with `Links::Refuse` is not tried here: Wine 8 reports success for
    /// `CreateSymbolicLinkW` but leaves nothing a Windows program can open, so the
    /// reparse-point check is compiled for Windows but not run here.)
    #[cfg(windows)]
    #[test]
    fn on_windows_capped_reads_refuse_folders_and_oversized_files() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.lic");
        fs::write(&real, b"license").unwrap();
        assert_eq!(read_capped(&real, 100, Links::Refuse).unwrap(), b"license");
        assert_eq!(read_capped(d.path(), 100, Links::Follow).unwrap_err().code(), "not_a_file");
        assert_eq!(read_capped(d.path(), 100, Links::Refuse).unwrap_err().code(), "not_a_file");
        assert_eq!(read_capped(&real, 3, Links::Refuse).unwrap_err().code(), "too_large");
    }

    #[test]
    fn a_held_lock_is_waited_for_then_busy() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("lock");
        let held = lock_file(&path, false).unwrap();
        let mut said = 0;
        let e = lock_file_within(&path, std::time::Duration::from_millis(200), || said += 1).unwrap_err();
        assert_eq!((e.code(), said), (crate::error::ErrorCode::Busy, 1));
        // Released while waiting: taken.
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            drop(held);
        });
        lock_file_within(&path, std::time::Duration::from_secs(10), || {}).unwrap();
        release.join().unwrap();
    }

    #[test]
    fn stale_temps_are_removed_and_others_kept() {
        let d = tempfile::tempdir().unwrap();
        // Left by a process that no longer runs (no pid is that large): stale.
        fs::write(d.path().join(".license.lic.tmp-999999999-abc"), b"x").unwrap();
        // A live writer's (this process stands in for it): kept.
        let live = format!(".clock.json.tmp-{}-def", std::process::id());
        fs::write(d.path().join(&live), b"x").unwrap();
        fs::write(d.path().join("license.lic"), b"y").unwrap();
        remove_stale_temps(d.path());
        let mut names: Vec<_> = fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, vec![std::ffi::OsString::from(live), std::ffi::OsString::from("license.lic")]);
    }
}

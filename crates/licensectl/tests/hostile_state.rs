//! Things planted in the environment's state folder by another local user: a link
//! where the lock goes, pipes where the key and the audit period are kept. Each
//! command refuses them quickly; none follows a link or waits on a pipe.
// Unix only: pipes (mkfifo), symbolic links and modes are what another local user
// plants there; on Windows the folder's DACL keeps other users out (fs.rs's Windows
// tests refuse a folder others may change).
#![cfg(unix)]

use license_test_support::{Cli, Launch};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

struct Demo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cli: Cli,
    config: PathBuf,
    state: PathBuf,
}

fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let cli = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(&root);
    cli.ok(&["demo", root.join("demo").to_str().unwrap()]);
    let config = root.join("demo/environment.toml");
    let state = license_core::environment::Config::read(&config).unwrap().state_dir();
    std::fs::create_dir_all(&state).unwrap();
    Demo { _dir: dir, root, cli, config, state }
}

impl Demo {
    /// Runs a command, killing it (and failing) if it has not ended in 20 s: a hang is
    /// the defect under test, and must not hang the suite.
    fn bounded(&self, args: &[&str]) -> Output {
        let mut all = vec!["--config", self.config.to_str().unwrap()];
        all.extend_from_slice(args);
        let mut child = self.cli.command(&all).stdout(Stdio::piped()).stderr(Stdio::piped()).launch();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("licensectl {args:?} hung on a planted file");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    assert!(std::process::Command::new("mkfifo").arg(path).launch_status().success());
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_pipe_named_environment_key_hangs_nothing() {
    let d = demo();
    mkfifo(&d.state.join("environment.key"));
    for args in [vec!["status"], vec!["check"], vec!["audit", "generate"]] {
        let o = d.bounded(&args);
        assert!(!text(&o).contains("panicked"), "{args:?}: {}", text(&o));
    }
    let o = d.bounded(&["audit", "generate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("is not a regular file"), "{}", text(&o));
}

#[test]
fn a_pipe_named_last_audit_json_hangs_nothing() {
    let d = demo();
    mkfifo(&d.state.join("last-audit.json"));
    // Not a regular file: set aside in the quarantine like any damaged record
    // (issue 32), named, and the audit is made from what else is known.
    let o = d.bounded(&["audit", "generate"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("the audit period record is damaged"), "{}", text(&o));
    assert!(d.state.join("quarantine").read_dir().unwrap().count() == 1, "the pipe was set aside");
}

#[test]
fn a_link_where_the_lock_goes_creates_nothing_through_it() {
    let d = demo();
    let target = d.root.join("nologin");
    // The demo took the lock once (to record its past audits): a link replaces it.
    let _ = std::fs::remove_file(d.state.join("lock"));
    std::os::unix::fs::symlink(&target, d.state.join("lock")).unwrap();
    let o = d.bounded(&["backup"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("lock is not a regular file"), "{}", text(&o));
    assert!(std::fs::symlink_metadata(&target).is_err(), "the lock's link target was created");
    // A pipe there blocks nothing either.
    std::fs::remove_file(d.state.join("lock")).unwrap();
    mkfifo(&d.state.join("lock"));
    let o = d.bounded(&["backup"]);
    assert!(text(&o).contains("lock is not a regular file"), "{}", text(&o));
}

/// A backup keeps the license file's permission bits, and only a license is backed
/// up: a license path turned into a link to a private file yields no copy of it.
#[test]
fn backups_keep_the_mode_and_hold_only_licenses() {
    use std::os::unix::fs::PermissionsExt;
    let d = demo();
    let license = license_core::environment::Config::read(&d.config).unwrap().license_file;
    std::fs::set_permissions(&license, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = d.bounded(&["backup", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let backups = d.root.join("demo/backups");
    let modes: Vec<u32> = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "lic"))
        .map(|e| e.metadata().unwrap().permissions().mode() & 0o777)
        .collect();
    assert_eq!(modes, vec![0o600], "the backup is as private as the license");

    let secret = d.root.join("secret");
    std::fs::write(&secret, "root:$6$hash:19000:0:99999:7:::\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(&license).unwrap();
    std::os::unix::fs::symlink(&secret, &license).unwrap();
    let o = d.bounded(&["backup"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("does not hold a license"), "{}", text(&o));
    let copies = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read(e.path()).is_ok_and(|b| b.windows(6).any(|w| w == b"$6$has")));
    assert_eq!(copies.count(), 0, "no copy of the secret was made");
}

/// A state folder that other users may write to, or that another user owns, is
/// refused: they could plant or swap the key, the lock or the records in it.
#[test]
fn a_state_folder_others_can_change_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let d = demo();
    assert!(d.bounded(&["backup"]).status.success());
    let mode = |m| std::fs::set_permissions(&d.state, std::fs::Permissions::from_mode(m)).unwrap();
    mode(0o777);
    for args in [vec!["backup"], vec!["audit", "generate"]] {
        let o = d.bounded(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("other users may change it: run `chmod go-w"), "{args:?}: {}", text(&o));
    }
    mode(0o700);
    assert!(d.bounded(&["backup"]).status.success());
    // As root (CI): a folder or key owned by someone else.
    if unsafe { libc::geteuid() } == 0 {
        let chown = |p: &Path, uid: u32| std::os::unix::fs::chown(p, Some(uid), None).unwrap();
        chown(&d.state, 65534);
        let o = d.bounded(&["backup"]);
        assert!(text(&o).contains("belongs to user 65534"), "{}", text(&o));
        chown(&d.state, 0);
        assert!(d.bounded(&["audit", "generate"]).status.success(), "makes the key");
        let key = d.state.join("environment.key");
        chown(&key, 65534);
        let o = d.bounded(&["audit", "generate"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("belongs to user 65534"), "{}", text(&o));
    }
}

/// A backup folder that is a link to a folder that is gone says so, in one sentence,
/// instead of "File exists".
#[test]
fn a_dangling_backup_folder_link_is_named() {
    let d = demo();
    let backups = d.root.join("demo/backups");
    let _ = std::fs::remove_dir_all(&backups);
    std::os::unix::fs::symlink(d.root.join("gone"), &backups).unwrap();
    let o = d.bounded(&["backup"]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(t.contains("is a link to") && t.contains("gone, which does not exist"), "{t}");
    assert!(!t.contains("File exists"), "{t}");
}

/// A configuration says what is trusted and what is run: one that any user may
/// change, or whose folder any user may write, is refused with the fix, and
/// nothing runs from it (issue 31).
#[test]
fn a_configuration_others_may_change_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let d = demo();
    let folder = d.config.parent().unwrap().to_path_buf();
    for (what, path, mode) in [("the file", d.config.clone(), 0o646), ("its folder", folder.clone(), 0o777)] {
        let before = std::fs::metadata(&path).unwrap().permissions().mode();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let o = d.bounded(&["status"]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", text(&o));
        let said = text(&o);
        assert!(said.contains(path.to_str().unwrap()) && said.contains("chmod o-w"), "{what}: {said}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(before & 0o7777)).unwrap();
        assert!(d.bounded(&["status"]).status.success(), "{what}: fixed, it opens again");
    }
}

/// No record is silently replaced: a damaged or oversized upload history is set
/// aside in the quarantine with its bytes, named in a warning and by `check`, and
/// everything else keeps working (issue 32).
#[test]
fn a_damaged_or_oversized_upload_history_is_set_aside_not_overwritten() {
    for (what, bytes) in [("damaged", b"[{\"upload_id\": ".to_vec()), ("oversized", vec![b' '; 17 << 20])] {
        let d = demo();
        let history = d.state.join("upload-history.json");
        std::fs::write(&history, &bytes).unwrap();
        assert!(d.bounded(&["backup"]).status.success());
        let o = d.bounded(&["check"]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        let said = text(&o);
        assert!(
            said.contains("1 damaged record was set aside") && said.contains("upload-history.json."),
            "{what}: {said}"
        );
        let kept: Vec<_> = std::fs::read_dir(d.state.join("quarantine")).unwrap().flatten().map(|e| e.path()).collect();
        assert_eq!(kept.len(), 1, "{what}: {kept:?}");
        assert_eq!(std::fs::read(&kept[0]).unwrap(), bytes, "{what}: its bytes are kept");
        assert!(!history.exists(), "{what}: a new history starts");
    }
}

/// A damaged environment key turns the clock's protection off: `check` says so
/// instead of OK, and the key is kept where it is (the portal pinned it; a new one
/// would have every later audit refused) (issue 32).
#[test]
fn a_damaged_environment_key_is_a_warning_not_ok() {
    let d = demo();
    assert!(d.bounded(&["backup"]).status.success());
    let _ = d.bounded(&["check"]);
    let key = d.state.join("environment.key");
    assert!(key.exists(), "the first look made the key");
    std::fs::write(&key, b"-----BEGIN PRIVATE KEY-----\ndamaged\n").unwrap();
    let o = d.bounded(&["check", "--warning", "1", "--critical", "0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("the environment key cannot be used"), "{}", text(&o));
    assert_eq!(std::fs::read(&key).unwrap(), b"-----BEGIN PRIVATE KEY-----\ndamaged\n", "kept, not replaced");
}

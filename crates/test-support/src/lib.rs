//! What the tests of every crate need alike: a reference portal on loopback with
//! subscriptions and tokens, and a way to run `licensectl` as an administrator
//! would. Real parts only: the portal is the real server over HTTP.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod capture;
mod launch;

pub use capture::Capture;
pub use launch::Launch;
pub use license_portal::fixture::TestPortal;
pub use license_portal::permission::Permission;

/// Writes a configuration as `licensectl` does: the change proposed, confirmed on
/// the command line, applied (license_core::trust).
pub fn write_config(config: license_core::environment::config::ConfigBuilder, path: &Path) {
    let confirmed = config.propose(path).unwrap().confirm(&license_core::trust::CommandLine).unwrap();
    confirmed.apply().unwrap();
}

/// Every permission a token can have.
pub const ALL: &[Permission] = &Permission::ALL;

/// `licensectl` run as an administrator would: with a home folder of its own, no
/// inherited configuration, and optionally a token bound to a portal.
#[derive(Clone)]
pub struct Cli {
    bin: PathBuf,
    envs: Vec<(String, String)>,
}

impl Cli {
    /// `bin` is `env!("CARGO_BIN_EXE_licensectl")` in licensectl's own tests.
    pub fn new(bin: impl Into<PathBuf>) -> Cli {
        Cli { bin: bin.into(), envs: Vec::new() }
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Cli {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// A home folder (HOME and XDG_CONFIG_HOME), so no user configuration is found.
    pub fn home(self, home: &Path) -> Cli {
        let h = home.to_string_lossy().to_string();
        self.env("HOME", h.clone()).env("XDG_CONFIG_HOME", h)
    }

    /// The headless token (`LICENSE_MANAGER_TOKEN`), bound to `portal`.
    pub fn token(self, token: &str, portal: &str) -> Cli {
        self.env("LICENSE_MANAGER_TOKEN", token).env("LICENSE_MANAGER_PORTAL", portal)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env_remove("LICENSE_MANAGER_CONFIG")
            .env_remove("LICENSE_MANAGER_TOKEN")
            .env_remove("LICENSE_MANAGER_PORTAL");
        for (k, v) in &self.envs {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).launch_output()
    }

    /// Runs and insists on success; returns standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "licensectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).expect("UTF-8 output")
    }
}

/// Every file below `dir` (to look for a secret or an identifier written where it
/// must not be).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A small tmpfs mounted for one test, to meet a full disk for real. Mounting needs
/// root (CI runs as root); elsewhere `mount` returns `None` and the test says it was
/// skipped and why. Unmounted when dropped.
#[cfg(target_os = "linux")]
pub struct Tmpfs {
    pub dir: tempfile::TempDir,
}

#[cfg(target_os = "linux")]
impl Tmpfs {
    pub fn mount(kib: u64) -> Option<Tmpfs> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k,mode=0755"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(st.success(), "mount a {kib} KiB tmpfs");
        Some(Tmpfs { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Free bytes on the tmpfs.
    pub fn free(&self) -> u64 {
        let c = std::ffi::CString::new(self.path().as_os_str().as_encoded_bytes()).unwrap();
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: a valid C string and a zeroed out-parameter.
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
        s.f_bavail as u64 * s.f_frsize as u64
    }

    /// Fills the tmpfs until `leave` bytes are free (a filler file), so the next
    /// write larger than that fails with "No space left on device".
    pub fn fill_leaving(&self, leave: u64) {
        let filler = self.path().join("filler");
        let size = self.free().saturating_sub(leave);
        std::fs::write(&filler, vec![0u8; size as usize]).expect("write the filler");
        assert!(self.free() <= leave, "filled: {} bytes free", self.free());
    }

    pub fn unfill(&self) {
        std::fs::remove_file(self.path().join("filler")).expect("remove the filler");
    }
}

#[cfg(target_os = "linux")]
impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

//! Consumption figures for audits, read from the configured usage source: a JSON
//! file, or a command that prints JSON (`{"named_users":…, "application_objects":…,
//! "servers":…}`).

use super::config::{Usage, UsageSource};
use crate::error::Error;
use crate::fs::{self, Links};
use crate::payload::{Consumption, Entitlements};
use serde::Serialize;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Usage JSON is a few hundred bytes; more is not usage output.
pub const MAX_USAGE_BYTES: u64 = 64 * 1024;
/// How much of the command's stderr an error message quotes.
const STDERR_EXCERPT_CHARS: usize = 300;
/// The only variables the usage command inherits: nothing secret (no token, no
/// proxy credentials), just what a program needs to run and print numbers.
#[cfg(not(windows))]
const INHERITED_ENV: &[&str] = &["PATH", "LANG", "LC_ALL", "TZ"];
/// Windows programs (PowerShell among them) need the system's own variables to
/// start at all; none of these carries a secret.
#[cfg(windows)]
const INHERITED_ENV: &[&str] =
    &["PATH", "PATHEXT", "SystemRoot", "windir", "SystemDrive", "ComSpec", "TEMP", "TMP", "TZ"];

pub fn read(usage: Option<&Usage>, config_path: &Path) -> Result<Consumption, Error> {
    let Some(usage) = usage else {
        return Err(Error::BadConfig {
            path: config_path.to_path_buf(),
            reason: "no [usage] source is configured: add `file = \"usage.json\"` or `command = [...]` under [usage]"
                .into(),
        });
    };
    let (bytes, origin) = match &usage.source {
        UsageSource::File(p) => (fs::read_capped(p, MAX_USAGE_BYTES, Links::Follow)?, p.display().to_string()),
        UsageSource::Command(argv) => {
            let origin = format!("`{}`", argv.join(" "));
            let dir = config_path.parent().unwrap_or(Path::new("."));
            let bytes = run(argv, dir, Duration::from_secs(usage.timeout_seconds))
                .map_err(|reason| Error::UsageUnavailable { origin: origin.clone(), reason })?;
            (bytes, origin)
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| Error::UsageUnavailable {
        origin,
        reason: format!("it did not give {{\"named_users\", \"application_objects\", \"servers\"}} JSON ({e})"),
    })
}

/// The program to start: a relative path with a folder in it (`./usage.sh`,
/// `bin/usage`) is the configuration folder's, as every relative path in the
/// configuration is; a bare name (`python3`) is looked up on PATH, as a shell does.
/// Never the folder the command happened to be started from.
fn program(cmd: &str, dir: &Path) -> std::path::PathBuf {
    let p = Path::new(cmd);
    if p.is_relative() && p.components().count() > 1 {
        dir.join(p)
    } else {
        p.to_path_buf()
    }
}

/// Runs the usage command in the configuration's folder, with a clean environment,
/// no input, a time limit and a cap on its output. The error is a reason for a person.
fn run(argv: &[String], dir: &Path, timeout: Duration) -> Result<Vec<u8>, String> {
    let (cmd, args) = argv.split_first().ok_or("the command is empty")?;
    let mut c = Command::new(program(cmd, dir));
    c.args(args).current_dir(dir).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for k in INHERITED_ENV {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    let mut child =
        c.spawn().map_err(|e| format!("it could not be started ({e}); check the program's path in [usage]"))?;
    // Windows has no process groups: a job holds the command and whatever it
    // starts, so stopping it stops them all (and closing the job ends stragglers).
    #[cfg(windows)]
    let _job = job::Job::holding(&child);
    let deadline = Instant::now() + timeout;
    let out = capture(child.stdout.take().expect("piped"), MAX_USAGE_BYTES + 1);
    let err = capture(child.stderr.take().expect("piped"), MAX_USAGE_BYTES);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill(&mut child);
                return Err(format!(
                    "it did not finish within {} s (timeout_seconds in [usage]); it was stopped",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for it failed ({e})")),
        }
    };
    // A descendant that keeps the pipes open must not hold us past the deadline either.
    let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(200);
    let (Ok(stdout), Ok(stderr)) = (out.recv_timeout(left), err.recv_timeout(Duration::from_millis(200))) else {
        kill(&mut child);
        return Err("its output did not end when it exited (a process it started kept it open)".into());
    };
    // First: a command cut off for printing too much dies of the closed pipe.
    if stdout.len() as u64 > MAX_USAGE_BYTES {
        return Err(format!("it printed more than {MAX_USAGE_BYTES} bytes; usage is three numbers"));
    }
    if !status.success() {
        return Err(format!("it failed ({status}){}", excerpt(&stderr)));
    }
    Ok(stdout)
}

/// Reads up to `limit` bytes on a thread; closing the pipe afterwards stops a
/// command that would print forever.
fn capture(pipe: impl Read + Send + 'static, limit: u64) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.take(limit).read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

fn kill(child: &mut Child) {
    #[cfg(unix)]
    // SAFETY: signals the process group the child leads (created by process_group(0)).
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A Windows job object that kills every process in it when it is closed: the
/// usage command and the processes it starts. (A process the command starts in
/// the instant before it joins the job is not held; the command's own pipes still
/// bound how long it can keep us.)
#[cfg(windows)]
mod job {
    use std::os::windows::io::AsRawHandle;
    use std::process::Child;
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation, SetInformationJobObject,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    };

    pub struct Job(HANDLE);

    impl Job {
        /// `None` when the job cannot be made; the command then runs without it
        /// (the time limit still stops the command itself).
        pub fn holding(child: &Child) -> Option<Job> {
            // SAFETY: plain Win32 calls on a handle we own; `info` is a valid,
            // zero-initialised structure of the size we pass.
            unsafe {
                let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
                if job.is_null() {
                    tracing::warn!("no job object for the usage command: processes it starts are not stopped with it");
                    return None;
                }
                let job = Job(job);
                let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                let size = std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32;
                let limited =
                    SetInformationJobObject(job.0, JobObjectExtendedLimitInformation, (&raw const info).cast(), size);
                if limited == 0 || AssignProcessToJobObject(job.0, child.as_raw_handle() as HANDLE) == 0 {
                    tracing::warn!(
                        "the usage command could not join its job: processes it starts are not stopped with it"
                    );
                    return None;
                }
                Some(job)
            }
        }
    }

    impl Drop for Job {
        /// Closing the last handle kills what is still in the job.
        fn drop(&mut self) {
            // SAFETY: the handle is ours and closed once.
            unsafe { CloseHandle(self.0) };
        }
    }
}

/// The first line of stderr, shortened and without control characters.
fn excerpt(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let mut short: String = line.chars().filter(|c| !c.is_control()).take(STDERR_EXCERPT_CHARS).collect();
    if line.chars().count() > STDERR_EXCERPT_CHARS {
        short.push('…');
    }
    if short.is_empty() {
        String::new()
    } else {
        format!(": {short}")
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct UsageLine {
    pub metric: &'static str,
    pub used: u64,
    /// None where the license has no matching entitlement (servers).
    pub entitled: Option<u64>,
    pub over: bool,
}

/// Consumption side by side with entitlements, for the preview before uploading.
/// Servers are reported but the license format has no server entitlement, so they
/// are never "over".
pub fn compare(c: &Consumption, e: &Entitlements) -> Vec<UsageLine> {
    [
        ("named_users", c.named_users, Some(e.named_users)),
        ("application_objects", c.application_objects, Some(e.application_objects)),
        ("servers", c.servers, None),
    ]
    .into_iter()
    .map(|(metric, used, entitled)| UsageLine { metric, used, entitled, over: entitled.is_some_and(|n| used > n) })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn command(script: &str, timeout_seconds: u64) -> Usage {
        Usage { source: UsageSource::Command(vec!["/bin/sh".into(), "-c".into(), script.into()]), timeout_seconds }
    }

    /// The command runs in the configuration's folder, which exists.
    fn read_with(usage: &Usage) -> Result<Consumption, Error> {
        read(Some(usage), &std::env::temp_dir().join("environment.toml"))
    }

    // Unix only: its command is a /bin/sh script.
    #[cfg(unix)]
    #[test]
    fn the_command_gets_no_secrets() {
        std::env::set_var("LICENSE_MANAGER_TOKEN", "lmp_secret_do_not_pass");
        let u = command(
            r#"if env | grep -q lmp_secret; then echo leaked >&2; exit 1; fi; echo '{"named_users":1,"application_objects":2,"servers":3}'"#,
            5,
        );
        let c = read_with(&u).unwrap();
        assert_eq!((c.named_users, c.application_objects, c.servers), (1, 2, 3));
    }

    // Unix only: its command is a /bin/sh script; `on_windows_…` below is its twin.
    #[cfg(unix)]
    #[test]
    fn a_hanging_command_is_stopped_at_its_time_limit() {
        let started = Instant::now();
        let e = read_with(&command("sleep 25", 1)).unwrap_err();
        assert_eq!(e.code(), "usage_unavailable");
        assert!(e.to_string().contains("did not finish within 1 s"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10), "stopped, not waited for");
    }

    // Unix only: its command is a /bin/sh script (`yes`); `on_windows_…` below is its twin.
    #[cfg(unix)]
    #[test]
    fn endless_output_is_cut_and_stderr_is_quoted_briefly() {
        let e = read_with(&command("yes", 5)).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
        let e = read_with(&command(
            "printf 'first line\n%0500d\n' 0 >&2; head -c 200000 /dev/zero | tr '\\0' x >&2; exit 3",
            5,
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("first line"), "{e}");
        assert!(e.len() < 800, "a short excerpt, not the whole stderr: {} chars", e.len());
    }

    // Unix only: /dev/zero is a Unix device (a folder is refused the same way on
    // Windows: `fs::read_capped`'s tests).
    #[cfg(unix)]
    #[test]
    fn a_usage_file_that_is_a_device_is_refused() {
        let u = Usage::new(UsageSource::File("/dev/zero".into()));
        assert_eq!(read_with(&u).unwrap_err().code(), "not_a_file");
    }

    #[test]
    fn only_entitled_metrics_can_be_over() {
        let e = Entitlements {
            named_users: 10,
            application_objects: 5,
            environments: 1,
            support_level: "s".into(),
            features: vec![],
        };
        let lines = compare(&Consumption { named_users: 11, application_objects: 5, servers: 40 }, &e);
        let over: Vec<_> = lines.iter().filter(|l| l.over).map(|l| l.metric).collect();
        assert_eq!(over, ["named_users"]);
        assert_eq!(lines[2].entitled, None);
    }

    /// On Windows the usage command is this test binary itself, asked to run one
    /// of the ignored helpers below: it needs no shell, and under Wine it is a
    /// real Windows process. (The command gets an empty environment, so the
    /// arguments say what to do.)
    #[cfg(windows)]
    fn this_binary(helper: &str, timeout_seconds: u64) -> Usage {
        let exe = std::env::current_exe().unwrap().to_string_lossy().to_string();
        let name = format!("environment::usage::tests::{helper}");
        let args = vec![exe, "--ignored".into(), "--exact".into(), "--nocapture".into(), name];
        Usage { source: UsageSource::Command(args), timeout_seconds }
    }

    #[cfg(windows)]
    #[test]
    #[ignore = "a helper: the usage command of on_windows_a_hanging_command_is_stopped"]
    fn helper_hangs() {
        std::thread::sleep(Duration::from_secs(60));
    }

    #[cfg(windows)]
    #[test]
    #[ignore = "a helper: the usage command of on_windows_endless_output_is_cut"]
    fn helper_floods() {
        let line = "y".repeat(1024);
        loop {
            println!("{line}");
        }
    }

    /// Where `helper_starts_a_process_and_hangs` leaves the id of the process it
    /// started (TEMP reaches the usage command; nothing else would).
    #[cfg(windows)]
    fn grandchild_file() -> std::path::PathBuf {
        std::env::temp_dir().join("license-manager-usage-grandchild.pid")
    }

    #[cfg(windows)]
    #[test]
    #[ignore = "a helper: the usage command of on_windows_what_a_stopped_command_started_is_stopped_too"]
    fn helper_starts_a_process_and_hangs() {
        let exe = std::env::current_exe().unwrap();
        let child = std::process::Command::new(exe)
            .args(["--ignored", "--exact", "environment::usage::tests::helper_hangs"])
            .spawn()
            .unwrap();
        std::fs::write(grandchild_file(), child.id().to_string()).unwrap();
        std::thread::sleep(Duration::from_secs(60));
    }

    /// The job object: a command stopped at its time limit takes what it started
    /// with it.
    #[cfg(windows)]
    #[test]
    fn on_windows_what_a_stopped_command_started_is_stopped_too() {
        use windows_sys::Win32::Foundation::{CloseHandle, WAIT_OBJECT_0};
        use windows_sys::Win32::System::Threading::{OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE};
        let _ = std::fs::remove_file(grandchild_file());
        let e = read_with(&this_binary("helper_starts_a_process_and_hangs", 5)).unwrap_err();
        assert!(e.to_string().contains("did not finish within 5 s"), "{e}");
        let pid: u32 =
            std::fs::read_to_string(grandchild_file()).expect("the helper started a process").parse().unwrap();
        // SAFETY: plain Win32 calls; the handle is closed once.
        unsafe {
            let h = OpenProcess(PROCESS_SYNCHRONIZE, 0, pid);
            if !h.is_null() {
                let waited = WaitForSingleObject(h, 10_000);
                CloseHandle(h);
                assert_eq!(waited, WAIT_OBJECT_0, "the process the command started still runs");
            }
        }
    }

    #[cfg(windows)]
    #[test]
    fn on_windows_a_hanging_command_is_stopped_at_its_time_limit() {
        let started = Instant::now();
        let e = read_with(&this_binary("helper_hangs", 2)).unwrap_err();
        assert_eq!(e.code(), "usage_unavailable");
        assert!(e.to_string().contains("did not finish within 2 s"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(30), "stopped, not waited for");
    }

    #[cfg(windows)]
    #[test]
    fn on_windows_endless_output_is_cut() {
        let e = read_with(&this_binary("helper_floods", 20)).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }
}

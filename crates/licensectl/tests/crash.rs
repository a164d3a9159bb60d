//! The crash harness (issue 3): kills `licensectl install`, `licensectl restore` and
//! the staged renewal's install at its start time (`licensectl check`, issue 19) at
//! every named step and at ≥1000 random instants, and proves after each kill that
//! the installed license is exactly the old file or the new one, that a verified
//! backup of the old one exists whenever the new one is in place, and that the next
//! run succeeds (no stale lock or temp file blocks it).
//!
//! Run: `cargo test -p licensectl --features crash-points --test crash -- --nocapture`
//! (CRASH_RUNS=N changes the number of random kills).
// A scenario reads best whole: tests may run long (clippy.toml).
#![allow(clippy::too_many_lines)]
// Runs on Linux (1000 random kills) and, under Wine, on Windows (scripts/windows
// --test, CRASH_RUNS=200).
#![cfg(feature = "crash-points")]

use license_test_support::Launch;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STEPS: &[&str] = &[
    "install:locked",
    "clock:temp-synced",
    "clock:renamed",
    "backup:temp-synced",
    "backup:renamed",
    "backup:stored",
    "manifest:temp-synced",
    "manifest:renamed",
    "install:backed-up",
    "license:temp-synced",
    "license:renamed",
];

/// The staged renewal's install adds one step: installed, its staged copy not yet removed.
const STAGED_STEPS: &[&str] = &["staged:installed"];

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
    license: PathBuf,
    backups: PathBuf,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let st =
            Command::new(env!("CARGO_BIN_EXE_licensectl")).arg("demo").arg(&root).stdout(Stdio::null()).launch_status();
        assert!(st.success());
        Env {
            config: root.join("environment.toml"),
            license: root.join("license.lic"),
            backups: root.join("backups"),
            root,
            _dir: dir,
        }
    }

    fn command(&self, args: &[&str], crash_at: Option<&str>) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_licensectl"));
        c.arg("--config").arg(&self.config).args(args).stdout(Stdio::null()).stderr(Stdio::null());
        match crash_at {
            Some(step) => c.env("LICENSE_MANAGER_CRASH_AT", step),
            None => c.env_remove("LICENSE_MANAGER_CRASH_AT"),
        };
        c
    }

    fn backups_holding(&self, bytes: &[u8]) -> usize {
        let Ok(rd) = std::fs::read_dir(&self.backups) else { return 0 };
        rd.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "lic"))
            .filter(|e| std::fs::read(e.path()).is_ok_and(|b| b == bytes))
            .count()
    }
}

/// One scenario in its own environment: the license file starts as `before`, the
/// operation should leave `after`. `keep_backup` is the backup the operation reads
/// (restore); every other backup is removed before each run, so the backup steps run
/// every time instead of finding an identical backup already stored.
struct Scenario {
    name: &'static str,
    env: Env,
    args: Vec<String>,
    before: Vec<u8>,
    after: Vec<u8>,
    keep_backup: Option<String>,
    /// The staged renewal: its bytes, and the test clock's start time. Each run is a
    /// second later than the one before, so the clock record is written every time.
    staged: Option<(Vec<u8>, chrono::DateTime<chrono::Utc>)>,
    runs: std::cell::Cell<i64>,
}

impl Scenario {
    fn install() -> Self {
        let env = Env::new();
        let before = std::fs::read(&env.license).unwrap();
        let new = env.root.join("samples/renewal.lic");
        let after = std::fs::read(&new).unwrap();
        let args = vec!["install".into(), new.to_str().unwrap().into(), "--yes".into()];
        Scenario { name: "install", env, args, before, after, keep_backup: None, staged: None, runs: 0.into() }
    }

    /// `licensectl check` at the start of the staged demo sample `next-term.lic`.
    fn staged() -> Self {
        let env = Env::new();
        let before = std::fs::read(&env.license).unwrap();
        let new = env.root.join("samples/next-term.lic");
        assert!(env.command(&["install", new.to_str().unwrap()], None).launch_status().success(), "staged");
        let staged = std::fs::read(env.root.join(".license-manager/staged.lic")).unwrap();
        let after = std::fs::read(&new).unwrap();
        assert_eq!(staged, after, "the staged copy is the file");
        let status = env.command(&["staged", "--json"], None).stdout(Stdio::piped()).launch_output();
        let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        let starts = json["takes_effect"].as_str().unwrap().parse().unwrap();
        Scenario {
            name: "staged",
            env,
            args: vec!["check".into()],
            before,
            after,
            keep_backup: None,
            staged: Some((staged, starts)),
            runs: 0.into(),
        }
    }

    fn staged_copy(&self) -> PathBuf {
        self.env.root.join(".license-manager/staged.lic")
    }

    fn steps(&self) -> Vec<&'static str> {
        let extra = if self.staged.is_some() { STAGED_STEPS } else { &[] };
        STEPS.iter().chain(extra).copied().collect()
    }

    /// The operation's command; a staged scenario's at a later test clock each time.
    fn command(&self, crash_at: Option<&str>) -> Command {
        let mut c = self.env.command(&self.args(), crash_at);
        if let Some((_, starts)) = &self.staged {
            self.runs.set(self.runs.get() + 1);
            let now = *starts + chrono::Duration::seconds(60 + self.runs.get());
            c.env("LICENSE_MANAGER_TEST_NOW", now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        c
    }

    fn restore() -> Self {
        let env = Env::new();
        let old = std::fs::read(&env.license).unwrap();
        assert!(env.command(&["backup"], None).launch_status().success());
        let id = std::fs::read_dir(&env.backups)
            .unwrap()
            .flatten()
            .find_map(|e| e.file_name().to_str()?.strip_suffix(".lic").map(str::to_string))
            .unwrap();
        let before = std::fs::read(env.root.join("samples/renewal.lic")).unwrap();
        Scenario {
            name: "restore",
            env,
            args: vec!["restore".into(), id.clone(), "--yes".into()],
            before,
            after: old,
            keep_backup: Some(id),
            staged: None,
            runs: 0.into(),
        }
    }

    fn args(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }

    fn reset(&self) {
        std::fs::write(&self.env.license, &self.before).unwrap();
        if let Some((staged, _)) = &self.staged {
            std::fs::write(self.staged_copy(), staged).unwrap();
        }
        for e in std::fs::read_dir(&self.env.backups).into_iter().flatten().flatten() {
            let keep = self.keep_backup.as_deref().is_some_and(|id| e.file_name().to_string_lossy().starts_with(id));
            if !keep && e.path().extension().is_some_and(|x| x == "lic") {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
    }

    fn run_to_completion(&self) {
        let o = self.command(None).stdout(Stdio::piped()).stderr(Stdio::piped()).launch_output();
        assert!(
            o.status.success(),
            "{}: the run after a crash failed ({}): {}{}",
            self.name,
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            std::fs::read(&self.env.license).unwrap(),
            self.after,
            "{}: the run after a crash did not install",
            self.name
        );
        if self.staged.is_some() {
            assert!(!self.staged_copy().exists(), "staged: the installed renewal's staged copy is removed");
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    runs: usize,
    old_kept: usize,
    new_in_place: usize,
    lost_or_corrupt: usize,
    new_without_backup: usize,
}

impl Tally {
    /// The invariant. Returns a description of a violation, if any.
    fn observe(&mut self, s: &Scenario) -> Option<String> {
        self.runs += 1;
        let now = std::fs::read(&s.env.license).ok();
        match now.as_deref() {
            Some(b) if b == s.before => self.old_kept += 1,
            Some(b) if b == s.after => {
                self.new_in_place += 1;
                if s.env.backups_holding(&s.before) == 0 {
                    self.new_without_backup += 1;
                    return Some(format!("{}: new license in place without a backup of the old one", s.name));
                }
            }
            other => {
                self.lost_or_corrupt += 1;
                return Some(format!(
                    "{}: license file is neither old nor new ({} bytes)",
                    s.name,
                    other.map_or(0, |b| b.len())
                ));
            }
        }
        None
    }
}

/// xorshift64*: enough randomness for kill times, reproducible from the printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
}

#[test]
fn every_step_and_random_kills_never_lose_the_license() {
    let scenarios = [Scenario::install(), Scenario::restore(), Scenario::staged()];
    let mut tally = Tally::default();
    let mut violations = Vec::new();

    // 1. An abort at every named step, for both operations; then a clean run.
    for s in &scenarios {
        for step in s.steps() {
            s.reset();
            // The clock file is rewritten only when time moved on; make sure it is. (A
            // staged scenario's clock moves on by itself: without its record the clock
            // is suspect, and nothing is installed automatically.)
            if s.staged.is_none() {
                let _ = std::fs::remove_file(s.env.root.join(".license-manager/clock.json"));
            }
            let st = s.command(Some(step)).launch_status();
            assert!(aborted(&st), "{} at {step}: the crash point did not abort the process ({st})", s.name);
            violations.extend(tally.observe(s));
            s.run_to_completion();
            violations.extend(tally.observe(s));
        }
    }
    let stepped = tally.runs;

    // 2. Random kills (SIGKILL; TerminateProcess on Windows), over a window a little longer than one uninterrupted run.
    let runs: usize = std::env::var("CRASH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    let mut typical = Duration::ZERO;
    for s in &scenarios {
        s.reset();
        let t = Instant::now();
        s.run_to_completion();
        typical = typical.max(t.elapsed());
    }
    let window = (typical.as_micros() as u64 * 12 / 10).max(1);
    let (mut killed_mid_run, mut staged_mid_run) = (0, 0);
    for i in 0..runs {
        let s = &scenarios[i % scenarios.len()];
        s.reset();
        let mut child = s.command(None).launch();
        std::thread::sleep(Duration::from_micros(rng.next() % window));
        let _ = child.kill(); // SIGKILL, or TerminateProcess
        if !child.wait().unwrap().success() {
            killed_mid_run += 1;
            staged_mid_run += usize::from(s.staged.is_some());
        }
        violations.extend(tally.observe(s));
        if i % 10 == 0 {
            s.run_to_completion();
            violations.extend(tally.observe(s));
        }
    }

    println!(
        "crash harness: {} observations ({stepped} around named steps, {runs} random kills, {killed_mid_run} of them before the process finished; seed {seed:#x}, window {window} µs)",
        tally.runs
    );
    let staged_kills = (0..runs).filter(|i| i % scenarios.len() == 2).count();
    println!(
        "crash harness: {staged_kills} of the random kills at a staged renewal's start time, {staged_mid_run} of them before the process finished"
    );
    println!(
        "crash harness: {} old license kept, {} new license in place, {} lost or corrupt licenses, {} new without a backup of the old",
        tally.old_kept, tally.new_in_place, tally.lost_or_corrupt, tally.new_without_backup
    );
    assert!(violations.is_empty(), "{violations:#?}");
    assert!(staged_mid_run > staged_kills / 10, "too few kills landed in the staged install ({staged_mid_run})");
    assert!(
        killed_mid_run > runs / 10,
        "too few kills landed mid-run ({killed_mid_run}); the harness is not exercising anything"
    );
    for s in &scenarios {
        // An interrupted write may leave one temporary file; the next install removes it.
        let temps = std::fs::read_dir(&s.env.root)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .count();
        assert!(temps <= 1, "{}: {temps} temporary files pile up beside the license", s.name);
    }
}

/// The process ended at `std::process::abort`: killed by SIGABRT on Unix; on
/// Windows, the fail-fast status (0xC0000409) that abort raises.
fn aborted(st: &std::process::ExitStatus) -> bool {
    #[cfg(unix)]
    return !st.success() && st.code().is_none();
    #[cfg(windows)]
    return st.code() == Some(0xC000_0409_u32 as i32);
}

/// Every hidden file in `dir` whose name marks it as one of our temporary files.
fn temps_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with('.') && n.contains(".tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

/// A kill just before a rename leaves a hidden full copy beside the file it was
/// writing: in the backups folder, the state folder and beside a transfer file. The
/// next write there removes it (the writer is gone), and keeps everything else.
#[test]
fn temp_files_left_by_a_kill_are_removed_by_the_next_write() {
    let env = Env::new();
    let state = env.root.join(".license-manager");
    let transfer = env.root.join("usb/site.transfer.zip");
    std::fs::create_dir_all(transfer.parent().unwrap()).unwrap();
    let others = transfer.parent().unwrap().join(".someone-elses.tmp-1-x");
    std::fs::write(&others, b"not ours").unwrap();
    let kills: [(&[&str], &str, &std::path::Path); 3] = [
        (&["backup"], "backup:temp-synced", &env.backups),
        (&["audit", "generate"], "last-audit:temp-synced", &state),
        (&["transfer", "export", transfer.to_str().unwrap()], "transfer:temp-synced", transfer.parent().unwrap()),
    ];
    for (args, step, dir) in kills {
        let st = env.command(args, Some(step)).launch_status();
        assert!(!st.success(), "{step}: the kill happened");
        assert!(temps_in(dir).iter().any(|n| !n.starts_with(".someone")), "{step}: a temp file was left");
        let st = env.command(args, None).launch_status();
        assert!(st.success(), "{step}: the next run succeeds");
        let left: Vec<_> = temps_in(dir).into_iter().filter(|n| !n.starts_with(".someone")).collect();
        assert!(left.is_empty(), "{step}: stale temps remain in {}: {left:?}", dir.display());
    }
    assert!(others.exists(), "another program's file beside the transfer file is kept");
}

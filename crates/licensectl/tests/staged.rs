//! Staged renewals (issue 19), through `licensectl` as an administrator runs it: a
//! license that starts in the future is staged, kept, reported by `check`, and
//! installed with a backup first when its start time comes; every bad one is
//! refused with its reason and changes nothing.
//!
//! The clock is the test clock (`LICENSE_MANAGER_TEST_NOW`, built only with
//! `crash-points`), so a start time is reached without waiting for it.
#![cfg(feature = "crash-points")]

use license_test_support::{Cli, Launch};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The demo's license expires 20 days after it is made; the renewal starts the
/// day before and runs a year.
struct Site {
    dir: tempfile::TempDir,
    config: String,
    license: PathBuf,
    payload: Value,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let cli = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(dir.path());
        cli.ok(&["demo", dir.path().to_str().unwrap()]);
        let config = dir.path().join("environment.toml").to_str().unwrap().to_string();
        let status: Value = serde_json::from_str(&cli.ok(&["--config", &config, "status", "--json"])).unwrap();
        let site = Site {
            license: dir.path().join("license.lic"),
            payload: status["installed"]["license"].clone(),
            config,
            dir,
        };
        site.run(None, &["backup"]);
        site
    }

    fn expiry(&self) -> chrono::DateTime<chrono::Utc> {
        self.payload["expires_at"].as_str().unwrap().parse().unwrap()
    }

    /// Runs licensectl on this environment, at `now` if given.
    fn run(&self, now: Option<chrono::DateTime<chrono::Utc>>, args: &[&str]) -> Output {
        let mut cli = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(self.dir.path());
        if let Some(t) = now {
            cli = cli.env("LICENSE_MANAGER_TEST_NOW", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        cli.command(&[&["--config", &self.config], args].concat()).launch_output()
    }

    /// A license file like the installed one, changed by `edit`, issued now with an id
    /// of its own, starting `starts` and running a year.
    fn renewal(&self, name: &str, starts: chrono::DateTime<chrono::Utc>, edit: impl FnOnce(&mut Value)) -> PathBuf {
        let mut p = self.payload.clone();
        p["license_id"] = Value::String(uuid::Uuid::new_v4().to_string());
        p["issued_at"] = Value::String(stamp(chrono::Utc::now()));
        p["not_before"] = Value::String(stamp(starts));
        p["expires_at"] = Value::String(stamp(starts + chrono::Duration::days(365)));
        edit(&mut p);
        let payload = self.dir.path().join(format!("{name}.json"));
        std::fs::write(&payload, p.to_string()).unwrap();
        let out = self.dir.path().join(format!("{name}.lic"));
        let key = self.dir.path().join("vendor.key");
        let o = self.run(None, &["vendor", "issue", "--key", s(&key), "--payload", s(&payload), "--out", s(&out)]);
        assert!(o.status.success(), "{}", text(&o));
        out
    }

    fn staged_dir_files(&self) -> Vec<String> {
        let state = self.dir.path().join(".license-manager");
        std::fs::read_dir(state).unwrap().flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect()
    }
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_renewal_is_staged_reported_and_installed_at_its_start_with_a_backup() {
    let site = Site::new();
    let old = std::fs::read(&site.license).unwrap();
    let starts = site.expiry() - chrono::Duration::days(1);
    let renewal = site.renewal("renewal", starts, |_| {});

    let o = site.run(None, &["install", s(&renewal)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&format!("takes effect on {}", stamp(starts))), "{}", text(&o));
    assert_eq!(std::fs::read(&site.license).unwrap(), old, "staging leaves the installed license as it was");

    let staged: Value = serde_json::from_slice(&site.run(None, &["staged", "--json"]).stdout).unwrap();
    assert_eq!(staged["takes_effect"], stamp(starts));

    // Before: the expiry is covered, so the check is OK and says why.
    let o = site.run(None, &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).starts_with("LICENSE OK - valid, 20 days left"), "{}", text(&o));
    assert!(text(&o).contains("renewal staged, takes effect"), "{}", text(&o));
    // status says the same: no "request a renewal" beside the renewal that is here.
    let o = site.run(None, &["status"]);
    let said = text(&o);
    assert!(said.contains("the staged renewal takes effect"), "{said}");
    assert!(!said.contains("request a renewal") && !said.contains("Warning:"), "{said}");

    // At its start: the check installs it, the old license backed up first (the
    // backup taken above goes, so the one found after is the install's own).
    std::fs::remove_dir_all(site.dir.path().join("backups")).unwrap();
    let o = site.run(Some(starts + chrono::Duration::minutes(1)), &["check"]);
    assert!(text(&o).contains("Staged renewal installed"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(0), "the day it takes effect is a quiet one: {}", text(&o));
    assert_eq!(std::fs::read(&site.license).unwrap(), std::fs::read(&renewal).unwrap());
    let backups: Value = serde_json::from_slice(&site.run(None, &["backups", "--json"]).stdout).unwrap();
    let backed_up =
        backups.as_array().unwrap().iter().filter(|b| b["license_id"] == site.payload["license_id"]).count();
    assert_eq!(backed_up, 1, "the old license was backed up before the renewal replaced it: {backups}");
    assert!(!site.staged_dir_files().contains(&"staged.lic".to_string()), "the staged copy is gone");
    let o = site.run(Some(starts + chrono::Duration::minutes(2)), &["staged"]);
    assert!(text(&o).contains("no renewal is staged"), "{}", text(&o));
}

#[test]
fn bad_renewals_are_refused_and_change_nothing() {
    let site = Site::new();
    let old = std::fs::read(&site.license).unwrap();
    let starts = site.expiry() - chrono::Duration::days(1);
    let cases: Vec<(&str, PathBuf, &str)> = vec![
        (
            "another serial",
            site.renewal("other-serial", starts, |p| p["serial_number"] = "70WEV-WCB36-5SYGZ-Q4Q6R".into()),
            "serial number",
        ),
        (
            "older than the installed one",
            site.renewal("older", starts, |p| p["issued_at"] = site.payload["issued_at"].clone()),
            "not after the installed license",
        ),
        (
            "another subscription (needs a confirmation nobody can give)",
            site.renewal("other-code", starts, |p| p["activation_code"] = "0RS5T-Z23AB-29V5M-4G7VE-9TD78".into()),
            "install it by hand",
        ),
    ];
    for (what, file, says) in cases {
        let o = site.run(None, &["install", "--yes", s(&file)]);
        assert!(!o.status.success(), "{what}: staged: {}", text(&o));
        assert!(text(&o).contains(says), "{what}: {}", text(&o));
        assert!(!site.staged_dir_files().contains(&"staged.lic".to_string()), "{what}: something was staged");
        assert_eq!(std::fs::read(&site.license).unwrap(), old, "{what}: the license changed");
    }
}

#[test]
fn a_second_renewal_replaces_the_first_only_if_newer() {
    let site = Site::new();
    let starts = site.expiry() - chrono::Duration::days(1);
    let first = site
        .renewal("first", starts, |p| p["issued_at"] = stamp(chrono::Utc::now() - chrono::Duration::hours(1)).into());
    let older = site
        .renewal("older", starts, |p| p["issued_at"] = stamp(chrono::Utc::now() - chrono::Duration::hours(2)).into());
    let newer = site.renewal("newer", starts, |_| {});
    assert!(site.run(None, &["install", s(&first)]).status.success());
    let o = site.run(None, &["install", s(&older)]);
    assert!(!o.status.success() && text(&o).contains("is already staged"), "{}", text(&o));
    let staged_file = site.dir.path().join(".license-manager/staged.lic");
    assert_eq!(std::fs::read(&staged_file).unwrap(), std::fs::read(&first).unwrap());
    assert!(site.run(None, &["install", s(&newer)]).status.success());
    assert_eq!(std::fs::read(&staged_file).unwrap(), std::fs::read(&newer).unwrap());
}

#[test]
fn a_damaged_or_expired_staged_renewal_is_not_installed_and_says_why() {
    let site = Site::new();
    let old = std::fs::read(&site.license).unwrap();
    let starts = site.expiry() - chrono::Duration::days(1);
    let renewal =
        site.renewal("renewal", starts, |p| p["expires_at"] = stamp(starts + chrono::Duration::days(2)).into());
    assert!(site.run(None, &["install", s(&renewal)]).status.success());

    // Expired while waiting: at the check after its expiry it stays, with the reason.
    let o = site.run(Some(starts + chrono::Duration::days(3)), &["check"]);
    assert!(text(&o).contains("was not installed") && text(&o).contains("expired"), "{}", text(&o));
    assert_eq!(std::fs::read(&site.license).unwrap(), old);

    // Tampered with: `staged` says so, nothing is installed, and it can be removed.
    let staged_file = site.dir.path().join(".license-manager/staged.lic");
    let mut bytes = std::fs::read(&staged_file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&staged_file, &bytes).unwrap();
    let o = site.run(None, &["staged"]);
    assert!(!o.status.success() && text(&o).contains("does not verify"), "{}", text(&o));
    assert_eq!(std::fs::read(&site.license).unwrap(), old);
    // It hides nothing of the installed license (issue 32): status tells it, and
    // check judges it (here by the later time the test clock left: expired), with
    // a warning about the damaged renewal, not UNKNOWN.
    let o = site.run(None, &["status"]);
    assert!(o.status.success() && text(&o).contains("Serial"), "{}", text(&o));
    let o = site.run(None, &["check", "--warning", "1"]);
    assert!(text(&o).starts_with("LICENSE CRITICAL - the installed license expired"), "{}", text(&o));
    assert!(text(&o).contains("the staged renewal is damaged"), "{}", text(&o));
    assert!(site.run(None, &["staged", "remove"]).status.success());
    assert!(!staged_file.exists());
}

#[test]
fn nothing_is_installed_while_the_clock_is_suspect() {
    let site = Site::new();
    let old = std::fs::read(&site.license).unwrap();
    let starts = site.expiry() - chrono::Duration::days(1);
    let renewal = site.renewal("renewal", starts, |_| {});
    assert!(site.run(None, &["install", s(&renewal)]).status.success());
    // The clock once read far ahead (remembered), now reads the start time: suspect.
    assert!(site.run(Some(starts + chrono::Duration::days(100)), &["clock"]).status.success());
    let o = site.run(Some(starts + chrono::Duration::minutes(1)), &["status"]);
    assert!(text(&o).contains("the clock is not trusted"), "{}", text(&o));
    assert_eq!(std::fs::read(&site.license).unwrap(), old, "installed while the clock was suspect");
}

#[test]
fn killed_after_installing_the_next_look_only_removes_the_staged_copy() {
    let site = Site::new();
    let starts = site.expiry() - chrono::Duration::days(1);
    let renewal = site.renewal("renewal", starts, |_| {});
    assert!(site.run(None, &["install", s(&renewal)]).status.success());
    let at = starts + chrono::Duration::minutes(1);
    let mut c = Cli::new(env!("CARGO_BIN_EXE_licensectl"))
        .home(site.dir.path())
        .env("LICENSE_MANAGER_TEST_NOW", stamp(at))
        .env("LICENSE_MANAGER_CRASH_AT", "staged:installed")
        .command(&["--config", &site.config, "check"]);
    assert!(!c.launch_status().success(), "the crash point stopped it");
    assert_eq!(std::fs::read(&site.license).unwrap(), std::fs::read(&renewal).unwrap());
    let o = site.run(Some(at), &["check"]);
    assert!(!text(&o).contains("Staged renewal installed"), "installed twice: {}", text(&o));
    assert!(!site.dir.path().join(".license-manager/staged.lic").exists());
}

/// A staged renewal that a newer install made obsolete is judged again at every
/// look: `check` warns and names why, instead of an OK that counts on a renewal
/// that will never install, and `staged` says so (issue 31).
#[test]
fn a_staged_renewal_made_obsolete_by_a_newer_install_no_longer_mutes_check() {
    let site = Site::new();
    let starts = site.expiry() - chrono::Duration::days(1);
    let renewal = site.renewal("renewal", starts, |_| {});
    assert!(site.run(None, &["install", s(&renewal)]).status.success());
    let o = site.run(None, &["check", "--warning", "30"]);
    assert_eq!(o.status.code(), Some(0), "covered by the staged renewal: {}", text(&o));

    // A newer license, valid now and for a year, issued after the staged one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let newer = site.renewal("newer", chrono::Utc::now() - chrono::Duration::days(1), |_| {});
    let o = site.run(None, &["install", "--yes", s(&newer)]);
    assert!(o.status.success(), "{}", text(&o));
    let o = site.run(None, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("the staged renewal will not be installed at its start"), "{}", text(&o));
    assert!(text(&o).contains("older than the installed license"), "{}", text(&o));
    let o = site.run(None, &["staged"]);
    assert!(text(&o).contains("WILL NOT INSTALL"), "{}", text(&o));
    let staged: Value = serde_json::from_slice(&site.run(None, &["staged", "--json"]).stdout).unwrap();
    assert!(staged["will_not_install"].as_str().is_some_and(|w| w.contains("older than the installed")), "{staged}");
}

/// A clock that jumped forward past a renewal's start and was set right again
/// leaves a remembered time ahead. Expiry is judged by that later time, but a start
/// only by the system clock: the renewal is staged, not installed early, and
/// nothing activates before its start (issue 31).
#[test]
fn a_clock_that_jumped_forward_starts_nothing_early() {
    let site = Site::new();
    let old = std::fs::read(&site.license).unwrap();
    let starts = site.expiry() - chrono::Duration::days(1);
    let renewal = site.renewal("renewal", starts, |_| {});
    // The jump: the environment sees a time two days after the renewal's start.
    let o = site.run(Some(starts + chrono::Duration::days(2)), &["clock"]);
    assert!(o.status.success(), "{}", text(&o));
    // Set right again: the renewal still starts later, so it is staged.
    let o = site.run(None, &["install", "--yes", s(&renewal)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("takes effect on"), "staged, not installed: {}", text(&o));
    assert_eq!(std::fs::read(&site.license).unwrap(), old, "nothing installed before its start");
    let _ = site.run(None, &["check"]);
    assert_eq!(std::fs::read(&site.license).unwrap(), old, "a look before its start activates nothing");
    let staged: Value = serde_json::from_slice(&site.run(None, &["staged", "--json"]).stdout).unwrap();
    assert_eq!(staged["takes_effect"], stamp(starts));
}

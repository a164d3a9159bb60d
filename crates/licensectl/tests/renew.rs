//! Automatic renewal (issue 19), through `licensectl renew` against the reference
//! portal over real HTTP on loopback: within the window a newer license is
//! installed or staged with a backup first; what a person must decide waits; every
//! fault of the portal and every hostile answer changes nothing.
//!
//! The clock is the test clock (`LICENSE_MANAGER_TEST_NOW`, built only with
//! `crash-points`), so a staged renewal's start is reached without waiting.
#![cfg(feature = "crash-points")]

use license_core::{ActivationCode, EnvironmentType};
use license_portal::faults::Fault;
use license_test_support::{Capture, Cli, TestPortal, ALL};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The demo environment (its license expires in 20 days), registered in a
/// production slot of its subscription on a reference portal.
struct Site {
    dir: tempfile::TempDir,
    config: String,
    license: PathBuf,
    portal: TestPortal,
    token: String,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let cli = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(dir.path());
        cli.ok(&["demo", dir.path().to_str().unwrap()]);
        let config = dir.path().join("environment.toml").to_str().unwrap().to_string();
        let status: Value = serde_json::from_str(&cli.ok(&["--config", &config, "status", "--json"])).unwrap();
        let code: ActivationCode = status["installed"]["license"]["activation_code"].as_str().unwrap().parse().unwrap();
        let portal = TestPortal::start(&dir.path().join("vendor.key"));
        portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
        let token = portal.token(&code, ALL);
        let site = Site { license: dir.path().join("license.lic"), config, dir, portal, token };
        let o = site.run(None, &["portal", "register"]);
        assert!(o.status.success(), "{}", text(&o));
        site
    }

    /// licensectl on this environment with the portal's token, at `now` if given.
    fn run(&self, now: Option<chrono::DateTime<chrono::Utc>>, args: &[&str]) -> Output {
        self.run_against(&self.portal.url, now, args)
    }

    fn run_against(&self, url: &str, now: Option<chrono::DateTime<chrono::Utc>>, args: &[&str]) -> Output {
        let mut cli = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(self.dir.path()).token(&self.token, url);
        if let Some(t) = now {
            cli = cli.env("LICENSE_MANAGER_TEST_NOW", stamp(t));
        }
        cli.run(&[&["--config", &self.config, "--portal", url], args].concat())
    }

    fn installed(&self) -> Vec<u8> {
        std::fs::read(&self.license).unwrap()
    }

    fn history(&self) -> Vec<Value> {
        let o = self.run(None, &["--json", "renew", "--history"]);
        serde_json::from_slice::<Value>(&o.stdout).unwrap().as_array().unwrap().clone()
    }

    fn backups(&self) -> usize {
        let o = self.run(None, &["--json", "backups"]);
        serde_json::from_slice::<Value>(&o.stdout).unwrap().as_array().unwrap().len()
    }

    fn licenses_issued(&self) -> i64 {
        self.portal.count("SELECT COUNT(*) FROM licenses")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn outside_the_window_the_portal_is_not_asked() {
    let site = Site::new();
    let o = site.run(None, &["renew", "--days", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Not due"), "{}", text(&o));
    assert_eq!(site.licenses_issued(), 0, "the portal was asked for a license");
    assert!(site.history().is_empty(), "a run that asked nothing is not history");
}

#[test]
fn a_newer_license_is_installed_with_a_backup_then_the_next_run_is_up_to_date() {
    let site = Site::new();
    let old = site.installed();

    let o = site.run(None, &["renew", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("would be installed now"), "{}", text(&o));
    assert_eq!(site.installed(), old, "a dry run changed the license");

    let before = site.backups();
    let o = site.run(None, &["renew"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("previous license backed up as"), "{}", text(&o));
    assert_ne!(site.installed(), old);
    assert_eq!(site.backups(), before + 1, "the old license was backed up first");

    // The portal's license now runs to 2099: outside any window.
    let o = site.run(None, &["renew", "--days", "400000"]);
    assert!(text(&o).contains("Up to date"), "{}", text(&o));
    let outcomes: Vec<_> = site.history().iter().map(|h| h["outcome"].as_str().unwrap().to_string()).collect();
    assert_eq!(outcomes, ["installed", "up_to_date"], "the dry run is not recorded");
}

/// The renewal history is derived: damaged, it reads as empty with a warning, the
/// renewal still runs, and its record starts the history again.
#[test]
fn a_damaged_renewal_history_is_named_and_started_again() {
    let site = Site::new();
    std::fs::write(site.path(".license-manager/renewals.json"), b"[{\"outcome\": ").unwrap();
    let o = site.run(None, &["--json", "renew", "--history"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("the renewal history is damaged"), "{}", text(&o));
    let o = site.run(None, &["renew"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let outcomes: Vec<_> = site.history().iter().map(|h| h["outcome"].as_str().unwrap().to_string()).collect();
    assert_eq!(outcomes, ["installed"]);
    // Set aside, never written over (issue 32): the damaged bytes are kept.
    let kept: Vec<_> = std::fs::read_dir(site.path(".license-manager/quarantine")).unwrap().flatten().collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(kept[0].path()).unwrap(), b"[{\"outcome\": ");
}

#[test]
fn a_renewed_term_is_staged_and_installed_at_its_start() {
    let site = Site::new();
    let old = site.installed();
    let status: Value = serde_json::from_slice(&site.run(None, &["--json", "status"]).stdout).unwrap();
    let expiry: chrono::DateTime<chrono::Utc> =
        status["installed"]["license"]["expires_at"].as_str().unwrap().parse().unwrap();
    let starts = expiry - chrono::Duration::days(1);
    site.portal.execute("UPDATE subscriptions SET starts_at = ?1", [stamp(starts)]);

    let o = site.run(None, &["renew"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains(&format!("takes effect on {}", stamp(starts))), "{}", text(&o));
    assert_eq!(site.installed(), old, "staging leaves the installed license");
    assert_eq!(site.history()[0]["outcome"], "staged");

    // At its start the check installs it; the next renewal finds it installed.
    let at = starts + chrono::Duration::minutes(1);
    let o = site.run(Some(at), &["check"]);
    assert!(text(&o).contains("Staged renewal installed"), "{}", text(&o));
    assert_ne!(site.installed(), old);
    let o = site.run(Some(at), &["renew", "--days", "400000"]);
    assert!(text(&o).contains("Up to date"), "{}", text(&o));
}

#[test]
fn what_a_person_must_decide_waits_with_a_warning() {
    let cases: [(&str, &str, &str); 4] = [
        ("another environment type", "UPDATE slots SET environment_type = 'quality'", "Environment type"),
        (
            "a downgrade",
            r#"UPDATE subscriptions SET entitlements = json_set(entitlements, '$.named_users', 10)"#,
            "Named users 100 → 10",
        ),
        // Lesser changes no install check refuses (issue 31).
        ("another customer", "UPDATE subscriptions SET customer = 'Someone Else Ltd'", "the customer changes"),
        (
            "a lower support level",
            r#"UPDATE subscriptions SET entitlements = json_set(entitlements, '$.support_level', 'basic')"#,
            "the support level changes (standard → basic)",
        ),
    ];
    for (what, sql, says) in cases {
        let site = Site::new();
        let old = site.installed();
        site.portal.execute(sql, []);
        let o = site.run(None, &["renew"]);
        assert_eq!(o.status.code(), Some(3), "{what}: {}", text(&o));
        assert!(text(&o).contains("WARNING") && text(&o).contains(says), "{what}: {}", text(&o));
        assert!(text(&o).contains("not installed automatically"), "{what}: {}", text(&o));
        assert_eq!(site.installed(), old, "{what}: installed");
        assert_eq!(site.history()[0]["outcome"], "waits_for_person", "{what}");
    }
}

#[test]
fn an_unreachable_slow_or_failing_portal_changes_nothing() {
    let site = Site::new();
    let old = site.installed();
    let closed = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let slow = |ms| vec![Fault::Delay { ms }; 3];
    let failing = vec![Fault::Status { status: 503, retry_after: None }; 3];
    for (what, url, faults) in [
        ("unreachable", closed.as_str(), vec![]),
        ("slow", site.portal.url.as_str(), slow(2500)),
        ("answering 503", site.portal.url.as_str(), failing),
    ] {
        site.portal.get_faults(faults);
        let o = site.run_against(url, None, &["renew", "--timeout", "1"]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", text(&o));
        assert!(text(&o).contains("the installed license is unchanged"), "{what}: {}", text(&o));
        assert!(text(&o).contains("next run tries again"), "{what}: {}", text(&o));
        assert_eq!(site.installed(), old, "{what}: the license changed");
        assert_eq!(site.portal.pending_faults(), 0, "{what}: the run gave up before its retries");
    }
    let failed = site.history().iter().filter(|h| h["outcome"] == "failed").count();
    assert_eq!(failed, 3, "each failed run is recorded");
    // The portal is back: the next run renews.
    let o = site.run(None, &["renew"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_ne!(site.installed(), old);
}

#[test]
fn a_hostile_portal_answer_is_refused_and_changes_nothing() {
    let site = Site::new();
    let old = site.installed();
    // Another environment's license, signed by the vendor; then a license signed by
    // a key this environment does not trust.
    let other_serial = std::fs::read_to_string(site.path("samples/wrong-serial.lic")).unwrap();
    let key = site.path("stranger.key");
    assert!(site.run(None, &["vendor", "keygen", "--out", s(&key)]).status.success());
    let status: Value = serde_json::from_slice(&site.run(None, &["--json", "status"]).stdout).unwrap();
    let mut payload = status["installed"]["license"].clone();
    payload["license_id"] = uuid::Uuid::new_v4().to_string().into();
    payload["issued_at"] = stamp(chrono::Utc::now()).into();
    std::fs::write(site.path("stranger.json"), payload.to_string()).unwrap();
    let (payload, out) = (site.path("stranger.json"), site.path("unknown-key.lic"));
    let o = site.run(None, &["vendor", "issue", "--key", s(&key), "--payload", s(&payload), "--out", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    let unknown_key = std::fs::read_to_string(site.path("unknown-key.lic")).unwrap();
    for (what, body, says) in
        [("another serial", other_serial, "Serial number"), ("an unknown key", unknown_key, "trusted vendor")]
    {
        let hostile = Capture::answering("200 OK", "application/x-license-file", body);
        let o = site.run_against(&hostile.url, None, &["renew"]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        assert!(text(&o).contains("was refused") && text(&o).contains(says), "{what}: {}", text(&o));
        assert_eq!(site.installed(), old, "{what}: the license changed");
        assert!(!site.path(".license-manager/staged.lic").exists(), "{what}: staged");
    }
}

#[test]
fn a_second_renewal_at_once_is_refused() {
    let site = Site::new();
    let old = site.installed();
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(site.path(".license-manager/renew.lock"))
        .unwrap();
    lock.lock().unwrap();
    let o = site.run(None, &["renew"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("another renewal of this environment is running"), "{}", text(&o));
    assert_eq!(site.installed(), old);
    assert_eq!(site.licenses_issued(), 0, "the second run asked the portal");
    drop(lock);
    assert_eq!(site.run(None, &["renew"]).status.code(), Some(0));
}

#[test]
fn nothing_is_installed_automatically_while_the_clock_is_suspect() {
    let site = Site::new();
    let old = site.installed();
    // The clock once read 30 days ahead (remembered); now it reads today: suspect.
    let ahead = chrono::Utc::now() + chrono::Duration::days(30);
    assert!(site.run(Some(ahead), &["clock"]).status.success());
    let o = site.run(None, &["renew"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("the clock is not trusted"), "{}", text(&o));
    assert_eq!(site.installed(), old);
}

/// A renew killed while it installs leaves its mark: the run was recorded before
/// it installed, and the next run settles that record as what really happened
/// (issue 32).
#[test]
fn a_renew_killed_mid_install_is_in_the_history() {
    let site = Site::new();
    let old = site.installed();
    let killed = Cli::new(env!("CARGO_BIN_EXE_licensectl"))
        .home(site.dir.path())
        .token(&site.token, &site.portal.url)
        .env("LICENSE_MANAGER_CRASH_AT", "license:renamed")
        .run(&["--config", &site.config, "--portal", &site.portal.url, "renew"]);
    assert!(!killed.status.success(), "{}", text(&killed));
    assert_ne!(site.installed(), old, "stopped after the new license was in place");
    let h = site.history();
    assert_eq!(h.last().unwrap()["outcome"], "installing", "recorded before it installed: {h:?}");
    // A temporary history file a killed writer left goes under the renewal's lock.
    let stale = site.path(".license-manager/.renewals.json.tmp-4000000-1");
    std::fs::write(&stale, b"[half").unwrap();
    // The portal's license runs to 2099: the next run has nothing to ask.
    let o = site.run(None, &["renew"]);
    assert!(!stale.exists(), "the stale temporary file is gone");
    assert!(o.status.success() && text(&o).contains("Not due"), "{}", text(&o));
    let h = site.history();
    let installed = h.last().unwrap();
    assert_eq!(installed["outcome"], "installed", "{h:?}");
    assert!(installed["detail"].as_str().unwrap().contains("stopped while it installed"), "{h:?}");
}

//! `licensectl check` and `licensectl metrics` as monitoring runs them: every state
//! of the check with its exit code, and metrics a Prometheus parser accepts.

use license_test_support::Cli;
use std::path::Path;

fn cli() -> Cli {
    Cli::new(env!("CARGO_BIN_EXE_licensectl"))
}

/// A demo environment; its license expires within 30 days (the demo warns).
fn demo() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    cli().ok(&["demo", dir.path().to_str().unwrap()]);
    let config = dir.path().join("environment.toml").to_str().unwrap().to_string();
    (dir, config)
}

/// (exit code, status line, whole output).
fn check(config: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["--config", config, "check"];
    args.extend_from_slice(extra);
    let o = cli().run(&args);
    let out = String::from_utf8(o.stdout).unwrap();
    (o.status.code().unwrap(), out.lines().next().unwrap_or("").to_string(), out)
}

fn days_left(config: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(&cli().ok(&["--config", config, "status", "--json"])).unwrap();
    v["installed"]["days_left"].as_i64().unwrap()
}

#[test]
fn each_state_has_its_exit_code_and_one_status_line() {
    let (dir, c) = demo();
    let d = days_left(&c);
    let (w, cr) = ((d + 10).to_string(), (d - 5).to_string());

    // WARNING: within the warning window, and no backup of the installed license yet.
    let (code, line, out) = check(&c, &["--warning", &w, "--critical", &cr]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(line, format!("LICENSE WARNING - expires in {d} days ({}) | days_left={d};{w};{cr};0", expiry(&c)));
    assert!(out.contains("WARNING: no backup of the installed license"), "{out}");

    // OK once backed up and outside the windows.
    cli().ok(&["--config", &c, "backup"]);
    let (code, line, _) = check(&c, &["--warning", &(d - 5).to_string(), "--critical", "1"]);
    assert_eq!(code, 0);
    assert!(line.starts_with(&format!("LICENSE OK - valid, {d} days left")), "{line}");

    // CRITICAL within the critical window.
    let (code, line, _) = check(&c, &["--warning", "400", "--critical", &(d + 1).to_string()]);
    assert_eq!(code, 2);
    assert!(line.starts_with("LICENSE CRITICAL - expires in"), "{line}");

    // WARNING: an audit waiting longer than --audit-age.
    cli().ok(&["--config", &c, "audit", "generate"]);
    let (code, _, out) = check(&c, &["--warning", "1", "--critical", "0", "--audit-age", "0"]);
    assert_eq!(code, 1);
    assert!(out.contains("1 audit(s) waiting for upload for more than 0 days"), "{out}");

    // CRITICAL: a license for another serial (the demo's wrong-serial sample, forced in).
    std::fs::copy(dir.path().join("samples/wrong-serial.lic"), dir.path().join("license.lic")).unwrap();
    let (code, line, _) = check(&c, &[]);
    assert_eq!(code, 2);
    assert!(line.contains("serial number") && !line.contains('|'), "{line}");

    // CRITICAL: nothing installed.
    std::fs::remove_file(dir.path().join("license.lic")).unwrap();
    assert_eq!(check(&c, &[]).1, "LICENSE CRITICAL - no license is installed");

    // UNKNOWN: the check cannot run.
    let (code, line, _) = check(&dir.path().join("nope.toml").to_string_lossy(), &[]);
    assert_eq!(code, 3);
    assert!(line.starts_with("LICENSE UNKNOWN - "), "{line}");
}

#[test]
fn an_expired_license_is_critical() {
    let (dir, c) = demo();
    std::fs::copy(dir.path().join("samples/expired.lic"), dir.path().join("license.lic")).unwrap();
    let (code, line, _) = check(&c, &[]);
    assert_eq!((code, line.starts_with("LICENSE CRITICAL - the installed license expired")), (2, true), "{line}");
}

fn expiry(config: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&cli().ok(&["--config", config, "status", "--json"])).unwrap();
    v["installed"]["license"]["expires_at"].as_str().unwrap()[..10].to_string()
}

#[test]
fn metrics_are_prometheus_text_and_written_atomically() {
    let (dir, c) = demo();
    cli().ok(&["--config", &c, "backup"]);
    let text = cli().ok(&["--config", &c, "metrics"]);
    let mut families = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!families.contains(&name.to_string()), "{name} declared twice");
            families.push(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        value.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert_eq!(families.last().map(String::as_str), Some(name), "samples of {name} follow its TYPE line");
    }
    for needed in [
        "license_manager_license_valid 1",
        "license_manager_license_days_left ",
        "license_manager_license_expiry_timestamp_seconds ",
        "license_manager_entitlement{metric=\"named_users\"} 100",
        "license_manager_consumption{metric=\"named_users\"} 87",
        "license_manager_outbox_audits 0",
        "license_manager_last_backup_timestamp_seconds ",
    ] {
        assert!(text.contains(needed), "missing {needed:?} in\n{text}");
    }
    assert!(text.contains("license_manager_license_info{environment_type=\"production\""), "{text}");
    let file = dir.path().join("license.prom");
    cli().ok(&["--config", &c, "metrics", "--out", file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), text.lines().count());
    assert!(!Path::new(&file).with_extension("prom.tmp").exists());
}
